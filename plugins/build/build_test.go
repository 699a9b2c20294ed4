package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/scopenative/scope/plugins/internal/confine"
	"github.com/scopenative/scope/plugins/manifest"
)

// repoRoot is the repository, which is an SDK root.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// commandRequest is a build of a package whose build.command is command, in a fresh
// staging folder laid out as the manager does (src/, work/, the output beside them).
func commandRequest(t *testing.T, command, output string) Request {
	t.Helper()
	stage := t.TempDir()
	src := filepath.Join(stage, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Name: "p", Build: manifest.Build{System: manifest.Command, Command: command, Output: output}}
	return Request{Src: src, Work: filepath.Join(stage, "work"), Out: filepath.Join(stage, "p.so"), Manifest: m, SDK: SDK{Root: repoRoot()}}
}

func sandbox(t *testing.T) *Sandbox {
	t.Helper()
	sb, err := ProbeSandbox(context.Background(), filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Skipf("builds cannot be sandboxed on this machine: %v", err)
	}
	return sb
}

// TestPlanShowsTheCommands: the plan of a cmake build holds both cmake command lines with
// the package, the build folder and the SDK, in the folder they run in, before anything ran.
func TestPlanShowsTheCommands(t *testing.T) {
	req := commandRequest(t, "", "")
	req.Manifest.Build = manifest.Build{System: manifest.CMake, Args: []string{"-DX=a b"}}
	p, err := NewPlan(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Commands) != 2 {
		t.Fatalf("cmake plan: %d commands, want 2: %+v", len(p.Commands), p.Commands)
	}
	want0 := "cd " + req.Src + " && cmake -S " + req.Src + " -B " + filepath.Join(req.Work, "cmake") +
		" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + req.SDK.CMakeDir() + " -DScopePlugin_DIR=" + req.SDK.CMakeDir() + " '-DX=a b'"
	if got := p.Commands[0].Line(); got != want0 {
		t.Errorf("configure:\n got %s\nwant %s", got, want0)
	}
	if got := p.Commands[1].Line(); !strings.HasPrefix(got, "cd "+req.Src+" && cmake --build "+filepath.Join(req.Work, "cmake")+" --parallel ") {
		t.Errorf("compile: %s", got)
	}
	if _, err := os.Stat(req.Work); !os.IsNotExist(err) {
		t.Errorf("making the plan created %s (err %v)", req.Work, err)
	}
	if w := p.Writable(); len(w) != 1 || w[0] != filepath.Dir(req.Src) {
		t.Errorf("writable %v, want only the staging folder %s", w, filepath.Dir(req.Src))
	}
}

// TestSandboxRefusesWritesOutside: a build that writes outside its folders fails in the
// sandbox and the file is not there afterwards, whether the file is on the read-only system
// or beside the staging folder under /tmp (whose parents the sandbox has to make); unsandboxed,
// the same build writes it (so the test can tell).
func TestSandboxRefusesWritesOutside(t *testing.T) {
	sb := sandbox(t)
	// Outside /tmp: beside this test, in the checkout.
	dir, err := os.MkdirTemp(".", "sandbox-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	onSystem, _ := filepath.Abs(filepath.Join(dir, "pwned"))
	for _, c := range []struct{ name, path, why string }{
		{"system", onSystem, "Read-only file system"},
		{"beside the staging folder", "", "Permission denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := commandRequest(t, "", "")
			target := c.path
			if target == "" {
				target = filepath.Join(filepath.Dir(filepath.Dir(req.Src)), "pwned-"+filepath.Base(filepath.Dir(req.Src)))
				defer os.Remove(target)
			}
			req.Manifest.Build.Command = "echo pwned > " + target + " && : > \"$SCOPE_OUTPUT\""
			req.Sandbox = sb
			err := Run(context.Background(), req)
			var be *Error
			if !errors.As(err, &be) || !strings.Contains(string(be.Output), c.why) {
				t.Fatalf("sandboxed build writing %s: %v, want a build error saying %q", target, err, c.why)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Fatalf("the sandboxed build wrote %s (err %v)", target, err)
			}
			req.Sandbox = nil
			if err := Run(context.Background(), req); err != nil {
				t.Fatalf("unsandboxed: %v", err)
			}
			if _, err := os.Stat(target); err != nil {
				t.Fatalf("the unsandboxed build did not write %s: the sandbox test proves nothing: %v", target, err)
			}
			os.Remove(target)
		})
	}
}

