// Package otheruser lets tests play another local user, nobody (uid and gid 65534): give it
// files, and run commands as it. Only root can do either, so Require skips the test, with the
// reason, everywhere else (CI runs the tests as root).
package otheruser

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// UID and GID are nobody's ids.
const (
	UID = 65534
	GID = 65534
)

// Require skips t unless the test runs as root.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root to give files to another user (uid %d) and run commands as it; running as uid %d", UID, os.Geteuid())
	}
}

// Give makes nobody the owner of path (not following a symlink) and sets its mode.
func Give(t testing.TB, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Lchown(path, UID, GID); err != nil {
		t.Fatalf("otheruser: give %s to uid %d: %v", path, UID, err)
	}
	if mode != 0 {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatalf("otheruser: chmod %s: %v", path, err)
		}
	}
}

// TempDir returns a fresh test folder that nobody can enter (t.TempDir makes it and its
// parent 0700).
func TempDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatalf("otheruser: open %s to others: %v", p, err)
		}
	}
	return d
}

// Command returns cmd set to run as nobody.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: UID, Gid: GID}}
	return cmd
}
