package validate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"

	"github.com/ebitengine/purego"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/crashscan"
	"github.com/scopenative/scope/loader"
)

// firstTick numbers the first frame the harness sends (far from 0, so the older frames of a
// window have indices too).
const firstTick = 10000

// Growth of the resident set over the memory-growth cycles that warns, and that fails.
const (
	growthWarn = 1 << 20
	growthFail = 8 << 20
	cycles     = 100
)

// defaultShape is the mode's default size: the mode's width and height when it has them,
// else 640x360 (video); a text pipeline's own size.
func (e *env) defaultShape() shape {
	if !e.video() {
		return shape{}
	}
	mi, _ := e.p.ModeInfo(e.mode)
	if mi.Width > 0 && mi.Height > 0 {
		return rgb(mi.Width, mi.Height)
	}
	return rgb(640, 360)
}

// smallShape is a cheap, odd size for checks that run many ticks.
func (e *env) smallShape(w, h int) shape {
	if !e.video() {
		return shape{}
	}
	return rgb(w, h)
}

// sizeShapes are the sizes every pipeline must take: 1x1, 7x3, 1921x1081 and the default
// (video), the default size (text).
func (e *env) sizeShapes() []shape {
	if !e.video() {
		return []shape{{}}
	}
	out := []shape{rgb(1, 1), rgb(7, 3), rgb(1921, 1081)}
	if d := e.defaultShape(); d != out[0] && d != out[1] && d != out[2] {
		out = append(out, d)
	}
	return out
}

// coverageShapes are the sizes and pitches the buffer checks look at.
func (e *env) coverageShapes() []shape {
	if !e.video() {
		return []shape{{}, shape{}.padded(1), shape{}.padded(2)}
	}
	return append(e.sizeShapes(), rgb(7, 3).padded(1), rgb(1921, 1081).padded(2))
}

// once runs one tick on a fresh instance with the defaults.
func (e *env) once(s shape, seed uint64) (*tickResult, error) {
	in, err := e.create(nil, "")
	if err != nil {
		return &tickResult{what: s.String(), op: "create", err: err}, nil
	}
	defer e.destroy(in)
	return e.tick(in, s, firstTick, seed, "")
}

// cudaSkip is the outcome of a check whose pipeline asks for CUDA frames.
func cudaSkip() outcome { return skip("%v: %s", errNeedsCUDA, cudaState()) }

// names lists the shapes for a pass message.
func names(shapes []shape) string {
	var s []string
	for _, sh := range shapes {
		s = append(s, sh.String())
	}
	return strings.Join(s, "; ")
}

func checkSizes(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	var ran []string
	for _, s := range e.sizeShapes() {
		r, err := e.once(s, e.u.Seed)
		if err != nil {
			return cudaSkip()
		}
		if r.err != nil {
			return fail("%s: %s failed: %s", r.what, r.op, msg(r.err))
		}
		if s.w == 0 && r.out != nil {
			ran = append(ran, "default "+r.out.Format.String()+" output")
		} else {
			ran = append(ran, s.String())
		}
	}
	var refused []string
	if e.video() {
		for _, s := range []shape{{w: 7, h: 3, channels: 1, elem: frame.U8}, {w: 7, h: 3, channels: 4, elem: frame.U8}, {w: 7, h: 3, channels: 3, elem: frame.F32}} {
			r, err := e.once(s, e.u.Seed)
			if err != nil {
				return cudaSkip()
			}
			switch {
			case r.err != nil && r.op == "prepare" && unsupported(r.err):
				refused = append(refused, s.String())
			case r.err != nil:
				return fail("%s input: %s failed: %s", s, r.op, msg(r.err))
			default:
				ran = append(ran, s.String()+" input")
			}
		}
	}
	note := ""
	if len(refused) > 0 {
		note = fmt.Sprintf(" (refuses %s with SCOPE_ERROR_UNSUPPORTED)", strings.Join(refused, ", "))
	}
	return pass("%s%s", strings.Join(ran, ", "), note)
}

