package scaffold_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/internal/scaffold"
)

func TestRenderFiles(t *testing.T) {
	root := plugintest.Root(t)
	for _, c := range []struct {
		opts scaffold.Options
		want []string
	}{
		{scaffold.Options{Name: "my-plugin", Lang: "c"}, []string{".gitignore", "CMakeLists.txt", "README.md", "my_plugin.c", "scope-plugin.toml"}},
		{scaffold.Options{Name: "my-plugin", Lang: "c", CUDA: true}, []string{".gitignore", "CMakeLists.txt", "README.md", "my_plugin.c", "my_plugin_cuda.cu", "my_plugin_cuda.h", "scope-plugin.toml"}},
		{scaffold.Options{Name: "fx", Lang: "cpp", CUDA: true}, []string{".gitignore", "CMakeLists.txt", "README.md", "fx.cpp", "fx_cuda.cu", "fx_cuda.h", "scope-plugin.toml"}},
		{scaffold.Options{Name: "zebra", Lang: "rust"}, []string{".cargo/config.toml", ".gitignore", "Cargo.lock", "Cargo.toml", "README.md", "scope-plugin.toml", "src/lib.rs"}},
		{scaffold.Options{Name: "go_fx", Lang: "go"}, []string{".gitignore", "README.md", "go.mod", "main.go", "scope-plugin.toml"}},
	} {
		c.opts.SDKRoot = root
		files, err := scaffold.Render(c.opts)
		if err != nil {
			t.Fatalf("%+v: %v", c.opts, err)
		}
		var names []string
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		if strings.Join(names, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s/%s: files %v, want %v", c.opts.Lang, c.opts.Name, names, c.want)
		}
		// Every template placeholder was filled, and the SDK root is written down.
		for n, b := range files {
			if strings.Contains(string(b), "{{") || strings.Contains(string(b), "<no value>") {
				t.Errorf("%s: unrendered template text in %s", c.opts.Lang, n)
			}
		}
		if !strings.Contains(string(files["README.md"]), root) {
			t.Errorf("%s: README does not name the SDK root", c.opts.Lang)
		}
		var m struct {
			Name, Version, Description, ABI string
			Build                           struct{ System, Output string }
		}
		if _, err := toml.Decode(string(files["scope-plugin.toml"]), &m); err != nil {
			t.Fatalf("%s: manifest: %v", c.opts.Lang, err)
		}
		if m.Name != c.opts.Name || m.ABI != "1" || m.Build.System == "" {
			t.Errorf("%s: manifest %+v", c.opts.Lang, m)
		}
	}
}

// TestSDKPathsAreQuoted: an SDK root with spaces and quotes lands intact in every build file.
func TestSDKPathsAreQuoted(t *testing.T) {
	root := filepath.Join(t.TempDir(), `odd "dir" $x;y`)
	for _, rel := range []string{"include/scope/plugin.h", "include/scope/plugin.hpp", "cmake/ScopePluginConfig.cmake", "sdk/rust/Cargo.toml", "sdk/go/go.mod"} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rust, err := scaffold.Render(scaffold.Options{Name: "p", Lang: "rust", SDKRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Patch map[string]map[string]struct{ Path string } `toml:"patch"`
	}
	if _, err := toml.Decode(string(rust[".cargo/config.toml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Patch["crates-io"]["scope-plugin"].Path; got != root+"/sdk/rust" {
		t.Errorf("cargo patch path %q", got)
	}
	c, err := scaffold.Render(scaffold.Options{Name: "p", Lang: "c", SDKRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if want := `set(SCOPE_SDK_DIR "` + strings.NewReplacer(`"`, `\"`, `$`, `\$`).Replace(root) + `" CACHE PATH`; !strings.Contains(string(c["CMakeLists.txt"]), want) {
		t.Errorf("CMakeLists.txt lacks %s:\n%s", want, c["CMakeLists.txt"])
	}
	g, err := scaffold.Render(scaffold.Options{Name: "p", Lang: "go", SDKRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(g["go.mod"]), `=> "`+strings.ReplaceAll(root, `"`, `\"`)+`/sdk/go"`) {
		t.Errorf("go.mod replace not quoted:\n%s", g["go.mod"])
	}
}

func TestValidation(t *testing.T) {
	root := plugintest.Root(t)
	for _, c := range []struct {
		opts scaffold.Options
		want string
	}{
		{scaffold.Options{Name: "Bad", Lang: "c"}, "invalid plugin name"},
		{scaffold.Options{Name: "1x", Lang: "c"}, "starting with a letter"},
		{scaffold.Options{Name: "a.b", Lang: "c"}, "invalid plugin name"},
		{scaffold.Options{Name: strings.Repeat("a", 65), Lang: "c"}, "at most 64"},
		{scaffold.Options{Name: "install", Lang: "c"}, "reserved"},
		{scaffold.Options{Name: "ok", Lang: "java"}, `unknown language "java"`},
		{scaffold.Options{Name: "ok", Lang: "rust", CUDA: true}, "--cuda is for C and C++"},
		{scaffold.Options{Name: "ok", Lang: "go", SDKRoot: "relative"}, "absolute"},
		{scaffold.Options{Name: "ok", Lang: "go", SDKRoot: t.TempDir()}, "lacks include/scope/plugin.h"},
	} {
		if c.opts.SDKRoot == "" {
			c.opts.SDKRoot = root
		}
		if _, err := scaffold.Render(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
	// Write refuses a folder that has files in it.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if _, err := scaffold.Write(dir, scaffold.Options{Name: "ok", Lang: "c", SDKRoot: root}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Write into a non-empty folder: %v", err)
	}
}

// TestTextIsNeutral: the text a project keeps after its author replaces the generated code
// (the manifest's and the library's description, the README outside its "starting code"
// section) is made from the name and says nothing about the starting effect.
func TestTextIsNeutral(t *testing.T) {
	root := plugintest.Root(t)
	for _, lang := range scaffold.Langs {
		files, err := scaffold.Render(scaffold.Options{Name: "posterize", Lang: lang, SDKRoot: root})
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Description string }
		if _, err := toml.Decode(string(files["scope-plugin.toml"]), &m); err != nil {
			t.Fatal(err)
		}
		want := "Posterize: a Scope Native plugin written in " + map[string]string{"c": "C", "cpp": "C++", "rust": "Rust", "go": "Go"}[lang]
		if m.Description != want {
			t.Errorf("%s: manifest description %q, want %q", lang, m.Description, want)
		}
		readme := string(files["README.md"])
		intro, starting, ok := strings.Cut(readme, "## The starting code")
		if !ok {
			t.Fatalf("%s: README has no \"## The starting code\" section:\n%s", lang, readme)
		}
		starting, rest, _ := strings.Cut(starting, "\n## ")
		for what, text := range map[string]string{"README intro": intro, "README after the starting code": rest} {
			if strings.Contains(strings.ToLower(text), "bright") || strings.Contains(text, "white") {
				t.Errorf("%s: %s describes the starting effect:\n%s", lang, what, text)
			}
		}
		if !strings.Contains(starting, "replace it") {
			t.Errorf("%s: the starting code section does not say to replace it:\n%s", lang, starting)
		}
		for name, b := range files {
			if strings.Contains(string(b), "Posterize: brightens") || strings.Contains(string(b), "(brightens") {
				t.Errorf("%s: %s describes the plugin as the starting effect", lang, name)
			}
		}
	}
}
