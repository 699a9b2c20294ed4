// Package host is the host side of a session: the control socket's operations on a running
// engine (info, set, pause, the graph and its live edits), the frame ring it publishes to and
// the info file that makes it visible. Clients (the preview, the CLI, the HTTP server) need
// only package session: protocol, client and ring reader.
package host

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/session"
)

// Config describes the session a Host serves.
type Config struct {
	// Dir is the runtime directory (see session.DefaultDir).
	Dir session.Dir
	// Engine runs the chain; its instances give the schema, SetParams/SetPaused take changes.
	Engine *engine.Engine
	// Stop ends the run (session.OpStop); nil makes session.OpStop fail.
	Stop func()
	// Slots is the number of frame slots in the ring (0 = session.DefaultSlots).
	Slots int
	// Nodes makes the instances and sources that add-node, replace-node and switch-source
	// need; nil refuses those ops (remove-node, connect and disconnect still work).
	Nodes NodeMaker
}

// Host is a running session: its info file, control socket and frame ring. Publish and
// PublishAudio are called by the engine's goroutine; everything else from any goroutine.
type Host struct {
	cfg      Config
	info     session.Info
	infoPath string
	ring     *session.Writer
	ln       net.Listener
	server   *session.Server
	cancel   context.CancelFunc
	done     chan struct{}
	started  time.Time

	mu       sync.Mutex // guards the fields below and the reader
	width    int
	height   int
	lastPub  time.Time
	interval time.Duration // moving average of the time between published frames
	reader   *session.Reader
	closed   bool

	pubMu sync.Mutex // held while the ring is written, so Close never unmaps under a writer

	dropped atomic.Uint64
}

// Start creates a session for the engine's chain: the frame ring, the control socket (served
// in the background until Close) and, last, the info file that makes it visible to List.
func Start(cfg Config) (*Host, error) {
	if cfg.Engine == nil {
		return nil, fmt.Errorf("start session: no engine")
	}
	if cfg.Slots == 0 {
		cfg.Slots = session.DefaultSlots
	}
	id, err := session.NewID()
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, server: session.NewServer(), done: make(chan struct{}), started: time.Now()}
	h.info = session.Info{ID: id, PID: os.Getpid(), Started: h.started.UTC().Truncate(time.Millisecond),
		Socket: filepath.Join(string(cfg.Dir), id+".sock"), SHM: cfg.Dir.SHMPath(id)}
	for _, in := range cfg.Engine.Instances() {
		h.info.Chain = append(h.info.Chain, in.Pipeline().ID)
	}
	if h.ring, err = session.CreateWriter(h.info.SHM, cfg.Slots); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	os.Remove(h.info.Socket)
	if h.ln, err = net.Listen("unix", h.info.Socket); err != nil {
		h.ring.Close()
		return nil, fmt.Errorf("start session: control socket: %w", err)
	}
	os.Chmod(h.info.Socket, 0o600)
	h.registerBuiltins()
	h.registerEdits()
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(h.done)
		h.server.Serve(ctx, h.ln)
	}()
	h.mu.Lock()
	h.infoPath, err = cfg.Dir.WriteInfo(h.info)
	h.mu.Unlock()
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("start session: %w", err)
	}
	return h, nil
}

// Info returns the session's description.
func (h *Host) Info() session.Info {
	h.mu.Lock()
	defer h.mu.Unlock()
	info := h.info
	info.Chain = append([]string(nil), h.info.Chain...)
	return info
}

// refreshInfo rewrites the info file after a graph edit, so its chain (what `scope sessions`
// shows and the plugin manager looks for) lists the pipelines the graph runs now.
func (h *Host) refreshInfo() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.infoPath == "" {
		return
	}
	var chain []string
	for _, in := range h.cfg.Engine.Instances() {
		chain = append(chain, in.Pipeline().ID)
	}
	h.info.Chain = chain
	h.cfg.Dir.WriteInfo(h.info) // best effort: the ops answer the graph either way
}

