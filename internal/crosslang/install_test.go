package crosslang_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// installEnv is a clean environment for an installed scope: no SCOPE_* variables (the
// installed files alone must be enough), a fresh HOME and data folder.
func installEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SCOPE_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir(), "SCOPE_HOME="+t.TempDir(), "XDG_RUNTIME_DIR="+t.TempDir())
}

// TestMakeInstall installs a built scope and the C examples into a temporary prefix with the
// script `make install PREFIX=...` runs, then uses only the installed files from another
// folder: the installed scope lists the examples, and `scope plugin new x --lang c` builds
// with CMake against the installed SDK and runs.
func TestMakeInstall(t *testing.T) {
	cmake, err := tool("cmake", "the C project builds with CMake")
	if err != nil {
		t.Skip(err)
	}
	root := plugintest.Root(t)
	tmp := t.TempDir()
	bin, plugins, prefix := filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins"), filepath.Join(tmp, "prefix")
	for _, d := range []string{bin, plugins} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "scope"), "./cmd/scope")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range []string{"invert", "color-generator"} {
		plugintest.Example(t, plugins, name)
	}
	install := exec.Command(filepath.Join(root, "scripts", "install.sh"), prefix)
	install.Env = append(installEnv(t), "BIN_DIR="+bin, "PLUGINS_DIR="+plugins)
	out, err := install.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "installed scope into "+prefix+": bin/scope, the SDK and 2 example plugins") {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	for _, f := range []string{"bin/scope", "share/scope/include/scope/plugin.h", "share/scope/cmake/ScopePluginConfig.cmake",
		"share/scope/sdk/rust/Cargo.toml", "share/scope/sdk/go/go.mod", "share/scope/plugins/invert.so"} {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}

	work := t.TempDir() // a folder with nothing of the repository in it
	scope := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(prefix, "bin", "scope"), args...)
		cmd.Dir, cmd.Env = work, installEnv(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("installed scope %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	list := scope("pipelines")
	for _, id := range []string{"invert", "color-generator"} {
		if !strings.Contains(list, id+" — ") || !strings.Contains(list, filepath.Join(prefix, "share", "scope", "plugins", id+".so")) {
			t.Errorf("the installed scope does not list %s from share/scope/plugins:\n%s", id, list)
		}
	}
	scope("plugin", "new", "x", "--lang", "c")
	project := filepath.Join(work, "x")
	readme, _ := os.ReadFile(filepath.Join(project, "README.md"))
	if !strings.Contains(string(readme), filepath.Join(prefix, "share", "scope")) {
		t.Errorf("the project does not build against the installed SDK %s/share/scope:\n%s", prefix, readme)
	}
	for _, args := range [][]string{{"-S", ".", "-B", "build"}, {"--build", "build"}} {
		c := exec.Command(cmake, args...)
		c.Dir, c.Env = project, installEnv(t)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("cmake %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	png := filepath.Join(work, "x.png")
	scope("run", "x", "--plugin", filepath.Join(project, "build", "x.so"), "--input", "testsrc:8x8", "--frames", "1", "-o", png)
	if img := plugintest.ReadPNG(t, png); img.Bounds().Dx() != 8 {
		t.Errorf("x made %v, want 8x8", img.Bounds())
	}
}

// shBlock matches a fenced shell block of a guide.
var shBlock = regexp.MustCompile("(?ms)^```sh\\n(.*?)^```")

// TestGuidesUseScopeOnPath: the guides `cd` into the project and run scope from there, so
// they say how to put scope on PATH (make install) and never run a relative bin/scope.
func TestGuidesUseScopeOnPath(t *testing.T) {
	root := plugintest.Root(t)
	for _, lang := range []string{"c", "cpp", "rust", "go"} {
		path := filepath.Join(root, "docs", "guide-"+lang+".md")
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "make install PREFIX=~/.local") {
			t.Errorf("%s does not say how to put scope on PATH (make install PREFIX=~/.local)", path)
		}
		for _, b := range shBlock.FindAllStringSubmatch(string(text), -1) {
			for _, line := range strings.Split(b[1], "\n") {
				if f := strings.Fields(line); len(f) > 0 && (f[0] == "bin/scope" || strings.Contains(line, " bin/scope ")) {
					t.Errorf("%s runs a relative bin/scope: %s", path, line)
				}
			}
		}
	}
}

// TestBuildExamplesSaysWhatItSkips: `make examples` (scripts/build-examples.sh) without cargo
// and go builds nothing and says, for each, which example it skipped and why.
func TestBuildExamplesSaysWhatItSkips(t *testing.T) {
	root := plugintest.Root(t)
	if mk, err := os.ReadFile(filepath.Join(root, "Makefile")); err != nil || !strings.Contains(string(mk), "scripts/build-examples.sh $(PLUGINS)") {
		t.Fatalf("make examples does not run scripts/build-examples.sh (%v)", err)
	}
	plugins := t.TempDir()
	cmd := exec.Command(filepath.Join(root, "scripts", "build-examples.sh"), plugins)
	cmd.Env = append(os.Environ(), "CARGO=/nonexistent/cargo", "GO=/nonexistent/go")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build-examples.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"skipping examples/rust/invert (invert-rust): cargo is not installed",
		"skipping examples/go/invert (invert-go): go is not installed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if libs, _ := filepath.Glob(filepath.Join(plugins, "*.so")); len(libs) > 0 {
		t.Errorf("built %v without the tools", libs)
	}
}
