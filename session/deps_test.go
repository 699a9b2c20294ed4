package session_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// TestPreviewLinksOnlyTheClient: the preview (cmd/scope-preview) is a client of sessions; it
// must not link the engine, the loader, the CUDA bindings, media, graphs or the session's
// host side, and no package of this module it links may use purego (Ebitengine's own use of
// purego is its business).
func TestPreviewLinksOnlyTheClient(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH; cannot list the preview's dependencies")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \",\"}}", "./cmd/scope-preview")
	cmd.Dir = plugintest.Root(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/scopenative/scope/"
	forbidden := []string{"engine", "loader", "gpu", "media", "graph", "session/host", "abi"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, f := range forbidden {
			if pkg == mod+f || strings.HasPrefix(pkg, mod+f+"/") {
				t.Errorf("the preview links %s", pkg)
			}
		}
		if strings.HasPrefix(pkg, mod) && strings.Contains(","+imports+",", ",github.com/ebitengine/purego,") {
			t.Errorf("%s, which the preview links, imports purego", pkg)
		}
	}
}
