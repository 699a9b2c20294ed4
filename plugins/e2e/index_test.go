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
	if code != 0 || !strings.Contains(out, "pinned to version 1.0.0") || !strings.Contains(out, "1.1.0") {
		t.Errorf("plugin list does not show the pin and the index's 1.1.0: exit %d\n%s%s", code, out, errs)
	}
	// update keeps the pin (no rebuild), agrees with list and says how to move it.
	code, out, errs = with("plugin", "update", "invert")
	if code != 0 || !strings.Contains(out, "stays as it is") || !strings.Contains(out, "install --force invert==1.1.0") || strings.Contains(errs, "will be built") {
		t.Errorf("update of a pinned install: exit %d\n%s%s", code, out, errs)
	}
	// A bare name goes to the index even when the folder ./invert exists; the note says so.
	cwd := filepath.Join(h.tmp, "cwd")
	h.pluginPackage(filepath.Join(cwd, "invert"), "invert", "9.0.0")
	cmd := h.command("plugin", "install", "--force", "invert")
	cmd.Env = append(cmd.Env, "SCOPE_INDEX="+idx)
	cmd.Dir = cwd
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "installed invert 1.1.0") || !strings.Contains(string(b), "write ./invert") {
		t.Errorf("bare name with a folder of that name: %v\n%s", err, b)
	}
	if code, _, errs := with("plugin", "uninstall", "invert"); code != 0 {
		t.Fatalf("uninstall: %s", errs)
	}
	code, out, errs = with("plugin", "install", "invert")
	if code != 0 || !strings.Contains(out, "installed invert 1.1.0") {
		t.Fatalf("install of the newest version: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := with("plugin", "uninstall", "invert"); code != 0 {
		t.Fatalf("uninstall: %s", errs)
	}
	// A linked folder (with the same pipeline, so invert goes first) is left alone by update --all (reload rebuilds it).
	pkg := filepath.Join(h.tmp, "linked")
	h.pluginPackage(pkg, "linked", "0.1.0")
	if code, out, errs := with("plugin", "install", pkg); code != 0 {
		t.Fatalf("install linked: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = with("plugin", "update", "--all")
	if code != 0 || !strings.Contains(out, "linked stays as it is") || strings.Contains(errs, "linked will be built") {
		t.Errorf("update --all rebuilt the linked plugin or did not say why not: exit %d\n%s%s", code, out, errs)
	}
}
