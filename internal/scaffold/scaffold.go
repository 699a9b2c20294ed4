// Package scaffold writes new plugin projects: `scope plugin new NAME --lang c|cpp|rust|go`.
//
// A project is ready to build with its language's own tool (CMake, Cargo, the go command) and
// to install with `scope plugin install ./NAME`. It holds a scope-plugin.toml manifest
// (docs/plugin-packages.md), the build file, one video pipeline with one parameter and a
// README. Its build files point at the SDK of the scope installation that wrote it (the root
// holding include/scope/plugin.h, cmake/ and sdk/), so no copy of the Scope repository is
// needed. The templates are embedded in the binary.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

// Languages a project can be written in, as --lang takes them.
const (
	C    = "c"
	CPP  = "cpp"
	Rust = "rust"
	Go   = "go"
)

// Langs lists the languages in the order help texts show them.
var Langs = []string{C, CPP, Rust, Go}

// Options describe one project.
type Options struct {
	// Name is the plugin's name: the pipeline id, the library's file name and the package
	// name (see ValidateName).
	Name string
	// Lang is C, CPP, Rust or Go.
	Lang string
	// CUDA adds a CUDA kernel skeleton that builds only where nvcc exists (C and C++ only).
	CUDA bool
	// SDKRoot is the Scope SDK the project builds against: the folder holding
	// include/scope/plugin.h, cmake/ and sdk/. It is written, absolute, into the build files.
	SDKRoot string
	// ScopeVersion is the version of the scope that writes the project (shown in the README).
	ScopeVersion string
}

// nameRE: a letter first (Cargo and C identifiers), then lowercase letters, digits, '-', '_'.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// reserved names clash with CMake's built-in targets or Rust's built-in crates.
var reserved = map[string]bool{
	"all": true, "clean": true, "help": true, "install": true, "package": true, "test": true,
	"depend": true, "edit_cache": true, "rebuild_cache": true, "preinstall": true,
	"core": true, "std": true, "alloc": true, "proc_macro": true, "self": true, "super": true, "crate": true,
}

// ValidateName checks a plugin name. It becomes the pipeline id, the shared object's name,
// the CMake target, the Cargo package and the Go module, so it must suit all of them:
// lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("the plugin needs a name, e.g. scope plugin new my-plugin --lang c")
	case !nameRE.MatchString(name):
		return fmt.Errorf("invalid plugin name %q: use lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters (it becomes the pipeline id, the library name and the package name)", name)
	case reserved[name] || reserved[strings.ReplaceAll(name, "-", "_")]:
		return fmt.Errorf("invalid plugin name %q: it is reserved by CMake or Rust; pick another", name)
	}
	return nil
}

// ValidateLang checks a --lang value and whether --cuda goes with it.
func ValidateLang(lang string, cuda bool) error {
	switch lang {
	case C, CPP, Rust, Go:
	case "":
		return fmt.Errorf("choose a language with --lang %s", strings.Join(Langs, "|"))
	default:
		return fmt.Errorf("unknown language %q: use one of %s", lang, strings.Join(Langs, ", "))
	}
	if cuda && lang != C && lang != CPP {
		return fmt.Errorf("--cuda is for C and C++ projects (CMake builds the .cu file); a %s plugin reaches CUDA through its own bindings", lang)
	}
	return nil
}

// Validate checks the options before anything is written: the name, the language and that
// the SDK root holds what the language builds with.
func (o Options) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	if err := ValidateLang(o.Lang, o.CUDA); err != nil {
		return err
	}
	if o.SDKRoot == "" || !filepath.IsAbs(o.SDKRoot) {
		return fmt.Errorf("the SDK root must be an absolute path, got %q", o.SDKRoot)
	}
	need := map[string][]string{
		C:    {"include/scope/plugin.h", "cmake/ScopePluginConfig.cmake"},
		CPP:  {"include/scope/plugin.h", "include/scope/plugin.hpp", "cmake/ScopePluginConfig.cmake"},
		Rust: {"include/scope/plugin.h", "sdk/rust/Cargo.toml"},
		Go:   {"include/scope/plugin.h", "sdk/go/go.mod"},
	}[o.Lang]
	for _, rel := range need {
		if _, err := os.Stat(filepath.Join(o.SDKRoot, filepath.FromSlash(rel))); err != nil {
			return fmt.Errorf("the Scope SDK at %s lacks %s, which %s plugins build with (set SCOPE_SDK_DIR to a complete scope checkout or install prefix)", o.SDKRoot, rel, o.Lang)
		}
	}
	return nil
}

// data is what the templates see.
type data struct {
	Options
	Ident    string // C/Rust identifier: the name with '-' as '_'
	LangName string // the language's display name: C, C++, Rust, Go
	Title    string // display name: "my-plugin" -> "My Plugin"
	Lib      string // the built library's file name
	Output   string // build.output in the manifest ("" = let the installer find it)
	System   string // build.system in the manifest
}

