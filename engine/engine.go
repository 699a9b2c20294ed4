// Package engine runs a graph of pipeline instances on frames: sources feed pipeline nodes
// (each with the input ports its pipeline declares), pipeline nodes feed each other and sinks.
// A chain "a,b,c" is the simple case (Config.Stages). Every pipeline node keeps one sliding
// window of input frames per port, converts what arrives to the format it asks for (only where
// neighbours differ) and runs on its own worker; edges are bounded queues.
//
// Headless runs drop nothing: a full queue holds its producer back, so every frame goes
// through every node in order and the output is byte-identical to Config.Serial (one
// goroutine, one frame through the whole graph at a time). Live runs (Config.Live) never hold a
// producer back: a full queue drops its oldest frame and a node takes the newest frame waiting
// on its port, counting what it skips, so queue depth and latency stay bounded when a node is
// slower than its input.
//
// Frames come from per-output pools and are shared by reference between the consumers of a
// fan-out: in steady state a frame allocates nothing.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

// Config describes one run. Zero values are documented per field.
type Config struct {
	// Stages are the chain's instances in order; the output of one is the input of the next.
	// The first may be in text mode (it generates frames); every other one is in video mode.
	// Leave it empty when Graph is set.
	Stages []Instance
	// Source feeds the first stage in video mode; it must be nil when the first stage is in
	// text mode.
	Source media.Source
	// Sink receives every output frame of the last stage; nil discards them.
	Sink media.Sink
	// SourceSpec and SinkSpec describe a chain's source and sink in Graph (display only).
	SourceSpec, SinkSpec string
	// Graph, when set, is the run instead of Stages, Source and Sink. Stage indices (SetParams,
	// Swap, OnError, Stats.Stages) count its pipeline nodes in order.
	Graph *Graph
	// Frames stops the run once every sink has received this many frames; 0 runs until the
	// sources end or the context is cancelled (a graph whose roots are text-mode pipelines
	// runs until cancelled).
	Frames int
	// FPS paces every root (source or text-mode pipeline) to this many frames per second;
	// 0 runs as fast as the graph allows.
	FPS float64
	// Live makes the edges keep the newest frames: a full queue drops its oldest frame (counted
	// as dropped by the node it feeds) instead of holding the producer back. Use it for
	// previews, paced (FPS) runs and live sources; leave it off for file-to-file runs.
	Live bool
	// Serial runs every node on Run's goroutine, one frame through the whole graph at a time
	// (the reference the concurrent run is compared with).
	Serial bool
	// QueueDepth is the capacity of every edge (default 2).
	QueueDepth int
	// Prompts go to every stage whose pipeline supports prompts.
	Prompts []loader.Prompt
	// OnError is called for every failed prepare or call (that frame is dropped at that node
	// and the run goes on); nil ignores them (they are still counted in Stats). Calls are
	// serialised.
	OnError func(stage int, err error)
	// MaxConsecutiveErrors ends the run with an error after this many calls in a row of one
	// node failed; 0 never gives up (an interactive session, where the user may fix a
	// parameter).
	MaxConsecutiveErrors int
	// OnFrame, if set, sees every frame the first sink receives, right after it; the frame is
	// valid during the call only.
	OnFrame func(f *frame.Frame)
	// OnAudio, if set, sees the audio a stage produced (pipelines that produce audio, calls
	// that wrote at least one sample frame), right after that stage's call succeeded, from
	// that stage's worker; the buffer is valid during the call only.
	OnAudio func(stage int, a *loader.Audio)
	// NewFrame, when set, allocates the frames of the graph's pools (nil, or a nil result:
	// frame.New). A run with isolated nodes passes pluginhost.Frames.New, so that their
	// children map the frames instead of copying them; a frame of a format no longer
	// produced is not freed before the allocator is closed.
	NewFrame func(frame.Format) *frame.Frame
	// Device, when set, runs pipelines that ask for CUDA memory: the engine uploads host
	// frames for them, keeps frames on the device between such pipelines and downloads only
	// for host pipelines and the sink. When the last pipeline's output is on the device, its
	// download overlaps the next frame's work and the sink receives each frame one tick
	// later. Nil means no CUDA: a pipeline that needs CUDA memory makes New fail. A run with a
	// Device is a chain run on one goroutine (Graph is not supported with a Device yet).
	Device Device
}

