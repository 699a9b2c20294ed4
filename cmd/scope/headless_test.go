package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// TestHeadless builds bin/scope as `make build` does (CGO_ENABLED=0) and runs it with DISPLAY
// unset: --help and a run to files must work on a machine without a display. Ebitengine
// panics in its init without one, so the binary must not link it.
func TestHeadless(t *testing.T) {
	root := plugintest.Root(t)
	exe := filepath.Join(t.TempDir(), "scope")
	build := exec.Command("go", "build", "-o", exe, "./cmd/scope")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmd/scope: %v\n%s", err, b)
	}
	list := exec.Command("go", "list", "-deps", "./cmd/scope")
	list.Dir = root
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	deps, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"github.com/hajimehoshi/ebiten", "github.com/gen2brain/malgo", "github.com/scopenative/scope/render", "github.com/scopenative/scope/audio/player"} {
		if strings.Contains(string(deps), bad) {
			t.Errorf("the scope binary depends on %s", bad)
		}
	}

	plugins := t.TempDir()
	plugintest.Example(t, plugins, "color-generator")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	env = append(env, "SCOPE_PLUGIN_PATH="+plugins, "XDG_RUNTIME_DIR="+t.TempDir(), "SCOPE_HOME="+t.TempDir())
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(exe, args...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("scope %s without DISPLAY: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if out := run("--help"); !strings.Contains(out, "sessions") || !strings.Contains(out, "preview") {
		t.Errorf("--help lacks the session commands:\n%s", out)
	}
	out := filepath.Join(t.TempDir(), "out.png")
	run("run", "color-generator", "--param", "color_r=200", "--output", out)
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("run to a file wrote nothing: %v", err)
	}
}
