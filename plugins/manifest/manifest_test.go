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
