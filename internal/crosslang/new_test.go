package crosslang_test

import (
	"context"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/internal/scaffold"
	"github.com/scopenative/scope/plugins/build"
	"github.com/scopenative/scope/plugins/manifest"
)

// brightenSample is the generated pipeline's formula: floor(v + (255-v)*amount + 0.5).
func brightenSample(v byte, amount float64) byte {
	f := float64(v)
	return byte(math.Min(math.Floor(f+float64((255-f)*amount)+0.5), 255))
}

// buildProject builds a generated project by hand, with its language's own tool, the way its
// README says, and returns the library.
func buildProject(t *testing.T, dir, name, lang string) string {
	t.Helper()
	var err error
	switch lang {
	case scaffold.C, scaffold.CPP:
		cmake, e := tool("cmake", "the C and C++ projects build with CMake")
		if e == nil && lang == scaffold.CPP {
			_, e = tool("g++", "the C++ project cannot be built")
		}
		if e != nil {
			t.Skip(e)
		}
		err = run(dir, nil, cmake, "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=Release")
		if err == nil {
			err = run(dir, nil, cmake, "--build", "build")
		}
	case scaffold.Rust:
		cargo, e := tool("cargo", "the Rust project cannot be built")
		if e != nil {
			t.Skip(e)
		}
		// Plain `cargo build --release`: no --offline, yet no registry is needed (the project
		// ships a Cargo.lock and patches the SDK crate to a path). The shared target folder
		// keeps the SDK crate compiled between tests.
		err = run(dir, []string{"CARGO_TARGET_DIR=" + cargoTarget(), "CARGO_TERM_COLOR=never"}, cargo, "build", "--release")
		if err == nil {
			return filepath.Join(cargoTarget(), "release", "lib"+strings.ReplaceAll(name, "-", "_")+".so")
		}
	case scaffold.Go:
		if _, e := tool("go", ""); e != nil {
			t.Skip(e)
		}
		err = run(dir, []string{"CGO_ENABLED=1"}, "go", "build", "-buildmode=c-shared", "-o", name+".so", ".")
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, scaffold.LibraryPath(name, lang))
}

// TestPluginNew runs `scope plugin new` for every language, builds the project with the
// language's own tool, loads it with `scope run` and checks every pixel of one frame. It also
// builds the C, Rust and Go projects the way `scope plugin install` does (plugins/build with
// the manifest).
func TestPluginNew(t *testing.T) {
	root := plugintest.Root(t)
	for _, c := range []struct {
		lang string
		cuda bool
	}{
		{scaffold.C, false}, {scaffold.CPP, true}, {scaffold.Rust, false}, {scaffold.Go, false},
	} {
		name := "gen-" + c.lang
		if c.cuda {
			name += "-cuda"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			env := map[string]string{"SCOPE_SDK_DIR": root}
			args := []string{"plugin", "new", name, "--lang", c.lang, "--dir", dir}
			if c.cuda {
				args = append(args, "--cuda")
			}
			code, stdout, stderr := scope(t, env, args...)
			if code != 0 {
				t.Fatalf("plugin new: exit %d: %s", code, stderr)
			}
			for _, want := range []string{"created " + dir, "scope-plugin.toml", "README.md", "SDK " + root} {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			m, err := manifest.Load(dir, "")
			if err != nil {
				t.Fatalf("manifest: %v", err)
			}
			if m.Name != name || m.Detected || m.ABI != "1" {
				t.Errorf("manifest %+v", m)
			}
			readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
			if !strings.Contains(string(readme), root) {
				t.Errorf("README does not say where the SDK is (%s)", root)
			}

			lib := buildProject(t, dir, name, c.lang)
			checkBrighten(t, lib, name)

			// The installer's build: the SDK passed in, whatever the project's files say. (C++
			// takes the same CMake path as C: skipped to save a compile.)
			if c.lang == scaffold.CPP {
				return
			}
			work := filepath.Join(t.TempDir(), "work")
			if c.lang == scaffold.Rust {
				work = filepath.Join(os.TempDir(), "scope-crosslang-install-"+name) // keep the SDK crate built
			}
			out := filepath.Join(t.TempDir(), "installed.so")
			if err := build.Run(context.Background(), build.Request{Src: dir, Work: work, Out: out, Manifest: m, SDK: build.SDK{Root: root}}); err != nil {
				t.Fatalf("build as scope plugin install does: %v", err)
			}
			checkBrighten(t, out, name)
		})
	}
}

