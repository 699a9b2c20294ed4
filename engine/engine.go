// Package engine runs a chain of pipeline instances on frames: it pulls frames from a
// source, keeps each pipeline's sliding window of input frames, converts between the formats
// neighbouring pipelines want, calls each pipeline, and hands the result to a sink.
//
// Frames are allocated when a format first appears and reused afterwards: in steady state a
// tick allocates nothing. The output of one pipeline is written straight into the next
// pipeline's window when the formats match, so a chain copies no frame it does not have to.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

// Config describes one run. Zero values are documented per field.
type Config struct {
	// Stages are the chain's instances in order; the output of one is the input of the next.
	// The first may be in text mode (it generates frames); every other one is in video mode.
	Stages []Instance
	// Source feeds the first stage in video mode; it must be nil when the first stage is in
	// text mode.
	Source media.Source
	// Sink receives every output frame of the last stage; nil discards them.
	Sink media.Sink
	// Frames stops the run after this many output frames; 0 runs until the source ends or
	// the context is cancelled (a text-mode chain with no limit runs until cancelled).
	Frames int
	// FPS paces the run to this many ticks per second; 0 runs as fast as the chain allows.
	FPS float64
	// Prompts go to every stage whose pipeline supports prompts.
	Prompts []loader.Prompt
	// OnError is called for every failed prepare or call (the tick is dropped and the run
	// goes on); nil ignores them (they are still counted in Stats).
	OnError func(stage int, err error)
	// MaxConsecutiveErrors ends the run with an error after this many ticks in a row failed;
	// 0 never gives up (an interactive session, where the user may fix a parameter).
	MaxConsecutiveErrors int
	// OnFrame, if set, sees every output frame after the sink; the frame is valid during the
	// call only.
	OnFrame func(f *frame.Frame)
	// OnAudio, if set, sees the audio a stage produced (pipelines that produce audio, calls
	// that wrote at least one sample frame), right after that stage's call succeeded; the
	// buffer is valid during the call only.
	OnAudio func(stage int, a *loader.Audio)
	// Device, when set, runs pipelines that ask for CUDA memory: the engine uploads host
	// frames for them, keeps frames on the device between such pipelines and downloads only
	// for host pipelines and the sink. When the last pipeline's output is on the device, its
	// download overlaps the next frame's work and the sink receives each frame one tick
	// later. Nil means no CUDA: a pipeline that needs CUDA memory makes New fail.
	Device Device
}

// Engine runs a Config. Its methods other than Run may be called from any goroutine; the
// changes they ask for (parameters, pause, instance swaps) take effect between two ticks.
type Engine struct {
	cfg    Config
	stages []*stage

	mu      sync.Mutex
	pending map[int]loader.Values
	swaps   map[int]Instance
	paused  bool
	prompts *[]loader.Prompt // new prompts to apply on the next tick, nil = none pending
	resume  chan struct{}    // closed and replaced when pause ends
	live    Stats            // counters published after every tick (Stages not filled)
	running bool

	transfers Transfers // frames moved across PCIe (Run's goroutine only)
	parity    int       // which parityBufs of each stage this tick uses (device runs)
}

// stage is one pipeline of the chain with its window and buffers.
type stage struct {
	inst    Instance
	id      string
	video   bool
	prompts []loader.Prompt
	audio   *loader.Audio

	win      window       // input frames, in the format the pipeline asked for
	inFmt    frame.Format // format arriving from upstream
	req      loader.Requirements
	out      *frame.Frame // own output buffer when the next stage's window can't take it
	formats  []frame.Format
	inputs   [][]*frame.Frame
	args     loader.CallArgs
	times    histogram
	recent   time.Duration // moving average of recent call times, for live display
	prepared bool          // prepared during the current tick
	bypass   bool          // prepare could not reach the instance: pass the input through this tick
	bypassed int           // ticks passed through
	calls    int
	errors   int

	// With a Device: where the input arrives and what the stage asked for.
	inMem   uint32                  // memory of the frames arriving from upstream
	dwin    dwindow                 // input frames in device memory (req.InputMemory CUDA)
	dinputs [][]*loader.DeviceFrame // device input lists passed to Call
	bufs    [2]parityBufs           // alternating per tick
}

// devIn reports whether the stage takes its input in device memory.
func (st *stage) devIn() bool { return st.video && onDevice(st.req.InputMemory) }

