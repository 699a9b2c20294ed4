package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/plugins/internal/confine"
)

// FuzzManifest loads arbitrary scope-plugin.toml files from a package folder that also
// holds a Makefile (so detection can succeed): nothing panics, and an accepted manifest has
// a valid name, a known build system (command with a command), a valid ABI and build.dir and
// build.output inside the package.
func FuzzManifest(f *testing.F) {
	for _, seed := range []string{
		"name = \"invert\"\nversion = \"1.0.0\"\ndescription = \"Inverts colors\"\nabi = \"1\"\n\n[build]\nsystem = \"cmake\"\n",
		"name = \"inv\"\n[build]\nsystem = \"command\"\ncommand = \"cc -shared -fPIC -o $SCOPE_OUTPUT invert.c\"\noutput = \"out/invert.so\"\n",
		"[build]\nsystem = \"make\"\ntarget = \"all\"\nargs = [\"-s\", \"V=1\"]\ndir = \".\"\n",
		"name = \"x\"\n[build]\ndir = \"../../../outside\"\n",
		"name = \"x\"\n[build]\noutput = \"../../evil.so\"\n",
		"name = \"x\"\n[build]\noutput = \"/etc/passwd\"\n",
		"name = \"x\"\nabi = \"v1.2\"\n",
		"name = \"x\"\nabi = \"0\"\n",
		"name = \"UPPER\"\n",
		"name = \"x\"\nbuidl = 1\n",
		"name = \"x\"\n[build]\nsystem = \"command\"\ncommand = \"  \"\n",
		"name = 3\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte("all:\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(dir, "fallback")
		if err != nil {
			return
		}
		if !ValidName(m.Name) {
			t.Fatalf("accepted invalid name %q", m.Name)
		}
		if _, err := m.ABIMajor(); err != nil {
			t.Fatalf("accepted abi %q: %v", m.ABI, err)
		}
		switch m.Build.System {
		case CMake, Cargo, Go, Make:
		case Command:
			if m.Build.Command == "" {
				t.Fatal("accepted system command without a command")
			}
		default:
			t.Fatalf("accepted build system %q", m.Build.System)
		}
		if _, err := confine.Resolve(dir, m.Build.Dir); err != nil {
			t.Fatalf("accepted build.dir %q: %v", m.Build.Dir, err)
		}
		if err := confine.Lexical(m.Build.Output); err != nil {
			t.Fatalf("accepted build.output %q: %v", m.Build.Output, err)
		}
	})
}
