package crosslang_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValidateGoExports: the exports check on a Go plugin counts the Go SDK's scopeSDK*
// functions with the toolchain's cgo glue instead of warning about them with C advice
// (-fvisibility=hidden) a Go author cannot follow.
func TestValidateGoExports(t *testing.T) {
	lib := library(t, "invert-go")
	code, stdout, stderr := scope(t, nil, "plugin", "validate", "--only", "^exports$", "--json", lib)
	if code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	var rep struct {
		Results []struct{ Check, Status, Reason string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, r := range rep.Results {
		if r.Check != "exports" {
			continue
		}
		if r.Status != "pass" || !strings.Contains(r.Reason, "of the Go SDK's") || strings.Contains(r.Reason, "visibility") {
			t.Errorf("exports: %s: %s", r.Status, r.Reason)
		}
		return
	}
	t.Fatalf("no exports result:\n%s", stdout)
}