// Graph is a run's graph with its live parts: every node carries its source, instance or
// sink. Its structure follows package graph's rules (graph.Check).
type Graph struct {
	Nodes []Node
	Edges []graph.Edge
}

// Node is one node of a Graph; exactly one of Source, Instance and Sink is set.
type Node struct {
	Name     string
	Source   media.Source
	Instance Instance
	Sink     media.Sink // nil on a sink node discards
	// IsSink marks a sink node (Sink may be nil to discard).
	IsSink bool
	// Spec is the media spec of a source or sink, for display (Engine.Graph); may be empty.
	Spec string
}

// Engine runs a Config. Its methods other than Run may be called from any goroutine; the
// changes they ask for (parameters, pause, instance swaps, prompts) take effect at the next
// call of the node they concern.
type Engine struct {
	cfg    Config
	stages []*stage // the pipeline nodes, in stage order
	nodes  []*node  // every node, in execution order (sources first)

	mu        sync.Mutex
	pending   map[*stage]loader.Values
	swaps     map[*stage]Instance
	paused    bool
	prompts   []loader.Prompt // the prompts stages use, version promptVer
	promptVer int
	resume    chan struct{} // closed and replaced when pause ends
	live      Stats         // counters published during the run
	running   bool
	started   time.Time // when the running graph started

	transfers Transfers // frames moved across PCIe (Run's goroutine only)
	parity    int       // which parityBufs of each stage this tick uses (device runs)

	errMu  sync.Mutex   // serialises OnError
	failed atomic.Int64 // failed calls so far (graph runs)
	flow   flow         // queues and the workers' wake-ups (graph runs)

	// The graph's structure as package graph sees it (graph runs), kept in step with nodes
	// by the edits (edit.go); guarded by flow.mu.
	model *graph.Graph
	pipes map[string]*loader.Pipeline // pipeline node name -> its pipeline

	// The old instances being destroyed off the frame loop (Run waits for them before it
	// returns).
	closing sync.WaitGroup
}

// stageInput is what a stage was last prepared with.
type stageInput struct {
	formats []frame.Format
	memory  uint32
	ok      bool
}

// stage is one pipeline node with its windows and buffers.
type stage struct {
	inst      Instance
	id        string
	name      string
	video     bool
	prompts   []loader.Prompt
	promptVer int
	audio     *loader.Audio

	node     *node        // its node (graph runs)
	win      window       // input frames, in the format the pipeline asked for (device runs)
	inFmt    frame.Format // format arriving from upstream (device runs)
	req      loader.Requirements
	out      *frame.Frame // own output buffer when the next stage's window can't take it
	formats  []frame.Format
	inputs   [][]*frame.Frame
	args     loader.CallArgs
	times    histogram
	recent   time.Duration // moving average of recent call times, for live display
	prepared bool          // prepared during the current tick
	bypassed int           // frames passed through (or held) while the instance could not run
	held     *buf          // an isolated text-mode node's last frame (graph runs)
	calls    int
	errors   int
	failing  int // consecutive failed calls

	// With a Device: where the input arrives and what the stage asked for.
	inMem   uint32                  // memory of the frames arriving from upstream
	dwin    dwindow                 // input frames in device memory (req.InputMemory CUDA)
	dinputs [][]*loader.DeviceFrame // device input lists passed to Call
	bufs    [2]parityBufs           // alternating per tick

	// What Engine.Inputs reports for this stage, kept here to publish only changes.
	noted     bool
	notedMem  uint32
	notedFmts []frame.Format
	input     stageInput // what it was last prepared with, for hot swaps (under Engine.mu)
}

