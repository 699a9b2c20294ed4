package loader_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scopenative/scope/internal/otheruser"
	"github.com/scopenative/scope/loader"
)

// TestPrivateCopyAttack plays another user who planted the old copy folder
// ($TMPDIR/scope-libs-<uid>, theirs, mode 0777) and, at the worst moment (between the copy and
// the dlopen), moves their own library over the copy. Their code must never load.
func TestPrivateCopyAttack(t *testing.T) {
	otheruser.Require(t)
	tmp := otheruser.TempDir(t)
	t.Setenv("TMPDIR", tmp)
	planted := filepath.Join(tmp, fmt.Sprintf("scope-libs-%d", os.Getuid()))
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	otheruser.Give(t, planted, 0o777)
	foreign := filepath.Join(planted, "foreign.so")
	data, err := os.ReadFile(testPlugin(t, "FOREIGN"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, data, 0o755); err != nil {
		t.Fatal(err)
	}
	otheruser.Give(t, foreign, 0o755)
	plugin := testPlugin(t, "")

	var attacked bool
	lib, err := loader.OpenHooked(plugin, loader.Options{}, func(copyPath string) {
		attacked = true
		if strings.HasPrefix(copyPath, planted+"/") {
			t.Errorf("copy %s made in the folder another user planted", copyPath)
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Dir(copyPath), &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) != os.Geteuid() || st.Mode&0o777 != 0o700 {
			t.Errorf("copy folder %s: uid %d mode %04o, want uid %d mode 0700", filepath.Dir(copyPath), st.Uid, st.Mode&0o777, os.Geteuid())
		}
		if out, err := otheruser.Command("mv", "-f", foreign, copyPath).CombinedOutput(); err == nil {
			t.Errorf("another user replaced the private copy %s", copyPath)
		} else if !strings.Contains(string(out), "ermission denied") {
			t.Errorf("mv as uid %d failed for another reason than permissions: %s", otheruser.UID, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if !attacked {
		t.Fatal("the hook between copy and dlopen never ran")
	}
	if lib.Name != "loader-test" {
		t.Fatalf("loaded library %q, not the plugin's own code", lib.Name)
	}
	// Nothing is left behind: only the planted folder, with only the attacker's file.
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 || ents[0].Name() != filepath.Base(planted) {
		t.Errorf("left in $TMPDIR: %v, want only %s", ents, filepath.Base(planted))
	}
	if ents, _ := os.ReadDir(planted); len(ents) != 1 {
		t.Errorf("planted folder holds %v, want only foreign.so", ents)
	}
}

// TestCopyFolderRefused: a copy folder another user owns, or one others can write to that is
// not sticky, is refused with a message naming it and the way out; a sticky one (/tmp) is fine.
func TestCopyFolderRefused(t *testing.T) {
	plugin := testPlugin(t, "")
	open := func(dir string) error {
		lib, err := loader.Open(plugin, loader.Options{CopyDir: dir})
		if err == nil {
			lib.Close()
		}
		return err
	}
	loose := t.TempDir()
	if err := os.Chmod(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	err := open(loose)
	if !errors.Is(err, loader.ErrUnsafeCopyFolder) {
		t.Fatalf("world-writable copy folder: %v, want ErrUnsafeCopyFolder", err)
	}
	for _, w := range []string{plugin, loose, "writable by other users and not sticky", "chmod go-w", "TMPDIR"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if err := os.Chmod(loose, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := open(loose); err != nil {
		t.Errorf("sticky world-writable copy folder (like /tmp): %v", err)
	}
	if ents, _ := os.ReadDir(loose); len(ents) != 0 {
		t.Errorf("left in the copy folder: %v", ents)
	}

	t.Run("other owner", func(t *testing.T) {
		otheruser.Require(t)
		theirs := t.TempDir()
		otheruser.Give(t, theirs, 0o700)
		err := open(theirs)
		if !errors.Is(err, loader.ErrUnsafeCopyFolder) || !strings.Contains(err.Error(), fmt.Sprintf("%s belongs to uid %d", theirs, otheruser.UID)) {
			t.Fatalf("copy folder of uid %d: %v", otheruser.UID, err)
		}
		if ents, _ := os.ReadDir(theirs); len(ents) != 0 {
			t.Errorf("written to the other user's folder: %v", ents)
		}
	})
}

// TestDlopenErrorNamesLibrary: dlerror's message names the file it opened; the user must see
// their library there, not the private copy.
func TestDlopenErrorNamesLibrary(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "notalib.so")
	if err := os.WriteFile(bad, []byte("not an ELF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loader.Open(bad, loader.Options{})
	if err == nil {
		t.Fatal("Open accepted a text file")
	}
	if strings.Contains(err.Error(), "scope-lib") || strings.Count(err.Error(), bad) < 2 {
		t.Errorf("error %q names the private copy, not (twice) %s", err, bad)
	}
}
