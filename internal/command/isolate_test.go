package command_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// isolationPlugins builds invert (C) and invert-cpp (C++) into dir.
func isolationPlugins(t *testing.T, dir string) {
	t.Helper()
	root := plugintest.Root(t)
	plugintest.Example(t, dir, "invert")
	cxx, err := exec.LookPath("c++")
	if err != nil {
		t.Skipf("no C++ compiler for invert-cpp: %v", err)
	}
	if b, err := exec.Command(cxx, "-std=c++17", "-O0", "-shared", "-fPIC", "-fvisibility=hidden", "-I", filepath.Join(root, "include"),
		"-o", filepath.Join(dir, "invert-cpp.so"), filepath.Join(root, "examples", "cpp", "invert", "invert.cpp")).CombinedOutput(); err != nil {
		t.Fatalf("build invert-cpp: %v\n%s", err, b)
	}
}

// faultyPlugin builds loader/testdata/testplugin.c with defines into dir.
func faultyPlugin(t *testing.T, dir string, defines ...string) string {
	t.Helper()
	return plugintest.BuildC(t, filepath.Join(dir, "faulty.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}, defines...)
}

// y4mFrames splits a Y4M file into its frames' bytes.
func y4mFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.Split(b, []byte("FRAME\n"))
	return parts[1:]
}

// Each faulty plugin runs isolated between invert and invert-cpp (which undo each other,
// and copy, or passing its input through, changes nothing): the 1,000-frame run completes,
// every frame is the source frame, the run log names the event, and the summary counts the
// restarts.
func TestIsolatedFaultsAreContained(t *testing.T) {
	libs := t.TempDir()
	isolationPlugins(t, libs)
	for _, tc := range []struct {
		name, define string
		args         []string
		log          string
	}{
		{"segv", "SEGV_CALL_AT=50", nil, "call on frame 50 crashed with SIGSEGV; restarting; last log lines: "},
		{"abort", "ABORT_CALL_AT=50", nil, "call on frame 50 crashed with SIGABRT"},
		{"exit0", "EXIT0_CALL_AT=50", nil, "call on frame 50 exited with status 0"},
		{"hang-call", "HANG_CALL_AT=50", []string{"--call-deadline", "200ms"}, "call on frame 50 missed its 200ms deadline (killed)"},
		{"hang-prepare", "HANG_PREPARE", []string{"--setup-deadline", "200ms"}, "prepare on frame 0 missed its 200ms deadline (killed)"},
		{"leak", "LEAK_MB_PER_FRAME=1", []string{"--child-memory", "48MiB"}, "over its 48 MiB limit (killed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			faulty := faultyPlugin(t, dir, tc.define)
			out, ref := filepath.Join(dir, "out.y4m"), filepath.Join(dir, "ref.y4m")
			common := []string{"--size", "16x8", "--frames", "1000", "--plugin", faulty}
			if code, _, stderr := scope(t, libs, append([]string{"run", "invert,invert-cpp", "-o", ref}, common...)...); code != 0 {
				t.Fatalf("reference run: exit %d: %s", code, stderr)
			}
			args := append(append([]string{"run", "invert,copy,invert-cpp", "--isolate-only", "copy", "-o", out}, common...), tc.args...)
			code, stdout, stderr := scope(t, libs, args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			got, want := y4mFrames(t, out), y4mFrames(t, ref)
			if len(got) != 1000 || len(want) != 1000 {
				t.Fatalf("%d frames written (reference %d), want 1000", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("frame %d differs from the run without the faulty node", i)
				}
			}
			if !strings.Contains(stderr, "warning: isolated copy ("+faulty+"): ") || !strings.Contains(stderr, tc.log) {
				t.Fatalf("the run log does not name the event %q:\n%s", tc.log, stderr)
			}
			if !strings.Contains(stdout, "isolated (") || strings.Contains(stdout, "isolated (0 restarts") {
				t.Fatalf("the summary does not count the restarts: %s", stdout)
			}
		})
	}
}

// In a graph file, `isolate = true` isolates one node: it crashes on frame 50 and the
// graph's output is still every frame of the graph without it.
func TestGraphNodeIsolate(t *testing.T) {
	libs := t.TempDir()
	isolationPlugins(t, libs)
	dir := t.TempDir()
	faulty := faultyPlugin(t, dir, "SEGV_CALL_AT=50")
	file := filepath.Join(dir, "g.toml")
	out, ref := filepath.Join(dir, "out.y4m"), filepath.Join(dir, "ref.y4m")
	write := func(isolate string) {
		text := `[[source]]
name = "src"
input = "testsrc"

[[node]]
name = "a"
pipeline = "invert"
inputs = ["src"]

[[node]]
name = "c"
pipeline = "copy"
inputs = ["a"]
` + isolate + `

[[node]]
name = "b"
pipeline = "invert-cpp"
inputs = ["c"]

[[sink]]
name = "out"
output = "` + out + `"
from = "b"
`
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--size", "16x8", "--frames", "300", "--plugin", faulty, "--in-process"}
	if code, _, stderr := scope(t, libs, append([]string{"run", "invert,invert-cpp", "-o", ref}, common...)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, stderr)
	}
	write("isolate = true")
	// --in-process decides for every node; without it the node's own setting counts.
	code, stdout, stderr := scope(t, libs, "run", "--graph", file, "--size", "16x8", "--frames", "300", "--plugin", faulty)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	got, want := y4mFrames(t, out), y4mFrames(t, ref)
	if len(got) != 300 || len(want) != 300 {
		t.Fatalf("%d frames (reference %d), want 300", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d differs from the graph without the faulty node", i)
		}
	}
	if !strings.Contains(stderr, "isolated copy ("+faulty+"): call on frame 50 crashed with SIGSEGV") {
		t.Fatalf("the run log does not name the crash:\n%s", stderr)
	}
	if !strings.Contains(stdout, "c (copy)") || !strings.Contains(stdout, "isolated (1 restarts") {
		t.Fatalf("the summary does not show node c isolated with its restart: %s", stdout)
	}
	write("isolate = 3")
	if code, _, stderr := scope(t, libs, "run", "--graph", file, "--plugin", faulty); code != 2 || !strings.Contains(stderr, "isolate") {
		t.Fatalf("isolate = 3: exit %d, %s; want a usage error naming isolate", code, stderr)
	}
}

// The isolation flags refuse contradictions and bad values with a usage error that names
// the flag.
func TestIsolateFlagErrors(t *testing.T) {
	libs := t.TempDir()
	plugintest.Example(t, libs, "invert")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--isolate", "--in-process"}, "--isolate, --isolate-only and --in-process choose the same thing"},
		{[]string{"--isolate-only", "nope"}, "--isolate-only nope: the chain has no pipeline nope"},
		{[]string{"--isolate", "--child-memory", "lots"}, `--child-memory "lots": give a size such as 512MiB or 4GiB`},
		{[]string{"--isolate", "--child-memory", "12"}, `--child-memory "12"`},
	} {
		args := append([]string{"run", "invert", "--frames", "1", "--size", "8x8", "-o", "null"}, tc.args...)
		code, _, stderr := scope(t, libs, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// --isolate with nothing wrong runs, and the summary says the node was isolated.
	code, stdout, stderr := scope(t, libs, "run", "invert", "--frames", "3", "--size", "8x8", "-o", "null", "--isolate")
	if code != 0 || !strings.Contains(stdout, "isolated (0 restarts)") {
		t.Fatalf("--isolate: exit %d, %s %s", code, stdout, stderr)
	}
}