// devIn reports whether the stage takes its input in device memory.
func (st *stage) devIn() bool { return st.video && onDevice(st.req.InputMemory) }

// ErrConfig is wrapped by every error New returns for an unusable chain or graph.
var ErrConfig = errors.New("invalid chain")

// New checks the chain or graph and prepares its nodes.
func New(cfg Config) (*Engine, error) {
	e := &Engine{cfg: cfg, pending: map[*stage]loader.Values{}, swaps: map[*stage]Instance{}, resume: make(chan struct{}), prompts: cfg.Prompts}
	if cfg.Graph != nil {
		if len(cfg.Stages) > 0 || cfg.Source != nil || cfg.Sink != nil {
			return nil, fmt.Errorf("%w: give either a graph or Stages/Source/Sink, not both", ErrConfig)
		}
		if cfg.Device != nil {
			return nil, fmt.Errorf("%w: graphs do not run with a CUDA device yet; run a chain", ErrConfig)
		}
		if err := e.build(cfg.Graph); err != nil {
			return nil, err
		}
		return e, nil
	}
	if len(cfg.Stages) == 0 {
		return nil, fmt.Errorf("%w: no pipelines", ErrConfig)
	}
	for i, in := range cfg.Stages {
		p := in.Pipeline()
		video := in.Mode() == loader.ModeVideo
		if video && len(p.InputPorts) > 1 {
			return nil, fmt.Errorf("%w: %s needs %d inputs (ports %s); a chain feeds each pipeline one input: run it in a graph that connects every port (scope run --graph FILE, or --mix SOURCE for the extra ports; see docs/graphs.md)",
				ErrConfig, p.ID, len(p.InputPorts), strings.Join(p.InputPorts, ", "))
		}
		if i > 0 && !video {
			return nil, fmt.Errorf("%w: %s runs in text mode (it takes no input), so it can only start a chain, not follow %s", ErrConfig, p.ID, cfg.Stages[i-1].Pipeline().ID)
		}
	}
	if cfg.Stages[0].Mode() == loader.ModeVideo && cfg.Source == nil {
		return nil, fmt.Errorf("%w: %s needs input frames: give it a source", ErrConfig, cfg.Stages[0].Pipeline().ID)
	}
	if cfg.Stages[0].Mode() != loader.ModeVideo && cfg.Source != nil {
		return nil, fmt.Errorf("%w: %s runs in text mode and takes no input; drop the source", ErrConfig, cfg.Stages[0].Pipeline().ID)
	}
	if cfg.Device != nil {
		for _, in := range cfg.Stages {
			st, err := e.newStage(in)
			if err != nil {
				return nil, err
			}
			st.inMem = abi.MemoryHost
			e.stages = append(e.stages, st)
		}
		if cfg.Source != nil {
			e.stages[0].inFmt = cfg.Source.Format()
		}
		return e, nil
	}
	g := ChainGraph(cfg.Stages, cfg.Source, cfg.Sink)
	for i := range g.Nodes {
		switch {
		case g.Nodes[i].Source != nil:
			g.Nodes[i].Spec = cfg.SourceSpec
		case g.Nodes[i].IsSink:
			g.Nodes[i].Spec = cfg.SinkSpec
		}
	}
	if err := e.build(g); err != nil {
		return nil, err
	}
	return e, nil
}

// ChainGraph is the graph of a chain: source (when not nil) -> stages in order -> sink.
func ChainGraph(stages []Instance, src media.Source, sink media.Sink) *Graph {
	ids := make([]string, len(stages))
	for i, in := range stages {
		ids[i] = in.Pipeline().ID
	}
	input := ""
	if src != nil {
		input = "source"
	}
	model := graph.FromChain(ids, input, "sink")
	g := &Graph{Edges: model.Edges}
	i := 0
	for _, n := range model.Nodes {
		switch n.Kind {
		case graph.Source:
			g.Nodes = append(g.Nodes, Node{Name: n.Name, Source: src})
		case graph.Pipeline:
			g.Nodes = append(g.Nodes, Node{Name: n.Name, Instance: stages[i]})
			i++
		case graph.Sink:
			g.Nodes = append(g.Nodes, Node{Name: n.Name, Sink: sink, IsSink: true})
		}
	}
	return g
}

