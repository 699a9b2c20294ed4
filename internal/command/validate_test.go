package command_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
)

// TestMain lets the test binary stand in for the scope binary as a validation child:
// validate.Run (from `scope plugin validate` or `scope plugin install`) re-executes
// os.Executable() with validate.DefaultChildArgs, which here is this test binary.
func TestMain(m *testing.M) {
	command.ServeValidateChildForTests()
	os.Exit(m.Run())
}

// brokenPlugin builds validate/testdata/broken.c with one defect switched on.
func brokenPlugin(t *testing.T, define string) string {
	t.Helper()
	src := filepath.Join(plugintest.Root(t), "validate", "testdata", "broken.c")
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), "broken.so"), []string{src}, define)
}

func TestPluginValidateExample(t *testing.T) {
	lib := plugintest.Example(t, t.TempDir(), "invert")
	code, stdout, stderr := scope(t, "", "plugin", "validate", "--threads", "2", lib)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"scope-example-invert 1.0.0, 1 pipeline (invert)", "\npassed\n", "✓ invert.so: dlopen:", "✓ invert: sizes: 1x1 rgb u8, 7x3 rgb u8, 1921x1081 rgb u8", "✓ invert: parallel:", " 0 failed, 0 skipped\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "failed\n  ✗") {
		t.Errorf("failures:\n%s", stdout)
	}
}

func TestPluginValidateFailures(t *testing.T) {
	code, stdout, stderr := scope(t, "", "plugin", "validate", brokenPlugin(t, "WRITE_PAST"))
	if code != command.ExitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", code, command.ExitFailure, stdout, stderr)
	}
	if want := "\nfailed\n  ✗ probe: write-outside-output: 1x1 rgb u8: 3 guard bytes changed after the output's last row\n"; !strings.Contains(stdout, want) {
		t.Errorf("report lacks %q:\n%s", want, stdout)
	}
	if !strings.Contains(stdout, " 1 failed, 0 skipped\n") || !strings.Contains(stderr, "the plugin failed validation") {
		t.Errorf("summary:\n%s\nstderr: %s", stdout, stderr)
	}

	// A crash in a child is that check's failure, with the signal and where it happened.
	code, stdout, _ = scope(t, "", "plugin", "validate", "--only", "wrong-order", brokenPlugin(t, "CRASH_CALL"))
	if want := "✗ probe: wrong-order: crashed with SIGSEGV in call before any prepare (7x3 rgb u8)"; code != command.ExitFailure || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, want a line %q:\n%s", code, want, stdout)
	}
}

func TestPluginValidateJSON(t *testing.T) {
	code, stdout, stderr := scope(t, "", "plugin", "validate", "--json", "--only", "^(sizes|write-outside-output)$", brokenPlugin(t, "WRITE_PAST"))
	if code != command.ExitFailure {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var rep struct {
		Name      string   `json:"name"`
		Pipelines []string `json:"pipelines"`
		Passed    int      `json:"passed"`
		Failed    int      `json:"failed"`
		OK        bool     `json:"ok"`
		Results   []struct {
			Check, Pipeline, Status, Reason string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if rep.Name != "validate-probe" || rep.Passed != 1 || rep.Failed != 1 || rep.OK || len(rep.Results) != 2 ||
		rep.Results[1].Check != "write-outside-output" || rep.Results[1].Status != "fail" || rep.Results[1].Pipeline != "probe" {
		t.Errorf("JSON report: %s", stdout)
	}
}

func TestPluginValidateUsage(t *testing.T) {
	lib := brokenPlugin(t, "GOOD")
	for _, args := range [][]string{
		{"plugin", "validate"},
		{"plugin", "validate", lib, lib},
		{"plugin", "validate", "--only", "(", lib},
		{"plugin", "validate", "--only", "no-such-check", lib},
		{"plugin", "validate", "--timeout", "0s", lib},
		{"plugin", "validate", "--threads", "-1", lib},
		{"plugin", "validate", filepath.Join(t.TempDir(), "missing.so")},
	} {
		if code, stdout, stderr := scope(t, "", args...); code != command.ExitUsage || !strings.Contains(stderr, "error: ") {
			t.Errorf("%q: exit %d, want %d\n%s%s", args, code, command.ExitUsage, stdout, stderr)
		}
	}
}

// TestPluginValidateManyPipelines: a library with thousands of pipelines is checked on a
// sample, with progress lines on stderr (--progress forces them off a terminal) and the
// sample stated in the report; --budget bounds the time and counts what it left out.
func TestPluginValidateManyPipelines(t *testing.T) {
	lib := brokenPlugin(t, "MANY_PIPELINES=5000")
	code, stdout, stderr := scope(t, "", "plugin", "validate", "--progress", "--only", "^sizes$", "--sample", "3", lib)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{": library checks\n", ": 1/3 checks on 3 pipelines, ", ": 3/3 checks on 3 pipelines, "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks the progress line %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{"5000 pipelines (probe-0,", "✓ probe-2499: sizes:", "✓ probe-4999: sizes:", "note: checked a sample of 3 of 5000 pipelines, evenly spaced (--sample 0 checks every one", "3 passed, 0 warnings, 0 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = scope(t, "", "plugin", "validate", "--only", "^sizes$", "--sample", "0", "--budget", "200ms", "--jobs", "1", lib)
	if code != 0 || !strings.Contains(stdout, "note: the time budget of 200ms ran out: ") || strings.Contains(stdout, "sample") {
		t.Errorf("exit %d, want a budget note and no sample:\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "checks on") {
		t.Errorf("progress without --progress and off a terminal:\n%s", stderr)
	}
	for _, args := range [][]string{{"--sample", "-1"}, {"--budget", "-1s"}} {
		code, _, stderr := scope(t, "", append(append([]string{"plugin", "validate"}, args...), lib)...)
		if code != command.ExitUsage || !strings.Contains(stderr, args[0]+" must be >= 0") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
