package pluginhost_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/pluginhost"
)

// childArg makes the test binary a plugin host child (see TestMain).
const childArg = "-pluginhost-child"

// TestMain turns the test binary into a plugin host child when Start runs it that way.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(pluginhost.ServeChild(context.Background(), os.Args[2:]))
	}
	if len(os.Args) > 2 && os.Args[1] == orphanArg {
		orphanParent(os.Args[2])
	}
	os.Exit(m.Run())
}

// orphanArg makes the test binary a parent that starts an isolated instance whose call
// hangs, prints the child's pid and waits to be killed (TestParentDeathKillsTheChild).
const orphanArg = "-pluginhost-orphan-parent"

func orphanParent(lib string) {
	exe, _ := os.Executable()
	in, err := pluginhost.Start(lib, "copy", 0, nil, -1, pluginhost.Options{ChildCommand: []string{exe, childArg}, CallDeadline: time.Hour})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	f := frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}
	if _, err := in.Prepare([]frame.Format{f}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(in.PID())
	_ = in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{frame.New(f)}}, Output: frame.New(f)}) // hangs
	os.Exit(1)
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// A parent killed without a chance to Close (SIGKILL, a crash of its own) takes its
// children with it: none is left hanging in a plugin call.
func TestParentDeathKillsTheChild(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, orphanArg, testPlugin(t, "HANG_CALL_AT=0"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil || pid <= 0 {
		cmd.Process.Kill()
		t.Fatalf("the helper printed no child pid: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // the call is under way
	if !alive(pid) {
		t.Fatalf("child %d is not running its hung call", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	end := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(end) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d outlived its killed parent by 5s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// options runs children through this test binary, with deadlines loose enough for a
// loaded 2-core machine and a fault limit no test reaches unless it sets its own.
func options(t *testing.T) pluginhost.Options {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return pluginhost.Options{ChildCommand: []string{exe, childArg}, CallDeadline: 5 * time.Second, SetupDeadline: 10 * time.Second, MaxFaults: 100}
}

// testPlugin builds loader/testdata/testplugin.c with defines.
func testPlugin(t *testing.T, defines ...string) string {
	t.Helper()
	name := "testplugin"
	for _, d := range defines {
		name += "-" + strings.ToLower(strings.NewReplacer("=", "", "_", "").Replace(d))
	}
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), name+".so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}, defines...)
}

// pattern is a frame whose bytes depend on their position and on seed.
func pattern(f frame.Format, pitch int, seed byte) *frame.Frame {
	fr := frame.NewWithPitch(f, pitch)
	for i := range fr.Data {
		fr.Data[i] = byte(i*7) + seed
	}
	return fr
}

// caller runs ticks of the copy pipeline at one size and checks each output.
type caller struct {
	t   *testing.T
	in  *pluginhost.Instance
	fmt frame.Format
	n   byte
}

func newCaller(t *testing.T, in *pluginhost.Instance) *caller {
	c := &caller{t: t, in: in, fmt: frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}}
	if _, err := in.Prepare([]frame.Format{c.fmt}); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return c
}

// tick calls once; on success the output must equal the input row by row.
func (c *caller) tick() error {
	c.t.Helper()
	c.n++
	src := pattern(c.fmt, 32, c.n)
	out := frame.NewWithPitch(c.fmt, 24)
	err := c.in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out})
	if err == nil {
		for y := 0; y < c.fmt.Height; y++ {
			if a, b := src.Data[y*32:y*32+21], out.Data[y*24:y*24+21]; string(a) != string(b) {
				c.t.Fatalf("row %d: output %v, want the input %v", y, b, a)
			}
		}
	}
	return err
}

// waitRunning waits until a restart has put a child in place.
func waitRunning(t *testing.T, in *pluginhost.Instance) {
	t.Helper()
	end := time.Now().Add(15 * time.Second)
	for in.State() != pluginhost.StateRunning {
		if time.Now().After(end) {
			t.Fatalf("still %s after 15s; events: %v", in.State(), in.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, lib string, opts pluginhost.Options) *pluginhost.Instance {
	t.Helper()
	in, err := pluginhost.Start(lib, "copy", 0, nil, -1, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(in.Close)
	return in
}

func TestIsolatedCopyMatchesInput(t *testing.T) {
	in := start(t, testPlugin(t), options(t))
	if in.Pipeline().ID != "copy" || in.Pipeline().Param("size") == nil || !in.Pipeline().Param("size").LoadTime {
		t.Fatalf("schema from the child: %+v", in.Pipeline())
	}
	c := newCaller(t, in)
	for i := 0; i < 20; i++ {
		if err := c.tick(); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
	}
	// A runtime parameter reaches the child: fail=true makes the plugin refuse the frame,
	// with its own message, and the instance stays usable.
	v := in.Values()
	if err := v.Set(in.Pipeline(), "fail", "true"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetParams(v); err != nil {
		t.Fatal(err)
	}
	var pe *loader.PluginError
	if err := c.tick(); !errors.As(err, &pe) || !strings.Contains(pe.Message, "refusing frame 20 on purpose") || pe.Op != "call" {
		t.Fatalf("call with fail=true: %v, want the plugin's refusal of frame 20", err)
	}
	v.Set(in.Pipeline(), "fail", "false")
	v.Set(in.Pipeline(), "size", "128")
	if err := in.SetParams(v); err == nil || !strings.Contains(err.Error(), "size is a load-time parameter") {
		t.Fatalf("changing a load-time parameter: %v, want the loader's refusal", err)
	}
	if in.State() != pluginhost.StateRunning || in.Restarts() != 0 || len(in.Events()) != 0 {
		t.Fatalf("state %s, %d restarts, events %v: want running and no faults", in.State(), in.Restarts(), in.Events())
	}
}

// fault runs ticks until one fails with a fault, and returns its event.
func fault(t *testing.T, c *caller, limit int) pluginhost.Event {
	t.Helper()
	for i := 0; i < limit; i++ {
		err := c.tick()
		var fe *pluginhost.FaultError
		if errors.As(err, &fe) {
			return fe.Event
		}
		if err != nil {
			t.Fatalf("tick %d: %v, want success or a fault", i, err)
		}
	}
	t.Fatalf("no fault in %d ticks", limit)
	return pluginhost.Event{}
}

func TestCrashesAreContainedAndRestarted(t *testing.T) {
	for _, tc := range []struct {
		define, kind, signal, log string
		exit                      int
	}{
		{"SEGV_CALL_AT=5", pluginhost.FaultSignal, "SIGSEGV", "WARN frame 5: segfaulting on purpose", 0},
		{"ABORT_CALL_AT=5", pluginhost.FaultSignal, "SIGABRT", "WARN frame 5: aborting on purpose", 0},
		{"EXIT0_CALL_AT=5", pluginhost.FaultExit, "", "WARN frame 5: exiting on purpose", 0},
	} {
		t.Run(tc.define, func(t *testing.T) {
			lib := testPlugin(t, tc.define)
			var seen []pluginhost.Event
			opts := options(t)
			opts.OnEvent = func(e pluginhost.Event) { seen = append(seen, e) }
			in := start(t, lib, opts)
			c := newCaller(t, in)
			pid := in.PID()
			ev := fault(t, c, 10)
			if ev.Kind != tc.kind || ev.Signal != tc.signal || ev.ExitCode != tc.exit || ev.Op != "call" || ev.Frame != 5 || ev.File != lib || ev.Pipeline != "copy" {
				t.Fatalf("event %+v, want %s %s exit %d in call on frame 5 of copy (%s)", ev, tc.kind, tc.signal, tc.exit, lib)
			}
			if len(ev.Log) == 0 || ev.Log[len(ev.Log)-1] != tc.log {
				t.Fatalf("event's last log lines %q, want the last to be %q", ev.Log, tc.log)
			}
			if s := ev.String(); !strings.Contains(s, "call on frame 5") || !strings.Contains(s, lib) || !strings.Contains(s, tc.log) {
				t.Fatalf("event text %q lacks the call, the file or the log line", s)
			}
			if len(seen) != 1 {
				t.Fatalf("OnEvent saw %d events, want 1", len(seen))
			}
			if got := in.LastFault(); got != ev.String() {
				t.Fatalf("LastFault() = %q, want the event %q", got, ev.String())
			}
			// While it restarts, calls fail at once with ErrRestarting (or it is back already).
			t0 := time.Now()
			if err := c.tick(); err != nil && !errors.Is(err, pluginhost.ErrRestarting) {
				t.Fatalf("call during the restart: %v", err)
			}
			if d := time.Since(t0); d > time.Second {
				t.Fatalf("a call during the restart took %v: it must not wait for the child", d)
			}
			waitRunning(t, in)
			if in.Restarts() != 1 || in.PID() == pid || in.PID() == 0 {
				t.Fatalf("%d restarts, pid %d (old %d): want 1 restart and a new child", in.Restarts(), in.PID(), pid)
			}
			if syscall.Kill(pid, 0) == nil {
				t.Fatalf("the crashed child %d still exists", pid)
			}
			for i := 0; i < 3; i++ {
				if err := c.tick(); err != nil {
					t.Fatalf("tick %d after the restart: %v", i, err)
				}
			}
		})
	}
}

func TestRestartKeepsRuntimeParameters(t *testing.T) {
	in := start(t, testPlugin(t, "SEGV_CALL_AT=2"), options(t))
	c := newCaller(t, in)
	v := in.Values()
	v.Set(in.Pipeline(), "fail", "true")
	if err := in.SetParams(v); err != nil {
		t.Fatal(err)
	}
	var pe *loader.PluginError
	for i := 0; i < 2; i++ {
		if err := c.tick(); !errors.As(err, &pe) {
			t.Fatalf("tick %d: %v, want the plugin's refusal", i, err)
		}
	}
	var fe *pluginhost.FaultError
	if err := c.tick(); !errors.As(err, &fe) || fe.Event.Signal != "SIGSEGV" {
		t.Fatalf("tick 2: %v, want the SIGSEGV fault", err)
	}
	waitRunning(t, in)
	// The new child was created with fail=true: it refuses its first frame too.
	if err := c.tick(); !errors.As(err, &pe) || !strings.Contains(pe.Message, "refusing frame 0") {
		t.Fatalf("first call after the restart: %v, want the refusal of frame 0 (fail=true carried over)", err)
	}
}

func TestHangInCallMissesItsDeadline(t *testing.T) {
	opts := options(t)
	opts.CallDeadline = 200 * time.Millisecond
	in := start(t, testPlugin(t, "HANG_CALL_AT=3"), opts)
	c := newCaller(t, in)
	t0 := time.Now()
	ev := fault(t, c, 10)
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("the hung call returned after %v, want about its 200ms deadline", d)
	}
	if ev.Kind != pluginhost.FaultTimeout || ev.Deadline != 200*time.Millisecond || ev.Op != "call" || ev.Frame != 3 {
		t.Fatalf("event %+v, want a 200ms timeout in call on frame 3", ev)
	}
	if !strings.Contains(ev.String(), "missed its 200ms deadline") {
		t.Fatalf("event text %q", ev.String())
	}
	waitRunning(t, in)
	if err := c.tick(); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}

func TestHangInPrepareDisablesAfterTheFaultLimit(t *testing.T) {
	opts := options(t)
	opts.SetupDeadline = 300 * time.Millisecond
	opts.MaxFaults = 3
	in := start(t, testPlugin(t, "HANG_PREPARE"), opts)
	f := frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}
	var fe *pluginhost.FaultError
	if _, err := in.Prepare([]frame.Format{f}); !errors.As(err, &fe) || fe.Event.Kind != pluginhost.FaultTimeout || fe.Event.Op != "prepare" {
		t.Fatalf("prepare: %v, want a timeout fault in prepare", err)
	}
	// The first prepare never succeeded, so restarts only create; prepare again, as the
	// engine does after an error, and each new child hangs in it until the limit.
	end := time.Now().Add(20 * time.Second)
	for in.State() != pluginhost.StateDisabled {
		if time.Now().After(end) {
			t.Fatalf("not disabled after 20s: %s, events %v", in.State(), in.Events())
		}
		if _, err := in.Prepare([]frame.Format{f}); err == nil {
			t.Fatal("a prepare that hangs succeeded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	evs := in.Events()
	if len(evs) != 3 || !evs[2].Disabled || evs[0].Disabled {
		t.Fatalf("events %v, want 3 faults, the last one disabling", evs)
	}
	if err := in.Call(&loader.CallArgs{}); !errors.Is(err, pluginhost.ErrDisabled) {
		t.Fatalf("call on a disabled instance: %v", err)
	}
}

func TestLeakHitsTheMemoryLimit(t *testing.T) {
	opts := options(t)
	opts.MemoryLimit = 96 << 20
	in := start(t, testPlugin(t, "LEAK_MB_PER_FRAME=4"), opts)
	c := newCaller(t, in)
	var ev pluginhost.Event
	calls := 0
	for ev.Kind == "" && calls < 200 {
		if err := c.tick(); err != nil {
			t.Fatalf("tick %d: %v (the call that passes the limit still delivers)", calls, err)
		}
		calls++
		if evs := in.Events(); len(evs) > 0 {
			ev = evs[0]
		}
	}
	if ev.Kind != pluginhost.FaultMemory || ev.RSS <= 96<<20 || ev.Limit != 96<<20 {
		t.Fatalf("after %d calls: event %+v, want a memory fault over 96 MiB", calls, ev)
	}
	// 4 MiB per call: the limit is hit within 24 calls plus the child's own few MiB.
	if calls > 30 {
		t.Fatalf("the limit took %d calls of 4 MiB to notice", calls)
	}
	if !strings.Contains(ev.String(), "over its 96 MiB limit") {
		t.Fatalf("event text %q", ev.String())
	}
	waitRunning(t, in)
}

func TestCloseLeavesNoChild(t *testing.T) {
	in := start(t, testPlugin(t), options(t))
	newCaller(t, in)
	pid := in.PID()
	in.Close()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("child %d is alive after Close", pid)
	}
	if err := in.Call(&loader.CallArgs{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("call after Close: %v", err)
	}

	// Close during a restart that hangs in prepare: it returns without waiting for the
	// setup deadline, and the restarting child is gone too.
	opts := options(t)
	opts.SetupDeadline = 30 * time.Second
	opts.CallDeadline = 100 * time.Millisecond
	in = start(t, testPlugin(t, "HANG_CALL_AT=0"), opts)
	newCaller(t, in)
	var fe *pluginhost.FaultError
	if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{frame.New(frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8})}}, Output: frame.New(frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8})}); !errors.As(err, &fe) {
		t.Fatalf("hung call: %v", err)
	}
	waitRunning(t, in) // the new child is back (it hangs only in calls)
	for end := time.Now().Add(10 * time.Second); len(hostChildren(t)) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no spare child after the restart: %v", hostChildren(t))
		}
	}
	pid = in.PID()
	t0 := time.Now()
	in.Close()
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("child %d is alive after Close", pid)
	}
	// The restart left a spare child too: gone as well.
	if kids := hostChildren(t); len(kids) != 0 {
		t.Fatalf("plugin host children alive after Close: %v", kids)
	}
}

