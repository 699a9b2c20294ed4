package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cwd := t.TempDir()
	bare := filepath.Join(cwd, "repo.git")
	for _, d := range []string{"objects", "refs"} {
		if err := os.MkdirAll(filepath.Join(bare, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bare, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(cwd, "my-plugin")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec string
		want Spec
	}{
		{"https://github.com/o/invert", Spec{Kind: KindGit, URL: "https://github.com/o/invert"}},
		{"https://github.com/o/invert.git@v1.0", Spec{Kind: KindGit, URL: "https://github.com/o/invert.git", Ref: "v1.0"}},
		{"git+https://github.com/o/invert@main", Spec{Kind: KindGit, URL: "https://github.com/o/invert", Ref: "main"}},
		{"https://user@host.com/o/invert@abc123", Spec{Kind: KindGit, URL: "https://user@host.com/o/invert", Ref: "abc123"}},
		{"git@github.com:o/invert.git@v2", Spec{Kind: KindGit, URL: "git@github.com:o/invert.git", Ref: "v2"}},
		{"git@github.com:o/invert", Spec{Kind: KindGit, URL: "git@github.com:o/invert"}},
		{"ssh://git@host/o/invert@dev", Spec{Kind: KindGit, URL: "ssh://git@host/o/invert", Ref: "dev"}},
		{"https://github.com/o/invert/tree/feature/x", Spec{Kind: KindGit, URL: "https://github.com/o/invert", Ref: "feature/x"}},
		{"https://github.com/o/invert/releases/tag/v1.2.0", Spec{Kind: KindGit, URL: "https://github.com/o/invert", Ref: "v1.2.0"}},
		{"https://gitlab.com/o/invert/-/tree/main", Spec{Kind: KindGit, URL: "https://gitlab.com/o/invert", Ref: "main"}},
		{"https://github.com/o/invert/", Spec{Kind: KindGit, URL: "https://github.com/o/invert"}},
		{"file://" + bare + "@v1", Spec{Kind: KindGit, URL: "file://" + bare, Ref: "v1"}},
		{"./repo.git", Spec{Kind: KindGit, URL: "file://" + bare}},
		{"./repo.git@main", Spec{Kind: KindGit, URL: "file://" + bare, Ref: "main"}},
		{"./my-plugin", Spec{Kind: KindLocal, Path: folder}},
		{"~/", Spec{Kind: KindLocal, Path: home}},
		{"invert", Spec{Kind: KindIndex, Name: "invert"}},
		{"invert==1.2.0", Spec{Kind: KindIndex, Name: "invert", Version: "1.2.0"}},
	}
	for _, c := range cases {
		got, err := Parse(c.spec, cwd)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.spec, got, c.want)
		}
	}
	for _, bad := range []string{"", "ftp://host/x", "./missing", "not a spec!", "my-plugin@main"} {
		if _, err := Parse(bad, cwd); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

// TestParseBareNameIsIndex holds the rule of docs/plugin-packages.md: a bare name goes to
// the index even when cwd has a folder of that name (the newcomer's ./swizzle was silently
// installed linked); the result says how to name the folder instead.
func TestParseBareNameIsIndex(t *testing.T) {
	cwd := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cwd, "swizzle"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"swizzle", "swizzle==0.1.0"} {
		got, err := Parse(spec, cwd)
		if err != nil {
			t.Fatalf("Parse(%q): %v", spec, err)
		}
		if got.Kind != KindIndex || got.Name != "swizzle" {
			t.Errorf("Parse(%q) = %+v, want the index entry swizzle", spec, got)
		}
		if !strings.Contains(got.Note, "./swizzle") {
			t.Errorf("Parse(%q).Note = %q, want it to say ./swizzle names the folder", spec, got.Note)
		}
	}
	got, err := Parse("./swizzle", cwd)
	if err != nil || got.Kind != KindLocal || got.Note != "" {
		t.Errorf("Parse(./swizzle) = %+v, %v; want the linked folder, no note", got, err)
	}
	if got, err := Parse("other", cwd); err != nil || got.Note != "" {
		t.Errorf("Parse(other) = %+v, %v; want an index name without a note (no folder other)", got, err)
	}
	if _, err := Parse("swizzle@main", cwd); err == nil || !strings.Contains(err.Error(), "./swizzle@main") {
		t.Errorf("Parse(swizzle@main) error = %v, want it to say ./swizzle@main names the folder", err)
	}
}
