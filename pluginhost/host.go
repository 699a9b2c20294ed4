package pluginhost

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/crashscan"
	"github.com/scopenative/scope/loader"
)

// Defaults for the zero Options.
const (
	DefaultFrameInterval = time.Second / 30
	// DefaultCallFrames is the call deadline in frame intervals.
	DefaultCallFrames = 4
	// DefaultSetupDeadline bounds starting the child, create and prepare.
	DefaultSetupDeadline = 20 * time.Second
	// DefaultMaxFaults faults within DefaultFaultWindow disable an instance: a crash loop
	// (a plugin that dies in create) is stopped within a second or two, while one that
	// crashes every 100 frames at 30 fps (3 faults in 10 s) keeps being restarted.
	DefaultMaxFaults   = 5
	DefaultFaultWindow = 10 * time.Second
	// DefaultMemoryLimit is the resident memory a child may use (beyond the shared frames).
	DefaultMemoryLimit = 4 << 30
)

// Errors wrapped by Call and Prepare when the instance cannot run now. Neither is the
// plugin's answer: the caller keeps its node's output going (see the package doc).
var (
	// ErrRestarting means the child is being restarted after a fault.
	ErrRestarting error = &unavailable{"isolated plugin is restarting"}
	// ErrDisabled means the instance faulted too often and runs no more.
	ErrDisabled error = &unavailable{"isolated plugin is disabled"}
	// ErrNoChild means no plugin host child could be started.
	ErrNoChild = errors.New("cannot start a plugin host child process")
)

// unavailable is ErrRestarting and ErrDisabled.
type unavailable struct{ msg string }

func (e *unavailable) Error() string { return e.msg }

// Bypass tells the engine that the stage should pass its input through, and that the cause
// was reported already (with the fault).
func (e *unavailable) Bypass() (reported bool) { return true }

// FaultError is returned by the call a fault happened in.
type FaultError struct{ Event Event }

func (e *FaultError) Error() string { return e.Event.String() }

// Bypass tells the engine that the stage should pass its input through; the fault is
// news, for the run's error report.
func (e *FaultError) Bypass() (reported bool) { return false }

// Options configure Start. The zero value is ready to use from the scope binary.
type Options struct {
	// ChildCommand is the program and leading arguments that run a plugin host child; Start
	// appends the plugin file and the pipeline id, which the program must pass to
	// ServeChild. The zero value means os.Executable() followed by DefaultChildArgs, right
	// for the scope binary only: other programs (tests) set it.
	ChildCommand []string
	// FrameInterval is the run's frame interval; the zero value means DefaultFrameInterval.
	FrameInterval time.Duration
	// CallDeadline bounds one call; the zero value means DefaultCallFrames frame intervals.
	CallDeadline time.Duration
	// SetupDeadline bounds the child's start, create and prepare; the zero value means
	// DefaultSetupDeadline.
	SetupDeadline time.Duration
	// MaxFaults faults within FaultWindow disable the instance; zero values mean
	// DefaultMaxFaults and DefaultFaultWindow.
	MaxFaults   int
	FaultWindow time.Duration
	// MemoryLimit is the most resident, non-shared memory a child may use, in bytes; the
	// zero value means DefaultMemoryLimit, a negative one sets no limit.
	MemoryLimit int64
	// Logger receives the plugin's log lines (attributes "plugin", "pipeline", "isolated")
	// and every Event (at level WARN, ERROR when it disables). Nil discards them.
	Logger *slog.Logger
	// OnEvent, when set, is called with each event, on the goroutine that saw it.
	OnEvent func(Event)
	// Frames, when set, is the allocator of the caller's frames: frames from it reach the
	// child without a copy (see Frames).
	Frames *Frames
	// Stderr receives what the child writes to its stderr (nil discards it; the last lines
	// are kept for events either way).
	Stderr io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.FrameInterval <= 0 {
		o.FrameInterval = DefaultFrameInterval
	}
	if o.CallDeadline <= 0 {
		o.CallDeadline = DefaultCallFrames * o.FrameInterval
	}
	if o.SetupDeadline <= 0 {
		o.SetupDeadline = DefaultSetupDeadline
	}
	if o.MaxFaults <= 0 {
		o.MaxFaults = DefaultMaxFaults
	}
	if o.FaultWindow <= 0 {
		o.FaultWindow = DefaultFaultWindow
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if len(o.ChildCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("%w: %v (set Options.ChildCommand)", ErrNoChild, err)
		}
		o.ChildCommand = append([]string{exe}, DefaultChildArgs()...)
	}
	return o, nil
}