func newData(o Options) data {
	d := data{Options: o, Ident: strings.ReplaceAll(o.Name, "-", "_")}
	d.LangName = map[string]string{C: "C", CPP: "C++", Rust: "Rust", Go: "Go"}[o.Lang]
	words := strings.FieldsFunc(o.Name, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	d.Title = strings.Join(words, " ")
	switch o.Lang {
	case C, CPP:
		d.System, d.Lib, d.Output = "cmake", o.Name+".so", o.Name+".so"
	case Rust:
		d.System, d.Lib = "cargo", "lib"+d.Ident+".so"
		d.Output = "release/" + d.Lib
	case Go:
		d.System, d.Lib = "go", o.Name+".so"
	}
	return d
}

// file is one template and where it goes.
type file struct {
	tmpl  string // under templates/
	out   string // in the project; may use {{.Ident}} and {{.Name}}
	langs string // languages (space separated) that get it
	cuda  bool   // only with --cuda
}

var files = []file{
	{"common/scope-plugin.toml.tmpl", "scope-plugin.toml", "c cpp rust go", false},
	{"common/README.md.tmpl", "README.md", "c cpp rust go", false},
	{"common/gitignore.tmpl", ".gitignore", "c cpp rust go", false},
	{"c/CMakeLists.txt.tmpl", "CMakeLists.txt", "c", false},
	{"c/plugin.c.tmpl", "{{.Ident}}.c", "c", false},
	{"cpp/CMakeLists.txt.tmpl", "CMakeLists.txt", "cpp", false},
	{"cpp/plugin.cpp.tmpl", "{{.Ident}}.cpp", "cpp", false},
	{"cuda/kernel.h.tmpl", "{{.Ident}}_cuda.h", "c cpp", true},
	{"cuda/kernel.cu.tmpl", "{{.Ident}}_cuda.cu", "c cpp", true},
	{"rust/Cargo.toml.tmpl", "Cargo.toml", "rust", false},
	{"rust/Cargo.lock.tmpl", "Cargo.lock", "rust", false},
	{"rust/config.toml.tmpl", ".cargo/config.toml", "rust", false},
	{"rust/lib.rs.tmpl", "src/lib.rs", "rust", false},
	{"go/go.mod.tmpl", "go.mod", "go", false},
	{"go/main.go.tmpl", "main.go", "go", false},
}

// funcs quote strings for the file formats the templates write.
var funcs = template.FuncMap{
	// toml quotes a TOML basic string.
	"toml": func(s string) string { return tomlQuote(s) },
	// cmake quotes a CMake quoted argument.
	"cmake": func(s string) string {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
		return `"` + r.Replace(s) + `"`
	},
	// gomod writes a go.mod path, quoted when it needs to be.
	"gomod": func(s string) string {
		if strings.ContainsAny(s, " \t\"'`\\") {
			return strconv.Quote(s)
		}
		return s
	},
	// rust quotes a Rust string literal.
	"rust": func(s string) string { return strconv.Quote(s) },
	// upper is strings.ToUpper (C macro names).
	"upper":        strings.ToUpper,
	"BuildCommand": BuildCommand,
	"LibraryPath":  LibraryPath,
}

// tomlQuote quotes s as a TOML basic string (JSON-like escapes).
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Render returns the project's files (relative slash paths -> contents) without writing them.
func Render(o Options) (map[string][]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	d := newData(o)
	out := map[string][]byte{}
	for _, f := range files {
		if !strings.Contains(" "+f.langs+" ", " "+o.Lang+" ") || (f.cuda && !o.CUDA) {
			continue
		}
		src, err := fs.ReadFile(templates, "templates/"+f.tmpl)
		if err != nil {
			return nil, fmt.Errorf("scaffold: read template %s: %w", f.tmpl, err)
		}
		name, err := execute(f.tmpl+" (path)", f.out, d)
		if err != nil {
			return nil, err
		}
		body, err := execute(f.tmpl, string(src), d)
		if err != nil {
			return nil, err
		}
		out[string(name)] = body
	}
	return out, nil
}

func execute(name, text string, d data) ([]byte, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("scaffold: parse template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("scaffold: render template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Write renders the project into dir, which must not exist or be empty, and returns the
// written paths relative to dir, sorted.
func Write(dir string, o Options) ([]string, error) {
	rendered, err := Render(o)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s already exists and is not empty: choose another name or --dir", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create project %s: %w", dir, err)
	}
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("create project %s: %w", dir, err)
		}
		if err := os.WriteFile(p, rendered[n], 0o644); err != nil {
			return nil, fmt.Errorf("create project %s: %w", dir, err)
		}
	}
	return names, nil
}

// BuildCommand is the command line that builds a project by hand, run in its folder; the
// library lands at LibraryPath.
func BuildCommand(name, lang string) string {
	switch lang {
	case C, CPP:
		return "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build"
	case Rust:
		return "cargo build --release"
	}
	return "CGO_ENABLED=1 go build -buildmode=c-shared -o " + name + ".so ."
}

// LibraryPath is where a hand build (BuildCommand) puts the library, relative to the project.
func LibraryPath(name, lang string) string {
	switch lang {
	case C, CPP:
		return "build/" + name + ".so"
	case Rust:
		return "target/release/lib" + strings.ReplaceAll(name, "-", "_") + ".so"
	}
	return name + ".so"
}
