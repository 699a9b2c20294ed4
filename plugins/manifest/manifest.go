// Package manifest reads a plugin package's scope-plugin.toml: the plugin's name, version,
// description, the ABI it targets and how to build it. Without a manifest, or without its
// [build] section, the build system is detected from the files in the package folder.
package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/scopenative/scope/plugins/internal/confine"
)

// FileName is the manifest's file name at the root of a plugin package.
const FileName = "scope-plugin.toml"

// Build systems.
const (
	CMake   = "cmake"
	Cargo   = "cargo"
	Go      = "go"
	Make    = "make"
	Command = "command"
)

// Manifest is a parsed scope-plugin.toml.
type Manifest struct {
	// Name identifies the plugin in the plugin store and on the command line.
	Name string `toml:"name"`
	// Version is the plugin's version (semantic versioning recommended).
	Version string `toml:"version"`
	// Description is one line about the plugin.
	Description string `toml:"description"`
	// ABI is the plugin ABI major version the plugin targets ("1" or "1.0").
	ABI string `toml:"abi"`
	// Build says how to build the shared object.
	Build Build `toml:"build"`

	// Found is false when the package has no scope-plugin.toml and everything was inferred.
	Found bool `toml:"-"`
	// Detected is true when the build system was detected rather than declared.
	Detected bool `toml:"-"`
}

// Build is the [build] section.
type Build struct {
	// System is cmake, cargo, go, make or command.
	System string `toml:"system"`
	// Command is the command line for System "command" (run with sh -c in the package
	// folder); it may also replace the default command of make.
	Command string `toml:"command"`
	// Output is where the shared object lands: relative to the build folder for cmake
	// (default: found there), to Cargo's target folder for cargo (default
	// release/lib<crate>.so), and to the package folder for make and command (default: the
	// only .so the build produced, or $SCOPE_OUTPUT). Ignored for go.
	Output string `toml:"output"`
	// Target is the CMake target or Cargo package to build (default: all).
	Target string `toml:"target"`
	// Args are extra arguments for the build tool (cmake configure, cargo build, go build, make).
	Args []string `toml:"args"`
	// Dir is a subfolder of the package holding the sources (default: the package root).
	Dir string `toml:"dir"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidName reports whether name can name a plugin: lowercase letters, digits, '.', '_' and
// '-', starting with a letter or digit, at most 64 characters.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Load reads dir/scope-plugin.toml, or infers a manifest when there is none: the name from
// fallbackName (a repository or folder name), the build system from the files present. The
// manifest, build.dir and build.output must stay inside dir: an absolute path, a ".." that
// climbs out, or a symlink leading out of dir is refused.
func Load(dir, fallbackName string) (*Manifest, error) {
	m := &Manifest{}
	path, err := confine.Resolve(dir, FileName)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", FileName, err)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		md, err := toml.Decode(string(data), m)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", FileName, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return nil, fmt.Errorf("read %s: unknown key(s) %s (see docs/plugin-packages.md)", FileName, strings.Join(keys, ", "))
		}
		m.Found = true
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("read %s: %w", FileName, err)
	}
	if m.Name == "" {
		m.Name = SanitizeName(fallbackName)
	}
	if !ValidName(m.Name) {
		return nil, fmt.Errorf("%s: plugin name %q is not valid: use lowercase letters, digits, '.', '_' and '-'", FileName, m.Name)
	}
	if m.ABI != "" {
		if _, err := m.ABIMajor(); err != nil {
			return nil, err
		}
	}
	if _, err := confine.Resolve(dir, m.Build.Dir); err != nil {
		return nil, fmt.Errorf("%s: build.dir must be a folder inside the package: %w", FileName, err)
	}
	if m.Build.Output != "" {
		if err := confine.Lexical(m.Build.Output); err != nil {
			return nil, fmt.Errorf("%s: build.output must be a path inside the build or package folder: %w", FileName, err)
		}
	}
	src := filepath.Join(dir, m.Build.Dir)
	switch m.Build.System {
	case "":
		sys, err := Detect(src)
		if err != nil {
			return nil, err
		}
		m.Build.System = sys
		m.Detected = true
	case CMake, Cargo, Go, Make:
	case Command:
		if strings.TrimSpace(m.Build.Command) == "" {
			return nil, fmt.Errorf("%s: build.system = \"command\" needs build.command", FileName)
		}
	default:
		return nil, fmt.Errorf("%s: unknown build.system %q (use cmake, cargo, go, make or command)", FileName, m.Build.System)
	}
	return m, nil
}

// ABIMajor returns the major version in the abi field (0 when the field is empty).
func (m *Manifest) ABIMajor() (int, error) {
	if m.ABI == "" {
		return 0, nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(m.ABI, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: abi = %q: expected the ABI version the plugin targets, e.g. \"1\"", FileName, m.ABI)
	}
	return n, nil
}

// Detect picks the build system from the files in dir: CMakeLists.txt, Cargo.toml with a
// cdylib, go.mod (built with -buildmode=c-shared), or a Makefile.
func Detect(dir string) (string, error) {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	switch {
	case exists("CMakeLists.txt"):
		return CMake, nil
	case exists("Cargo.toml"):
		b, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
		if err != nil {
			return "", fmt.Errorf("detect build system: %w", err)
		}
		if !strings.Contains(string(b), "cdylib") {
			return "", fmt.Errorf("detect build system: Cargo.toml builds no cdylib; add crate-type = [\"cdylib\"] to its [lib] section")
		}
		return Cargo, nil
	case exists("go.mod"):
		return Go, nil
	case exists("Makefile"), exists("makefile"), exists("GNUmakefile"):
		return Make, nil
	}
	return "", fmt.Errorf("no build system found: the package has no %s [build] section, CMakeLists.txt, Cargo.toml, go.mod or Makefile", FileName)
}

// SanitizeName turns a repository or folder name into a plugin name: lowercase, ".git" and
// characters other than letters, digits, '.', '_' and '-' removed.
func SanitizeName(s string) string {
	s = strings.TrimSuffix(strings.ToLower(s), ".git")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return strings.TrimLeft(b.String(), "._-")
}