// State of an isolated instance.
const (
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateDisabled   = "disabled"
	StateClosed     = "closed"
)

// logLines is how many of the plugin's last log lines an event carries.
const logLines = 5

// Instance is a pipeline instance running in a plugin host child. It offers the operations
// of a *loader.Instance; like one, it is not safe for concurrent use, except InFlight,
// State, Events and Restarts, which any goroutine may call.
type Instance struct {
	path string
	opts Options
	p    *loader.Pipeline
	mode loader.Mode
	cuda int

	callMu   sync.Mutex // held by Prepare and Call: Close unmaps the arena after them
	mu       sync.Mutex // guards what the restart goroutine shares
	state    string
	values   loader.Values
	valGen   uint64 // bumped by SetParams
	prep     *prepared
	cur      *child          // nil unless StateRunning
	pending  map[*child]bool // the children a restart (or startSpare) is setting up
	spare    *child          // a child with the library loaded, for the next restart
	faults   []time.Time
	events   []Event
	restarts int
	restart  sync.WaitGroup
	bg       chan struct{} // closed by Close: a restart in progress gives up

	flightOp    atomic.Value // string
	flightFrame atomic.Uint64
	flightSince atomic.Int64
}

// prepared is the last successful Prepare, replayed on a restarted child.
type prepared struct {
	inputs []frame.Format
	memory uint32
}

// Start starts a child for the pipeline id of the plugin file path and creates an instance
// in it, in mode (0 = the pipeline's default) with values (nil = defaults), for CUDA device
// cuda (-1 for none). The values are checked against the schema the child reports.
func Start(path, id string, mode loader.Mode, values loader.Values, cuda int, opts Options) (*Instance, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	in := &Instance{path: path, opts: opts, cuda: cuda, bg: make(chan struct{}), pending: map[*child]bool{}}
	c, err := in.spawn(id)
	if err != nil {
		return nil, err
	}
	in.p = c.pipeline
	if mode == 0 {
		mode = in.p.DefaultMode().Mode
	}
	if values == nil {
		values = in.p.Defaults()
	}
	if err := in.p.CheckRuntimeChange(nil, values); err != nil {
		c.kill()
		return nil, err
	}
	in.mode, in.values = mode, values.Clone()
	if err := in.create(c); err != nil {
		c.kill()
		return nil, err
	}
	in.state, in.cur = StateRunning, c
	return in, nil
}

// StartLike starts a new isolated instance like this one (pipeline, mode, CUDA device,
// options) from the plugin file path with values: what a hot swap to a new build of the
// plugin creates.
func (in *Instance) StartLike(path string, values loader.Values) (*Instance, error) {
	return Start(path, in.p.ID, in.mode, values, in.cuda, in.opts)
}

// Pipeline returns the pipeline's schema as the child reported it (its Library is nil: the
// library is loaded in the child only).
func (in *Instance) Pipeline() *loader.Pipeline { return in.p }

// File returns the plugin file.
func (in *Instance) File() string { return in.path }

// Mode returns the mode the instance was created in.
func (in *Instance) Mode() loader.Mode { return in.mode }

// CUDADevice returns the CUDA device ordinal the instance was created for (-1 for none).
func (in *Instance) CUDADevice() int { return in.cuda }

// Values returns a copy of the current parameter values.
func (in *Instance) Values() loader.Values {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.values.Clone()
}

// SetParams replaces the runtime parameter values, checked as loader.Instance.SetParams
// checks them; they reach the child with the next Prepare or Call, and a restarted child
// is created with them.
func (in *Instance) SetParams(values loader.Values) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.p.CheckRuntimeChange(in.values, values); err != nil {
		return err
	}
	in.values = values.Clone()
	in.valGen++
	return nil
}

// State returns StateRunning, StateRestarting, StateDisabled or StateClosed.
func (in *Instance) State() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state
}

// Restarts returns how many restarts were started (State says whether the last one has
// finished).
func (in *Instance) Restarts() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.restarts
}