// newStage makes the stage of a pipeline instance.
func (e *Engine) newStage(in Instance) (*stage, error) {
	p := in.Pipeline()
	st := &stage{inst: in, id: p.ID, name: p.ID, video: in.Mode() == loader.ModeVideo}
	if !p.ProducesVideo {
		return nil, fmt.Errorf("%w: %s produces no video; audio-only pipelines cannot be part of a video graph yet", ErrConfig, p.ID)
	}
	if p.SupportsPrompts {
		st.prompts = e.cfg.Prompts
	}
	if p.ProducesAudio {
		st.audio = &loader.Audio{}
	}
	if p.Memory&abi.MemoryHost == 0 && p.Memory != 0 && e.cfg.Device == nil {
		return nil, fmt.Errorf("%w: %s needs CUDA memory and the engine has no CUDA device", ErrConfig, p.ID)
	}
	if st.video {
		ports := len(graph.Ports(p, loader.ModeVideo))
		st.inputs = make([][]*frame.Frame, ports)
		st.formats = make([]frame.Format, ports)
	}
	return st, nil
}

// SetParams replaces the runtime values of stage i; they take effect at the node's next
// call. Values are checked against the schema now.
func (e *Engine) SetParams(i int, values loader.Values) error {
	e.mu.Lock() // the stage's worker swaps instances and sets values under mu
	defer e.mu.Unlock()
	st, err := e.stageLocked(i)
	if err != nil {
		return err
	}
	return e.setLocked(st, values)
}

// SetParam sets one runtime parameter of stage i from its text form and returns the value as
// stored. Reading the current values, parsing, the schema check and the update happen under
// one lock, so concurrent SetParam calls for different keys of one stage never lose each
// other's change.
func (e *Engine) SetParam(i int, key, text string) (loader.Value, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.stageLocked(i)
	if err != nil {
		return loader.Value{}, err
	}
	p := e.nextInstanceLocked(st).Pipeline()
	q := p.Param(key)
	if q == nil {
		return loader.Value{}, loader.UnknownParamError(p, key)
	}
	v, err := q.Parse(text)
	if err != nil {
		return loader.Value{}, fmt.Errorf("%s: %w", p.ID, err)
	}
	vals := e.valuesLocked(st)
	vals[q.Index] = v
	if err := e.setLocked(st, vals); err != nil {
		return loader.Value{}, err
	}
	return v, nil
}

// stageLocked returns stage i (e.mu held).
func (e *Engine) stageLocked(i int) (*stage, error) {
	if i < 0 || i >= len(e.stages) {
		return nil, fmt.Errorf("no stage %d (the graph has %d pipeline nodes)", i, len(e.stages))
	}
	return e.stages[i], nil
}

// nextInstanceLocked is the instance st runs at its next call: a queued swap's, else its own.
func (e *Engine) nextInstanceLocked(st *stage) Instance {
	if sw, ok := e.swaps[st]; ok {
		return sw
	}
	return st.inst
}

// setLocked checks values against the schema of st's next instance and queues them (e.mu
// held): the one path every parameter change takes.
func (e *Engine) setLocked(st *stage, values loader.Values) error {
	in := e.nextInstanceLocked(st)
	p, cur := in.Pipeline(), in.Values()
	if len(values) != len(p.Params) {
		return fmt.Errorf("%s: %d values for %d parameters", p.ID, len(values), len(p.Params))
	}
	for j, q := range p.Params {
		if err := q.Check(values[j]); err != nil {
			return fmt.Errorf("%s: %w", p.ID, err)
		}
		if q.LoadTime && values[j] != cur[j] {
			return fmt.Errorf("%s: %s is a load-time parameter; it cannot change while the pipeline runs", p.ID, q.Key)
		}
	}
	e.pending[st] = values.Clone()
	return nil
}

