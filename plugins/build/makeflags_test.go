package build

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestBuildLogHasNoMakeDirectoryLines: a build whose make recurses (as CMake's generated
// Makefiles do) logs no "make[1]: Entering directory" lines.
func TestBuildLogHasNoMakeDirectoryLines(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	req := commandRequest(t, `mkdir -p sub && printf 'all:\n\t@echo built > "$$SCOPE_OUTPUT"\n' > sub/Makefile && printf 'all:\n\t@$(MAKE) -C sub\n' > Makefile && make`, "")
	var log bytes.Buffer
	req.Log = &log
	if err := Run(context.Background(), req); err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "directory") {
		t.Errorf("the build log has make's directory lines:\n%s", log.String())
	}
}