// TestSandboxLetsTheBuildWork: in the sandbox a build writes its package folder, its
// scratch folder, the output and its caches; /tmp is private (nothing lands in the real
// one); the network is gone; no capabilities are left (root could remount the system
// writable); the SDK is readable.
func TestSandboxLetsTheBuildWork(t *testing.T) {
	sb := sandbox(t)
	hostTmp, err := os.MkdirTemp("", "scope-sandbox-probe-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(hostTmp)
	cmd := `set -e
echo a > in-src
mkdir -p "$SCOPE_BUILD_DIR" && echo b > "$SCOPE_BUILD_DIR/in-work"
echo c > "$GOCACHE/in-cache"
test -r "$SCOPE_INCLUDE_DIR/scope/plugin.h"
test ! -e ` + hostTmp + `
echo d > /tmp/private
grep -q '^CapEff:[[:space:]]*0*$' /proc/self/status || { grep Cap /proc/self/status; exit 4; }
if grep -v ' lo:' /proc/net/dev | grep -q ':'; then echo "network interfaces present"; exit 3; fi
cat /proc/net/dev > "$SCOPE_OUTPUT"`
	req := commandRequest(t, cmd, "")
	req.Sandbox = sb
	if err := Run(context.Background(), req); err != nil {
		t.Fatalf("sandboxed build: %v", err)
	}
	for _, p := range []string{filepath.Join(req.Src, "in-src"), filepath.Join(req.Work, "in-work"), filepath.Join(sb.CacheDir, "go-build", "in-cache"), req.Out} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the sandboxed build could not write %s: %v", p, err)
		}
	}
	if _, err := os.Stat("/tmp/private"); err == nil {
		t.Error("the sandboxed build wrote the real /tmp/private")
	}
}

// TestLibraryOutsideIsRefused: a build that leaves a symlink to a library outside its
// folders, found by build.output or by the search for the built .so, is refused and
// nothing is copied to the output.
func TestLibraryOutsideIsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "evil.so")
	if err := os.WriteFile(outside, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"lib.so", ""} {
		req := commandRequest(t, "ln -s "+outside+" lib.so", output)
		err := Run(context.Background(), req)
		if !errors.Is(err, confine.ErrOutside) || !strings.Contains(err.Error(), outside) {
			t.Errorf("output %q: %v, want a refusal naming %s", output, err, outside)
		}
		if _, err := os.Stat(req.Out); !os.IsNotExist(err) {
			t.Errorf("output %q: %s was written (err %v)", output, req.Out, err)
		}
	}
}

// TestProbeSandboxSaysWhy: without bwrap on PATH the probe fails saying so and how to get it.
func TestProbeSandboxSaysWhy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	sb, err := ProbeSandbox(context.Background(), t.TempDir())
	if sb != nil || err == nil || !strings.Contains(err.Error(), "bwrap is not installed (apt-get install bubblewrap)") {
		t.Fatalf("probe without bwrap: %v, %v", sb, err)
	}
}

