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