func checkPitch(e *env) outcome {
	return compareLayouts(e, "pitches", []int{1, 2}, "packed rows", "at the least aligned pitch", "step rows by the frame's pitch",
		"rows padded by 64 and 192 bytes give the pixels the least aligned pitch gives")
}

// compareLayouts runs each test shape with the least aligned packed rows (the reference,
// twice: see reference) and with the rows padded as each of paddings says, and fails when a
// padded run fails or gives other pixels. ref names the reference layout in the failure
// messages ("but not with REF") and than in a difference ("the one THAN"), hint
// says what to fix, and passed opens the pass message.
func compareLayouts(e *env, what string, paddings []int, ref, than, hint, passed string) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	if !e.p.ProducesVideo {
		return na()
	}
	if e.p.Nondeterministic {
		return skip(declaredNondeterministic)
	}
	shapes := []shape{rgb(7, 3), rgb(1921, 1081)}
	if !e.video() {
		shapes = []shape{{}}
	}
	checked := 0
	for _, s := range shapes {
		a, stop := e.reference(s, what)
		if stop != nil {
			return *stop
		}
		if a == nil {
			continue // the sizes check reports it
		}
		for _, p := range paddings {
			c, err := e.once(s.padded(p), e.u.Seed)
			if err != nil {
				return cudaSkip()
			}
			if c.err != nil {
				return fail("%s: %s failed, but not with %s: %s", c.what, c.op, ref, msg(c.err))
			}
			if d := diffFrames(a.out, c.out); d != "" {
				return fail("%s: the output differs from the one %s: %s (%s)", c.what, than, d, hint)
			}
		}
		checked++
	}
	if checked == 0 {
		return skip("no size could run (see sizes)")
	}
	return pass("%s (%s)", passed, names(shapes))
}

// reference runs shape s twice on fresh instances for a comparing check: the result, or nil
// when the run failed (the sizes check reports it), or an outcome that ends the check (CUDA
// needed; two identical runs differ, so `what` cannot be compared).
func (e *env) reference(s shape, what string) (*tickResult, *outcome) {
	a, err := e.once(s, e.u.Seed)
	if err != nil {
		o := cudaSkip()
		return nil, &o
	}
	if a.err != nil {
		return nil, nil
	}
	b, err := e.once(s, e.u.Seed)
	if err != nil {
		o := cudaSkip()
		return nil, &o
	}
	if b.err != nil || diffFrames(a.out, b.out) != "" {
		o := skip("%s: two identical runs give different output, so %s cannot be compared (see deterministic)", s, what)
		return nil, &o
	}
	return a, nil
}

// checkAlignment runs the pipeline on frames aligned exactly as the ABI promises (data an odd
// multiple of SCOPE_FRAME_ALIGNMENT, the least aligned pitch) and on page-aligned ones: the
// output must be the same, so a plugin that assumes more alignment than promised fails here
// rather than on a host whose allocator happens to give less.
func checkAlignment(e *env) outcome {
	exact := fmt.Sprintf("rows aligned to exactly %d bytes", exactAlign)
	return compareLayouts(e, "alignments", []int{3}, exact, "with "+exact, "assume no more than SCOPE_FRAME_ALIGNMENT",
		exact+" give the pixels page-aligned rows give")
}

// coverage runs every coverage shape on a fresh instance and hands each result to look;
// look returns a non-empty problem to stop at. It returns the problem, how many shapes ran,
// and errNeedsCUDA.
func (e *env) coverage(look func(r *tickResult) string) (problem string, ran int, err error) {
	for _, s := range e.coverageShapes() {
		r, err := e.once(s, e.u.Seed)
		if err != nil {
			return "", ran, err
		}
		if p := look(r); p != "" {
			return r.what + ": " + p, ran, nil
		}
		if r.err == nil {
			ran++
		}
	}
	return "", ran, nil
}