// LastFault describes the newest fault event ("" when none): what `info` and the preview's
// overlay show of an isolated node.
func (in *Instance) LastFault() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) == 0 {
		return ""
	}
	return in.events[len(in.events)-1].String()
}

// Events returns a copy of every fault event so far, oldest first.
func (in *Instance) Events() []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Event(nil), in.events...)
}

// InFlight reports the call the child is inside of, as loader.Instance.InFlight does.
func (in *Instance) InFlight() (loader.InFlight, bool) {
	op, _ := in.flightOp.Load().(string)
	if op == "" {
		return loader.InFlight{}, false
	}
	return loader.InFlight{File: in.path, Pipeline: in.p.ID, Op: op, Frame: in.flightFrame.Load(), Since: time.Unix(0, in.flightSince.Load())}, true
}

// PID returns the current child's process id, or 0 while none runs.
func (in *Instance) PID() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cur == nil {
		return 0
	}
	return in.cur.cmd.Process.Pid
}

// usable returns the running child, or the error that says why there is none.
func (in *Instance) usable(op string) (*child, loader.Values, uint64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch in.state {
	case StateRunning:
		return in.cur, in.values, in.valGen, nil
	case StateRestarting:
		return nil, nil, 0, fmt.Errorf("%s %s (%s): %w", op, in.p.ID, in.path, ErrRestarting)
	case StateDisabled:
		return nil, nil, 0, fmt.Errorf("%s %s (%s): %w", op, in.p.ID, in.path, ErrDisabled)
	}
	return nil, nil, 0, fmt.Errorf("%s %s: the instance is closed", op, in.p.ID)
}

// Prepare is PrepareOn for host memory.
func (in *Instance) Prepare(inputs []frame.Format) (loader.Requirements, error) {
	return in.PrepareOn(inputs, abi.MemoryHost)
}

// PrepareOn asks the instance what its next call needs. Isolated instances take host
// frames only: CUDA memory is refused (see docs/isolation.md for CUDA IPC).
func (in *Instance) PrepareOn(inputs []frame.Format, memory uint32) (loader.Requirements, error) {
	if memory != abi.MemoryHost {
		return loader.Requirements{}, fmt.Errorf("prepare %s: isolated pipelines take host frames only (CUDA frames need CUDA IPC, not built yet): run it in process", in.p.ID)
	}
	in.callMu.Lock()
	defer in.callMu.Unlock()
	c, values, gen, err := in.usable("prepare")
	if err != nil {
		return loader.Requirements{}, err
	}
	req, err := in.prepareOn(c, inputs, memory, values, gen, in.opts.SetupDeadline)
	if err != nil {
		return req, err
	}
	in.mu.Lock()
	in.prep = &prepared{inputs: append([]frame.Format(nil), inputs...), memory: memory}
	in.mu.Unlock()
	return req, nil
}

// prepareOn runs prepare on child c.
func (in *Instance) prepareOn(c *child, inputs []frame.Format, memory uint32, values loader.Values, gen uint64, deadline time.Duration) (loader.Requirements, error) {
	r := request{Op: reqPrepare, Inputs: inputs, Memory: memory}
	if gen != c.valGen {
		r.Values = values
	}
	rep, err := in.roundTrip(c, &r, -1, loader.OpPrepare, deadline)
	if err != nil {
		return loader.Requirements{}, err
	}
	c.valGen = gen
	if rep.Kind != repOK || rep.Req == nil {
		return loader.Requirements{}, rep.err()
	}
	req := *rep.Req
	// The child is not trusted with the parent's memory: what it asks for is checked again.
	if in.p.ProducesVideo {
		if err := req.Output.Validate(); err != nil || req.Output.Width > 1<<15 || req.Output.Height > 1<<15 {
			return loader.Requirements{}, fmt.Errorf("prepare %s: the child asked for output %v", in.p.ID, req.Output)
		}
	}
	if req.InputMemory != abi.MemoryHost || req.OutputMemory != abi.MemoryHost {
		return loader.Requirements{}, fmt.Errorf("prepare %s: it asks for CUDA frames, which isolated pipelines cannot take yet: run it in process", in.p.ID)
	}
	if req.AudioMaxFrames < 0 || req.AudioMaxFrames > 10*48000 {
		return loader.Requirements{}, fmt.Errorf("prepare %s: audio_max_frames %d", in.p.ID, req.AudioMaxFrames)
	}
	return req, nil
}

