package e2e

import (
	"fmt"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// serveGit serves the bare repositories under root over smart HTTP (git http-backend through
// CGI) on a loopback port, as a remote host would, and returns the base URL.
func serveGit(t *testing.T, root string) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	srv := httptest.NewServer(&cgi.Handler{Path: git, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestInstallFromIndex: `name` installs the newest version an index lists, `name==1.0.0` a
// pinned one, an unknown name or version is refused with what the index offers, and `plugin
// list` reports the newer index version as an update for the pinned install.
func TestInstallFromIndex(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	h.edit(filepath.Join(r.work, "scope-plugin.toml"), `version = "1.0.0"`, `version = "1.1.0"`)
	r.commit("main", "v1.1")
	h.git(r.work, "tag", "v1.1.0")
	h.git(r.work, "push", "-q", "--tags", r.bare)

	url := serveGit(t, h.tmp) + "/invert.git"
	idx := filepath.Join(h.tmp, "index.json")
	h.write(idx, fmt.Sprintf(`{"plugins": [{"name": "invert", "description": "Inverts colors", "versions": [
		{"version": "1.0.0", "git": %q, "ref": "v1.0.0"},
		{"version": "1.1.0", "git": %q, "ref": "v1.1.0"}]}]}`, url, url))
	with := func(args ...string) (int, string, string) {
		return h.scopeWith([]string{"SCOPE_INDEX=" + idx}, args...)
	}

	if code, _, errs := with("plugin", "install", "nosuch"); code == 0 || !strings.Contains(errs, "nosuch") {
		t.Fatalf("unknown name: exit %d: %s", code, errs)
	}
	if code, _, errs := with("plugin", "install", "invert==9.9.9"); code == 0 || !strings.Contains(errs, "1.0.0") || !strings.Contains(errs, "1.1.0") {
		t.Fatalf("unknown version: exit %d, want the versions listed: %s", code, errs)
	}
	code, out, errs := with("plugin", "install", "invert==1.0.0")
	if code != 0 || !strings.Contains(out, "installed invert 1.0.0") {
		t.Fatalf("pinned install: exit %d\n%s%s", code, out, errs)
	}
	if lib := h.pipelineFrom("invert"); !strings.HasPrefix(lib, filepath.Join(h.home, "store")) {
		t.Fatalf("invert comes from %q, want the store", lib)
	}
	code, out, errs = with("plugin", "list")
	if code != 0 || !strings.Contains(out, "1.1.0") {
		t.Errorf("plugin list does not offer the index's 1.1.0 as an update: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := with("plugin", "uninstall", "invert"); code != 0 {
		t.Fatalf("uninstall: %s", errs)
	}
	code, out, errs = with("plugin", "install", "invert")
	if code != 0 || !strings.Contains(out, "installed invert 1.1.0") {
		t.Fatalf("install of the newest version: exit %d\n%s%s", code, out, errs)
	}
}
