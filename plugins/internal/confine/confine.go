// Package confine keeps the paths a plugin package names inside the package: a relative
// path must not climb out with "..", and no symlink on the way may lead out of the folder,
// so what gets built is what the source (a commit, a folder) holds.
package confine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutside is wrapped by every refusal of this package.
var ErrOutside = errors.New("leaves the package")

// Lexical refuses a path that is absolute or climbs out of its folder with "..". It looks
// at the text only (for checks before the path exists).
func Lexical(rel string) error {
	if filepath.IsAbs(rel) {
		return fmt.Errorf("%q is an absolute path: it %w", rel, ErrOutside)
	}
	if c := filepath.Clean(rel); c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%q climbs out with \"..\": it %w", rel, ErrOutside)
	}
	return nil
}

// Resolve returns the real path of root/rel after following every symlink, refusing a rel
// that is absolute, climbs out with "..", or goes through a symlink that leads out of root.
// A path that does not exist is returned as joined (nothing to follow), unless a symlink on
// the part that exists leads out.
func Resolve(root, rel string) (string, error) {
	if err := Lexical(rel); err != nil {
		return "", err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", root, err)
	}
	p := filepath.Join(realRoot, rel)
	real, err := evalExisting(p)
	if err != nil {
		return "", err
	}
	if !Within(realRoot, real) {
		return "", fmt.Errorf("%q is a symlink to %s, outside %s: it %w", rel, real, root, ErrOutside)
	}
	return real, nil
}

// evalExisting follows the symlinks of the longest part of p that exists and appends the
// rest, so a path the build has yet to create still has its existing parents checked.
func evalExisting(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(p)
		return "", fmt.Errorf("%s is a symlink to %s, which does not exist: it %w", p, target, ErrOutside)
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p, nil
	}
	rp, err := evalExisting(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(p)), nil
}

// Within reports whether path is root or below it (both cleaned, compared as text).
func Within(root, path string) bool {
	root, path = filepath.Clean(root), filepath.Clean(path)
	if root == path {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(path, root)
}

// CheckTree refuses a folder holding a symlink that leads out of it, or that points at
// nothing (it could point out later), naming the first such link. The .git folder is not
// looked into.
func CheckTree(root string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	return filepath.WalkDir(realRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if d.IsDir() && d.Name() == ".git" && p != realRoot {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, _ := filepath.Rel(realRoot, p)
		target, _ := os.Readlink(p)
		real, err := filepath.EvalSymlinks(p)
		switch {
		case err != nil:
			return fmt.Errorf("symlink %s -> %s points at nothing inside the package: it %w", rel, target, ErrOutside)
		case !Within(realRoot, real):
			return fmt.Errorf("symlink %s -> %s: it %w (to %s)", rel, target, ErrOutside, real)
		}
		return nil
	})
}
