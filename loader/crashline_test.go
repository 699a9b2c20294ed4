//go:build linux && amd64

package loader

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
)

// crashChildEnv makes TestCrashLineChild act as the child of the crash-line tests.
const crashChildEnv = "SCOPE_LOADER_CRASH_CHILD"

// TestCrashLineChild is the child process of the tests below (skipped otherwise): it runs a
// plugin as the env variable says and dies the way that plugin makes it.
func TestCrashLineChild(t *testing.T) {
	mode, lib, ok := strings.Cut(os.Getenv(crashChildEnv), ":")
	if !ok {
		t.Skip("the child process of TestCrashLineBeforeDump and TestGoFaultPrintsNoCrashLine")
	}
	l, err := Open(lib, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(10)
	}
	in, err := l.Pipeline("copy").NewInstance(0, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(10)
	}
	if mode == "gofault" {
		// A Go nil dereference while a call is marked in flight on this thread: Go's own
		// panic, recovered, with no crash line.
		in.enter(opCall, 5)
		recovered := func() (r any) {
			defer func() { r = recover() }()
			var p *frame.Frame
			return p.Width
		}()
		in.leave()
		fmt.Printf("recovered: %v\n", recovered)
		os.Exit(0)
	}
	src := frame.New(frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8})
	req, err := in.Prepare([]frame.Format{src.Format})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(10)
	}
	args := &CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: frame.New(req.Output)}
	for i := 0; i < 10; i++ {
		if err := in.Call(args); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
		}
	}
	fmt.Fprintln(os.Stderr, "child: no crash")
	os.Exit(0)
}

// runCrashChild runs TestCrashLineChild in a child process; it returns the exit code, stdout
// and stderr.
func runCrashChild(t *testing.T, mode, lib string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestCrashLineChild$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+mode+":"+lib)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("child: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func buildTestPlugin(t *testing.T, define string) string {
	t.Helper()
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), "crashy.so"), []string{filepath.Join("testdata", "testplugin.c")}, define)
}

// TestCrashLineBeforeDump: a segfault inside a plugin's call prints one line naming the
// plugin file, the pipeline, the call and the frame, before Go's crash dump.
func TestCrashLineBeforeDump(t *testing.T) {
	lib := buildTestPlugin(t, "SEGV_CALL_AT=3")
	code, _, stderr := runCrashChild(t, "segv", lib)
	if code == 0 {
		t.Fatalf("the child survived a segfault (exit 0):\n%s", stderr)
	}
	want := "scope: plugin crashed: " + lib + ", pipeline copy, in call, frame 3\n"
	first, _, _ := strings.Cut(stderr, "\n")
	if first+"\n" != want {
		t.Fatalf("first line of stderr = %q, want %q\n%s", first, want, stderr)
	}
	if strings.Count(stderr, "scope: plugin crashed:") != 1 || !strings.Contains(stderr, "SIGSEGV") {
		t.Fatalf("want one crash line, then Go's SIGSEGV dump:\n%s", stderr)
	}
}

// TestGoFaultPrintsNoCrashLine: a nil dereference in Go code stays Go's recoverable panic,
// with no crash line, even while a call is marked in flight on that thread.
func TestGoFaultPrintsNoCrashLine(t *testing.T) {
	code, stdout, stderr := runCrashChild(t, "gofault", buildTestPlugin(t, "SEGV_CALL_AT=3"))
	if code != 0 || !strings.Contains(stdout, "recovered: runtime error: invalid memory address or nil pointer dereference") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "crashed") {
		t.Fatalf("a Go fault printed a crash line:\n%s", stderr)
	}
}

// TestCrashSlots: instances beyond the table's size run without a crash line, and closed
// instances give their entry back.
func TestCrashSlots(t *testing.T) {
	l, err := Open(buildTestPlugin(t, "SEGV_CALL_AT=99"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	free := func() int {
		crashState.mu.Lock()
		defer crashState.mu.Unlock()
		n := 0
		for _, u := range crashState.used {
			if !u {
				n++
			}
		}
		return n
	}
	start := free()
	var ins []*Instance
	for i := 0; i < crashEntries+3; i++ {
		in, err := l.Pipeline("copy").NewInstance(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	if n := free(); n != 0 {
		t.Fatalf("%d entries free with %d instances live", n, len(ins))
	}
	without := 0
	for _, in := range ins {
		if in.flight.slot.e == nil {
			without++
		}
	}
	if without != len(ins)-start {
		t.Errorf("%d instances without a crash line, want %d", without, len(ins)-start)
	}
	for _, in := range ins {
		in.Close()
	}
	if n := free(); n != start {
		t.Fatalf("%d entries free after closing every instance, want %d", n, start)
	}
}

// TestPluginRecoveredFaultPrintsNoCrashLine: a plugin with a fault handler of its own (as a
// Go runtime inside a plugin has) recovers from its faults without a crash line: the
// trampoline is installed before the plugin loads, so the plugin's handler comes first.
func TestPluginRecoveredFaultPrintsNoCrashLine(t *testing.T) {
	code, _, stderr := runCrashChild(t, "segv", buildTestPlugin(t, "RECOVER_SEGV"))
	if code != 0 || !strings.Contains(stderr, "child: no crash") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "crashed") {
		t.Fatalf("a fault the plugin recovered from printed a crash line:\n%s", stderr)
	}
}