// ErrConfig is wrapped by every error New returns for an unusable chain.
var ErrConfig = errors.New("invalid chain")

// New checks the chain and prepares its buffers.
func New(cfg Config) (*Engine, error) {
	if len(cfg.Stages) == 0 {
		return nil, fmt.Errorf("%w: no pipelines", ErrConfig)
	}
	e := &Engine{cfg: cfg, pending: map[int]loader.Values{}, swaps: map[int]Instance{}, resume: make(chan struct{})}
	for i, in := range cfg.Stages {
		p := in.Pipeline()
		st := &stage{inst: in, id: p.ID, video: in.Mode() == loader.ModeVideo}
		if !p.ProducesVideo {
			return nil, fmt.Errorf("%w: %s produces no video; audio-only pipelines cannot be part of a video chain yet", ErrConfig, p.ID)
		}
		if st.video && len(p.InputPorts) > 1 {
			return nil, fmt.Errorf("%w: %s needs %d inputs (ports %s); a chain feeds each pipeline one input, so multi-input pipelines cannot run yet",
				ErrConfig, p.ID, len(p.InputPorts), strings.Join(p.InputPorts, ", "))
		}
		if i > 0 && !st.video {
			return nil, fmt.Errorf("%w: %s runs in text mode (it takes no input), so it can only start a chain, not follow %s", ErrConfig, p.ID, cfg.Stages[i-1].Pipeline().ID)
		}
		if p.SupportsPrompts {
			st.prompts = cfg.Prompts
		}
		if p.ProducesAudio {
			st.audio = &loader.Audio{}
		}
		if p.Memory&abi.MemoryHost == 0 && p.Memory != 0 && cfg.Device == nil {
			return nil, fmt.Errorf("%w: %s needs CUDA memory and the engine has no CUDA device", ErrConfig, p.ID)
		}
		st.inMem = abi.MemoryHost
		if st.video {
			st.inputs = make([][]*frame.Frame, 1)
			st.formats = make([]frame.Format, 1)
		}
		e.stages = append(e.stages, st)
	}
	if e.stages[0].video && cfg.Source == nil {
		return nil, fmt.Errorf("%w: %s needs input frames: give it a source", ErrConfig, e.stages[0].id)
	}
	if !e.stages[0].video && cfg.Source != nil {
		return nil, fmt.Errorf("%w: %s runs in text mode and takes no input; drop the source", ErrConfig, e.stages[0].id)
	}
	if cfg.Source != nil {
		e.stages[0].inFmt = cfg.Source.Format()
	}
	return e, nil
}

// SetParams replaces the runtime values of stage i; they take effect at the start of the
// next tick. Values are checked against the schema now.
func (e *Engine) SetParams(i int, values loader.Values) error {
	if i < 0 || i >= len(e.stages) {
		return fmt.Errorf("no stage %d (the chain has %d)", i, len(e.stages))
	}
	p := e.stages[i].inst.Pipeline()
	cur := e.stages[i].inst.Values()
	for j, q := range p.Params {
		if err := q.Check(values[j]); err != nil {
			return fmt.Errorf("%s: %w", p.ID, err)
		}
		if q.LoadTime && values[j] != cur[j] {
			return fmt.Errorf("%s: %s is a load-time parameter; it cannot change while the pipeline runs", p.ID, q.Key)
		}
	}
	e.mu.Lock()
	e.pending[i] = values.Clone()
	e.mu.Unlock()
	return nil
}

