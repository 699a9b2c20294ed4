package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir, "x"); err == nil || !strings.Contains(err.Error(), "no build system") {
		t.Fatalf("empty folder: %v", err)
	}
	write("Cargo.toml", "[lib]\ncrate-type = [\"cdylib\"]\n")
	m, err := Load(dir, "My Plugin.git")
	if err != nil || m.Build.System != Cargo || m.Name != "my-plugin" || !m.Detected || m.Found {
		t.Fatalf("detected cargo: %+v %v", m, err)
	}
	write(FileName, "name = \"inv\"\nversion = \"1.0\"\nabi = \"1\"\n[build]\nsystem = \"command\"\ncommand = \"cc -shared -o $SCOPE_OUTPUT x.c\"\n")
	m, err = Load(dir, "x")
	if err != nil || m.Name != "inv" || m.Build.System != Command || !m.Found {
		t.Fatalf("manifest: %+v %v", m, err)
	}
	write(FileName, "name = \"inv\"\nbuidl = 1\n")
	if _, err := Load(dir, "x"); err == nil || !strings.Contains(err.Error(), "buidl") {
		t.Fatalf("unknown key: %v", err)
	}
	write(FileName, "name = \"inv\"\nabi = \"one\"\n")
	if _, err := Load(dir, "x"); err == nil {
		t.Fatal("bad abi accepted")
	}
}

// TestLoadStaysInsideThePackage: build.dir through a symlink leading out, a manifest that is
// a symlink to a file outside, and a build.output that climbs out are refused, each naming
// the field.
func TestLoadStaysInsideThePackage(t *testing.T) {
	root := t.TempDir()
	pkg, outside := filepath.Join(root, "pkg"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(pkg, "in"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Join(pkg, "in"), outside} {
		if err := os.WriteFile(filepath.Join(d, "Makefile"), []byte("all:\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../outside", filepath.Join(pkg, "src")); err != nil {
		t.Fatal(err)
	}
	manifestFile := filepath.Join(pkg, FileName)
	write := func(s string) {
		t.Helper()
		os.Remove(manifestFile)
		if err := os.WriteFile(manifestFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("name = \"p\"\n[build]\ndir = \"in\"\noutput = \"lib/p.so\"\n")
	if m, err := Load(pkg, "p"); err != nil || m.Build.System != Make {
		t.Fatalf("a package inside its folder: %+v %v", m, err)
	}
	for _, c := range []struct{ toml, want string }{
		{"name = \"p\"\n[build]\ndir = \"src\"\n", "build.dir"},
		{"name = \"p\"\n[build]\ndir = \"../outside\"\n", "build.dir"},
		{"name = \"p\"\n[build]\nsystem = \"make\"\noutput = \"../../outside/p.so\"\n", "build.output"},
		{"name = \"p\"\n[build]\nsystem = \"make\"\noutput = \"/tmp/p.so\"\n", "build.output"},
	} {
		write(c.toml)
		if _, err := Load(pkg, "p"); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "leaves the package") {
			t.Errorf("%q: %v, want a refusal naming %s", c.toml, err, c.want)
		}
	}
	os.Remove(manifestFile)
	evil := filepath.Join(outside, FileName)
	if err := os.WriteFile(evil, []byte("name = \"evil\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(evil, manifestFile); err != nil {
		t.Fatal(err)
	}
	if m, err := Load(pkg, "p"); err == nil || !strings.Contains(err.Error(), FileName) || !strings.Contains(err.Error(), "leaves the package") {
		t.Errorf("a manifest symlinked from outside: %+v %v, want a refusal", m, err)
	}
}
