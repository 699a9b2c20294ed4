package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/plugins/build"
)

// refused runs an install that must fail with exit 1, print every one of want on stderr,
// and leave plugins.json and the store as snapshot before says.
func (h *harness) refused(before string, env []string, spec string, want ...string) string {
	h.t.Helper()
	code, out, errs := h.scopeWith(env, "plugin", "install", "--force", spec)
	if code != 1 {
		h.t.Fatalf("install %s: exit %d, want 1\nstdout: %s\nstderr: %s", spec, code, out, errs)
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			h.t.Errorf("install %s: stderr lacks %q:\n%s", spec, w, errs)
		}
	}
	if after := h.snapshot(); after != before {
		h.t.Fatalf("install %s changed the installed set:\nbefore:\n%s\nafter:\n%s", spec, before, after)
	}
	return errs
}

// outsidePackage writes a plugin package named name into h.tmp/outside, outside every
// repository, and returns its folder.
func (h *harness) outsidePackage(name string) string {
	h.t.Helper()
	dir := filepath.Join(h.tmp, "outside")
	h.pluginPackage(dir, name, "6.6.6")
	return dir
}

// TestSymlinksOutOfThePackageAreRefused: a repository whose build.dir is a symlink out of
// the checkout (src -> ../../../../outside, which from the staging folder is h.tmp/outside,
// a complete plugin package), or holding any other symlink out, is refused naming the link;
// so is a linked folder whose build.dir or manifest is a symlink out. Nothing changes.
func TestSymlinksOutOfThePackageAreRefused(t *testing.T) {
	h := newHarness(t)
	good := h.newRepo("invert")
	h.mustScope("plugin", "install", good.url())
	before := h.snapshot()
	outside := h.outsidePackage("invert")

	r := h.newRepo("evil")
	for _, f := range []string{"CMakeLists.txt", "invert.c"} {
		os.Remove(filepath.Join(r.work, f))
	}
	// The checkout is <home>/staging/tx-*/src: four levels up is h.tmp.
	if err := os.Symlink("../../../../outside", filepath.Join(r.work, "src")); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join(r.work, "scope-plugin.toml"), "name = \"invert\"\nversion = \"6.6.6\"\n[build]\nsystem = \"cmake\"\ndir = \"src\"\n")
	r.commit("main", "build from outside")
	h.refused(before, nil, r.url(), "symlink src -> ../../../../outside", "leaves the package", "nothing was changed")

	// A single source file symlinked from outside (absolute).
	h.git(r.work, "rm", "-q", "src")
	h.pluginPackage(r.work, "invert", "6.6.7")
	os.Remove(filepath.Join(r.work, "invert.c"))
	if err := os.Symlink(filepath.Join(outside, "invert.c"), filepath.Join(r.work, "invert.c")); err != nil {
		t.Fatal(err)
	}
	r.commit("main", "a source file from outside")
	// (go-git checks absolute links out relative to the working tree: a link to nothing.)
	h.refused(before, nil, r.url(), "symlink invert.c -> ", "outside/invert.c", "leaves the package")

	// A linked folder: build.dir and the manifest itself.
	linked := filepath.Join(h.tmp, "linked")
	if err := os.MkdirAll(linked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(linked, "src")); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join(linked, "scope-plugin.toml"), "name = \"invert\"\n[build]\nsystem = \"cmake\"\ndir = \"src\"\n")
	h.refused(before, nil, linked, "build.dir", "leaves the package")
	os.Remove(filepath.Join(linked, "scope-plugin.toml"))
	if err := os.Symlink(filepath.Join(outside, "scope-plugin.toml"), filepath.Join(linked, "scope-plugin.toml")); err != nil {
		t.Fatal(err)
	}
	h.refused(before, nil, linked, "scope-plugin.toml", "leaves the package")
}

