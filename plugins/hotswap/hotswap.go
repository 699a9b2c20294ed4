// Package hotswap replaces the instances of a reloaded plugin in a running engine without
// stopping its output: off the frame loop it loads the new library (a private copy, see
// loader.Open), creates each new instance with the old one's mode and load-time values,
// carries over the runtime values whose parameters still exist and prepares it with the
// stage's current input (engine.Inputs); it then hands the instances to engine.Swap, whose
// swap between two ticks is a pointer exchange (the engine destroys the old instances off
// its frame loop), and retires the old library once its instances are closed. If anything fails before the swap, the old
// instances keep running and the error is reported.
package hotswap

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/pluginhost"
)

// Op is the session control operation that asks a session to hot-swap a plugin.
const Op = "reload"

// StatusOp returns the session's last reload result (for previews).
const StatusOp = "reload-status"

// Request asks a session to swap a plugin's stages to a new library, or reports that a
// rebuild failed (Error set: nothing is swapped, the error is shown by the session).
type Request struct {
	// Plugin is the installed plugin's name.
	Plugin string `json:"plugin"`
	// Library is the new library's path.
	Library string `json:"library,omitempty"`
	// Pipelines are the pipeline ids the plugin provided before the reload: stages running
	// one of them from StoreDir are swapped.
	Pipelines []string `json:"pipelines"`
	// StoreDir, when set, limits the swap to stages whose library lives in this folder (the
	// plugin store), so a pipeline loaded from elsewhere with --plugin is left alone.
	StoreDir string `json:"store_dir,omitempty"`
	// Error is a failed rebuild or validation to report; the old instances keep running.
	Error string `json:"error,omitempty"`
	// Stage, when set, swaps only this stage. With Stage set and Library empty, Plugin is
	// taken as the library path (session.ReloadArgs{Stage, Plugin}: reload a stage from its
	// plugin file, rebuilt in place).
	Stage *int `json:"stage,omitempty"`
}

// Swapped is one stage that now runs the new library.
type Swapped struct {
	Stage    int      `json:"stage"`
	Pipeline string   `json:"pipeline"`
	Carried  []string `json:"carried,omitempty"` // parameter values kept
	Dropped  []string `json:"dropped,omitempty"` // "key: why" for values that could not be kept
}

// Result is a session's answer to a Request.
type Result struct {
	Plugin  string    `json:"plugin"`
	Swapped []Swapped `json:"swapped"`
	// Error is set when the old instances kept running (a failed build, load or create).
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
	// Rebuilt is true when the plugin was rebuilt from its sources for this reload; false
	// when a library file was loaded as it is on disk.
	Rebuilt bool `json:"rebuilt"`
	// Message is the outcome in words, as the session prints it (previews show it).
	Message string `json:"message"`
}

// Rebuilder rebuilds the plugin behind a stage before a stage reload (the preview's R key):
// given the stage and the path of the library it runs, it returns the Request that swaps in
// the rebuilt library (as `scope plugin reload` would send), or handled false when that
// library is not a linked plugin it can rebuild (the file is then reloaded as it is). A failed
// build returns handled true and the error: nothing is swapped.
type Rebuilder func(ctx context.Context, stage int, library string) (req Request, handled bool, err error)

// Handler is what a session control server offers to register an operation
// (session.Server satisfies it).
type Handler interface {
	Handle(op string, fn func(ctx context.Context, req json.RawMessage) (any, error))
}

// Swapper hot-swaps stages of one engine.
type Swapper struct {
	eng    *engine.Engine
	opts   loader.Options
	report func(string)

	mu      sync.Mutex
	libs    []*loader.Library // opened by swaps; closed when retired or by Close
	last    *Result
	rebuild Rebuilder
}

// SetRebuilder makes stage reloads (Request.Stage set, Library empty) rebuild linked plugins
// through r first, as `scope plugin reload` does.
func (s *Swapper) SetRebuilder(r Rebuilder) {
	s.mu.Lock()
	s.rebuild = r
	s.mu.Unlock()
}

// New returns a swapper for eng. opts open the new libraries; report, when set, is told
// each outcome in one line (the session prints it).
func New(eng *engine.Engine, opts loader.Options, report func(string)) *Swapper {
	return &Swapper{eng: eng, opts: opts, report: report}
}

