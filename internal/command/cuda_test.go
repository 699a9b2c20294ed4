package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
)

const missingCUDA = "libcuda-scope-test-missing.so.1"

// scopeNoGPU runs the CLI as scope() does, with the CUDA driver library pointed at a file
// that does not exist, so the no-GPU behaviour shows on every machine.
func scopeNoGPU(t *testing.T, path string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"SCOPE_PLUGIN_PATH": path, "SCOPE_HOME": t.TempDir(), command.EnvCUDALibrary: missingCUDA}
	code := command.Main(context.Background(), append([]string{"scope"}, args...), command.IO{
		In: strings.NewReader(""), Out: &out, Err: &errb, Env: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

// fakeCUDAPlugins is a folder with the CPU invert and the fake invert-cuda (CUDA memory only).
func fakeCUDAPlugins(t *testing.T) string {
	dir := t.TempDir()
	plugintest.Example(t, dir, "invert")
	plugintest.FakeCUDA(t, dir)
	return dir
}

func TestDoctorWithoutGPU(t *testing.T) {
	dir := fakeCUDAPlugins(t)
	code, out, errs := scopeNoGPU(t, dir, "doctor")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"system:   ", "plugins:  search path", dir + " (2 plugin files)", "2 pipelines load", "ffmpeg:", "Xvfb:",
		"GPU:      none: no NVIDIA driver: " + missingCUDA + " not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := scopeNoGPU(t, dir+"/nope", "doctor"); code != 0 || !strings.Contains(out, dir+"/nope (missing)") {
		t.Errorf("missing folder: exit %d\n%s", code, out)
	}
}

func TestPipelinesShowNeedsCUDA(t *testing.T) {
	dir := fakeCUDAPlugins(t)
	code, out, errs := scopeNoGPU(t, dir, "pipelines")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "memory: cuda (needs CUDA: no NVIDIA driver: " + missingCUDA + " not found)"
	if !strings.Contains(out, want) {
		t.Errorf("pipelines output lacks %q:\n%s", want, out)
	}
	if strings.Count(out, "needs CUDA") != 1 {
		t.Errorf("only invert-cuda needs CUDA:\n%s", out)
	}
	code, out, _ = scopeNoGPU(t, dir, "pipelines", "--json")
	var j struct {
		Pipelines []command.PipelineJSON `json:"pipelines"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil {
		t.Fatalf("--json: exit %d\n%s", code, out)
	}
	for _, p := range j.Pipelines {
		needs := p.ID == "invert-cuda"
		if (p.NeedsCUDA != "") != needs {
			t.Errorf("%s: needs_cuda %q", p.ID, p.NeedsCUDA)
		}
	}
}

func TestRunNeedsCUDA(t *testing.T) {
	dir := fakeCUDAPlugins(t)
	for _, chain := range []string{"invert-cuda", "invert,invert-cuda"} {
		code, _, errs := scopeNoGPU(t, dir, "run", chain, "--frames", "2")
		if code != command.ExitUsage {
			t.Errorf("%s: exit %d, want %d", chain, code, command.ExitUsage)
		}
		if want := "error: invert-cuda needs CUDA: no NVIDIA driver: " + missingCUDA + " not found\n"; errs != want {
			t.Errorf("%s: stderr %q, want %q", chain, errs, want)
		}
	}
	// Everything else still runs.
	if code, _, errs := scopeNoGPU(t, dir, "run", "invert", "--frames", "2"); code != 0 {
		t.Errorf("invert: exit %d: %s", code, errs)
	}
}