// TestOutputOutsideIsRefused: a build.output that climbs out of the package to a working
// plugin library elsewhere is refused before anything is built; nothing changes.
func TestOutputOutsideIsRefused(t *testing.T) {
	h := newHarness(t)
	good := h.newRepo("invert")
	h.mustScope("plugin", "install", good.url())
	before := h.snapshot()
	// A real plugin library outside the repository: a copy of the installed one.
	lib := h.list("--offline").Plugins[0].Library
	data, err := os.ReadFile(filepath.Join(h.home, "store", lib))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(h.tmp, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.tmp, "outside", "evil.so"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	r := h.newRepo("evil")
	h.write(filepath.Join(r.work, "scope-plugin.toml"), "name = \"invert\"\nversion = \"6.6.6\"\n[build]\nsystem = \"command\"\ncommand = \"true\"\noutput = \"../../../../outside/evil.so\"\n")
	r.commit("main", "output from outside")
	errs := h.refused(before, nil, r.url(), "build.output", "../../../../outside/evil.so", "leaves the package")
	if strings.Contains(errs, "will be built") {
		t.Errorf("the refusal came after the build was planned:\n%s", errs)
	}
}

// TestRefsMustNameABranchTagOrCommit: @../../HEAD (which go-git looked up as a path and
// recorded as commit 0000000) and other names git refuses are refused before cloning.
func TestRefsMustNameABranchTagOrCommit(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	before := h.snapshot()
	for _, ref := range []string{"../../HEAD", "HEAD", "refs/heads/main", "main..v1.0.0", "-upload-pack=x"} {
		h.refused(before, nil, r.url()+"@"+ref, fmt.Sprintf("ref %q is not a branch, tag or commit name", ref))
	}
	// The commit recorded is the one checked out, whatever ref named it.
	h.mustScope("plugin", "install", r.url()+"@v1.0.0")
	want := h.git(r.work, "rev-parse", "v1.0.0^{commit}")
	if got := h.list("--offline").Plugins[0].Source.Commit; got != want {
		t.Fatalf("recorded commit %s, want %s", got, want)
	}
}

// TestIndexEntriesAreChecked: an index entry whose package's manifest names another plugin,
// or that points at a local repository, is refused with a message naming the entry.
func TestIndexEntriesAreChecked(t *testing.T) {
	h := newHarness(t)
	good := h.newRepo("invert")
	h.mustScope("plugin", "install", good.url())
	before := h.snapshot()
	h.newRepo("evil") // served as /evil.git below; its manifest names "evil"
	base := serveGit(t, h.tmp)
	idx := filepath.Join(h.tmp, "index.json")
	h.write(idx, fmt.Sprintf(`{"plugins": [
		{"name": "invert", "versions": [{"version": "2.0.0", "git": %q, "ref": "main"}]},
		{"name": "local", "versions": [{"version": "1.0.0", "git": %q, "ref": "main"}]},
		{"name": "path", "versions": [{"version": "1.0.0", "git": %q, "ref": "main"}]}]}`,
		base+"/evil.git", good.url(), good.bare))
	env := []string{"SCOPE_INDEX=" + idx}
	h.refused(before, env, "invert", `entry "invert"`, base+"/evil.git", `names the package "evil"`)
	h.refused(before, env, "local", "entry local 1.0.0", "file://", "remote")
	h.refused(before, env, "path", "entry path 1.0.0", good.bare, "local path")
}

// TestInstallShowsThePlanFirst: before building, install prints the source, the full
// commit and every build command, and whether the build is sandboxed; it does so even when
// the build then fails. --no-sandbox and SCOPE_BUILD_SANDBOX=off say plainly that the
// build runs unsandboxed.
func TestInstallShowsThePlanFirst(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	h.git(r.work, "checkout", "-q", "-b", "broken")
	h.edit(filepath.Join(r.work, "invert.c"), "static void invert_destroy(void *instance)\n{", "static void invert_destroy(void *instance)\n{ this is not C;")
	commit := r.commit("broken", "broken")
	code, _, errs := h.scope("plugin", "install", r.url()+"@broken")
	if code != 1 {
		t.Fatalf("broken build: exit %d\n%s", code, errs)
	}
	plan := "invert will be built from " + r.url() + ", branch broken at commit " + commit
	for _, w := range []string{plan, "&& cmake -S ", "-DScopePlugin_DIR=" + filepath.Join(repoRoot(), "cmake"), "&& cmake --build "} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	if p, f := strings.Index(errs, plan), strings.Index(errs, "build failed"); p < 0 || f < 0 || p > f {
		t.Errorf("the plan (at %d) is not printed before the build fails (at %d):\n%s", p, f, errs)
	}
	if _, err := build.ProbeSandbox(context.Background(), t.TempDir()); err == nil {
		if !strings.Contains(errs, "sandbox: bubblewrap") {
			t.Errorf("stderr does not say the build is sandboxed:\n%s", errs)
		}
	} else if !strings.Contains(errs, "UNSANDBOXED") || !strings.Contains(errs, err.Error()) {
		t.Errorf("bwrap is unusable here (%v) but stderr does not say so:\n%s", err, errs)
	}

	for _, c := range []struct {
		env  []string
		args []string
		why  string
	}{
		{nil, []string{"--no-sandbox"}, "--no-sandbox"},
		{[]string{build.EnvSandbox + "=off"}, nil, build.EnvSandbox + "=off"},
	} {
		_, _, errs := h.scopeWith(c.env, append(append([]string{"plugin", "install"}, c.args...), r.url()+"@broken")...)
		if !strings.Contains(errs, "the build runs UNSANDBOXED, with your full rights: turned off with "+c.why) {
			t.Errorf("%s: stderr does not say the build runs unsandboxed:\n%s", c.why, errs)
		}
	}
}

// TestSandboxedBuildCannotWriteOutside: a package whose build writes a file outside its
// staging folder fails in the sandbox, leaving the file unwritten and nothing installed;
// with --no-sandbox the same package writes it and installs (so the sandbox made the
// difference).
func TestSandboxedBuildCannotWriteOutside(t *testing.T) {
	if _, err := build.ProbeSandbox(context.Background(), t.TempDir()); err != nil {
		t.Skipf("builds cannot be sandboxed on this machine: %v", err)
	}
	h := newHarness(t)
	r := h.newRepo("invert")
	marker := filepath.Join(h.home, "pwned") // the data folder, beside the staging folder
	if err := os.MkdirAll(h.home, 0o755); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join(r.work, "scope-plugin.toml"), fmt.Sprintf("name = \"invert\"\nversion = \"1.0.0\"\n[build]\nsystem = \"command\"\n"+
		"command = \"echo pwned > %s && cc -shared -fPIC -I\\\"$SCOPE_INCLUDE_DIR\\\" -o \\\"$SCOPE_OUTPUT\\\" invert.c\"\n", marker))
	r.commit("main", "writes outside")
	before := h.snapshot()
	errs := h.refused(before, nil, r.url(), "build failed", "cannot create "+marker, "sandbox: bubblewrap")
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the sandboxed build wrote %s (err %v)\n%s", marker, err, errs)
	}
	out := h.mustScope("plugin", "install", "--no-sandbox", r.url())
	if !strings.Contains(out, "installed invert 1.0.0") {
		t.Fatalf("unsandboxed install: %s", out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("unsandboxed, the build did not write %s: the sandbox check proves nothing: %v", marker, err)
	}
}

// TestUnusableBwrapFallsBackPlainly: where bwrap cannot make a sandbox (here a bwrap that
// fails, as it does where user namespaces are restricted), install still builds and says
// plainly, with bwrap's reason, that the build ran unsandboxed.
func TestUnusableBwrapFallsBackPlainly(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	bin := filepath.Join(h.tmp, "fakebin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join(bin, "bwrap"), "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
	if err := os.Chmod(filepath.Join(bin, "bwrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := h.scopeWith([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}, "plugin", "install", r.url())
	if code != 0 || !strings.Contains(out, "installed invert 1.0.0") {
		t.Fatalf("install without a usable bwrap: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "warning: the build runs UNSANDBOXED, with your full rights: bwrap cannot make a sandbox here") ||
		!strings.Contains(errs, "No permissions to create new namespace") {
		t.Errorf("stderr does not say plainly that the build ran unsandboxed, and why:\n%s", errs)
	}
}