// checkBrighten runs the generated pipeline on testsrc at amount 0 (the input itself) and 0.3
// and checks every pixel of the second against the formula applied to the first.
func checkBrighten(t *testing.T, lib, name string) {
	t.Helper()
	dir := t.TempDir()
	var imgs [2]string
	for i, amount := range []string{"0", "0.3"} {
		imgs[i] = filepath.Join(dir, "amount-"+amount+".png")
		code, _, stderr := scope(t, nil, "run", name, "--plugin", lib, "--input", "testsrc:33x17", "--frames", "1",
			"--output", imgs[i], "--param", "amount="+amount)
		if code != 0 {
			t.Fatalf("scope run %s: exit %d: %s", name, code, stderr)
		}
	}
	src, got := plugintest.ReadPNG(t, imgs[0]), plugintest.ReadPNG(t, imgs[1])
	if got.Bounds().Dx() != 33 || got.Bounds().Dy() != 17 {
		t.Fatalf("output is %v, want 33x17", got.Bounds())
	}
	changed := 0
	for y := 0; y < 17; y++ {
		for x := 0; x < 33; x++ {
			s := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
			g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			want := color.NRGBA{brightenSample(s.R, 0.3), brightenSample(s.G, 0.3), brightenSample(s.B, 0.3), s.A}
			if g != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v (input %v)", x, y, g, want, s)
			}
			if g != s {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Fatal("amount=0.3 changed no pixel: testsrc is all white?")
	}
}

// TestPluginNewErrors: bad names, languages and flag combinations are usage errors with a
// message that says what to do; an existing project is never overwritten.
func TestPluginNewErrors(t *testing.T) {
	root := plugintest.Root(t)
	env := map[string]string{"SCOPE_SDK_DIR": root}
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"My-Plugin", "--lang", "c"}, command.ExitUsage, `invalid plugin name "My-Plugin": use lowercase letters, digits, '-' and '_', starting with a letter`},
		{[]string{"9lives", "--lang", "c"}, command.ExitUsage, `invalid plugin name "9lives"`},
		{[]string{"my.plugin", "--lang", "rust"}, command.ExitUsage, `invalid plugin name "my.plugin"`},
		{[]string{"test", "--lang", "c"}, command.ExitUsage, "reserved"},
		{[]string{"ok-name"}, command.ExitUsage, "choose a language with --lang c|cpp|rust|go"},
		{[]string{"ok-name", "--lang", "zig"}, command.ExitUsage, `unknown language "zig"`},
		{[]string{"ok-name", "--lang", "go", "--cuda"}, command.ExitUsage, "--cuda is for C and C++ projects"},
		{[]string{}, command.ExitUsage, "needs exactly one argument"},
		{[]string{"ok-name", "--lang", "c", "--dir", existing}, command.ExitFailure, "already exists and is not empty"},
	} {
		code, _, stderr := scope(t, env, append([]string{"plugin", "new"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("plugin new %v: exit %d (want %d), stderr %q, want %q", c.args, code, c.code, stderr, c.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(existing, "keep.txt")); err != nil || string(b) != "mine" {
		t.Errorf("the existing folder was touched: %q %v", b, err)
	}
	// Without an SDK (a scope binary with nothing beside it), the error names SCOPE_SDK_DIR.
	code, _, stderr := scope(t, map[string]string{"SCOPE_SDK_DIR": t.TempDir()}, "plugin", "new", "ok-name", "--lang", "c", "--dir", t.TempDir()+"/x")
	if code != command.ExitFailure || !strings.Contains(stderr, "SCOPE_SDK_DIR") {
		t.Errorf("no SDK: exit %d: %s", code, stderr)
	}
}