// align64 rounds n up to a multiple of 64.
func align64(n int) int { return (n + 63) &^ 63 }

// need is the bytes a host frame spans.
func need(f *frame.Frame) int { return f.Pitch*(f.Height-1) + f.RowBytes() }

// Call runs one tick in the child: the inputs are copied into the child's arena, the output
// is copied back from it. A fault kills the child, returns a *FaultError and restarts the
// child in the background; until it is back, Call returns ErrRestarting at once.
func (in *Instance) Call(a *loader.CallArgs) error {
	if a.DeviceInputs != nil || a.DeviceOutput != nil {
		return fmt.Errorf("call %s: isolated pipelines take host frames only", in.p.ID)
	}
	in.callMu.Lock()
	defer in.callMu.Unlock()
	c, values, gen, err := in.usable("call")
	if err != nil {
		return err
	}
	r := &c.req
	*r = request{Op: reqCall, Prompts: a.Prompts, TS: a.TimestampUS, Ports: r.Ports[:0]}
	if gen != c.valGen {
		r.Values = values
	}
	// Frames from Options.Frames go as they are; the others are laid out in the arena.
	off := 0
	place := func(f *frame.Frame) (slot, error) {
		s := slot{Pitch: f.Pitch, Format: f.Format, Index: f.Index, PTS: int64(f.PTS)}
		if b, o, ok := in.opts.Frames.find(f.Data[:need(f)]); ok {
			if err := in.mapShared(c, b); err != nil {
				return s, err
			}
			s.Arena, s.Off = b.id, o
			return s, nil
		}
		s.Off = off
		off = align64(off + need(f))
		return s, nil
	}
	for p, list := range a.Inputs {
		if p >= len(c.portBuf) {
			c.portBuf = append(c.portBuf, nil)
		}
		port := c.portBuf[p][:0]
		for _, f := range list {
			s, err := place(f)
			if err != nil {
				return err
			}
			port = append(port, s)
		}
		c.portBuf[p] = port
		r.Ports = append(r.Ports, port)
	}
	if a.Output != nil {
		s, err := place(a.Output)
		if err != nil {
			return err
		}
		r.Output = &s
	}
	if a.Audio != nil {
		r.Audio = &audioSlot{Off: off, Floats: len(a.Audio.Samples)}
		off = align64(off + 4*len(a.Audio.Samples))
	}
	if off > 0 && (c.mem == nil || len(c.mem.mem) < off) {
		size := max(off, 1<<16)
		if c.mem != nil {
			size = max(size, len(c.mem.mem)+len(c.mem.mem)/4)
		}
		m, err := newArena(size)
		if err != nil {
			return fmt.Errorf("call %s: %w", in.p.ID, err)
		}
		if err := in.mapInto(c, 0, m); err != nil {
			m.close()
			return err
		}
		c.mem.close()
		c.mem = m
	}
	var mem []byte
	if c.mem != nil {
		mem = c.mem.mem
	}
	for p, list := range a.Inputs {
		for i, f := range list {
			if s := r.Ports[p][i]; s.Arena == 0 {
				copy(mem[s.Off:s.Off+s.need()], f.Data)
			}
		}
	}
	rep, err := in.roundTrip(c, r, -1, loader.OpCall, in.opts.CallDeadline)
	if err != nil {
		return err
	}
	c.valGen = gen
	c.calls++
	if a.Output != nil && r.Output.Arena == 0 {
		copy(a.Output.Data[:r.Output.need()], mem[r.Output.Off:])
	}
	if a.Audio != nil {
		a.Audio.Frames, a.Audio.SampleRate, a.Audio.Channels = 0, 0, 0
		if ar := rep.Audio; ar != nil && ar.Channels >= 1 && ar.Channels <= 2 && ar.Frames >= 0 && ar.Frames*ar.Channels <= len(a.Audio.Samples) {
			a.Audio.Frames, a.Audio.SampleRate, a.Audio.Channels = ar.Frames, ar.SampleRate, ar.Channels
			if n := ar.Frames * ar.Channels; n > 0 {
				copy(a.Audio.Samples[:n], unsafe.Slice((*float32)(unsafe.Pointer(&mem[r.Audio.Off])), n))
			}
		}
	}
	in.checkMemory(c)
	if rep.Kind != repOK {
		return rep.err()
	}
	return nil
}

