package session_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/otheruser"
	"github.com/scopenative/scope/session"
)

// tmpDefaultDir runs DefaultDir without $XDG_RUNTIME_DIR, with $TMPDIR set to tmp, and returns
// the path it takes (tmp/scope-<uid>).
func tmpDefaultDir(t *testing.T, tmp string) (string, session.Dir, error) {
	t.Helper()
	t.Setenv("TMPDIR", tmp)
	d, err := session.DefaultDir(func(string) string { return "" })
	return filepath.Join(tmp, fmt.Sprintf("scope-%d", os.Getuid())), d, err
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestDefaultDirRefusesSymlink: a /tmp/scope-<uid> that is a symbolic link (planted by
// another user, pointing at a folder of the victim's) is refused, and its target is not
// chmodded.
func TestDefaultDirRefusesSymlink(t *testing.T) {
	tmp := t.TempDir()
	victim := filepath.Join(tmp, "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmp, fmt.Sprintf("scope-%d", os.Getuid()))
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		otheruser.Give(t, path, 0)
	}
	_, d, err := tmpDefaultDir(t, tmp)
	if err == nil {
		t.Fatalf("DefaultDir took the symbolic link %s (returned %s)", path, d)
	}
	for _, w := range []string{path, "is a symbolic link", victim, "remove it", "XDG_RUNTIME_DIR"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if m := mode(t, victim); m != 0o755 {
		t.Errorf("the link's target was changed to mode %04o", m)
	}
}

// TestDefaultDirRefusesOtherOwner: a /tmp/scope-<uid> directory another user made is refused
// and left as it was.
func TestDefaultDirRefusesOtherOwner(t *testing.T) {
	otheruser.Require(t)
	tmp := t.TempDir()
	path := filepath.Join(tmp, fmt.Sprintf("scope-%d", os.Getuid()))
	if err := os.Mkdir(path, 0o777); err != nil {
		t.Fatal(err)
	}
	otheruser.Give(t, path, 0o777)
	_, _, err := tmpDefaultDir(t, tmp)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s belongs to uid %d, not to you", path, otheruser.UID)) || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("directory of uid %d: %v", otheruser.UID, err)
	}
	if m := mode(t, path); m != 0o777 {
		t.Errorf("the other user's directory was changed to mode %04o", m)
	}
}

// TestDefaultDirOwn: the directory is created 0700; an own one others can enter is made
// private; a file in its place is refused.
func TestDefaultDirOwn(t *testing.T) {
	tmp := t.TempDir()
	path, d, err := tmpDefaultDir(t, tmp)
	if err != nil || string(d) != path {
		t.Fatalf("DefaultDir = %q, %v; want %s", d, err, path)
	}
	if m := mode(t, path); m != 0o700 {
		t.Errorf("created with mode %04o", m)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tmpDefaultDir(t, tmp); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o700 {
		t.Errorf("own directory left with mode %04o", m)
	}

	file := t.TempDir()
	if err := os.WriteFile(filepath.Join(file, fmt.Sprintf("scope-%d", os.Getuid())), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tmpDefaultDir(t, file); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("a file in its place: %v", err)
	}
}