// Swap replaces the instance of stage i with in between two ticks: the output never stops,
// the old instance keeps running until the swap and is closed by the engine right after it.
// in must be a video-mode instance unless i is 0 and the chain has no source. A queued swap
// that has not happened yet is replaced (and its instance closed).
func (e *Engine) Swap(i int, in Instance) error {
	if i < 0 || i >= len(e.stages) {
		return fmt.Errorf("no stage %d (the chain has %d)", i, len(e.stages))
	}
	video := in.Mode() == loader.ModeVideo
	if video != e.stages[i].video {
		return fmt.Errorf("swap stage %d: the new %s instance runs in %s mode, the stage in the other", i, in.Pipeline().ID, in.Mode())
	}
	if !in.Pipeline().ProducesVideo {
		return fmt.Errorf("swap stage %d: %s produces no video", i, in.Pipeline().ID)
	}
	e.mu.Lock()
	old := e.swaps[i]
	e.swaps[i] = in
	delete(e.pending, i) // values of the old instance do not apply to the new one
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

// SetPrompts replaces the prompts of every stage whose pipeline supports prompts; they take
// effect at the start of the next tick.
func (e *Engine) SetPrompts(p []loader.Prompt) {
	p = append([]loader.Prompt(nil), p...)
	e.mu.Lock()
	e.prompts = &p
	e.mu.Unlock()
}

// Prompts returns the prompts the next tick will use.
func (e *Engine) Prompts() []loader.Prompt {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.prompts != nil {
		return append([]loader.Prompt(nil), (*e.prompts)...)
	}
	return append([]loader.Prompt(nil), e.cfg.Prompts...)
}

// Values returns the parameter values stage i will use on its next tick.
func (e *Engine) Values(i int) loader.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.pending[i]; ok {
		return v.Clone()
	}
	if in, ok := e.swaps[i]; ok {
		return in.Values()
	}
	return e.stages[i].inst.Values()
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
// Mean is a moving average over the last ~16 calls (P99 is not filled).
func (e *Engine) Live() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.live
	s.Stages = append([]StageStats(nil), e.live.Stages...)
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

func (e *Engine) applyPending() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.prompts != nil {
		e.cfg.Prompts = *e.prompts
		e.prompts = nil
		for _, st := range e.stages {
			if st.inst.Pipeline().SupportsPrompts {
				st.prompts = e.cfg.Prompts
			}
		}
	}
	for i, in := range e.swaps {
		old := e.stages[i].inst
		e.stages[i].inst = in
		e.stages[i].id = in.Pipeline().ID
		e.stages[i].prompts = nil
		if in.Pipeline().SupportsPrompts {
			e.stages[i].prompts = e.cfg.Prompts
		}
		e.stages[i].audio = nil
		if in.Pipeline().ProducesAudio {
			e.stages[i].audio = &loader.Audio{}
		}
		delete(e.swaps, i)
		old.Close()
	}
	for i, v := range e.pending {
		if err := e.stages[i].inst.SetParams(v); err != nil {
			e.report(i, err)
		}
		delete(e.pending, i)
	}
}

func (e *Engine) report(i int, err error) {
	if e.cfg.OnError != nil {
		e.cfg.OnError(i, err)
	}
}