func checkInputUnmodified(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	if !e.video() {
		return na()
	}
	problem, ran, err := e.coverage(func(r *tickResult) string {
		if len(r.inputs) > 0 {
			return r.inputs[0] + " (inputs are read-only)"
		}
		return ""
	})
	switch {
	case err != nil:
		return cudaSkip()
	case problem != "":
		return fail("%s", problem)
	case ran == 0:
		return skip("no size could run (see sizes)")
	}
	return pass("input frames unchanged after %d calls (%s)", ran, names(e.coverageShapes()))
}

func checkWriteOutside(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	problem, ran, err := e.coverage(func(r *tickResult) string {
		if len(r.guards) > 0 {
			return strings.Join(r.guards, "; ")
		}
		return ""
	})
	switch {
	case err != nil:
		return cudaSkip()
	case problem != "":
		return fail("%s", problem)
	case ran == 0:
		return skip("no size could run (see sizes)")
	}
	return pass("guard bytes around every buffer and in the row padding intact after %d calls", ran)
}

func checkFloatOutput(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	floats := false
	problem, ran, err := e.coverage(func(r *tickResult) string {
		floats = floats || r.floats
		if len(r.nonFinite) > 0 {
			return r.nonFinite[0]
		}
		return ""
	})
	switch {
	case err != nil:
		return cudaSkip()
	case problem != "":
		return fail("%s", problem)
	case !floats:
		return na()
	case ran == 0:
		return skip("no size could run (see sizes)")
	}
	return pass("no NaN or Inf in the f32 output or audio of %d calls", ran)
}

// sequence is the parameter values of consecutive ticks.
type sequence []loader.Values

// fuzzSequence is the defaults twice, then one random set of runtime values twice.
func (e *env) fuzzSequence(seed uint64) sequence {
	base := e.p.Defaults()
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	random := runtimeSet(e.p.Params, base, func(q *loader.Param) loader.Value { return randomValue(q, r) })
	return sequence{base, base, random, random}
}

// run creates a fresh instance with the defaults and ticks it through the sequence; it
// returns the results (stopping at the first error) and errNeedsCUDA.
func (e *env) run(s shape, seq sequence, seed uint64, note string) ([]*tickResult, error) {
	return e.runTogether(s, seq, seed, note, nil)
}

// runTogether is run; with together set, every run sharing it creates its instance first and
// starts its ticks only once all of them have (together.Add(n) before), so their instances'
// lifetimes overlap however the threads are scheduled.
func (e *env) runTogether(s shape, seq sequence, seed uint64, note string, together *sync.WaitGroup) ([]*tickResult, error) {
	in, err := e.create(nil, note)
	if together != nil {
		together.Done()
	}
	if err != nil {
		return []*tickResult{{what: s.String(), op: "create", err: err}}, nil
	}
	defer e.destroy(in)
	if together != nil {
		together.Wait()
	}
	var out []*tickResult
	for i, values := range seq {
		if err := in.SetParams(values); err != nil {
			return nil, fmt.Errorf("validator error: %w", err)
		}
		label := fmt.Sprintf("tick %d", i+1)
		if note != "" {
			label = note + ", " + label
		}
		r, err := e.tick(in, s, firstTick+uint64(i), seed, label)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if r.err != nil {
			break
		}
	}
	return out, nil
}

// firstError returns the first failed tick, or nil.
func firstError(rs []*tickResult) *tickResult {
	for _, r := range rs {
		if r.err != nil {
			return r
		}
	}
	return nil
}

// sameRuns compares two runs tick by tick; "" when identical.
func sameRuns(a, b []*tickResult) string {
	for i := range a {
		if i >= len(b) {
			return fmt.Sprintf("tick %d is missing", i+1)
		}
		if d := diffFrames(a[i].out, b[i].out); d != "" {
			return fmt.Sprintf("tick %d (%s): %s", i+1, a[i].what, d)
		}
		if fmt.Sprint(a[i].audio) != fmt.Sprint(b[i].audio) {
			return fmt.Sprintf("tick %d (%s): the audio differs", i+1, a[i].what)
		}
	}
	return ""
}

