package session

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// HostConfig describes the session a Host serves.
type HostConfig struct {
	// Dir is the runtime directory (see DefaultDir).
	Dir Dir
	// Engine runs the chain; its instances give the schema, SetParams/SetPaused take changes.
	Engine *engine.Engine
	// Stop ends the run (OpStop); nil makes OpStop fail.
	Stop func()
	// Slots is the number of frame slots in the ring (0 = DefaultSlots).
	Slots int
}

// Host is a running session: its info file, control socket and frame ring. Publish and
// PublishAudio are called by the engine's goroutine; everything else from any goroutine.
type Host struct {
	cfg      HostConfig
	info     Info
	infoPath string
	ring     *Writer
	ln       net.Listener
	server   *Server
	cancel   context.CancelFunc
	done     chan struct{}
	started  time.Time

	mu       sync.Mutex // guards the fields below and the reader
	width    int
	height   int
	lastPub  time.Time
	interval time.Duration // moving average of the time between published frames
	reader   *Reader
	closed   bool

	pubMu sync.Mutex // held while the ring is written, so Close never unmaps under a writer

	dropped atomic.Uint64
}

// Start creates a session for the engine's chain: the frame ring, the control socket (served
// in the background until Close) and, last, the info file that makes it visible to List.
func Start(cfg HostConfig) (*Host, error) {
	if cfg.Engine == nil {
		return nil, fmt.Errorf("start session: no engine")
	}
	if cfg.Slots == 0 {
		cfg.Slots = DefaultSlots
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, server: NewServer(), done: make(chan struct{}), started: time.Now()}
	h.info = Info{ID: id, PID: os.Getpid(), Started: h.started.UTC().Truncate(time.Millisecond),
		Socket: filepath.Join(string(cfg.Dir), id+".sock"), SHM: cfg.Dir.shmPath(id)}
	for _, in := range cfg.Engine.Instances() {
		h.info.Chain = append(h.info.Chain, in.Pipeline().ID)
	}
	if h.ring, err = CreateWriter(h.info.SHM, cfg.Slots); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	os.Remove(h.info.Socket)
	if h.ln, err = net.Listen("unix", h.info.Socket); err != nil {
		h.ring.Close()
		return nil, fmt.Errorf("start session: control socket: %w", err)
	}
	os.Chmod(h.info.Socket, 0o600)
	h.registerBuiltins()
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(h.done)
		h.server.Serve(ctx, h.ln)
	}()
	if h.infoPath, err = cfg.Dir.writeInfo(h.info); err != nil {
		h.Close()
		return nil, fmt.Errorf("start session: %w", err)
	}
	return h, nil
}

// Info returns the session's description.
func (h *Host) Info() Info { return h.info }

// Server returns the control server, for registering more operations (Handle).
func (h *Host) Server() *Server { return h.server }

// Engine returns the engine the session controls.
func (h *Host) Engine() *engine.Engine { return h.cfg.Engine }

// Publish copies an output frame into the frame ring. It never waits for readers.
func (h *Host) Publish(f *frame.Frame) error {
	now := time.Now()
	h.mu.Lock()
	if !h.lastPub.IsZero() {
		d := now.Sub(h.lastPub)
		if h.interval == 0 {
			h.interval = d
		} else {
			h.interval += (d - h.interval) / 16
		}
	}
	h.lastPub = now
	h.width, h.height = f.Width, f.Height
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	if h.ring == nil {
		return nil
	}
	return h.ring.Publish(f)
}

// PublishAudio appends interleaved stereo float32 samples at 48 kHz to the audio ring.
func (h *Host) PublishAudio(samples []float32) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	if h.ring != nil {
		h.ring.PublishAudio(samples)
	}
}

// AddDropped counts n input frames dropped at the source side.
func (h *Host) AddDropped(n uint64) {
	v := h.dropped.Add(n)
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	if h.ring != nil {
		h.ring.SetDropped(v)
	}
}

// Close ends the session: readers see the ring closed, the socket and info file go away.
// Frames already mapped by previews stay readable to them.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	if h.reader != nil {
		h.reader.Close()
		h.reader = nil
	}
	h.mu.Unlock()
	if h.infoPath != "" {
		os.Remove(h.infoPath)
	}
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
	os.Remove(h.info.Socket)
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	err := h.ring.Close()
	h.ring = nil
	return err
}

// durMS is d in milliseconds.
func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// stats returns the live counters.
func (h *Host) stats() LiveStats {
	live := h.cfg.Engine.Live()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := LiveStats{Frames: live.Frames, Errors: live.Errors, Late: live.Late, Dropped: h.dropped.Load(),
		Width: h.width, Height: h.height, ElapsedMS: float64(time.Since(h.started)) / float64(time.Millisecond)}
	for _, sk := range live.Sinks {
		s.Sinks = append(s.Sinks, SinkInfo{Name: sk.Name, Frames: sk.Frames, Dropped: sk.Dropped,
			LatencyMS: durMS(sk.Latency), P50MS: durMS(sk.P50), P99MS: durMS(sk.P99)})
	}
	// A rate is only meaningful while frames keep coming.
	if h.interval > 0 && time.Since(h.lastPub) < 2*time.Second+4*h.interval {
		s.FPS = float64(time.Second) / float64(h.interval)
	}
	return s
}