// Run processes frames until the source ends, the frame limit is reached or ctx is
// cancelled, and returns the statistics. A failed call drops that tick and the run goes on;
// source and sink errors end the run.
func (e *Engine) Run(ctx context.Context) (Stats, error) {
	start := time.Now()
	var interval time.Duration
	if e.cfg.FPS > 0 {
		interval = time.Duration(float64(time.Second) / e.cfg.FPS)
	}
	next := start
	stats := Stats{}
	var srcBuf *frame.Frame
	var runErr error
	failing := 0 // consecutive failed ticks
	// failed counts a dropped tick and returns the error that ends the run once
	// MaxConsecutiveErrors ticks in a row have failed (nil before that).
	failed := func(err error) error {
		stats.Errors++
		failing++
		e.publish(&stats, start)
		if max := e.cfg.MaxConsecutiveErrors; max > 0 && failing >= max {
			return fmt.Errorf("giving up after %d failed frames in a row; last error: %w", failing, err)
		}
		return nil
	}
	if dev := e.cfg.Device; dev != nil {
		unbind, err := dev.Bind()
		if err != nil {
			return stats, fmt.Errorf("use CUDA device %d: %w", dev.Ordinal(), err)
		}
		defer unbind()
		defer e.freeDevice()
	}
	// pending is the last output whose download from the device is still in flight; the sink
	// gets it after the next tick's work has been enqueued.
	var pending *pendingOut
	deliver := func(out *frame.Frame, ts time.Duration) error {
		out.Index = uint64(stats.Frames)
		out.PTS = ts
		if e.cfg.Sink != nil {
			if err := e.cfg.Sink.Write(out); err != nil {
				return fmt.Errorf("write output frame %d: %w", stats.Frames, err)
			}
		}
		if e.cfg.OnFrame != nil {
			e.cfg.OnFrame(out)
		}
		stats.Frames++
		e.publish(&stats, start)
		return nil
	}
	flush := func() error {
		if pending == nil {
			return nil
		}
		p := pending
		pending = nil
		if err := e.cfg.Device.Wait(p.fence); err != nil {
			return fmt.Errorf("download output frame %d: %w", stats.Frames, err)
		}
		return deliver(p.frame, p.ts)
	}
	produced := func() int {
		if pending != nil {
			return stats.Frames + 1
		}
		return stats.Frames
	}
	for tick := uint64(0); e.cfg.Frames == 0 || produced() < e.cfg.Frames; tick++ {
		e.parity = int(tick % 2)
		if err := ctx.Err(); err != nil {
			break
		}
		if !e.waitWhilePaused(ctx) {
			break
		}
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d):
				}
			} else if -d > interval {
				stats.Late++
				next = time.Now()
			}
			next = next.Add(interval)
		}
		e.applyPending()
		for _, st := range e.stages {
			st.prepared, st.bypass = false, false
		}
		ts := time.Since(start)

		// Input for stage 0.
		if e.cfg.Source != nil {
			st := e.stages[0]
			if err := e.prepare(0, ts); err != nil {
				e.report(0, err)
				if runErr = failed(err); runErr != nil {
					break
				}
				// Without requirements we cannot size the window; still consume the frame
				// so the source keeps time.
				if srcBuf == nil {
					srcBuf = frame.New(st.inFmt)
				}
				if err := e.cfg.Source.Read(ctx, srcBuf); err != nil {
					runErr = sourceErr(err)
					break
				}
				continue
			}
			if st.devIn() {
				if err := e.readToDevice(ctx, st); err != nil {
					runErr = err
					break
				}
			} else if dst := st.win.slot(); st.inFmt == st.win.format {
				if err := e.cfg.Source.Read(ctx, dst); err != nil {
					runErr = sourceErr(err)
					break
				}
			} else {
				if srcBuf == nil || srcBuf.Format != st.inFmt {
					srcBuf = frame.New(st.inFmt)
				}
				if err := e.cfg.Source.Read(ctx, srcBuf); err != nil {
					runErr = sourceErr(err)
					break
				}
				if err := frame.Convert(dst, srcBuf); err != nil {
					runErr = fmt.Errorf("convert input for %s: %w", st.id, err)
					break
				}
			}
			if !st.devIn() {
				st.win.commit()
			}
		}

		out, fence, deferred, err := e.runChain(ts)
		if err != nil || out == nil || !deferred {
			// Nothing new in flight: the frame still downloading goes to the sink first.
			if ferr := flush(); ferr != nil {
				runErr = ferr
				break
			}
		}
		if err != nil {
			if runErr = failed(err); runErr != nil {
				break
			}
			continue
		}
		failing = 0
		if out == nil { // a window is still filling
			continue
		}
		if deferred {
			// This frame's download is enqueued; deliver the previous one meanwhile.
			if ferr := flush(); ferr != nil {
				runErr = ferr
				break
			}
			pending = &pendingOut{frame: out, fence: fence, ts: ts}
			continue
		}
		if err := deliver(out, ts); err != nil {
			runErr = err
			break
		}
	}
	if runErr == nil || errors.Is(runErr, io.EOF) {
		if err := flush(); err != nil {
			runErr = err
		}
	}
	if errors.Is(runErr, io.EOF) || (ctx.Err() != nil && errors.Is(runErr, ctx.Err())) {
		runErr = nil // the source ended, or the run was stopped while reading
	}
	stats.Elapsed = time.Since(start)
	stats.Transfers = e.transfers
	for _, st := range e.stages {
		stats.Stages = append(stats.Stages, StageStats{ID: st.id, Calls: st.calls, Errors: st.errors, Bypassed: st.bypassed, Mean: st.times.mean(), P99: st.times.quantile(0.99)})
		isolation(st.inst, &stats.Stages[len(stats.Stages)-1])
	}
	return stats, runErr
}

// publish makes the counters visible to Live.
func (e *Engine) publish(s *Stats, start time.Time) {
	e.mu.Lock()
	stages := e.live.Stages[:0]
	for _, st := range e.stages {
		stages = append(stages, StageStats{ID: st.id, Calls: st.calls, Errors: st.errors, Bypassed: st.bypassed, Mean: st.recent})
		isolation(st.inst, &stages[len(stages)-1])
	}
	e.live = Stats{Frames: s.Frames, Errors: s.Errors, Late: s.Late, Elapsed: time.Since(start), Stages: stages}
	e.mu.Unlock()
}

// sourceErr keeps io.EOF recognisable and wraps anything else.
func sourceErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("read input: %w", err)
}