// mapInto passes arena a to child c under id.
func (in *Instance) mapInto(c *child, id uint64, a *arena) error {
	rep, err := in.roundTrip(c, &request{Op: reqMap, ID: id, Size: len(a.mem)}, a.fd, loader.OpCall, in.opts.SetupDeadline)
	if err != nil {
		return err
	}
	if rep.Kind != repOK {
		return fmt.Errorf("call %s: the child cannot map its frames: %w", in.p.ID, rep.err())
	}
	return nil
}

// mapShared makes sure child c has buffer b mapped.
func (in *Instance) mapShared(c *child, b *sharedBuf) error {
	if c.shared[b.id] {
		return nil
	}
	if err := in.mapInto(c, b.id, b.a); err != nil {
		return err
	}
	if c.shared == nil {
		c.shared = map[uint64]bool{}
	}
	c.shared[b.id] = true
	return nil
}

// checkMemory reads the child's resident memory after every call (one pread of
// /proc/PID/statm, a few microseconds); over the limit, the child is
// killed and restarted (the call that got there has delivered its output).
func (in *Instance) checkMemory(c *child) {
	if in.opts.MemoryLimit < 0 {
		return
	}
	rss, ok := c.rss()
	if !ok || rss <= in.opts.MemoryLimit {
		return
	}
	ev := in.event(c, loader.OpCall, FaultMemory)
	ev.Frame = c.calls - 1
	ev.RSS, ev.Limit = rss, in.opts.MemoryLimit
	in.fault(c, ev)
}

// roundTrip sends r (with fd) and waits for its reply, collecting log lines, for at most
// deadline. A failure of the child becomes a fault: the child is killed, the event recorded
// and a restart started, and the returned error is a *FaultError.
func (in *Instance) roundTrip(c *child, r *request, fd int, op string, deadline time.Duration) (*reply, error) {
	in.flightFrame.Store(c.calls)
	in.flightSince.Store(time.Now().UnixNano())
	in.flightOp.Store(op)
	defer in.flightOp.Store("")
	if err := c.ch.send(r, fd); err != nil {
		return nil, in.lost(c, op, deadline, err)
	}
	end := time.Now().Add(deadline)
	for {
		rep := &c.rep
		*rep = reply{}
		rfd, err := c.ch.recv(rep, end)
		if rfd >= 0 {
			syscall.Close(rfd)
		}
		if err != nil {
			return nil, in.lost(c, op, deadline, err)
		}
		if rep.Kind == repLog {
			c.logLine(rep.Log)
			if in.opts.Logger != nil {
				in.opts.Logger.Info(rep.Log, "plugin", filepath.Base(in.path), "pipeline", in.p.ID, "isolated", true)
			}
			continue
		}
		return rep, nil
	}
}

// lost turns a failed round trip into a fault.
func (in *Instance) lost(c *child, op string, deadline time.Duration, err error) error {
	var ev Event
	if errors.Is(err, os.ErrDeadlineExceeded) {
		ev = in.event(c, op, FaultTimeout)
		ev.Deadline = deadline
		c.kill()
		if !c.killedBySignal(syscall.SIGKILL) {
			// It died by itself (exit, a crash) just before the deadline: say what it was.
			c.exitEvent(&ev)
		}
	} else {
		c.kill() // it may be alive yet, with its socket broken
		ev = in.event(c, op, FaultLost)
		c.exitEvent(&ev)
	}
	in.fault(c, ev)
	return &FaultError{Event: ev}
}

// event starts an event about child c.
func (in *Instance) event(c *child, op, kind string) Event {
	ev := Event{Time: time.Now(), File: in.path, Op: op, Frame: c.calls, Kind: kind, Log: c.lastLogs()}
	if in.p != nil {
		ev.Pipeline = in.p.ID
	} else {
		ev.Pipeline = c.id
	}
	return ev
}