// hostChildren lists the live plugin host children of this process (zombies excluded).
func hostChildren(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[0] == "Z" || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if cmd, _ := os.ReadFile(d + "/cmdline"); strings.Contains(string(cmd), childArg) {
			out = append(out, d+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

func TestLoadErrorNamesTheFile(t *testing.T) {
	lib := testPlugin(t, "ABI_MAJOR_2")
	_, err := pluginhost.Start(lib, "copy", 0, nil, -1, options(t))
	if err == nil || !strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), "incompatible plugin ABI version") {
		t.Fatalf("start of an ABI 2 plugin: %v, want the loader's error naming the file", err)
	}
	_, err = pluginhost.Start(testPlugin(t), "nope", 0, nil, -1, options(t))
	if err == nil || !strings.Contains(err.Error(), `no pipeline "nope"`) {
		t.Fatalf("start of a missing pipeline: %v", err)
	}
}

// Frames from the run's shared allocator reach the child as they are: the copy pipeline's
// output is right, and no scratch arena (no copy) was needed, also after a restart.
func TestSharedFramesAreNotCopied(t *testing.T) {
	shared := pluginhost.NewFrames()
	defer shared.Close()
	opts := options(t)
	opts.Frames = shared
	in := start(t, testPlugin(t, "SEGV_CALL_AT=3"), opts)
	f := frame.Format{Width: 33, Height: 5, Channels: 3, Elem: frame.U8}
	if _, err := in.Prepare([]frame.Format{f}); err != nil {
		t.Fatal(err)
	}
	src, err := shared.New(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := shared.New(f)
	if err != nil {
		t.Fatal(err)
	}
	faults := 0
	for i := 0; i < 6; i++ { // frames 0-2, the crash on 3, then 0-1 of the new child
		for j := range src.Data {
			src.Data[j] = byte(i + j)
		}
		err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out})
		var fe *pluginhost.FaultError
		switch {
		case errors.As(err, &fe):
			faults++
			waitRunning(t, in)
			continue
		case err != nil:
			t.Fatalf("call %d: %v", i, err)
		}
		if string(out.Data) != string(src.Data) {
			t.Fatalf("call %d: the output is not the input", i)
		}
		if n := in.ScratchBytes(); n != 0 {
			t.Fatalf("call %d: a %d-byte scratch arena was used for shared frames", i, n)
		}
	}
	if faults != 1 {
		t.Fatalf("%d faults, want the one on frame 3", faults)
	}
}

