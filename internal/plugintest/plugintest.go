// Package plugintest builds C plugin libraries for tests: the repository's examples and
// small plugins from test data, compiled with the system C compiler exactly as the CMake
// package does (C99, hidden visibility, only the entry symbol exported).
package plugintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Root returns the repository root (the folder holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("plugintest: cannot find the source location")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BuildC compiles the C sources into the shared library out, with -D defines. The test fails
// with the compiler's output if compilation fails.
func BuildC(t testing.TB, out string, sources []string, defines ...string) string {
	t.Helper()
	return BuildCAgainst(t, out, filepath.Join(Root(t), "include"), sources, defines...)
}

// BuildCAgainst is BuildC with the headers of includeDir (the folder holding scope/plugin.h)
// instead of the repository's own: a frozen copy of an older ABI's header, for example.
func BuildCAgainst(t testing.TB, out, includeDir string, sources []string, defines ...string) string {
	t.Helper()
	return buildC(t, out, includeDir, nil, sources, defines)
}

// BuildCFlags is BuildC with extra compiler flags after the defaults ("-O3" for a benchmark
// built as the CMake package builds plugins).
func BuildCFlags(t testing.TB, out string, flags, sources []string, defines ...string) string {
	t.Helper()
	return buildC(t, out, filepath.Join(Root(t), "include"), flags, sources, defines)
}

func buildC(t testing.TB, out, includeDir string, flags, sources, defines []string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatalf("plugintest: a C compiler is needed to build test plugins: %v (install gcc)", err)
	}
	args := []string{"-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-pedantic", "-Werror", "-Wno-unused-function",
		"-shared", "-fPIC", "-fvisibility=hidden", "-I", includeDir, "-o", out}
	args = append(args, flags...)
	for _, d := range defines {
		args = append(args, "-D"+d)
	}
	args = append(args, sources...)
	args = append(args, "-lm")
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("plugintest: cc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// Example builds examples/c/<name> (every .c file in it) into dir/<name>.so and returns the
// library path.
func Example(t testing.TB, dir, name string) string {
	t.Helper()
	srcs, _ := filepath.Glob(filepath.Join(Root(t), "examples", "c", name, "*.c"))
	if len(srcs) == 0 {
		t.Fatalf("plugintest: no C sources in examples/c/%s", name)
	}
	return BuildC(t, filepath.Join(dir, name+".so"), srcs)
}

// Examples builds every C example into dir and returns their paths by name.
func Examples(t testing.TB, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(Root(t), "examples", "c"))
	if err != nil {
		t.Fatal(err)
	}
	libs := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if srcs, _ := filepath.Glob(filepath.Join(Root(t), "examples", "c", e.Name(), "*.c")); len(srcs) > 0 {
			libs[e.Name()] = Example(t, dir, e.Name())
		}
	}
	return libs
}

// FakeCUDA builds testdata/fake-cuda.c into dir/fake-cuda.so and returns its path: a pipeline
// "invert-cuda" that declares CUDA memory only but reads its frames as host memory, for
// engine tests whose device is a host-memory test double (never for a real GPU).
func FakeCUDA(t testing.TB, dir string) string {
	t.Helper()
	return BuildC(t, filepath.Join(dir, "fake-cuda.so"), []string{filepath.Join(Root(t), "internal", "plugintest", "testdata", "fake-cuda.c")})
}