// Swap replaces the instance of stage i with in between two ticks: the output never stops,
// the old instance keeps running until the swap and is closed by the engine right after it
// (off the frame loop, unless the engine has a CUDA device; Run waits for it).
// in must be a video-mode instance unless i is 0 and the chain has no source. A queued swap
// that has not happened yet is replaced (and its instance closed).
func (e *Engine) Swap(i int, in Instance) error {
	e.mu.Lock()
	st, err := e.stageLocked(i)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	return e.swap(st, i, in)
}

// swap queues in to replace stage st's instance at its next call (see Swap).
func (e *Engine) swap(st *stage, i int, in Instance) error {
	video := in.Mode() == loader.ModeVideo
	if video != st.video {
		return fmt.Errorf("swap stage %d: the new %s instance runs in %s mode, the stage in the other", i, in.Pipeline().ID, in.Mode())
	}
	if !in.Pipeline().ProducesVideo {
		return fmt.Errorf("swap stage %d: %s produces no video", i, in.Pipeline().ID)
	}
	if video {
		e.mu.Lock()
		cur := st.inst.Pipeline()
		e.mu.Unlock()
		have := len(graph.Ports(cur, loader.ModeVideo))
		if got := len(graph.Ports(in.Pipeline(), loader.ModeVideo)); got != have {
			return fmt.Errorf("swap stage %d: the new %s instance has %d input ports, the node is wired for %d", i, in.Pipeline().ID, got, have)
		}
	}
	e.mu.Lock()
	old := e.swaps[st]
	e.swaps[st] = in
	delete(e.pending, st) // values of the old instance do not apply to the new one
	e.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Instances returns the chain's current instances (after the swaps done so far).
func (e *Engine) Instances() []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Instance, len(e.stages))
	for i, st := range e.stages {
		out[i] = st.inst
	}
	return out
}

// InFlight reports the plugin function the chain is inside of, if any. It is safe to call
// from any goroutine while Run runs: a watchdog names with it a call that does not return.
func (e *Engine) InFlight() (loader.InFlight, bool) {
	for _, in := range e.Instances() {
		if f, ok := in.InFlight(); ok {
			return f, true
		}
	}
	return loader.InFlight{}, false
}

// SetPrompts replaces the prompts of every stage whose pipeline supports prompts; each stage
// takes them at its next call.
func (e *Engine) SetPrompts(p []loader.Prompt) {
	p = append([]loader.Prompt(nil), p...)
	e.mu.Lock()
	e.prompts = p
	e.promptVer++
	e.mu.Unlock()
}

// Prompts returns the prompts the next calls will use.
func (e *Engine) Prompts() []loader.Prompt {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]loader.Prompt(nil), e.prompts...)
}

// Values returns the parameter values stage i will use on its next tick.
func (e *Engine) Values(i int) loader.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i < 0 || i >= len(e.stages) {
		return nil
	}
	return e.valuesLocked(e.stages[i])
}

// valuesLocked is the values st uses on its next call (e.mu held), a copy.
func (e *Engine) valuesLocked(st *stage) loader.Values {
	if v, ok := e.pending[st]; ok {
		return v.Clone()
	}
	if in, ok := e.swaps[st]; ok {
		return in.Values()
	}
	return st.inst.Values()
}

// SetPaused pauses or resumes the run. While paused no frame is read, called or written.
func (e *Engine) SetPaused(p bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.paused && !p {
		close(e.resume)
		e.resume = make(chan struct{})
	}
	e.paused = p
}