// prepare asks stage i for its requirements and resizes its window and buffers to match.
func (e *Engine) prepare(i int, ts time.Duration) error {
	st := e.stages[i]
	var formats []frame.Format
	if st.video {
		st.formats[0] = st.inFmt
		formats = st.formats
	}
	var req loader.Requirements
	var err error
	if st.inMem == abi.MemoryHost {
		req, err = st.inst.Prepare(formats)
	} else {
		req, err = st.inst.PrepareOn(formats, st.inMem)
	}
	if ok, reported := bypass(err); ok && st.video && st.inMem == abi.MemoryHost {
		// An isolated instance that cannot run now: the stage passes its input through
		// (one frame, unchanged) until it is back.
		if !reported {
			e.report(i, err)
		}
		req, err = loader.Requirements{InputSize: 1, Input: st.inFmt, InputMemory: abi.MemoryHost, Output: st.inFmt, OutputMemory: abi.MemoryHost}, nil
		st.bypass = true
	}
	if err != nil {
		st.errors++
		return err
	}
	if e.cfg.Device == nil && (onDevice(req.InputMemory) || onDevice(req.OutputMemory)) {
		st.errors++
		return fmt.Errorf("%s asks for CUDA memory and the engine has no CUDA device", st.id)
	}
	st.req = req
	if st.video {
		want := req.Input
		want.Width, want.Height = st.inFmt.Width, st.inFmt.Height
		if onDevice(req.InputMemory) {
			if err := st.dwin.resize(e.cfg.Device, want, req.InputSize); err != nil {
				st.errors++
				return fmt.Errorf("%s: %w", st.id, err)
			}
		} else {
			st.win.resize(want, req.InputSize)
		}
	}
	st.prepared = true
	if st.audio != nil && len(st.audio.Samples) < 2*req.AudioMaxFrames {
		st.audio.Samples = make([]float32, 2*req.AudioMaxFrames)
	}
	return nil
}

// pendingOut is an output frame whose download is still in flight.
type pendingOut struct {
	frame *frame.Frame
	fence Fence
	ts    time.Duration
}

// readToDevice reads the source's next frame into stage 0's pinned buffer and uploads it into
// the stage's device window.
func (e *Engine) readToDevice(ctx context.Context, st *stage) error {
	bufs := &st.bufs[e.parity]
	src, err := hostFrame(e.cfg.Device, &bufs.src, st.inFmt)
	if err != nil {
		return fmt.Errorf("input for %s: %w", st.id, err)
	}
	if err := e.cfg.Source.Read(ctx, src); err != nil {
		return sourceErr(err)
	}
	if err := e.upload(st.dwin.slot(), src, bufs); err != nil {
		return fmt.Errorf("input for %s: %w", st.id, err)
	}
	st.dwin.commit()
	return nil
}

// freeDevice releases every device and pinned buffer of the chain.
func (e *Engine) freeDevice() {
	dev := e.cfg.Device
	dev.Sync()
	for _, st := range e.stages {
		st.dwin.free(dev)
		for i := range st.bufs {
			st.bufs[i].free(dev)
		}
	}
}

