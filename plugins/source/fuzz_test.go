package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and a bare name (no slash, not . or ..) is never taken as
// a folder, even where a folder of that name exists.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"swizzle", "swizzle==0.1.0", "./swizzle", "swizzle@main", "~/x", "https://h/o/r@v1",
		"git@h:o/r", "file:///x", "..", ".", "a/b", "SWIZZLE", "swizzle==", "sw izzle", "@", "swizzle@"} {
		f.Add(s)
	}
	cwd := f.TempDir()
	for _, d := range []string{"swizzle", "SWIZZLE", "a"} {
		if err := os.MkdirAll(filepath.Join(cwd, d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, spec string) {
		sp, err := Parse(spec, cwd)
		if err != nil {
			return
		}
		s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "git+"))
		if sp.Kind == KindLocal && !looksLikePath(s) {
			t.Errorf("Parse(%q) took the bare name as the folder %s", spec, sp.Path)
		}
		if sp.Kind == KindIndex && (sp.Name == "" || strings.ContainsAny(sp.Name, "/@ ")) {
			t.Errorf("Parse(%q) = index name %q", spec, sp.Name)
		}
	})
}