func checkDeterministic(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	if e.p.Nondeterministic {
		return skip(declaredNondeterministic)
	}
	s := e.defaultShape()
	seq := e.fuzzSequence(e.u.Seed)
	a, err := e.run(s, seq, e.u.Seed, "first instance")
	if err != nil {
		return errOutcome(err)
	}
	if r := firstError(a); r != nil {
		return skip("could not run: %s: %s failed: %s (see sizes and param-fuzz)", r.what, r.op, msg(r.err))
	}
	b, err := e.run(s, seq, e.u.Seed, "second instance")
	if err != nil {
		return errOutcome(err)
	}
	if r := firstError(b); r != nil {
		return fail("the second of two identical runs failed where the first did not: %s: %s failed: %s", r.what, r.op, msg(r.err))
	}
	if d := sameRuns(a, b); d != "" {
		return fail("two fresh instances given the same inputs and parameters differ at %s", d)
	}
	return pass("two fresh instances give identical output over %d ticks (%s; defaults, then random parameters)", len(seq), a[0].what)
}

// errOutcome turns a harness error into an outcome.
func errOutcome(err error) outcome {
	if errors.Is(err, errNeedsCUDA) {
		return cudaSkip()
	}
	return fail("%v", err)
}

func checkParamFuzz(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	params := e.p.Params
	if len(params) == 0 {
		return na()
	}
	s := e.smallShape(33, 17)
	base := e.p.Defaults()
	r := rand.New(rand.NewPCG(e.u.Seed, 0xf022))
	type set struct {
		name   string
		values loader.Values
	}
	sets := []set{
		{"at their defaults", base},
		{"at their minimum", runtimeSet(params, base, func(q *loader.Param) loader.Value { return boundValue(q, false) })},
		{"at their maximum", runtimeSet(params, base, func(q *loader.Param) loader.Value { return boundValue(q, true) })},
	}
	const randomSets = 8
	for i := 0; i < randomSets; i++ {
		sets = append(sets, set{fmt.Sprintf("random set %d", i+1), runtimeSet(params, base, func(q *loader.Param) loader.Value { return randomValue(q, r) })})
	}
	sets = append(sets, set{"back at their defaults", base})

	in, err := e.create(nil, "")
	if err != nil {
		return skip("create with the defaults failed (see sizes): %s", msg(err))
	}
	var refused []string // prepare may refuse combinations it cannot handle; users see it
	for i, st := range sets {
		if err := in.SetParams(st.values); err != nil {
			e.destroy(in)
			return fail("validator error: %v", err)
		}
		vals := describe(params, st.values, false)
		res, err := e.tick(in, s, firstTick+uint64(i), e.u.Seed, vals)
		switch {
		case err != nil:
			e.destroy(in)
			return errOutcome(err)
		case res.err != nil && i == 0:
			e.destroy(in)
			return skip("could not run with the defaults: %s failed: %s (see sizes)", res.op, msg(res.err))
		case res.err != nil && res.op == "prepare" && refusal(res.err):
			refused = append(refused, fmt.Sprintf("prepare refuses runtime parameters %s (%s): %s", st.name, vals, msg(res.err)))
		case res.err != nil:
			e.destroy(in)
			return fail("%s failed with runtime parameters %s (%s): %s", res.op, st.name, vals, msg(res.err))
		}
	}
	e.destroy(in)

	loadTime := 0
	for i, q := range params {
		if !q.LoadTime {
			continue
		}
		for _, hi := range []bool{false, true} {
			values := base.Clone()
			values[i] = boundValue(q, hi)
			if values[i] == base[i] {
				continue
			}
			what := fmt.Sprintf("load-time %s=%s", q.Key, crashscan.Clip(values[i].Text(), 24))
			in, err := e.create(values, what)
			if err != nil {
				return fail("create failed with %s: %s", what, msg(err))
			}
			res, err := e.tick(in, s, firstTick, e.u.Seed, what)
			e.destroy(in)
			if err != nil {
				return errOutcome(err)
			}
			switch {
			case res.err != nil && res.op == "prepare" && refusal(res.err):
				refused = append(refused, fmt.Sprintf("prepare refuses %s: %s", what, msg(res.err)))
			case res.err != nil:
				return fail("%s failed with %s: %s", res.op, what, msg(res.err))
			}
			loadTime++
		}
	}
	runtimeParams := 0
	for _, q := range params {
		if !q.LoadTime {
			runtimeParams++
		}
	}
	if len(refused) > 0 {
		return warn("%s (the host checked every value against the descriptor; refuse only combinations the pipeline cannot handle)", strings.Join(refused, "; "))
	}
	return pass("runtime parameters (%d) at their bounds, in %d random sets changed between frames and back, and %d load-time bound%s: all accepted",
		runtimeParams, randomSets, loadTime, plural(loadTime))
}

