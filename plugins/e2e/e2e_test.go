// Package e2e tests the plugin manager end to end through the scope binary: installs from
// local bare git repositories made in the test, failure atomicity, SIGKILL during installs,
// and hot swap into a running session. Everything is hermetic: SCOPE_HOME, the session
// runtime folder and the repositories live in temp folders.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	scopesession "github.com/scopenative/scope/session"
)

// scopeBin is the scope binary built once for the package's tests.
var scopeBin string

func TestMain(m *testing.M) {
	for _, tool := range []string{"git", "cmake", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("skipping plugin manager end-to-end tests: %s is not installed\n", tool)
			os.Exit(0)
		}
	}
	dir, err := os.MkdirTemp("", "scope-e2e-bin-")
	if err != nil {
		panic(err)
	}
	scopeBin = filepath.Join(dir, "scope")
	cmd := exec.Command("go", "build", "-o", scopeBin, "./cmd/scope")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Printf("build scope: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// harness is one hermetic scope installation.
type harness struct {
	t    *testing.T
	home string // SCOPE_HOME
	rt   string // XDG_RUNTIME_DIR
	tmp  string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tmp := t.TempDir()
	h := &harness{t: t, home: filepath.Join(tmp, "home"), rt: filepath.Join(tmp, "rt"), tmp: tmp}
	if err := os.MkdirAll(h.rt, 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SCOPE_") && !strings.HasPrefix(kv, "XDG_") {
			env = append(env, kv)
		}
	}
	return append(env, "SCOPE_HOME="+h.home, "SCOPE_SDK_DIR="+repoRoot(), "XDG_RUNTIME_DIR="+h.rt,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
}

func (h *harness) command(args ...string) *exec.Cmd {
	cmd := exec.Command(scopeBin, args...)
	cmd.Env = h.env()
	cmd.Dir = h.tmp
	return cmd
}

// scope runs the CLI and returns its exit code, stdout and stderr.
func (h *harness) scope(args ...string) (int, string, string) {
	h.t.Helper()
	return h.scopeWith(nil, args...)
}

// scopeWith runs the CLI with env added to the harness's environment.
func (h *harness) scopeWith(env []string, args ...string) (int, string, string) {
	h.t.Helper()
	cmd := h.command(args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run scope %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// mustScope runs the CLI and fails the test unless it exits 0.
func (h *harness) mustScope(args ...string) string {
	h.t.Helper()
	code, out, errs := h.scope(args...)
	if code != 0 {
		h.t.Fatalf("scope %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (h *harness) git(dir string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = h.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// pluginPackage writes a plugin package made from examples/c/invert into dir, with a
// manifest naming it name.
func (h *harness) pluginPackage(dir, name, version string) {
	h.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	for _, f := range []string{"CMakeLists.txt", "invert.c"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "c", "invert", f))
		if err != nil {
			h.t.Fatal(err)
		}
		h.write(filepath.Join(dir, f), string(b))
	}
	h.write(filepath.Join(dir, "scope-plugin.toml"), fmt.Sprintf("name = %q\nversion = %q\ndescription = \"test plugin\"\nabi = \"1\"\n\n[build]\nsystem = \"cmake\"\n", name, version))
}

func (h *harness) write(path, content string) {
	h.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// edit replaces old with new in path, failing when old is missing.
func (h *harness) edit(path, old, new string) {
	h.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		h.t.Fatalf("%s no longer contains %q; update the test", path, old)
	}
	h.write(path, strings.Replace(string(b), old, new, 1))
}

// repo is a working copy and the bare repository it pushes to.
type repo struct {
	h          *harness
	work, bare string
}

// newRepo makes a bare repository holding the invert package on main, tagged v1.0.0.
func (h *harness) newRepo(name string) *repo {
	r := &repo{h: h, work: filepath.Join(h.tmp, name+"-work"), bare: filepath.Join(h.tmp, name+".git")}
	h.pluginPackage(r.work, name, "1.0.0")
	h.git(r.work, "init", "-q", "-b", "main")
	h.git(r.work, "add", ".")
	h.git(r.work, "commit", "-qm", "v1")
	h.git(r.work, "tag", "v1.0.0")
	h.git(h.tmp, "init", "-q", "--bare", "-b", "main", r.bare)
	h.git(r.work, "push", "-q", "--tags", r.bare, "main")
	return r
}

// commit commits every change and pushes the branch; it returns the commit hash.
func (r *repo) commit(branch, msg string) string {
	r.h.git(r.work, "add", ".")
	r.h.git(r.work, "commit", "-qm", msg)
	r.h.git(r.work, "push", "-q", r.bare, "HEAD:"+branch)
	return r.h.git(r.work, "rev-parse", "HEAD")
}

func (r *repo) url() string { return "file://" + r.bare }

// snapshot is plugins.json's bytes and every store file's name and checksum.
func (h *harness) snapshot() string {
	h.t.Helper()
	var b strings.Builder
	state, err := os.ReadFile(filepath.Join(h.home, "plugins.json"))
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	fmt.Fprintf(&b, "plugins.json:\n%s\n", state)
	ents, _ := os.ReadDir(filepath.Join(h.home, "store"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(h.home, "store", n))
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "store/%s %x\n", n, sha256.Sum256(data))
	}
	return b.String()
}

type listed struct {
	Plugins []struct {
		Name      string   `json:"name"`
		Version   string   `json:"version"`
		Linked    bool     `json:"linked"`
		Pipelines []string `json:"pipelines"`
		Library   string   `json:"library"`
		Source    struct {
			Kind    string `json:"kind"`
			RefKind string `json:"ref_kind"`
			Ref     string `json:"ref"`
			Commit  string `json:"commit"`
		} `json:"source"`
		Update *struct {
			State  string `json:"state"`
			Latest string `json:"latest"`
		} `json:"update"`
		Error string `json:"error"`
		Runs  string `json:"runs"`
	} `json:"plugins"`
}

func (h *harness) list(args ...string) listed {
	h.t.Helper()
	out := h.mustScope(append([]string{"plugin", "list", "--json"}, args...)...)
	var l listed
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		h.t.Fatalf("plugin list --json: %v\n%s", err, out)
	}
	return l
}

// pipelineFrom reports the library file that provides pipeline id, per `scope pipelines`.
func (h *harness) pipelineFrom(id string) string {
	h.t.Helper()
	out := h.mustScope("pipelines", "--json")
	var p struct {
		Pipelines []struct{ ID, Plugin string } `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		h.t.Fatalf("pipelines --json: %v\n%s", err, out)
	}
	for _, q := range p.Pipelines {
		if q.ID == id {
			return q.Plugin
		}
	}
	return ""
}

// TestInstallAtTagBranchCommitAndUpdate: install from a bare repository at a tag, a
// branch and a commit; the pipeline shows in `scope pipelines` from the store in a new
// process; `plugin list` reports an update only after a new commit on the followed branch,
// and `update` installs that commit.
func TestInstallAtTagBranchCommitAndUpdate(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	first := h.git(r.work, "rev-parse", "HEAD")
	h.edit(filepath.Join(r.work, "scope-plugin.toml"), `version = "1.0.0"`, `version = "1.1.0"`)
	second := r.commit("main", "v1.1")

	// At the tag: the first commit, whatever main says now. Browser-style git+ prefix and .git.
	out := h.mustScope("plugin", "install", "git+"+r.url()+"@v1.0.0")
	if !strings.Contains(out, "installed invert 1.0.0") || !strings.Contains(out, "(tag "+first[:7]+")") {
		t.Fatalf("install at tag: %s", out)
	}
	lib := h.pipelineFrom("invert")
	if !strings.HasPrefix(lib, filepath.Join(h.home, "store")+"/invert-") {
		t.Fatalf("scope pipelines: invert comes from %q, want the plugin store", lib)
	}
	l := h.list()
	if len(l.Plugins) != 1 || l.Plugins[0].Source.Commit != first || l.Plugins[0].Update.State != "pinned" || l.Plugins[0].Update.Latest != "" || l.Plugins[0].Runs != "isolated" {
		t.Fatalf("list after tag install: %+v, want pinned to the tag with nothing newer", l)
	}
	// A newer tag: list shows it, update stays on the tag (it is a pin) and says how to move.
	h.git(r.work, "tag", "v1.1.0", second)
	h.git(r.work, "push", "-q", "--tags", r.bare)
	if u := h.list("--refresh").Plugins[0].Update; u.State != "pinned" || u.Latest != "v1.1.0" {
		t.Fatalf("list with a newer tag: %+v, want pinned with v1.1.0 shown", u)
	}
	if out := h.mustScope("plugin", "update", "invert"); !strings.Contains(out, "stays as it is") || !strings.Contains(out, "newer tag v1.1.0") || !strings.Contains(out, "@v1.1.0") {
		t.Fatalf("update of a tag install with a newer tag: %s", out)
	}
	if p := h.list().Plugins[0]; p.Source.Commit != first {
		t.Fatalf("update moved the tag pin to %s", p.Source.Commit)
	}
	// Installing the same name again is refused without --force, and the error says --force.
	if code, _, errs := h.scope("plugin", "install", r.url()+"@main"); code == 0 || !strings.Contains(errs, "already installed") || !strings.Contains(errs, "--force") {
		t.Fatalf("second install: exit %d, %s", code, errs)
	}
	// At a commit: pinned.
	h.mustScope("plugin", "install", "--force", r.url()+"@"+first[:10])
	l = h.list()
	if p := l.Plugins[0]; p.Source.Commit != first || p.Source.RefKind != "commit" || p.Update.State != "pinned" {
		t.Fatalf("list after commit install: %+v", p)
	}
	// At the branch: the newest commit of main.
	out = h.mustScope("plugin", "install", "--force", r.url()+"@main")
	if !strings.Contains(out, "installed invert 1.1.0") {
		t.Fatalf("install at branch: %s", out)
	}
	l = h.list("--refresh")
	if p := l.Plugins[0]; p.Source.Commit != second || p.Source.RefKind != "branch" || p.Update.State != "up-to-date" {
		t.Fatalf("list after branch install: %+v", p)
	}
	if _, err := os.Stat(lib); !os.IsNotExist(err) {
		t.Errorf("the replaced library %s is still in the store (err %v)", lib, err)
	}

	// A new commit on main: an update is available, and `update` installs it.
	h.edit(filepath.Join(r.work, "scope-plugin.toml"), `version = "1.1.0"`, `version = "1.2.0"`)
	third := r.commit("main", "v1.2")
	l = h.list("--refresh")
	if u := l.Plugins[0].Update; u.State != "available" || u.Latest != third {
		t.Fatalf("list after a new commit: update %+v, want available %s", u, third)
	}
	out = h.mustScope("plugin", "update", "invert")
	if !strings.Contains(out, "updated invert 1.1.0 -> 1.2.0") {
		t.Fatalf("update: %s", out)
	}
	l = h.list()
	if p := l.Plugins[0]; p.Source.Commit != third || p.Version != "1.2.0" || p.Update.State != "up-to-date" {
		t.Fatalf("list after update: %+v", p)
	}
	if out := h.mustScope("plugin", "update", "invert"); !strings.Contains(out, "invert stays as it is") || !strings.Contains(out, "up to date") {
		t.Fatalf("second update: %s", out)
	}
	// A commit on another branch does not count.
	h.edit(filepath.Join(r.work, "invert.c"), "/* Frees an instance. */", "/* Frees an instance (dev). */")
	r.commit("dev", "dev work")
	if u := h.list("--refresh").Plugins[0].Update; u.State != "up-to-date" {
		t.Fatalf("a commit on another branch shows %+v", u)
	}

	// Uninstall removes the pipeline and the library.
	h.mustScope("plugin", "uninstall", "invert")
	if lib := h.pipelineFrom("invert"); lib != "" {
		t.Fatalf("after uninstall invert still comes from %s", lib)
	}
	if ents, _ := os.ReadDir(filepath.Join(h.home, "store")); len(ents) != 0 {
		t.Fatalf("store not empty after uninstall: %v", ents)
	}
}

// TestFailuresChangeNothing: a build error, a plugin that crashes during validation, an
// unknown ref and a clashing pipeline id each fail with a clear message and leave
// plugins.json and the store byte-for-byte as they were.
func TestFailuresChangeNothing(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	h.mustScope("plugin", "install", r.url()+"@v1.0.0")
	before := h.snapshot()

	// A build error on branch "broken".
	h.git(r.work, "checkout", "-q", "-b", "broken")
	h.edit(filepath.Join(r.work, "invert.c"), "static void invert_destroy(void *instance)\n{", "static void invert_destroy(void *instance)\n{ this is not C;")
	r.commit("broken", "broken")
	h.git(r.work, "checkout", "-q", "main")

	// A plugin whose entry point crashes the process that loads it.
	crash := filepath.Join(h.tmp, "crasher")
	if err := os.MkdirAll(crash, 0o755); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join(crash, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.16)\nproject(crasher C)\nfind_package(ScopePlugin REQUIRED)\nscope_add_plugin(crasher SOURCES crash.c)\n")
	h.write(filepath.Join(crash, "crash.c"), "#include <scope/plugin.h>\n#include <signal.h>\nSCOPE_EXPORT const scope_plugin *scope_plugin_entry(void) { raise(SIGSEGV); return NULL; }\n")

	// A second package that also provides pipeline "invert".
	clash := filepath.Join(h.tmp, "invert2")
	h.pluginPackage(clash, "invert2", "0.1.0")

	cases := []struct {
		name string
		spec string
		want []string
	}{
		{"build error", r.url() + "@broken", []string{"build failed", "invert.c", "nothing was changed"}},
		{"validation crash", crash, []string{"failed validation", "crashed", "nothing was changed"}},
		{"unknown ref", r.url() + "@no-such-ref", []string{`unknown ref "no-such-ref"`, "main", "v1.0.0"}},
		{"bad url", "file://" + filepath.Join(h.tmp, "missing.git"), []string{"clone", "missing.git"}},
		{"clashing id", clash, []string{`invert2`, `pipeline "invert"`, "installed plugin invert"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := h.scope("plugin", "install", "--force", c.spec)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if after := h.snapshot(); after != before {
				t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// The installed plugin still works.
	if lib := h.pipelineFrom("invert"); lib == "" {
		t.Fatal("invert vanished")
	}
}

// TestConcurrentInstallIsRefused: while one install holds the lock, a second one fails at
// once with a message and changes nothing.
func TestConcurrentInstallIsRefused(t *testing.T) {
	h := newHarness(t)
	r := h.newRepo("invert")
	first := h.command("plugin", "install", r.url())
	var errb bytes.Buffer
	first.Stderr = &errb
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the first one has the lock (it prints its first step).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "fetch") && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	code, _, errs := h.scope("plugin", "install", r.url())
	if err := first.Wait(); err != nil {
		t.Fatalf("first install: %v\n%s", err, errb.String())
	}
	if code != 1 || !strings.Contains(errs, "another scope process is changing the installed plugins") {
		t.Fatalf("second install: exit %d: %s", code, errs)
	}
}

// TestKillDuringInstall: SIGKILL an install at each of its steps; afterwards the state
// always loads, holds either the old or the new plugin set completely, and a new install
// succeeds (the lock died with the process).
func TestKillDuringInstall(t *testing.T) {
	h := newHarness(t)
	base := h.newRepo("base")
	h.mustScope("plugin", "install", base.url())
	r := h.newRepo("extra")
	// "extra" provides another pipeline id so both can be installed side by side.
	h.edit(filepath.Join(r.work, "invert.c"), `.id = "invert",`, `.id = "invert-extra",`)
	r.commit("main", "rename the pipeline")

	points := []string{"fetch", "build extra with", "compile", "validate extra", "commit extra: library", "commit extra: state"}
	for _, point := range points {
		cmd := h.command("plugin", "install", r.url())
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		var seen bytes.Buffer
		buf := make([]byte, 4096)
		killed := false
		for {
			n, err := pr.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), point) {
				cmd.Process.Kill()
				killed = true
				break
			}
			if err != nil {
				break
			}
		}
		cmd.Wait()
		pr.Close()
		if !killed {
			t.Fatalf("kill at %q: the install never reached it:\n%s", point, seen.String())
		}
		l := h.list("--offline")
		names := map[string]bool{}
		for _, p := range l.Plugins {
			if p.Error != "" {
				t.Fatalf("kill at %q: %s fails to load: %s", point, p.Name, p.Error)
			}
			names[p.Name] = true
		}
		if !names["base"] || len(names) > 2 {
			t.Fatalf("kill at %q: installed %v", point, names)
		}
		if names["extra"] { // the kill came after the commit: undo for the next round
			h.mustScope("plugin", "uninstall", "extra")
		}
		if lib := h.pipelineFrom("invert"); lib == "" {
			t.Fatalf("kill at %q: base's pipeline is gone", point)
		}
	}
	h.mustScope("plugin", "install", r.url())
	if h.pipelineFrom("invert-extra") == "" {
		t.Fatal("install after the kills: invert-extra missing")
	}
	// Nothing from the killed transactions is left behind.
	if ents, _ := os.ReadDir(filepath.Join(h.home, "store")); len(ents) != 2 {
		t.Fatalf("store holds %d files, want 2", len(ents))
	}

	// A plugin broken after installation (its library damaged) is reported by name with the
	// reason by `scope pipelines` and `plugin list`, and the other one keeps working.
	var extraLib string
	for _, p := range h.list("--offline").Plugins {
		if p.Name == "extra" {
			extraLib = filepath.Join(h.home, "store", p.Library)
		}
	}
	h.write(extraLib, "not an ELF file")
	code, _, errs := h.scope("pipelines")
	if code != 0 || !strings.Contains(errs, "installed plugin extra") {
		t.Fatalf("pipelines with a broken plugin: exit %d\n%s", code, errs)
	}
	if h.pipelineFrom("invert") == "" {
		t.Fatal("a broken plugin hid base's pipeline")
	}
	for _, p := range h.list("--offline").Plugins {
		if (p.Name == "extra") != (p.Error != "") {
			t.Fatalf("plugin list: %s error %q", p.Name, p.Error)
		}
	}
}

// frameStats polls a session: frame count changes with their times, and the newest frame.
type sessionProbe struct {
	t *testing.T
	c *scopesession.Client
}

func (h *harness) waitSession(pid int) *sessionProbe {
	h.t.Helper()
	dir, err := scopesession.DefaultDir(func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return h.rt
		}
		return ""
	})
	if err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		list, _ := dir.List()
		for _, s := range list {
			if s.PID == pid {
				c, err := scopesession.DialInfo(s)
				if err != nil {
					h.t.Fatal(err)
				}
				h.t.Cleanup(func() { c.Close() })
				return &sessionProbe{t: h.t, c: c}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no session for pid %d", pid)
	return nil
}

func (p *sessionProbe) frames() int {
	info, err := p.c.Info(context.Background())
	if err != nil {
		p.t.Fatalf("session info: %v", err)
	}
	return info.Stats.Frames
}

// pixel returns the newest frame's first pixel and whether every pixel has value v in RGB.
func (p *sessionProbe) frame(path string) (first [3]uint8, allEqual bool) {
	p.t.Helper()
	if _, err := p.c.SaveFrame(context.Background(), path); err != nil {
		p.t.Fatalf("save-frame: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		p.t.Fatal(err)
	}
	b := img.Bounds()
	allEqual = true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			px := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			if x == b.Min.X && y == b.Min.Y {
				first = px
			} else if px != first {
				allEqual = false
			}
		}
	}
	return first, allEqual
}

// TestReloadHotSwapsRunningSession: a session runs `invert` from a linked plugin at 30 fps;
// the source is edited to output a constant, `scope plugin reload` rebuilds it and the
// session's following frames show the constant while the frame counter never stalls for
// more than two frame intervals; a broken edit fails the reload and the constant stays.
func TestReloadHotSwapsRunningSession(t *testing.T) {
	h := newHarness(t)
	pkg := filepath.Join(h.tmp, "myinvert")
	h.pluginPackage(pkg, "myinvert", "0.1.0")
	out := h.mustScope("plugin", "install", pkg)
	if !strings.Contains(out, "(linked)") {
		t.Fatalf("install of a folder is not linked: %s", out)
	}
	const fps = 30
	probe, runErr := h.startRun(5, "run", "invert", "-p", "intensity=0.8", "--input", "testsrc", "--size", "64x36", "--fps", fmt.Sprint(fps), "--output", "null", "--quiet")
	if _, constant := probe.frame(filepath.Join(h.tmp, "before.png")); constant {
		t.Fatal("before the reload the output is already constant")
	}

	// Edit: every sample becomes 77.
	src := filepath.Join(pkg, "invert.c")
	h.edit(src, "table[v] = (uint8_t)(r > 255 ? 255 : r);", "table[v] = 77; (void)r;")

	// Sample the frame counter while the reload runs.
	type sample struct {
		at     time.Time
		frames int
	}
	stop := make(chan struct{})
	samples := make(chan []sample)
	go func() {
		var s []sample
		for {
			select {
			case <-stop:
				samples <- s
				return
			default:
			}
			s = append(s, sample{time.Now(), probe.frames()})
			time.Sleep(3 * time.Millisecond)
		}
	}()
	code, out, errs := h.scope("plugin", "reload", "myinvert")
	time.Sleep(300 * time.Millisecond) // a few frames after the swap
	close(stop)
	got := <-samples
	if code != 0 || !strings.Contains(out, "hot-swapped myinvert") {
		t.Fatalf("reload: exit %d\n%s\n%s", code, out, errs)
	}
	px, constant := probe.frame(filepath.Join(h.tmp, "after.png"))
	if !constant || px != [3]uint8{77, 77, 77} {
		t.Fatalf("after the reload the newest frame starts with %v (constant %v), want all 77", px, constant)
	}
	// The longest time the counter stood still. A gap counts only when the sampler itself
	// kept sampling densely across it (on a loaded machine the sampler may be the one that
	// stalled; then the counter jumps by several frames and the gap says nothing).
	var maxGap time.Duration
	skipped := 0
	lastChange := 0
	for i := 1; i < len(got); i++ {
		if got[i].frames == got[i-1].frames {
			continue
		}
		dense := true
		for j := lastChange + 1; j <= i; j++ {
			if got[j].at.Sub(got[j-1].at) > 15*time.Millisecond {
				dense = false
			}
		}
		if lastChange > 0 {
			if gap := got[i].at.Sub(got[lastChange].at); dense && got[i].frames == got[i-1].frames+1 {
				maxGap = max(maxGap, gap)
			} else {
				skipped++
			}
		}
		lastChange = i
	}
	interval := time.Second / fps
	t.Logf("%d samples over %v, longest stall %v (frame interval %v; %d gaps not measurable)", len(got), got[len(got)-1].at.Sub(got[0].at), maxGap, interval, skipped)
	if maxGap > 2*interval {
		t.Errorf("the frame counter stalled for %v, more than two frame intervals (%v)", maxGap, 2*interval)
	}

	// A broken edit: the reload fails and the session keeps the constant effect.
	h.edit(src, "table[v] = 77; (void)r;", "table[v] = 77 this does not compile;")
	n := probe.frames()
	code, _, errs = h.scope("plugin", "reload", "myinvert")
	if code != 1 || !strings.Contains(errs, "build failed") {
		t.Fatalf("broken reload: exit %d\n%s", code, errs)
	}
	time.Sleep(200 * time.Millisecond)
	if probe.frames() <= n {
		t.Fatal("the session stopped producing frames after a failed reload")
	}
	if px, constant := probe.frame(filepath.Join(h.tmp, "broken.png")); !constant || px != [3]uint8{77, 77, 77} {
		t.Fatalf("after a failed reload the frame starts with %v, want the previous build's 77", px)
	}
	if !strings.Contains(runErr.String(), "reload myinvert failed") {
		t.Errorf("the session did not report the failed reload:\n%s", runErr.String())
	}

	// Uninstall refuses while the session uses it.
	if code, _, errs := h.scope("plugin", "uninstall", "myinvert"); code != 1 || !strings.Contains(errs, "in use by running session") {
		t.Fatalf("uninstall while in use: exit %d: %s", code, errs)
	}

	// Uninstall --force removes the plugin's node from the session, which goes on: the
	// source now reaches the output as it is (testsrc, not the constant 77).
	code, _, errs = h.scope("plugin", "uninstall", "myinvert", "--force")
	if code != 0 || !strings.Contains(errs, "removed node invert (invert) from session") || strings.Contains(errs, "stopped session") {
		t.Fatalf("uninstall --force: exit %d: %s", code, errs)
	}
	n = probe.frames()
	time.Sleep(300 * time.Millisecond)
	if probe.frames() <= n+3 {
		t.Fatalf("the session stopped producing frames when uninstall --force removed its node (%d -> %d)", n, probe.frames())
	}
	if _, constant := probe.frame(filepath.Join(h.tmp, "removed.png")); constant {
		t.Fatal("after uninstall --force the output is still the removed plugin's constant")
	}
}

// TestRunWatchRebuildsOnSave: `scope run --watch` rebuilds a linked plugin when its
// source changes and swaps it in.
func TestRunWatchRebuildsOnSave(t *testing.T) {
	h := newHarness(t)
	pkg := filepath.Join(h.tmp, "watched")
	h.pluginPackage(pkg, "watched", "0.1.0")
	h.mustScope("plugin", "install", pkg)
	probe, _ := h.startRun(3, "run", "invert", "-p", "intensity=0.8", "--watch", "--input", "testsrc", "--size", "32x18", "--fps", "30", "--output", "null", "--quiet")
	h.edit(filepath.Join(pkg, "invert.c"), "table[v] = (uint8_t)(r > 255 ? 255 : r);", "table[v] = 33; (void)r;")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if px, constant := probe.frame(filepath.Join(h.tmp, "w.png")); constant && px == [3]uint8{33, 33, 33} {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the edit never showed in the session's frames")
}

// syncBuffer is a bytes.Buffer safe to read while a child process writes into it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun starts `scope args...` (a `run`, which hosts a session), waits until the session
// has produced minFrames frames, and kills it when the test ends, logging its stderr if the
// test failed. It returns the session probe and the run's stderr so far.
func (h *harness) startRun(minFrames int, args ...string) (*sessionProbe, *syncBuffer) {
	h.t.Helper()
	run := h.command(args...)
	stderr := &syncBuffer{}
	run.Stderr = stderr
	if err := run.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		run.Process.Kill()
		run.Wait()
		if h.t.Failed() {
			h.t.Logf("session stderr:\n%s", stderr.String())
		}
	})
	probe := h.waitSession(run.Process.Pid)
	for probe.frames() < minFrames {
		time.Sleep(10 * time.Millisecond)
	}
	return probe, stderr
}

// TestInstalledPluginHiddenByPluginPath follows the README's old steps: with
// SCOPE_PLUGIN_PATH naming a folder that has its own invert.so, an installed plugin providing
// invert never runs. install, list and run each say which file wins and why.
func TestInstalledPluginHiddenByPluginPath(t *testing.T) {
	h := newHarness(t)
	pkg := filepath.Join(h.tmp, "myinvert")
	h.pluginPackage(pkg, "myinvert", "0.1.0")
	h.mustScope("plugin", "install", pkg)
	pp := filepath.Join(h.tmp, "build", "plugins")
	if err := os.MkdirAll(pp, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(h.pipelineFrom("invert"))
	if err != nil {
		t.Fatal(err)
	}
	shadow := filepath.Join(pp, "invert.so")
	h.write(shadow, string(b))
	env := []string{"SCOPE_PLUGIN_PATH=" + pp}
	check := func(what, text string) {
		t.Helper()
		for _, want := range []string{"myinvert", "is hidden", shadow, "SCOPE_PLUGIN_PATH"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not say %q:\n%s", what, want, text)
			}
		}
	}
	code, out, errs := h.scopeWith(env, "plugin", "install", "--force", pkg)
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errs)
	}
	check("install", errs)
	code, out, errs = h.scopeWith(env, "plugin", "list", "--offline")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s%s", code, out, errs)
	}
	check("plugin list", out)
	code, out, errs = h.scopeWith(env, "run", "invert", "--watch", "--input", "testsrc", "--size", "32x18", "--frames", "2", "--output", "null", "--quiet")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	check("run --watch", errs)
	// Without the folder on the path nothing is hidden and nothing is said.
	if code, out, errs := h.scope("plugin", "list", "--offline"); code != 0 || strings.Contains(out+errs, "hidden") {
		t.Errorf("list without SCOPE_PLUGIN_PATH: exit %d\n%s%s", code, out, errs)
	}
}

// TestStageReloadRebuildsLinkedPlugin is the preview's R key: it sends the session's reload
// op for a stage with the stage's library path. For a linked plugin that used to reload the
// stored library, so an edit never showed though the log said "runs the new build"; now the
// session rebuilds the plugin from its folder first, as `scope plugin reload` does.
func TestStageReloadRebuildsLinkedPlugin(t *testing.T) {
	h := newHarness(t)
	pkg := filepath.Join(h.tmp, "rkey")
	h.pluginPackage(pkg, "rkey", "0.1.0")
	h.mustScope("plugin", "install", pkg)
	probe, runErr := h.startRun(3, "run", "invert", "-p", "intensity=0.8", "--input", "testsrc", "--size", "32x18", "--fps", "30", "--output", "null", "--quiet")
	h.edit(filepath.Join(pkg, "invert.c"), "table[v] = (uint8_t)(r > 255 ? 255 : r);", "table[v] = 44; (void)r;")
	info, err := probe.c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := probe.c.ReloadStage(ctx, 0, info.Stages[0].Plugin)
	if err != nil {
		t.Fatalf("reload stage 0: %v", err)
	}
	if !res.Rebuilt || !strings.Contains(res.Message, "runs the new build") {
		t.Errorf("reload answer %+v, want a rebuild", res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if px, constant := probe.frame(filepath.Join(h.tmp, "r.png")); constant && px == [3]uint8{44, 44, 44} {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edit never showed after R; session said:\n%s", runErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A broken edit: the reload fails with the compiler's first error, the old build stays.
	h.edit(filepath.Join(pkg, "invert.c"), "table[v] = 44; (void)r;", "table[v] = 44 (void)r;")
	if _, err := probe.c.ReloadStage(ctx, 0, info.Stages[0].Plugin); err == nil || !strings.Contains(err.Error(), "invert.c:") || !strings.Contains(err.Error(), "error") {
		t.Errorf("reload of a broken edit: %v, want the compile error with file:line", err)
	}
	if px, _ := probe.frame(filepath.Join(h.tmp, "r.png")); px != [3]uint8{44, 44, 44} {
		t.Errorf("after a failed rebuild the frames show %v, want the last good build's 44", px)
	}
}

// TestRunWatchSwapsAfterQuickChecks: under --watch an edit that passes the quick checks but
// fails a full one (output that changes from call to call fails "deterministic") is swapped
// in at once, and the full validation that follows says so.
func TestRunWatchSwapsAfterQuickChecks(t *testing.T) {
	h := newHarness(t)
	pkg := filepath.Join(h.tmp, "quick")
	h.pluginPackage(pkg, "quick", "0.1.0")
	h.mustScope("plugin", "install", pkg)
	probe, runErr := h.startRun(3, "run", "invert", "-p", "intensity=0.8", "--watch", "--input", "testsrc", "--size", "32x18", "--fps", "30", "--output", "null", "--quiet")
	h.edit(filepath.Join(pkg, "invert.c"), "table[v] = (uint8_t)(r > 255 ? 255 : r);", "{ static unsigned n; table[v] = (uint8_t)(240 + n++ % 7); (void)r; }")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(runErr.String(), "fails the full validation") {
		if time.Now().After(deadline) {
			t.Fatalf("no full-validation warning after the swap:\n%s", runErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(runErr.String(), "deterministic") {
		t.Errorf("the warning does not name the failed check:\n%s", runErr.String())
	}
	if px, _ := probe.frame(filepath.Join(h.tmp, "q.png")); px[0] < 240 || px[0] > 246 {
		t.Errorf("the frames show %v, not the new build's 240..246", px)
	}
}