// fault records ev for child c (which is dead or about to be), reports it, and starts a
// restart, unless the fault window is full.
func (in *Instance) fault(c *child, ev Event) {
	c.kill()
	// fault runs on the goroutine that uses c (a call, or the restart setting c up), so the
	// arena is unused now.
	c.mem.close()
	c.mem = nil
	in.mu.Lock()
	if in.state == StateClosed {
		in.mu.Unlock() // Close killed it: no fault
		return
	}
	now := time.Now()
	keep := in.faults[:0]
	for _, t := range in.faults {
		if now.Sub(t) < in.opts.FaultWindow {
			keep = append(keep, t)
		}
	}
	in.faults = append(keep, now)
	ev.Restarts = in.restarts
	ev.Disabled = len(in.faults) >= in.opts.MaxFaults
	if in.cur == c {
		in.cur = nil
	}
	// Faults while Start sets up (state "") only fail Start; closed instances stay closed.
	closed := in.state == StateClosed || in.state == ""
	switch {
	case closed:
	case ev.Disabled:
		in.state = StateDisabled
	default:
		in.state = StateRestarting
	}
	in.events = append(in.events, ev)
	in.mu.Unlock()
	in.report(ev)
	if !closed && !ev.Disabled && in.p != nil {
		in.mu.Lock()
		in.restarts++
		in.mu.Unlock()
		in.restart.Add(1)
		go in.restartChild()
	}
}

// report logs ev and hands it to OnEvent.
func (in *Instance) report(ev Event) {
	if l := in.opts.Logger; l != nil {
		level := slog.LevelWarn
		if ev.Disabled {
			level = slog.LevelError
		}
		l.Log(nil, level, ev.String(), "plugin", filepath.Base(in.path), "pipeline", ev.Pipeline, "fault", ev.Kind)
	}
	if in.opts.OnEvent != nil {
		in.opts.OnEvent(ev)
	}
}

// restartChild starts a new child with the instance's mode and current values, prepares it
// as the last Prepare did, and puts it in place. A fault on the way counts like any other.
func (in *Instance) restartChild() {
	defer in.restart.Done()
	select {
	case <-in.bg:
		return
	default:
	}
	// A fault on the way (a crash in create) has recorded itself and started the next
	// restart; any other error (no child, an error status where there was none before)
	// disables the instance.
	bad := func(c *child, err error) {
		if c != nil {
			c.kill()
		}
		if fe := (*FaultError)(nil); !errors.As(err, &fe) {
			in.giveUp(err)
		}
	}
	// The spare (started after the previous restart) has loaded the library already.
	in.mu.Lock()
	c := in.spare
	in.spare = nil
	in.mu.Unlock()
	fresh := c == nil
	if fresh {
		var err error
		if c, err = in.startChild(in.p.ID); err != nil {
			bad(nil, err)
			return
		}
	}
	in.mu.Lock()
	if in.state != StateRestarting {
		in.mu.Unlock()
		c.kill() // closed meanwhile
		return
	}
	in.pending[c] = true
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.pending, c)
		in.mu.Unlock()
	}()
	if fresh {
		if err := in.hello(c); err != nil {
			bad(c, err)
			return
		}
	}
	if err := in.create(c); err != nil {
		bad(c, err)
		return
	}
	in.mu.Lock()
	prep, values, gen := in.prep, in.values, in.valGen
	in.mu.Unlock()
	if prep != nil {
		if _, err := in.prepareOn(c, prep.inputs, prep.memory, values, gen, in.opts.SetupDeadline); err != nil {
			bad(c, err)
			return
		}
	}
	in.mu.Lock()
	if in.state != StateRestarting {
		in.mu.Unlock()
		c.kill() // closed meanwhile
		return
	}
	in.cur, in.state = c, StateRunning
	in.mu.Unlock()
	in.startSpare()
}

// startSpare starts a child that loads the library and waits, so that the next restart
// only creates and prepares (about a millisecond instead of a process start and a load).
// Only instances that faulted once keep one: it costs a process.
func (in *Instance) startSpare() {
	c, err := in.startChild(in.p.ID)
	if err != nil {
		return // the next restart starts one itself, and reports what fails
	}
	in.mu.Lock()
	if in.state == StateClosed || in.spare != nil {
		in.mu.Unlock()
		c.kill()
		return
	}
	in.pending[c] = true // Close kills it while it loads
	in.mu.Unlock()
	err = in.hello(c)
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.pending, c)
	if err != nil || in.state == StateClosed {
		c.kill()
		return
	}
	in.spare = c
}

