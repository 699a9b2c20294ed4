package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
	"unsafe"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// controlFD is the descriptor a child finds its end of the control socket on.
const controlFD = 3

// DefaultChildArgs returns the arguments that follow os.Executable() in the default
// Options.ChildCommand: the scope binary's hidden command that calls ServeChild.
func DefaultChildArgs() []string { return []string{"plugin", "host", "--child"} }

// ServeChild is the plugin host child: args are the two arguments Start appends to
// Options.ChildCommand (the plugin file and the pipeline id). It loads the library with the
// loader (the same private copy, ABI check and descriptor validation as in process), says
// hello with the pipeline's schema, then serves one instance over the control socket on
// descriptor 3 until the parent closes it. It returns the process's exit code: 0 when the
// parent closed the socket, 1 when the library does not load, 2 for bad arguments.
func ServeChild(ctx context.Context, args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "plugin host child: want 2 arguments (plugin file and pipeline id), got %d\n", len(args))
		return 2
	}
	f := os.NewFile(controlFD, "pluginhost-control")
	if f == nil {
		fmt.Fprintln(os.Stderr, "plugin host child: no control socket on descriptor 3 (started by hand? this command is internal)")
		return 2
	}
	ch, err := newChannel(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "plugin host child: %v\n", err)
		return 2
	}
	defer ch.close()
	s := &server{ch: ch, mem: map[uint64]*arena{}}
	logger := slog.New(logHandler{ch: ch})
	lib, err := loader.Open(args[0], loader.Options{Logger: logger})
	if err != nil {
		_ = ch.send(reply{Kind: repError, Text: err.Error()}, -1)
		return 1
	}
	s.p = lib.Pipeline(args[1])
	if s.p == nil {
		_ = ch.send(reply{Kind: repError, Text: fmt.Sprintf("%s registers no pipeline %q", args[0], args[1])}, -1)
		return 1
	}
	if err := ch.send(reply{Kind: repHello, Library: lib.Name, Pipeline: s.p}, -1); err != nil {
		return 0
	}
	s.serve(ctx)
	if s.in != nil {
		s.in.Close()
	}
	for _, a := range s.mem {
		a.close()
	}
	return 0
}

// logHandler is a slog.Handler that sends the plugin's log lines to the parent.
type logHandler struct{ ch *channel }

func (h logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	return h.ch.send(reply{Kind: repLog, Log: r.Level.String() + " " + r.Message}, -1)
}
func (h logHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logHandler) WithGroup(string) slog.Handler      { return h }

// server is the child's state: one pipeline, at most one instance, its arenas by id.
type server struct {
	ch  *channel
	p   *loader.Pipeline
	in  *loader.Instance
	mem map[uint64]*arena
}

// serve answers requests until the parent goes away.
func (s *server) serve(ctx context.Context) {
	for ctx.Err() == nil {
		var r request
		fd, err := s.ch.recv(&r, time.Time{})
		if errors.Is(err, io.EOF) || errors.Is(err, errClosed) {
			return
		}
		if err != nil {
			_ = s.ch.send(reply{Kind: repError, Text: err.Error()}, -1)
			continue
		}
		rep := s.handle(&r, fd)
		if err := s.ch.send(rep, -1); err != nil {
			return
		}
	}
}

// fail is an error reply.
func fail(err error) reply {
	var pe *loader.PluginError
	if errors.As(err, &pe) {
		return reply{Kind: repError, Plugin: pe}
	}
	return reply{Kind: repError, Text: err.Error()}
}