// runChain calls every stage once. Stage 0's input (if any) is already in its window. It
// returns the last stage's output, or nil when some window is not full yet. deferred means the
// output is still being downloaded from the device: it is valid after Device.Wait(fence).
func (e *Engine) runChain(ts time.Duration) (out *frame.Frame, fence Fence, deferred bool, err error) {
	for i, st := range e.stages {
		if !st.prepared {
			if err := e.prepare(i, ts); err != nil {
				e.report(i, err)
				return nil, 0, false, err
			}
		}
		if st.video && ((st.devIn() && !st.dwin.full()) || (!st.devIn() && !st.win.full())) {
			return nil, 0, false, nil
		}
		var next *stage
		if i+1 < len(e.stages) {
			next = e.stages[i+1]
			next.inFmt = st.req.Output
			next.inMem = st.req.OutputMemory
			if err := e.prepare(i+1, ts); err != nil {
				e.report(i+1, err)
				return nil, 0, false, err
			}
		}
		bufs := &st.bufs[e.parity]
		devOut := onDevice(st.req.OutputMemory)
		// Write straight into the next stage's window when it wants this format and memory.
		var hout *frame.Frame
		var dout *loader.DeviceFrame
		switch {
		case devOut && next != nil && next.devIn() && next.dwin.format == st.req.Output:
			dout = next.dwin.slot()
		case devOut:
			if dout, err = devFrame(e.cfg.Device, &bufs.devOut, st.req.Output); err != nil {
				return nil, 0, false, e.fail(i, st, err)
			}
		case next != nil && !next.devIn() && next.win.format == st.req.Output:
			hout = next.win.slot()
		case next != nil && next.devIn():
			// Uploaded next: pinned, and not reused while the upload may be in flight.
			if hout, err = hostFrame(e.cfg.Device, &bufs.hostOut, st.req.Output); err != nil {
				return nil, 0, false, e.fail(i, st, err)
			}
		default:
			if st.out == nil || st.out.Format != st.req.Output {
				st.out = frame.New(st.req.Output)
			}
			hout = st.out
		}
		st.args.Output, st.args.DeviceOutput = hout, dout
		st.args.Prompts = st.prompts
		st.args.Audio = st.audio
		st.args.TimestampUS = ts.Microseconds()
		st.args.Inputs, st.args.DeviceInputs = nil, nil
		if st.video {
			if st.devIn() {
				if st.dinputs == nil {
					st.dinputs = make([][]*loader.DeviceFrame, 1)
				}
				st.dinputs[0] = st.dwin.frames(st.dinputs[0])
				st.args.DeviceInputs = st.dinputs
			} else {
				st.inputs[0] = st.win.frames(st.inputs[0])
				st.args.Inputs = st.inputs
			}
		}
		t0 := time.Now()
		var err error
		if st.bypass {
			err = errBypass
		} else {
			err = st.inst.Call(&st.args)
		}
		if ok, reported := bypass(err); ok && hout != nil && st.video {
			// The isolated instance crashed, restarts or is disabled: pass the newest input
			// through, so the rest of the chain keeps its output.
			if !reported {
				e.report(i, err)
			}
			if in := st.inputs[0]; len(in) > 0 && frame.Convert(hout, in[len(in)-1]) == nil {
				err = nil
				st.bypassed++
			}
		}
		d := time.Since(t0)
		st.times.add(d)
		if st.calls == 0 {
			st.recent = d
		} else {
			st.recent += (d - st.recent) / 16 // moving average over ~16 calls
		}
		st.calls++
		if err != nil {
			st.errors++
			e.report(i, err)
			return nil, 0, false, err
		}
		if e.cfg.OnAudio != nil && st.audio != nil && st.audio.Frames > 0 {
			e.cfg.OnAudio(i, st.audio)
		}
		if next == nil {
			if !devOut {
				return hout, 0, false, nil
			}
			// The sink takes host frames: download, and let the next tick overlap it.
			sink, err := hostFrame(e.cfg.Device, &bufs.sink, st.req.Output)
			if err != nil {
				return nil, 0, false, e.fail(i, st, err)
			}
			f, err := e.download(sink, dout, bufs)
			if err != nil {
				return nil, 0, false, e.fail(i, st, err)
			}
			return sink, f, true, nil
		}
		switch {
		case !devOut && !next.devIn():
			if hout == st.out {
				if err := frame.Convert(next.win.slot(), hout); err != nil {
					return nil, 0, false, fmt.Errorf("convert %s output for %s: %w", st.id, next.id, err)
				}
			}
			next.win.commit()
		case devOut && next.devIn():
			if dout != next.dwin.slot() {
				if err := e.cfg.Device.Convert(next.dwin.slot(), dout); err != nil {
					return nil, 0, false, e.fail(i, st, fmt.Errorf("convert %s output for %s on the device: %w", st.id, next.id, err))
				}
			}
			next.dwin.commit()
		case !devOut && next.devIn():
			if err := e.upload(next.dwin.slot(), hout, bufs); err != nil {
				return nil, 0, false, e.fail(i, st, fmt.Errorf("%s output for %s: %w", st.id, next.id, err))
			}
			next.dwin.commit()
		default: // device output for a host pipeline: it needs the frame now
			f, err := e.download(next.win.slot(), dout, bufs)
			if err == nil {
				err = e.cfg.Device.Wait(f)
			}
			if err != nil {
				return nil, 0, false, e.fail(i, st, fmt.Errorf("%s output for %s: %w", st.id, next.id, err))
			}
			next.win.commit()
		}
	}
	return nil, 0, false, nil
}

// fail counts and reports a device error of stage i and returns it.
func (e *Engine) fail(i int, st *stage, err error) error {
	st.errors++
	e.report(i, err)
	return err
}