// giveUp disables the instance after a restart the plugin refused (not a fault: an error
// status in create or prepare that worked before).
func (in *Instance) giveUp(err error) {
	in.mu.Lock()
	if in.state == StateRestarting {
		in.state = StateDisabled
	}
	in.mu.Unlock()
	if in.opts.Logger != nil {
		in.opts.Logger.Error(fmt.Sprintf("isolated %s (%s): restart failed, disabled: %v", in.p.ID, in.path, err))
	}
}

// create creates the instance in child c.
func (in *Instance) create(c *child) error {
	in.mu.Lock()
	values, gen := in.values.Clone(), in.valGen
	in.mu.Unlock()
	rep, err := in.roundTrip(c, &request{Op: reqCreate, Mode: in.mode, Values: values, CUDA: in.cuda}, -1, loader.OpCreate, in.opts.SetupDeadline)
	if err != nil {
		return err
	}
	if rep.Kind != repOK {
		return rep.err()
	}
	c.valGen = gen
	return nil
}

// Close destroys the instance: the child is told to exit (it destroys its instance), and
// killed if it has not within a second. It waits for a restart in progress to give up, so
// no child is left behind. It is safe to call more than once.
func (in *Instance) Close() {
	in.mu.Lock()
	if in.state == StateClosed {
		in.mu.Unlock()
		return
	}
	in.state = StateClosed
	close(in.bg)
	c, spare := in.cur, in.spare
	var pending []*child
	for p := range in.pending {
		pending = append(pending, p)
	}
	in.cur, in.spare = nil, nil
	in.mu.Unlock()
	for _, p := range pending {
		p.kill() // a restart in progress fails at once
	}
	if spare != nil {
		spare.kill()
	}
	if c != nil {
		c.stop(time.Second)
		// A call still in progress (Close from another goroutine, to end a hung call) has
		// failed by now; its arena is unmapped once it has returned.
		in.callMu.Lock()
		c.mem.close()
		c.mem = nil
		in.callMu.Unlock()
	}
	in.restart.Wait()
}

// child is one plugin host process and its end of the control socket.
type child struct {
	id       string
	cmd      *exec.Cmd
	ch       *channel
	pipeline *loader.Pipeline
	mem      *arena          // the scratch arena (id 0)
	shared   map[uint64]bool // the Frames buffers the child has mapped
	stderr   *crashscan.Scanner
	statm    *os.File
	waited   chan struct{}
	waitErr  error
	killOnce sync.Once

	logMu sync.Mutex
	logs  []string

	valGen  uint64
	calls   uint64
	req     request
	rep     reply
	portBuf [][]slot
}

// spawn starts a child for pipeline id and waits for its hello.
func (in *Instance) spawn(id string) (*child, error) {
	c, err := in.startChild(id)
	if err != nil {
		return nil, err
	}
	if err := in.hello(c); err != nil {
		return nil, err
	}
	return c, nil
}

// startChild starts a child process for pipeline id.
func (in *Instance) startChild(id string) (*child, error) {
	pf, cf, err := socketpair()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoChild, err)
	}
	argv := in.opts.ChildCommand
	cmd := exec.Command(argv[0], append(append([]string(nil), argv[1:]...), in.path, id)...)
	c := &child{id: id, cmd: cmd, stderr: &crashscan.Scanner{Out: in.opts.Stderr}, waited: make(chan struct{})}
	cmd.Stderr = c.stderr
	cmd.ExtraFiles = []*os.File{cf} // descriptor 3
	// Its own process group, so a kill takes whatever the plugin started too; killed with
	// the parent (Pdeathsig), so no child outlives a parent that dies without Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		pf.Close()
		cf.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrNoChild, argv[0], err)
	}
	cf.Close()
	go func() { c.waitErr = cmd.Wait(); close(c.waited) }()
	c.ch, err = newChannel(pf)
	if err != nil {
		c.kill()
		return nil, fmt.Errorf("%w: %v", ErrNoChild, err)
	}
	c.statm, _ = os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/statm")
	return c, nil
}

