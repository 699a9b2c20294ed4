package confine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree makes root/pkg with a sub-folder and root/outside, and returns both.
func tree(t *testing.T) (pkg, outside string) {
	t.Helper()
	root := t.TempDir()
	pkg, outside = filepath.Join(root, "pkg"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(pkg, "sub", "deep"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return pkg, outside
}

func link(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	pkg, outside := tree(t)
	link(t, "../outside", filepath.Join(pkg, "out"))
	link(t, outside, filepath.Join(pkg, "abs"))
	link(t, "sub/deep", filepath.Join(pkg, "in"))
	real, _ := filepath.EvalSymlinks(pkg)
	for rel, want := range map[string]string{"": real, "sub": filepath.Join(real, "sub"), "in": filepath.Join(real, "sub", "deep"),
		"in/new.so": filepath.Join(real, "sub", "deep", "new.so"), "sub/../sub": filepath.Join(real, "sub")} {
		if got, err := Resolve(pkg, rel); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", rel, got, err, want)
		}
	}
	for _, rel := range []string{"out", "abs", "out/x.so", "../outside", "sub/../../outside", "/etc"} {
		if got, err := Resolve(pkg, rel); !errors.Is(err, ErrOutside) {
			t.Errorf("Resolve(%q) = %q, %v; want ErrOutside", rel, got, err)
		}
	}
}

func TestCheckTree(t *testing.T) {
	pkg, _ := tree(t)
	link(t, "sub/deep", filepath.Join(pkg, "in"))
	link(t, "..", filepath.Join(pkg, "sub", "up")) // the package root: inside
	if err := CheckTree(pkg); err != nil {
		t.Fatalf("links inside the package refused: %v", err)
	}
	// Lexically "sub/up/../.." is the package itself; followed, it is the folder above.
	for name, target := range map[string]string{"climb": "sub/up/../..", "rel": "../outside", "dangling": "nope", "abs": "/etc"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(pkg, "sub", "x-"+name)
			if name == "climb" {
				p = filepath.Join(pkg, "x-"+name)
			}
			link(t, target, p)
			defer os.Remove(p)
			err := CheckTree(pkg)
			if !errors.Is(err, ErrOutside) || !strings.Contains(err.Error(), "x-"+name) {
				t.Fatalf("CheckTree with %s -> %s: %v, want ErrOutside naming the link", p, target, err)
			}
		})
	}
	// Links inside .git are git's business.
	if err := os.MkdirAll(filepath.Join(pkg, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	link(t, "/etc", filepath.Join(pkg, ".git", "x"))
	if err := CheckTree(pkg); err != nil {
		t.Fatalf(".git looked into: %v", err)
	}
}
