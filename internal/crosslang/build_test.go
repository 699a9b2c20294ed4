package crosslang_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
)

// libs caches the example libraries built by this test binary, by name.
var libs struct {
	sync.Mutex
	dir   string
	paths map[string]string
	errs  map[string]string // build failures and skips, reported to every test that asks
}

// TestMain gives the cached libraries a folder that outlives single tests.
func TestMain(m *testing.M) {
	command.ServeValidateChildForTests() // `scope plugin validate` re-executes this binary
	dir, err := os.MkdirTemp("", "scope-crosslang-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	libs.dir, libs.paths, libs.errs = dir, map[string]string{}, map[string]string{}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// skipError marks a missing toolchain: the test skips instead of failing.
type skipError struct{ msg string }

func (e skipError) Error() string { return e.msg }

// library returns the example library `name` ("invert", "invert-cpp", "invert-rust",
// "invert-go", "gray-go"), building it on first use.
func library(t *testing.T, name string) string {
	t.Helper()
	libs.Lock()
	defer libs.Unlock()
	if p, ok := libs.paths[name]; ok {
		return p
	}
	if msg, ok := libs.errs[name]; ok {
		if strings.HasPrefix(msg, "skip: ") {
			t.Skip(strings.TrimPrefix(msg, "skip: "))
		}
		t.Fatal(msg)
	}
	root := plugintest.Root(t)
	out := filepath.Join(libs.dir, name+".so")
	var err error
	switch name {
	case "invert":
		plugintest.BuildC(t, out, []string{filepath.Join(root, "examples", "c", "invert", "invert.c")})
	case "invert-cpp":
		// With the test-only throw-test pipeline beside invert-cpp.
		err = buildCpp(root, out, "-DSCOPE_EXAMPLE_TEST_PIPELINES", filepath.Join(root, "examples", "cpp", "invert", "invert.cpp"))
	case "invert-rust":
		var lib string
		// With the test-only panic-test pipeline beside invert-rust.
		lib, err = cargoBuild(filepath.Join(root, "examples", "rust", "invert"), true, "--features", "test-pipelines")
		if err == nil {
			err = copyFile(lib, out)
		}
	case "invert-go":
		err = goBuild(filepath.Join(root, "examples", "go", "invert"), out, ".")
	case "gray-go":
		err = goBuild(filepath.Join(root, "sdk", "go"), out, "./testdata/gray")
	default:
		t.Fatalf("no recipe for %s", name)
	}
	if err != nil {
		var se skipError
		if ok := asSkip(err, &se); ok {
			libs.errs[name] = "skip: " + se.msg
			t.Skip(se.msg)
		}
		libs.errs[name] = err.Error()
		t.Fatal(err)
	}
	libs.paths[name] = out
	return out
}

func asSkip(err error, se *skipError) bool {
	s, ok := err.(skipError)
	if ok {
		*se = s
	}
	return ok
}

// tool finds a build tool or returns a skipError naming it.
func tool(name, why string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", skipError{fmt.Sprintf("%s is not installed: %s (CI has it)", name, why)}
	}
	return p, nil
}

// run runs a command in dir with extra environment and returns its combined output in the
// error when it fails.
func run(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// buildCpp compiles a C++ plugin with g++ the way scope_add_plugin does: C++17, hidden
// symbols, a version script exporting scope_plugin_entry alone, no FMA contraction. args are
// sources and extra compiler flags (such as -D definitions).
func buildCpp(root, out string, args ...string) error {
	gxx, err := tool("g++", "the C++ plugins cannot be built")
	if err != nil {
		return err
	}
	script := filepath.Join(filepath.Dir(out), "exports.map")
	if err := os.WriteFile(script, []byte("{ global: scope_plugin_entry; local: *; };\n"), 0o644); err != nil {
		return err
	}
	flags := []string{"-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-pedantic", "-Werror",
		"-shared", "-fPIC", "-fvisibility=hidden", "-Wl,--version-script=" + script, "-Wl,-z,defs",
		"-I", filepath.Join(root, "include"), "-o", out}
	return run(filepath.Dir(out), nil, gxx, append(flags, args...)...)
}

// cargoTarget is the Cargo target folder shared by every build of these tests (and kept
// between runs): Cargo rebuilds only what changed, so the SDK crate compiles once.
func cargoTarget() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("scope-crosslang-cargo-%d", os.Getuid()))
}

// cargoBuild runs `cargo build --release` in dir and returns the cdylib it built. fast
// overrides the release profile's LTO settings (the examples' slowest part) with Cargo's
// environment variables; the pixels do not depend on them.
func cargoBuild(dir string, fast bool, extra ...string) (string, error) {
	cargo, err := tool("cargo", "the Rust plugins cannot be built")
	if err != nil {
		return "", err
	}
	env := []string{"CARGO_TARGET_DIR=" + cargoTarget(), "CARGO_TERM_COLOR=never"}
	if fast {
		env = append(env, "CARGO_PROFILE_RELEASE_LTO=false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16")
	}
	if err := run(dir, env, cargo, append([]string{"build", "--release", "--offline", "--lib"}, extra...)...); err != nil {
		return "", err
	}
	name, err := crateLibName(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(cargoTarget(), "release", "lib"+name+".so"), nil
}

// crateLibName reads the package name from Cargo.toml, as Cargo names the library.
func crateLibName(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "name" {
			return strings.ReplaceAll(strings.Trim(strings.TrimSpace(v), `"`), "-", "_"), nil
		}
	}
	return "", fmt.Errorf("%s/Cargo.toml has no name", dir)
}

// goBuild builds a Go c-shared plugin. The tests themselves run with CGO_ENABLED=0, as
// `make test` does; the plugin needs cgo.
func goBuild(dir, out, pkg string) error {
	goTool, err := tool("go", "the Go plugins cannot be built")
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("cc"); err != nil {
		return skipError{"cc is not installed: Go plugins need cgo"}
	}
	if err := run(dir, []string{"CGO_ENABLED=1"}, goTool, "build", "-buildmode=c-shared", "-o", out, pkg); err != nil {
		return err
	}
	os.Remove(strings.TrimSuffix(out, ".so") + ".h")
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