// Paused reports whether the run is paused.
func (e *Engine) Paused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// Live returns the run's counters so far, safe to call while Run is going. Its per-stage
// Mean is a moving average over the last ~16 calls; the quantiles cover the whole run.
func (e *Engine) Live() Stats {
	if e.nodes != nil {
		e.mu.Lock()
		start, running := e.started, e.running
		e.mu.Unlock()
		if running {
			return e.snapshot(start, false)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.live
	s.Stages = append([]StageStats(nil), e.live.Stages...)
	s.Sinks = append([]SinkStats(nil), e.live.Sinks...)
	return s
}

// waitWhilePaused blocks while paused; it returns false when ctx ends.
func (e *Engine) waitWhilePaused(ctx context.Context) bool {
	for {
		e.mu.Lock()
		paused, ch := e.paused, e.resume
		e.mu.Unlock()
		if !paused {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// retire destroys an instance swapped out: off the frame loop, so a slow destroy does not
// stall the output, except with a CUDA device, whose context is bound to Run's thread.
func (e *Engine) retire(old Instance) {
	if e.cfg.Device != nil {
		old.Close()
		return
	}
	e.closing.Add(1)
	go func() {
		defer e.closing.Done()
		old.Close()
	}()
}

// Inputs returns the input formats (and their memory) stage i was last prepared with, so a
// hot swap can prepare a new instance before handing it to Swap; ok is false before the
// stage's first prepare.
func (e *Engine) Inputs(i int) (formats []frame.Format, memory uint32, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.stageLocked(i)
	if err != nil {
		return nil, 0, false
	}
	return slices.Clone(st.input.formats), st.input.memory, st.input.ok
}

// noteInputs records, when they changed, the formats stage st was just prepared with (by the
// goroutine that runs the stage).
func (e *Engine) noteInputs(st *stage, formats []frame.Format, memory uint32) {
	if st.noted && st.notedMem == memory && slices.Equal(st.notedFmts, formats) {
		return
	}
	st.noted, st.notedMem, st.notedFmts = true, memory, append(st.notedFmts[:0], formats...)
	e.mu.Lock()
	defer e.mu.Unlock()
	st.input = stageInput{formats: slices.Clone(formats), memory: memory, ok: true}
}

// applyPending applies what is queued for every stage (device runs: between two ticks).
func (e *Engine) applyPending() {
	for _, st := range e.stages {
		e.applyStage(st)
	}
}

// applyStage applies the swap, parameters and prompts queued for stage st; its worker calls it
// before each call, so a change reaches one node without stopping the others.
func (e *Engine) applyStage(st *stage) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if in, ok := e.swaps[st]; ok {
		old := st.inst
		st.inst = in
		st.id = in.Pipeline().ID
		st.promptVer = -1
		st.prompts = nil
		st.audio = nil
		if in.Pipeline().ProducesAudio {
			st.audio = &loader.Audio{}
		}
		delete(e.swaps, st)
		defer e.retire(old) // destroyed off the frame loop: the swap is only the exchange above
	}
	if st.promptVer != e.promptVer {
		st.promptVer = e.promptVer
		st.prompts = nil
		if st.inst.Pipeline().SupportsPrompts {
			st.prompts = e.prompts
		}
	}
	if v, ok := e.pending[st]; ok {
		delete(e.pending, st)
		if err := st.inst.SetParams(v); err != nil {
			e.report(e.indexLocked(st), err)
		}
	}
}

// indexLocked is the stage index of st now (e.mu held); -1 once it was removed.
func (e *Engine) indexLocked(st *stage) int {
	for i, s := range e.stages {
		if s == st {
			return i
		}
	}
	return -1
}

// stageIndex is the stage index of st now; -1 once it was removed.
func (e *Engine) stageIndex(st *stage) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.indexLocked(st)
}

// report hands a failed prepare or call of stage i to OnError, one call at a time.
func (e *Engine) report(i int, err error) {
	if e.cfg.OnError != nil {
		e.errMu.Lock()
		defer e.errMu.Unlock()
		e.cfg.OnError(i, err)
	}
}