// refusal reports whether err is a plugin saying a value or format is not something it can
// handle (SCOPE_ERROR_INVALID_ARGUMENT or SCOPE_ERROR_UNSUPPORTED), as prepare may.
func refusal(err error) bool {
	var pe *loader.PluginError
	return errors.As(err, &pe) && (pe.Status == abi.ErrorInvalidArgument || pe.Status == abi.ErrorUnsupported)
}

// callUnprepared calls a fresh instance before any prepare with frames of the mode's
// defaults, as a confused host would (this host never does: ABI 1.1 promises call() only
// after a successful prepare()). It returns the call's error and the writes it made outside
// the output's pixels or into its inputs.
func (e *env) callUnprepared(in *loader.Instance) (error, []string) {
	var frames []*testFrame
	mi, _ := e.p.ModeInfo(e.mode)
	outFmt := frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}
	args := &loader.CallArgs{TimestampUS: 0}
	if e.video() {
		for range e.p.InputPorts {
			list := make([]*frame.Frame, max(mi.InputSize, 1))
			for k := range list {
				t := newTestFrame(outFmt, 0, "input")
				fillFrame(t.f, uint64(k))
				list[k] = t.f
				frames = append(frames, t)
			}
			args.Inputs = append(args.Inputs, list)
		}
	} else {
		outFmt.Width, outFmt.Height = mi.Width, mi.Height
	}
	var out *testFrame
	if e.p.ProducesVideo {
		out = newTestFrame(outFmt, 0, "the output")
		args.Output = out.f
	}
	if e.p.ProducesAudio {
		args.Audio = &loader.Audio{Samples: make([]float32, 2*4800)}
	}
	var before [][]byte
	for _, t := range frames {
		before = append(before, append([]byte(nil), t.f.Data...))
	}
	e.tr.step("call before any prepare (%v)", outFmt)
	err := in.CallUnprepared(args)
	var damage []string
	for i, t := range frames {
		damage = append(damage, t.outsideDamage(false)...)
		if d := changed(before[i], t.f); d != "" {
			damage = append(damage, t.name+" was modified: "+d)
		}
	}
	if out != nil {
		damage = append(damage, out.outsideDamage(true)...)
	}
	return err, damage
}

