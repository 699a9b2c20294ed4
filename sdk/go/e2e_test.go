// Package e2e holds the SDK's end-to-end test: it builds Go plugins with -buildmode=c-shared,
// loads them into a small C host (testdata/harness.c) and checks what the host sees.
package e2e

import (
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPlugins builds examples/go/invert and testdata/gray, loads both into one C process (two
// Go runtimes side by side) and checks descriptors, pixels, errors, panics and lifecycle.
func TestPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two c-shared libraries and a C program")
	}
	example, err := filepath.Abs("../../examples/go/invert")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(example, "go.mod")); err != nil {
		t.Skipf("no invert example beside the SDK (not a checkout of the scope repository): %v", err)
	}
	goTool := tool(t, "go")
	cc := os.Getenv("CC")
	if cc == "" {
		cc = tool(t, "cc")
	}
	dir := t.TempDir()

	invert := filepath.Join(dir, "invert-go.so")
	gray := filepath.Join(dir, "gray-go.so")
	harness := filepath.Join(dir, "harness")
	run(t, example, goTool, "build", "-buildmode=c-shared", "-o", invert, ".")
	run(t, ".", goTool, "build", "-buildmode=c-shared", "-o", gray, "./testdata/gray")
	run(t, ".", cc, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-pedantic", "-Werror",
		"-I../../include", "testdata/harness.c", "-o", harness, "-ldl", "-lpthread", "-lm")

	for _, lib := range []string{invert, gray} {
		if syms := exported(t, lib); !syms["scope_plugin_entry"] {
			t.Errorf("%s does not export scope_plugin_entry", lib)
		}
	}

	cmd := exec.Command(harness,
		invert+":invert-go:invert",
		gray+":gray-go:gray",
		gray+":actions-go:actions")
	out, err := cmd.CombinedOutput()
	t.Logf("harness output:\n%s", out)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	text := string(out)
	for _, want := range []string{
		`ok ` + invert + `: loaded "invert-go" 1.0.0, 1 pipelines, registered twice`,
		`ok ` + gray + `: loaded "gray-go-test" 0.1.0, 2 pipelines, registered twice`,
		`ok invert-go: descriptor, create with defaults, call before prepare -> -5 "call before a successful prepare"`,
		`ok invert-go: prepare with 2 channels -> -3 "1, 3 or 4 channels, got 2"`,
		`ok invert-go: prepare with a NULL format pointer -> -2 "input format 0 is NULL"`,
		`ok invert-go: call with a NULL frame pointer -> -2 "input port 0 frame 0 is NULL"`,
		`ok gray-go: 7x3 RGBA luma, alpha copied`,
		`log[1]: actions-go: created in mode 2`,
		`ok actions-go: panic -> -1 "panic: boom from Go", process alive`,
		`ok actions-go: error -> -3 "a second message" (string parameter follows changes)`,
		`ok actions-go: failed prepare, then call -> -5 "call before a successful prepare"`,
		`ok all 3 checks 50 times in 3 concurrent threads`,
		`ok ` + invert + `: unregistered twice, 0 pipelines left`,
		"PASS",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("harness output lacks %q", want)
		}
	}

	// Check the 7x3 RGB pixels (pitch 32) the harness printed with this test's own formula.
	seen := map[float64]bool{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || f[0] != "pixels" || f[1] != "invert-go" {
			continue
		}
		i, err1 := strconv.ParseFloat(f[2], 64)
		in, err2 := hex.DecodeString(strings.TrimPrefix(f[3], "in="))
		got, err3 := hex.DecodeString(strings.TrimPrefix(f[4], "out="))
		if err1 != nil || err2 != nil || err3 != nil || len(in) != 7*3*3 || len(got) != len(in) {
			t.Fatalf("bad pixels line %q", line)
		}
		for k, v := range in {
			want := byte(math.Floor(float64(v)*(1-i) + float64(255-int(v))*i + 0.5))
			if got[k] != want {
				t.Errorf("intensity %g: sample %d (pixel %d,%d c%d): in %d, got %d, want %d",
					i, k, k/3%7, k/21, k%3, v, got[k], want)
			}
		}
		seen[i] = true
	}
	for _, i := range []float64{1, 0, 0.5} {
		if !seen[i] {
			t.Errorf("no 7x3 pixels at intensity %g", i)
		}
	}
}

// tool returns the path of an executable, or skips the test without it.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("no %s: %v", name, err)
	}
	return path
}

// run runs a build step in dir and fails the test with its output if it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// exported returns the dynamic symbols a library defines (nm -D --defined-only), or skips
// the symbol check without nm.
func exported(t *testing.T, lib string) map[string]bool {
	t.Helper()
	nm, err := exec.LookPath("nm")
	if err != nil {
		return map[string]bool{"scope_plugin_entry": true}
	}
	out, err := exec.Command(nm, "-D", "--defined-only", lib).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", lib, err)
	}
	syms := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			syms[f[2]] = true
		}
	}
	return syms
}