// Register adds the reload and reload-status operations to a session control server.
func (s *Swapper) Register(h Handler) {
	h.Handle(Op, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var req Request
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("reload: bad arguments: %w", err)
		}
		res, err := s.Apply(ctx, req)
		if err != nil {
			return nil, err
		}
		return res, nil
	})
	h.Handle(StatusOp, func(context.Context, json.RawMessage) (any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.last == nil {
			return &Result{Swapped: []Swapped{}}, nil
		}
		return s.last, nil
	})
}

// Uses reports the stages running one of the pipelines (from storeDir when set).
func (s *Swapper) Uses(pipelines []string, storeDir string) []int {
	var out []int
	for i, in := range s.eng.Instances() {
		p := in.Pipeline()
		if !slices.Contains(pipelines, p.ID) {
			continue
		}
		if storeDir != "" && filepath.Clean(filepath.Dir(in.File())) != filepath.Clean(storeDir) {
			continue
		}
		out = append(out, i)
	}
	return out
}

// Last returns the last result (nil before the first request).
func (s *Swapper) Last() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Swapper) finish(res *Result) {
	res.At = time.Now()
	s.mu.Lock()
	s.last = res
	s.mu.Unlock()
	var lines []string
	switch {
	case res.Error != "":
		lines = append(lines, fmt.Sprintf("reload %s failed, the running version continues: %s", res.Plugin, res.Error))
	case len(res.Swapped) == 0:
		lines = append(lines, fmt.Sprintf("reload %s: no stage runs it; nothing was swapped", res.Plugin))
	}
	what := "runs the new build"
	if !res.Rebuilt {
		what = "runs the library file as it is on disk (not rebuilt: it is not a linked plugin; rebuild it yourself, or install its folder linked)"
	}
	for _, sw := range res.Swapped {
		msg := fmt.Sprintf("reloaded %s: stage %d (%s) %s", res.Plugin, sw.Stage, sw.Pipeline, what)
		if len(sw.Dropped) > 0 {
			msg += "; reset: " + strings.Join(sw.Dropped, "; ")
		}
		lines = append(lines, msg)
	}
	res.Message = strings.Join(lines, "\n")
	if s.report != nil {
		for _, l := range lines {
			if res.Error == "" && len(res.Swapped) == 0 {
				break // a watch or reload that no stage uses says nothing in the session
			}
			s.report(l)
		}
	}
}

// Apply performs a Request. A failure before the swap leaves the old instances running; it
// is returned in Result.Error (and as the error) and recorded for StatusOp.
func (s *Swapper) Apply(ctx context.Context, req Request) (*Result, error) {
	res := &Result{Plugin: req.Plugin, Swapped: []Swapped{}}
	fail := func(err error) (*Result, error) {
		res.Error = err.Error()
		s.finish(res)
		return res, err
	}
	if req.Error != "" {
		return fail(fmt.Errorf("%s", req.Error))
	}
	s.mu.Lock()
	rebuild := s.rebuild
	s.mu.Unlock()
	if req.Stage != nil && req.Library == "" && rebuild != nil && *req.Stage >= 0 && *req.Stage < len(s.eng.Instances()) {
		r, handled, err := rebuild(ctx, *req.Stage, s.eng.Instances()[*req.Stage].File())
		if handled {
			if err != nil {
				res.Plugin = r.Plugin
				return fail(fmt.Errorf("rebuild: %w", err))
			}
			req = r
			res.Plugin = r.Plugin
		}
	}
	res.Rebuilt = req.Stage == nil && req.Error == ""
	var stages []int
	if req.Stage != nil {
		n := len(s.eng.Instances())
		if *req.Stage < 0 || *req.Stage >= n {
			return fail(fmt.Errorf("no stage %d (the chain has %d)", *req.Stage, n))
		}
		stages = []int{*req.Stage}
		if req.Library == "" {
			req.Library = req.Plugin
		}
	} else {
		stages = s.Uses(req.Pipelines, req.StoreDir)
	}
	if len(stages) == 0 {
		s.finish(res)
		return res, nil
	}
	lib, err := loader.Open(req.Library, s.opts)
	if err != nil {
		return fail(fmt.Errorf("load the new build: %w", err))
	}
	current := s.eng.Instances()
	news := make([]engine.Instance, 0, len(stages))
	abort := func(err error) (*Result, error) {
		for _, in := range news {
			in.Close()
		}
		lib.Close()
		return fail(err)
	}
	for _, i := range stages {
		old := current[i]
		np := lib.Pipeline(old.Pipeline().ID)
		if np == nil {
			return abort(fmt.Errorf("the new build no longer provides pipeline %s (stage %d)", old.Pipeline().ID, i))
		}
		vals, carried, dropped := Carry(old.Pipeline(), np, s.eng.Values(i))
		var in engine.Instance
		if iso, ok := old.(*pluginhost.Instance); ok {
			in, err = iso.StartLike(req.Library, vals) // an isolated node stays isolated
		} else {
			in, err = np.NewInstanceOn(old.Mode(), vals, old.CUDADevice()) // same device as the old one
		}
		if err != nil {
			return abort(fmt.Errorf("create the new %s: %w", np.ID, err))
		}
		news = append(news, in)
		// Prepare it here, off the frame loop, with what the stage is fed now: its first
		// prepare (where plugins allocate and build their tables) does not stall a tick.
		if err := s.warm(i, in); err != nil {
			return abort(fmt.Errorf("prepare the new %s: %w", np.ID, err))
		}
		res.Swapped = append(res.Swapped, Swapped{Stage: i, Pipeline: np.ID, Carried: carried, Dropped: dropped})
	}
	olds := map[*loader.Library]bool{}
	for k, i := range stages {
		if err := s.eng.Swap(i, news[k]); err != nil {
			// Stages already queued will swap; close what was not handed over.
			for _, in := range news[k:] {
				in.Close()
			}
			res.Swapped = res.Swapped[:k]
			res.Error = fmt.Sprintf("swap stage %d: %v", i, err)
			s.finish(res)
			return res, fmt.Errorf("swap stage %d: %w", i, err)
		}
		if l := current[i].Pipeline().Library(); l != nil { // nil: isolated, loaded in its child
			olds[l] = true
		}
	}
	s.mu.Lock()
	s.libs = append(s.libs, lib)
	s.mu.Unlock()
	go s.retire(stages, news, olds)
	s.finish(res)
	return res, nil
}