// Server returns the control server, for registering more operations (Handle).
func (h *Host) Server() *session.Server { return h.server }

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
func (h *Host) stats() session.LiveStats {
	live := h.cfg.Engine.Live()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := session.LiveStats{Frames: live.Frames, Errors: live.Errors, Late: live.Late, Dropped: h.dropped.Load(),
		Width: h.width, Height: h.height, ElapsedMS: float64(time.Since(h.started)) / float64(time.Millisecond)}
	for _, sk := range live.Sinks {
		s.Sinks = append(s.Sinks, session.SinkInfo{Name: sk.Name, Frames: sk.Frames, Dropped: sk.Dropped,
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
	h.server.Handle(session.OpInfo, func(ctx context.Context, _ json.RawMessage) (any, error) {
		res := session.InfoResult{Session: h.Info(), Paused: eng.Paused(), Stats: h.stats(), Prompts: []session.Prompt{}}
		for _, p := range eng.Prompts() {
			res.Prompts = append(res.Prompts, session.Prompt{Text: p.Text, Weight: p.Weight})
		}
		live := eng.Live()
		for i, in := range eng.Instances() {
			p := in.Pipeline()
			st := session.StageInfo{Index: i, Plugin: in.File(), Mode: in.Mode().String(), Pipeline: Schema(p), Values: map[string]string{}}
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
				st.LastFault = ls.LastFault
			}
			res.Stages = append(res.Stages, st)
		}
		return res, nil
	})
	h.server.Handle(session.OpSet, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.SetArgs
		if err := session.DecodeArgs(session.OpSet, raw, &a); err != nil {
			return nil, err
		}
		// One engine call reads, checks and updates the values under the engine's lock, so
		// two clients setting different keys of one node at once both land.
		v, err := eng.SetParam(a.Stage, a.Key, a.Value)
		if err != nil {
			return nil, fmt.Errorf("set: %w", err)
		}
		return session.SetResult{Value: v.Text()}, nil
	})
	h.server.Handle(session.OpPrompts, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.PromptsArgs
		if err := session.DecodeArgs(session.OpPrompts, raw, &a); err != nil {
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
	h.server.Handle(session.OpPause, func(context.Context, json.RawMessage) (any, error) {
		eng.SetPaused(true)
		return map[string]bool{"paused": true}, nil
	})
	h.server.Handle(session.OpResume, func(context.Context, json.RawMessage) (any, error) {
		eng.SetPaused(false)
		return map[string]bool{"paused": false}, nil
	})
	h.server.Handle(session.OpStop, func(context.Context, json.RawMessage) (any, error) {
		if h.cfg.Stop == nil {
			return nil, fmt.Errorf("stop: this session cannot be stopped remotely")
		}
		h.cfg.Stop()
		return map[string]bool{"stopping": true}, nil
	})
	h.server.Handle(session.OpSaveFrame, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.SaveFrameArgs
		if err := session.DecodeArgs(session.OpSaveFrame, raw, &a); err != nil {
			return nil, err
		}
		return h.saveFrame(a.Path)
	})
}

// saveFrame writes the newest published frame as PNG.
func (h *Host) saveFrame(path string) (session.SaveFrameResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return session.SaveFrameResult{}, fmt.Errorf("save-frame: the session has ended")
	}
	if h.reader == nil {
		r, err := session.OpenReader(h.info.SHM)
		if err != nil {
			return session.SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
		}
		h.reader = r
	}
	var f session.Frame
	h.reader.Rewind() // the newest frame, even if this reader returned it before
	ok, err := h.reader.Next(&f)
	if err != nil {
		return session.SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	if !ok {
		return session.SaveFrameResult{}, fmt.Errorf("save-frame: no frame has been produced yet")
	}
	if path == "" {
		path = fmt.Sprintf("scope-%s-%06d.png", h.info.ID, f.Number)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return session.SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	if err := session.WritePNG(abs, &f); err != nil {
		return session.SaveFrameResult{}, fmt.Errorf("save-frame: %w", err)
	}
	return session.SaveFrameResult{Path: abs, Frame: f.Number, Width: f.Width, Height: f.Height}, nil
}

// Schema converts a loader pipeline to its wire form.
func Schema(p *loader.Pipeline) session.PipelineSchema {
	s := session.PipelineSchema{ID: p.ID, Name: p.Name, Description: p.Description, Version: p.Version,
		SupportsPrompts: p.SupportsPrompts, ProducesAudio: p.ProducesAudio, Params: []session.ParamSchema{}}
	for _, q := range p.Params {
		ps := session.ParamSchema{Key: q.Key, Label: q.Label, Description: q.Description, Type: q.Type.String(),
			Min: q.Min, Max: q.Max, Step: q.Step, Default: q.Default.Text(), LoadTime: q.LoadTime,
			Hidden: q.Hidden, Category: q.Category, Order: q.Order}
		for _, o := range q.Options {
			ps.Options = append(ps.Options, session.EnumOption{Key: o.Key, Label: o.Label})
		}
		s.Params = append(s.Params, ps)
	}
	return s
}