// TestErrorShowsTheFirstError: a C compile error's first error (file:line and its context)
// stays in the message even when the compiler goes on for many lines; only the last six
// lines used to be kept, which lost "posterize.c:38:23: error: expected ';'".
func TestErrorShowsTheFirstError(t *testing.T) {
	out := []byte(`[ 50%] Building C object CMakeFiles/posterize.dir/posterize.c.o
/src/posterize.c: In function 'posterize_call':
/src/posterize.c:38:23: error: expected ';' before 'for'
   38 |     int levels = p->lv
      |                       ^
      |                       ;
   39 |     for (int i = 0; i < n; i++) {
/src/posterize.c:41:9: error: 'levels' undeclared (first use in this function)
   41 |         levels++;
      |         ^~~~~~
/src/posterize.c:41:9: note: each undeclared identifier is reported only once
gmake[2]: *** [CMakeFiles/posterize.dir/build.make:76: CMakeFiles/posterize.dir/posterize.c.o] Error 1
gmake[1]: *** [CMakeFiles/Makefile2:83: CMakeFiles/posterize.dir/all] Error 2
gmake: *** [Makefile:91: all] Error 2
`)
	e := &Error{Step: "compile", Command: "cmake --build", Output: out, Err: errors.New("exit status 2")}
	msg := e.Error()
	for _, want := range []string{"posterize.c:38:23: error: expected ';'", "In function 'posterize_call'", "int levels = p->lv"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(msg, "more lines") {
		t.Errorf("message does not say the output was cut:\n%s", msg)
	}
	// Once the full output was printed, the message does not repeat part of it.
	e.Shown = true
	if msg := e.Error(); strings.Contains(msg, "posterize.c") || !strings.Contains(msg, "exit status 2") {
		t.Errorf("after the output was shown: %s", msg)
	}
	// Output without an error line falls back to the last lines.
	e = &Error{Step: "link", Command: "ld", Output: []byte("a\nb\nc\nlast words\n"), Err: errors.New("exit status 1")}
	if msg := e.Error(); !strings.Contains(msg, "last words") {
		t.Errorf("fallback lost the last line: %s", msg)
	}
	// Rust and Go errors are found too.
	for _, first := range []string{"error[E0308]: mismatched types", "./plugin.go:12:3: undefined: foo"} {
		e = &Error{Step: "compile", Command: "x", Output: []byte("   Compiling x\n" + first + "\n" + strings.Repeat("noise\n", 30)), Err: errors.New("exit status 1")}
		if msg := e.Error(); !strings.Contains(msg, first) {
			t.Errorf("first error %q lost:\n%s", first, msg)
		}
	}
}

// FuzzErrorExcerpt: the message of a build error never panics, keeps the first line that
// looks like a compiler error, and quotes only lines of the output.
func FuzzErrorExcerpt(f *testing.F) {
	f.Add("a.c:1:2: error: x\nmore\n")
	f.Add("noise\nerror[E0308]: mismatched\n")
	f.Add("")
	f.Add("\n\n\n")
	f.Add("x.go:1:1: undefined: y")
	f.Fuzz(func(t *testing.T, out string) {
		e := &Error{Step: "compile", Command: "cc", Output: []byte(out), Err: errors.New("exit status 1")}
		msg := e.Error()
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		for _, l := range lines {
			if errorLine.MatchString(l) {
				if !strings.Contains(msg, l) {
					t.Errorf("the first error line %q is missing from %q", l, msg)
				}
				break
			}
		}
		for _, q := range strings.Split(msg, "\n")[1:] {
			q = strings.TrimPrefix(q, "    ")
			if strings.HasPrefix(q, "... (") {
				continue
			}
			if !strings.Contains(out, q) {
				t.Errorf("message line %q is not from the output", q)
			}
		}
	})
}

// TestQuickPlans: a quick build (scope run --watch) compiles CMake packages at -Og in a tree of
// its own and Cargo packages without LTO, with incremental codegen, in a target of its own, so
// the release trees `scope plugin reload` uses stay as they were.
func TestQuickPlans(t *testing.T) {
	req := commandRequest(t, "", "")
	req.Quick = true
	req.Manifest.Build = manifest.Build{System: manifest.CMake}
	p, err := NewPlan(req)
	if err != nil {
		t.Fatal(err)
	}
	conf := p.Commands[0].Line()
	for _, want := range []string{" -B " + filepath.Join(req.Work, "cmake-quick") + " ", "'-DCMAKE_CXX_FLAGS_RELEASE=-Og -DNDEBUG'", "'-DCMAKE_C_FLAGS_RELEASE=-Og -DNDEBUG'"} {
		if !strings.Contains(conf, want) {
			t.Errorf("quick configure lacks %q:\n%s", want, conf)
		}
	}
	if got := p.Commands[1].Line(); !strings.Contains(got, "cmake --build "+filepath.Join(req.Work, "cmake-quick")+" ") {
		t.Errorf("quick compile: %s", got)
	}
	req.Manifest.Build = manifest.Build{System: manifest.Cargo}
	if p, err = NewPlan(req); err != nil {
		t.Fatal(err)
	}
	c := p.Commands[len(p.Commands)-1]
	if !strings.Contains(c.Line(), "--target-dir "+filepath.Join(req.Work, "target-quick")) {
		t.Errorf("quick cargo: %s", c.Line())
	}
	for _, want := range []string{"CARGO_PROFILE_RELEASE_LTO=false", "CARGO_PROFILE_RELEASE_INCREMENTAL=true"} {
		if !slices.Contains(c.Env, want) {
			t.Errorf("quick cargo env %v lacks %s", c.Env, want)
		}
	}
	req.Quick = false
	if p, err = NewPlan(req); err != nil {
		t.Fatal(err)
	}
	if c := p.Commands[len(p.Commands)-1]; len(c.Env) != 0 || strings.Contains(c.Line(), "target-quick") {
		t.Errorf("a release cargo build got the quick settings: %s %v", c.Line(), c.Env)
	}
}