func checkWrongOrder(e *env) outcome {
	// destroy(NULL) first, on a raw copy that is unloaded again before the loader's copy
	// comes: two live copies of one library can share what they load themselves (a bridge's
	// plugins, by path) and deinitialize it twice.
	if o, ok := destroyNull(e); !ok {
		return o
	}
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	var advice []string
	in, err := e.create(nil, "")
	if err != nil {
		return skip("create with the defaults failed (see sizes): %s", msg(err))
	}
	e.tr.step("destroy right after create")
	in.Close()

	if in, err = e.create(nil, ""); err != nil {
		return fail("create failed after a destroy: %s", msg(err))
	}
	first := "call before prepare returns SCOPE_ERROR_BAD_STATE"
	err, damage := e.callUnprepared(in)
	e.destroy(in)
	if len(damage) > 0 {
		return fail("call before any prepare: %s", strings.Join(damage, "; "))
	}
	var pe *loader.PluginError
	switch {
	case err == nil:
		first = "call before prepare succeeds safely"
	case errors.As(err, &pe) && pe.Status != abi.ErrorBadState:
		advice = append(advice, fmt.Sprintf("call before any prepare returned %v, not SCOPE_ERROR_BAD_STATE", pe.Status))
	}

	small, other := e.smallShape(7, 3), e.smallShape(33, 17)
	if in, err = e.create(nil, ""); err != nil {
		return fail("create failed after a destroy: %s", msg(err))
	}
	var formats []frame.Format
	if e.video() {
		for range e.p.InputPorts {
			formats = append(formats, frame.Format{Width: small.w, Height: small.h, Channels: 3, Elem: frame.U8})
		}
	}
	e.tr.step("prepare (%s)", small)
	_, perr := in.Prepare(formats)
	e.tr.step("destroy after prepare, without a call")
	in.Close()
	if perr != nil {
		return skip("prepare with the defaults failed (see sizes): %s", msg(perr))
	}

	if in, err = e.create(nil, ""); err != nil {
		return fail("create failed after a destroy: %s", msg(err))
	}
	e.tr.step("prepare (%s), not followed by a call", small)
	_, _ = in.Prepare(formats)
	r, err := e.tick(in, other, firstTick, e.u.Seed, "after a prepare for "+small.String())
	e.destroy(in)
	if err != nil {
		return errOutcome(err)
	}
	second := "a second prepare replaces the first"
	if r.err != nil {
		// Only a failure a fresh instance does not have is this check's.
		if fresh, err := e.once(other, e.u.Seed); err == nil && fresh.err == nil {
			return fail("%s failed after an earlier prepare for %s that had no call: %s (each prepare replaces the last)", r.op, small, msg(r.err))
		}
		second = "a second prepare was not checked (call fails on a fresh instance too; see sizes)"
	}

	if len(advice) > 0 {
		return warn("%s", strings.Join(advice, "; "))
	}
	return pass("%s; destroy right after create, after prepare, and of NULL work; %s", first, second)
}

// destroyNull calls the pipeline's destroy with NULL, which the ABI says is ignored.
func destroyNull(e *env) (outcome, bool) {
	l, o, ok := openRegistered(e)
	if !ok {
		return o, false
	}
	defer l.close()
	defer l.unregister()
	ptr := l.pipeline(e.u.Pipeline)
	if ptr == 0 {
		return fail("pipeline %q is missing when the library is registered again", e.u.Pipeline), false
	}
	var d abi.PipelineDesc
	abi.ReadSized(ptr, &d)
	e.tr.step("destroy(NULL)")
	purego.SyscallN(d.Destroy, 0)
	return outcome{}, true
}

