package loader

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/ebitengine/purego"
)

// ErrUnsafeCopyFolder is wrapped (by Open and DlopenCopy) when the folder private copies of
// libraries are made in could be changed by another user, so nothing is loaded from it.
var ErrUnsafeCopyFolder = errors.New("unsafe folder for private library copies")

// DlopenCopy copies the library src into a folder created fresh for this one copy (mode
// 0700, random name, under parent; "" means os.TempDir()), dlopens the copy with
// RTLD_NOW|RTLD_LOCAL and removes the copy and its folder again, whatever the outcome.
//
// dlopen caches by path, so loading a uniquely named copy is what makes a library rebuilt at
// the same path load fresh, and a loaded file is never overwritten in place. The fresh folder
// is what keeps other users out: nobody else can enter it, and parent is refused unless it
// belongs to this user (or root) and others cannot write to it, or it is sticky like /tmp, so
// nobody else can rename the folder away either. No well-known folder is ever reused, so one
// planted by another user is never written to.
//
// Errors name src, never the copy; they wrap ErrUnsafeCopyFolder when parent is refused.
func DlopenCopy(src, parent string) (uintptr, error) {
	return dlopenCopy(src, parent, nil)
}

// dlopenCopy is DlopenCopy; beforeDlopen, when not nil, runs with the copy's path between the
// copy and the dlopen.
func dlopenCopy(src, parent string, beforeDlopen func(copyPath string)) (uintptr, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	if err := checkCopyParent(parent); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("scope-lib-%d-", os.Geteuid()))
	if err != nil {
		return 0, fmt.Errorf("make private copy of %s: %w", src, err)
	}
	defer os.RemoveAll(dir) // the mapping stays; nothing is left behind on disk
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return 0, fmt.Errorf("make private copy of %s: %w", src, err)
	}
	// The random part keeps the name unique even if MkdirTemp hands out a folder name again
	// that a still-loaded copy had.
	dst := filepath.Join(dir, fmt.Sprintf("%s.%d.%s.so", filepath.Base(src), os.Getpid(), hex.EncodeToString(rnd[:])))
	if err := copyFile(dst, src); err != nil {
		return 0, fmt.Errorf("make private copy of %s: %w", src, err)
	}
	if beforeDlopen != nil {
		beforeDlopen(dst)
	}
	h, err := purego.Dlopen(dst, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		// dlerror names the file it opened: name the user's library instead.
		return 0, fmt.Errorf("%s (is it a shared library built for %s/%s with all its dependencies installed?)",
			strings.ReplaceAll(err.Error(), dst, src), runtime.GOOS, runtime.GOARCH)
	}
	return h, nil
}

// copyFile copies src to the new file dst (which must not exist).
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkCopyParent refuses a folder in which another user could rename or replace what this
// user creates: one owned by someone other than this user or root, or one others can write
// to that is not sticky.
func checkCopyParent(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder for private library copies: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a folder (set TMPDIR to a folder of your own)", ErrUnsafeCopyFolder, dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() && sys.Uid != 0 {
		return fmt.Errorf("%w: %s belongs to uid %d, not to you (uid %d) or root: that user could swap a library between its copy and its loading; set TMPDIR to a folder of your own",
			ErrUnsafeCopyFolder, dir, sys.Uid, os.Geteuid())
	}
	if st.Mode().Perm()&0o022 != 0 && st.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("%w: %s is writable by other users and not sticky (mode %04o): they could swap a library between its copy and its loading; run 'chmod go-w %s' or set TMPDIR to a folder of your own",
			ErrUnsafeCopyFolder, dir, st.Mode().Perm(), dir)
	}
	return nil
}