// Close while a call hangs (how a run stops a stuck plugin) kills the child; that is no
// fault to report, and the hung call returns.
func TestCloseDuringAHungCallReportsNothing(t *testing.T) {
	opts := options(t)
	var events []pluginhost.Event
	var mu sync.Mutex
	opts.OnEvent = func(e pluginhost.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	opts.SetupDeadline = 30 * time.Second
	in := start(t, testPlugin(t, "HANG_PREPARE"), opts)
	go func() {
		time.Sleep(300 * time.Millisecond)
		in.Close()
	}()
	t0 := time.Now()
	if _, err := in.Prepare([]frame.Format{{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}}); err == nil {
		t.Fatal("a hung prepare succeeded")
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("the hung prepare returned after %v", d)
	}
	in.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 0 || in.State() != pluginhost.StateClosed {
		t.Fatalf("state %s, events %v: want closed and no events (Close is not a fault)", in.State(), events)
	}
}

// The child maps each shared frame once and keeps no descriptor of it: a run's many pool
// frames do not pile up descriptors in the child.
func TestSharedFramesHoldNoDescriptorsInTheChild(t *testing.T) {
	shared := pluginhost.NewFrames()
	defer shared.Close()
	opts := options(t)
	opts.Frames = shared
	in := start(t, testPlugin(t), opts)
	f := frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}
	if _, err := in.Prepare([]frame.Format{f}); err != nil {
		t.Fatal(err)
	}
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", in.PID()))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	for i := 0; i < 40; i++ {
		src, err := shared.New(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := shared.New(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}); err != nil {
			t.Fatal(err)
		}
	}
	if after := fds(); after > before+2 {
		t.Fatalf("the child holds %d descriptors after mapping 80 frames, %d before", after, before)
	}
}