func (s *server) handle(r *request, fd int) reply {
	switch r.Op {
	case reqMap:
		if fd < 0 {
			return reply{Kind: repError, Text: "map without a descriptor"}
		}
		a, err := mapArena(fd, r.Size)
		if err != nil {
			return fail(err)
		}
		s.mem[r.ID].close()
		s.mem[r.ID] = a
		return reply{Kind: repOK}
	case reqCreate:
		if s.in != nil {
			return reply{Kind: repError, Text: "create: the instance exists already"}
		}
		in, err := s.p.NewInstanceOn(r.Mode, r.Values, r.CUDA)
		if err != nil {
			return fail(err)
		}
		s.in = in
		return reply{Kind: repOK}
	}
	if fd >= 0 {
		_ = closeFD(fd)
	}
	if s.in == nil {
		return reply{Kind: repError, Text: r.Op + " before create"}
	}
	if r.Values != nil {
		if err := s.in.SetParams(r.Values); err != nil {
			return fail(err)
		}
	}
	switch r.Op {
	case reqPrepare:
		req, err := s.in.PrepareOn(r.Inputs, r.Memory)
		if err != nil {
			return fail(err)
		}
		return reply{Kind: repOK, Req: &req}
	case reqCall:
		return s.call(r)
	}
	return reply{Kind: repError, Text: fmt.Sprintf("unknown request %q", r.Op)}
}

// frameAt is the arena frame sl describes, after checking that it lies inside the arena.
func (s *server) frameAt(sl slot) (*frame.Frame, error) {
	if err := sl.Format.Validate(); err != nil {
		return nil, err
	}
	if sl.Format.Width > 1<<15 || sl.Format.Height > 1<<15 {
		return nil, fmt.Errorf("frame %v is larger than 32768x32768", sl.Format)
	}
	a := s.mem[sl.Arena]
	if a == nil || sl.Pitch < sl.Format.RowBytes() || sl.Pitch > len(a.mem) || sl.Off < 0 || sl.Off > len(a.mem) {
		return nil, fmt.Errorf("frame %v at %d (pitch %d) lies outside arena %d", sl.Format, sl.Off, sl.Pitch, sl.Arena)
	}
	n := sl.need() // no overflow: the pitch is at most the arena's size, the height 32768
	if n > len(a.mem)-sl.Off {
		return nil, fmt.Errorf("frame %v at %d (pitch %d) lies outside arena %d", sl.Format, sl.Off, sl.Pitch, sl.Arena)
	}
	return &frame.Frame{Format: sl.Format, Pitch: sl.Pitch, Data: a.mem[sl.Off : sl.Off+n : sl.Off+n], Index: sl.Index, PTS: time.Duration(sl.PTS)}, nil
}

func (s *server) call(r *request) reply {
	a := loader.CallArgs{Prompts: r.Prompts, TimestampUS: r.TS}
	for _, port := range r.Ports {
		list := make([]*frame.Frame, len(port))
		for i, sl := range port {
			f, err := s.frameAt(sl)
			if err != nil {
				return fail(fmt.Errorf("input: %w", err))
			}
			list[i] = f
		}
		a.Inputs = append(a.Inputs, list)
	}
	if r.Output != nil {
		f, err := s.frameAt(*r.Output)
		if err != nil {
			return fail(fmt.Errorf("output: %w", err))
		}
		a.Output = f
	}
	if r.Audio != nil {
		m := s.mem[0]
		if m == nil || r.Audio.Off < 0 || r.Audio.Off%4 != 0 || r.Audio.Floats < 0 || r.Audio.Floats*4 > len(m.mem)-r.Audio.Off {
			return reply{Kind: repError, Text: "audio buffer lies outside the arena"}
		}
		a.Audio = &loader.Audio{}
		if r.Audio.Floats > 0 {
			a.Audio.Samples = unsafe.Slice((*float32)(unsafe.Pointer(&m.mem[r.Audio.Off])), r.Audio.Floats)
		}
	}
	err := s.in.Call(&a)
	rep := reply{Kind: repOK}
	if err != nil {
		rep = fail(err)
	}
	if a.Audio != nil {
		rep.Audio = &audioResult{SampleRate: a.Audio.SampleRate, Channels: a.Audio.Channels, Frames: a.Audio.Frames}
	}
	return rep
}