// registerBuiltins adds info, set, pause, resume, stop and save-frame.
func (h *Host) registerBuiltins() {
	eng := h.cfg.Engine
	h.server.Handle(OpInfo, func(ctx context.Context, _ json.RawMessage) (any, error) {
		res := InfoResult{Session: h.info, Paused: eng.Paused(), Stats: h.stats(), Prompts: []Prompt{}}
		for _, p := range eng.Prompts() {
			res.Prompts = append(res.Prompts, Prompt{Text: p.Text, Weight: p.Weight})
		}
		live := eng.Live()
		for i, in := range eng.Instances() {
			p := in.Pipeline()
			st := StageInfo{Index: i, Plugin: in.File(), Mode: in.Mode().String(), Pipeline: Schema(p), Values: map[string]string{}}
			vals := eng.Values(i)
			for j, q := range p.Params {
				if j < len(vals) {
					st.Values[q.Key] = vals[j].Text()
				}
			}
			if i < len(live.Stages) {
				ls := live.Stages[i]
				st.MeanMS = durMS(ls.Mean)
				st.Calls, st.Errors = ls.Calls, ls.Errors
				st.Node, st.FPS, st.Queue, st.Dropped = ls.Name, ls.FPS, ls.Queue, ls.Dropped
				st.P50MS, st.P95MS, st.P99MS = durMS(ls.P50), durMS(ls.P95), durMS(ls.P99)
				st.Isolated, st.Restarts, st.State, st.Bypassed = ls.Isolated, ls.Restarts, ls.State, ls.Bypassed
			}
			res.Stages = append(res.Stages, st)
		}
		return res, nil
	})
	h.server.Handle(OpSet, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SetArgs
		if err := decodeArgs(OpSet, raw, &a); err != nil {
			return nil, err
		}
		ins := eng.Instances()
		if a.Stage < 0 || a.Stage >= len(ins) {
			return nil, fmt.Errorf("set: no stage %d (the chain has %d)", a.Stage, len(ins))
		}
		p := ins[a.Stage].Pipeline()
		q := p.Param(a.Key)
		if q == nil {
			return nil, fmt.Errorf("set: %w", loader.UnknownParamError(p, a.Key))
		}
		v, err := q.Parse(a.Value)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", p.ID, err)
		}
		vals := eng.Values(a.Stage)
		if q.LoadTime && vals[q.Index] != v {
			return nil, fmt.Errorf("set %s: %s is a load-time parameter; it cannot change while the pipeline runs", p.ID, q.Key)
		}
		vals[q.Index] = v
		if err := eng.SetParams(a.Stage, vals); err != nil {
			return nil, fmt.Errorf("set: %w", err)
		}
		return SetResult{Value: v.Text()}, nil
	})
	h.server.Handle(OpPrompts, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a PromptsArgs
		if err := decodeArgs(OpPrompts, raw, &a); err != nil {
			return nil, err
		}
		var ps []loader.Prompt
		for _, p := range a.Prompts {
			lp := loader.Prompt{Text: p.Text, Weight: p.Weight}
			if err := lp.Check(); err != nil {
				return nil, fmt.Errorf("prompts: %w", err)
			}
			ps = append(ps, lp)
		}
		eng.SetPrompts(ps)
		return map[string]int{"prompts": len(ps)}, nil
	})
	h.server.Handle(OpPause, func(context.Context, json.RawMessage) (any, error) {
		eng.SetPaused(true)
		return map[string]bool{"paused": true}, nil
	})
	h.server.Handle(OpResume, func(context.Context, json.RawMessage) (any, error) {
		eng.SetPaused(false)
		return map[string]bool{"paused": false}, nil
	})
	h.server.Handle(OpStop, func(context.Context, json.RawMessage) (any, error) {
		if h.cfg.Stop == nil {
			return nil, fmt.Errorf("stop: this session cannot be stopped remotely")
		}
		h.cfg.Stop()
		return map[string]bool{"stopping": true}, nil
	})
	h.server.Handle(OpSaveFrame, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SaveFrameArgs
		if err := decodeArgs(OpSaveFrame, raw, &a); err != nil {
			return nil, err
		}
		return h.saveFrame(a.Path)
	})
}

// saveFrame writes the newest published frame as PNG.
func (h *Host) saveFrame(path string) (SaveFrameResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return SaveFrameResult{}, fmt.Errorf("save-frame: the session has ended")
	}
	if h.reader == nil {
		r, err := OpenReader(h.info.SHM)
		if err != nil {
			return SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
		}
		h.reader = r
	}
	var f Frame
	h.reader.last = 0 // the newest frame, even if this reader returned it before
	ok, err := h.reader.Next(&f)
	if err != nil {
		return SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	if !ok {
		return SaveFrameResult{}, fmt.Errorf("save-frame: no frame has been produced yet")
	}
	if path == "" {
		path = fmt.Sprintf("scope-%s-%06d.png", h.info.ID, f.Number)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	if err := WritePNG(abs, &f); err != nil {
		return SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	return SaveFrameResult{Path: abs, Frame: f.Number, Width: f.Width, Height: f.Height}, nil
}

// Image returns the frame as an image (sharing no memory with it).
func (f *Frame) Image() image.Image {
	r := image.Rect(0, 0, f.Width, f.Height)
	switch f.Channels {
	case 1:
		img := image.NewGray(r)
		copy(img.Pix, f.Pix)
		return img
	case 4:
		img := image.NewNRGBA(r)
		copy(img.Pix, f.Pix)
		return img
	}
	img := image.NewNRGBA(r)
	for i, j := 0, 0; i+2 < len(f.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = f.Pix[i], f.Pix[i+1], f.Pix[i+2], 255
	}
	return img
}

// WritePNG writes the frame to path as PNG.
func WritePNG(path string, f *Frame) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, f.Image()); err != nil {
		out.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return out.Close()
}