// nativeMemory returns the resident set size less the memory the Go runtime holds, after
// returning Go's free memory to the system: what the plugin (and libc) hold. The Go side of
// the harness allocates frames every cycle; only the plugin's growth should count.
func nativeMemory() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("read the resident set size: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("read the resident set size: /proc/self/statm is %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the resident set size: %w", err)
	}
	ms := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(ms)
	goHeld := int64(ms[0].Value.Uint64()) - int64(ms[1].Value.Uint64())
	return pages*int64(os.Getpagesize()) - goHeld, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func checkMemoryGrowth(e *env) outcome {
	if raceDetector {
		return skip("the validator is built with -race, whose own memory growth hides the plugin's")
	}
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	s := e.smallShape(7, 3)
	cycle := func(i int) (outcome, bool) {
		in, err := e.create(nil, fmt.Sprintf("cycle %d", i))
		if err != nil {
			return fail("create failed in cycle %d: %s", i, msg(err)), false
		}
		r, err := e.tick(in, s, firstTick, e.u.Seed, fmt.Sprintf("cycle %d", i))
		e.destroy(in)
		if err != nil {
			return errOutcome(err), false
		}
		if r.err != nil {
			return fail("%s failed in cycle %d: %s", r.op, i, msg(r.err)), false
		}
		return outcome{}, true
	}
	const warmup = 10 // cycles that let allocators, caches and lazily mapped pages settle
	for i := 0; i < warmup; i++ {
		if o, ok := cycle(i - warmup); !ok {
			if o.Status == Fail {
				o = skip("could not run a cycle: %s (see sizes)", o.Reason)
			}
			return o
		}
	}
	before, err := nativeMemory()
	if err != nil {
		return skip("%v", err)
	}
	for i := 1; i <= cycles; i++ {
		if o, ok := cycle(i); !ok {
			return o
		}
	}
	after, err := nativeMemory()
	if err != nil {
		return skip("%v", err)
	}
	growth := after - before
	what := fmt.Sprintf("the resident memory outside the Go heap grew by %s over %d create/prepare/call/destroy cycles (%s)", mib(growth), cycles, s)
	switch {
	case growth > growthFail:
		return fail("%s, about %s per instance: destroy must free what create, prepare and call allocate", what, mib(growth/cycles))
	case growth > growthWarn:
		return warn("%s (over %s)", what, mib(growthWarn))
	}
	return pass("the resident memory outside the Go heap changed by %s over %d create/prepare/call/destroy cycles (%s)", mib(growth), cycles, s)
}

func checkParallel(e *env) outcome {
	if err := e.open(); err != nil {
		return fail("%v", err)
	}
	n := max(e.u.Threads, 1)
	s := e.defaultShape()
	seq := sequence{e.p.Defaults(), e.p.Defaults(), e.p.Defaults()}
	seed := func(k int) uint64 { return e.u.Seed + uint64(k)*7919 }
	// A pipeline declaring SCOPE_PIPELINE_NONDETERMINISTIC gives no reference output to compare
	// with: its instances must still run at once without failing.
	compare := !e.p.Nondeterministic
	serial := make([][]*tickResult, n) // also tells a pipeline that cannot run from one that fails at once
	for k := range serial {
		rs, err := e.run(s, seq, seed(k), fmt.Sprintf("instance %d alone", k+1))
		if err != nil {
			return errOutcome(err)
		}
		if r := firstError(rs); r != nil {
			return skip("could not run: %s: %s failed: %s (see sizes)", r.what, r.op, msg(r.err))
		}
		serial[k] = rs
	}
	if compare {
		again, err := e.run(s, seq, seed(0), "instance 1 alone, again")
		if err != nil {
			return errOutcome(err)
		}
		if firstError(again) != nil || sameRuns(serial[0], again) != "" {
			return skip("two identical runs give different output, so parallel runs cannot be compared (see deterministic)")
		}
	}

	par := make([][]*tickResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg, created sync.WaitGroup
	created.Add(n) // every instance exists before any ticks: their lifetimes overlap
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-start
			par[k], errs[k] = e.runTogether(s, seq, seed(k), fmt.Sprintf("instance %d of %d at once", k+1, n), &created)
		}()
	}
	close(start)
	wg.Wait()
	for k := 0; k < n; k++ {
		if errs[k] != nil {
			return errOutcome(errs[k])
		}
		if r := firstError(par[k]); r != nil {
			return fail("instance %d of %d running at once: %s: %s failed: %s", k+1, n, r.what, r.op, msg(r.err))
		}
		if !compare {
			continue
		}
		if d := sameRuns(serial[k], par[k]); d != "" {
			return fail("instance %d of %d running at once differs from the same instance run alone at %s (instances must not share state)", k+1, n, d)
		}
	}
	if !compare {
		return pass("%d instances ran at once without errors (%d ticks, %s; outputs not compared: %s)", n, len(seq), s, declaredNondeterministic)
	}
	return pass("%d instances running at once give the output each gives alone (%d ticks, %s)", n, len(seq), s)
}
