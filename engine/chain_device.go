package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// runDevice is Run for a chain with a Device: one goroutine, stage after stage, with
// uploads, downloads and device conversions on each edge where neighbours differ.
func (e *Engine) runDevice(ctx context.Context) (Stats, error) {
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
			st.prepared = false
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
		stats.Stages = append(stats.Stages, StageStats{ID: st.id, Calls: st.calls, Errors: st.errors, Mean: st.times.mean(), P99: st.times.quantile(0.99)})
	}
	return stats, runErr
}

// publish makes the counters visible to Live.
func (e *Engine) publish(s *Stats, start time.Time) {
	e.mu.Lock()
	stages := e.live.Stages[:0]
	for _, st := range e.stages {
		stages = append(stages, StageStats{ID: st.id, Calls: st.calls, Errors: st.errors, Mean: st.recent})
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
	if err != nil {
		st.errors++
		return err
	}
	e.noteInputs(i, formats, st.inMem)
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
	if err := st.dwin.commit(e.cfg.Device); err != nil {
		return fmt.Errorf("input for %s: %w", st.id, err)
	}
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
		err := st.inst.Call(&st.args)
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
			if err := next.dwin.commit(e.cfg.Device); err != nil {
				return nil, 0, false, e.fail(i, st, fmt.Errorf("%s output for %s: %w", st.id, next.id, err))
			}
		case !devOut && next.devIn():
			if err := e.upload(next.dwin.slot(), hout, bufs); err != nil {
				return nil, 0, false, e.fail(i, st, fmt.Errorf("%s output for %s: %w", st.id, next.id, err))
			}
			if err := next.dwin.commit(e.cfg.Device); err != nil {
				return nil, 0, false, e.fail(i, st, fmt.Errorf("%s output for %s: %w", st.id, next.id, err))
			}
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