// hello waits for child c to load its library and report the pipeline.
func (in *Instance) hello(c *child) error {
	argv := in.opts.ChildCommand
	var hello reply
	for {
		fd, err := c.ch.recv(&hello, time.Now().Add(in.opts.SetupDeadline))
		if fd >= 0 {
			syscall.Close(fd)
		}
		if err != nil {
			return in.lost(c, loader.OpCreate, in.opts.SetupDeadline, err)
		}
		if hello.Kind == repLog {
			c.logLine(hello.Log)
			continue
		}
		break
	}
	switch {
	case hello.Kind == repError:
		c.kill()
		return fmt.Errorf("load %s in a plugin host child: %s", in.path, hello.Text)
	case hello.Kind != repHello || hello.Pipeline == nil:
		c.kill()
		return fmt.Errorf("%w: %s did not say hello (is ServeChild wired to its arguments?)", ErrNoChild, strings.Join(argv, " "))
	}
	c.pipeline = hello.Pipeline
	return nil
}

// logLine keeps one of the plugin's log lines.
func (c *child) logLine(l string) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	if len(c.logs) == logLines {
		copy(c.logs, c.logs[1:])
		c.logs = c.logs[:logLines-1]
	}
	c.logs = append(c.logs, crashscan.Clip(l, 200))
}

func (c *child) lastLogs() []string {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	return append([]string(nil), c.logs...)
}

// kill ends the child's process group at once and releases what the parent holds of it.
func (c *child) kill() {
	c.killOnce.Do(func() {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.waited
		c.release()
	})
}

// stop closes the control socket, which asks the child to exit, and kills it after grace.
func (c *child) stop(grace time.Duration) {
	c.killOnce.Do(func() {
		c.ch.close()
		select {
		case <-c.waited:
		case <-time.After(grace):
		}
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.waited
		c.release()
	})
}

func (c *child) release() {
	if c.ch != nil {
		c.ch.close()
	}
	if c.statm != nil {
		c.statm.Close()
	}
}

// killedBySignal reports whether the (waited for) child died of signal s.
func (c *child) killedBySignal(s syscall.Signal) bool {
	<-c.waited
	var ee *exec.ExitError
	if errors.As(c.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal() == s
		}
	}
	return false
}

// exitEvent waits (briefly) for the child's exit and describes it in ev.
func (c *child) exitEvent(ev *Event) {
	select {
	case <-c.waited:
	case <-time.After(2 * time.Second):
		return
	}
	err := c.waitErr
	sig, fatal, last := c.stderr.Report()
	if fatal != "" {
		last = "fatal error: " + fatal
	}
	ev.Stderr = last
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			ev.Kind, ev.Signal = FaultSignal, signalName(ws.Signal())
			return
		}
	}
	if sig != "" {
		// The Go runtime caught a signal in plugin code, printed it and exited with status 2.
		ev.Kind, ev.Signal = FaultSignal, sig
		return
	}
	ev.Kind = FaultExit
	if ee != nil {
		ev.ExitCode = ee.ExitCode()
	}
}

// signalName names a signal the way the Go runtime's report does ("SIGSEGV").
func signalName(s syscall.Signal) string {
	for _, n := range []struct {
		s    syscall.Signal
		name string
	}{{syscall.SIGSEGV, "SIGSEGV"}, {syscall.SIGBUS, "SIGBUS"}, {syscall.SIGABRT, "SIGABRT"}, {syscall.SIGFPE, "SIGFPE"}, {syscall.SIGILL, "SIGILL"}, {syscall.SIGKILL, "SIGKILL"}, {syscall.SIGTERM, "SIGTERM"}, {syscall.SIGTRAP, "SIGTRAP"}} {
		if n.s == s {
			return n.name
		}
	}
	return s.String()
}

// rss is the child's resident memory that is not shared (the frame arena, libraries).
func (c *child) rss() (int64, bool) {
	if c.statm == nil {
		return 0, false
	}
	var b [128]byte
	n, err := c.statm.ReadAt(b[:], 0)
	if n == 0 && err != nil {
		return 0, false
	}
	f := strings.Fields(string(b[:n]))
	if len(f) < 3 {
		return 0, false
	}
	res, err1 := strconv.ParseInt(f[1], 10, 64)
	shared, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (res - shared) * int64(os.Getpagesize()), true
}

func closeFD(fd int) error { return syscall.Close(fd) }