// warm prepares a new instance for stage i with the input the stage was last prepared with
// (nothing before the stage's first prepare: the engine then prepares it as usual).
func (s *Swapper) warm(i int, in engine.Instance) error {
	formats, memory, ok := s.eng.Inputs(i)
	if !ok {
		return nil
	}
	_, err := in.PrepareOn(formats, memory)
	return err
}

// retire waits until the engine runs the new instances (it closes the old ones at the
// swap), then closes the old libraries that no instance uses any more.
func (s *Swapper) retire(stages []int, news []engine.Instance, olds map[*loader.Library]bool) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		cur := s.eng.Instances()
		done := true
		for k, i := range stages {
			if cur[i] != news[k] {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The engine destroys the old instances off its frame loop: a library closes once the
	// last of them is gone (Close fails harmlessly while one is still open).
	for len(olds) > 0 && time.Now().Before(deadline) {
		for lib := range olds {
			if lib.Close() == nil {
				delete(olds, lib)
				s.mu.Lock()
				s.libs = slices.DeleteFunc(s.libs, func(l *loader.Library) bool { return l == lib })
				s.mu.Unlock()
			}
		}
		if len(olds) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Close closes the instances the engine still runs from swapped-in libraries and those
// libraries. Call it after the engine's Run has returned.
func (s *Swapper) Close() {
	s.mu.Lock()
	libs := s.libs
	s.libs = nil
	s.mu.Unlock()
	if len(libs) == 0 {
		return
	}
	for _, in := range s.eng.Instances() {
		if slices.Contains(libs, in.Pipeline().Library()) {
			in.Close()
		}
	}
	for _, l := range libs {
		l.Close()
	}
}

// Carry maps the values of an instance of old onto new's parameters: a value is kept when
// the key still exists with the same type and the value is still allowed; otherwise the
// new default is used and the key is listed in dropped with the reason.
func Carry(old, new *loader.Pipeline, vals loader.Values) (out loader.Values, carried, dropped []string) {
	out = new.Defaults()
	for j, q := range new.Params {
		oq := old.Param(q.Key)
		if oq == nil {
			continue
		}
		v := vals[oq.Index]
		switch {
		case oq.Type != q.Type:
			dropped = append(dropped, fmt.Sprintf("%s: type changed from %s to %s", q.Key, oq.Type, q.Type))
		case q.Check(v) != nil:
			dropped = append(dropped, fmt.Sprintf("%s: %s is no longer allowed (%s)", q.Key, v.Text(), q.Range()))
		default:
			out[j] = v
			carried = append(carried, q.Key)
		}
	}
	for _, oq := range old.Params {
		if new.Param(oq.Key) == nil {
			dropped = append(dropped, oq.Key+": removed")
		}
	}
	return out, carried, dropped
}
