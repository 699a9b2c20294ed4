// Package session hosts and finds running sessions: one running chain of pipelines with a
// control endpoint (newline-delimited JSON over a unix socket, see docs/sessions.md) and its
// output frames and audio published to a shared-memory ring (see ring.go).
//
// A session is four things in the runtime directory ($XDG_RUNTIME_DIR/scope, else
// /tmp/scope-<uid>, mode 0700): an id, an info file <id>.json, a control socket <id>.sock and a
// frame ring (in /dev/shm when it exists, else the runtime directory). The scope binary hosts
// sessions (Start); scope-preview and `scope plugin reload` find them (List, Find) and talk to
// them (Dial).
//
// This package must not import Ebitengine or use cgo: the scope binary imports it.
package session

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Info describes a running session; it is the JSON of its info file.
type Info struct {
	ID      string    `json:"id"`
	PID     int       `json:"pid"`
	Chain   []string  `json:"chain"` // pipeline ids, in order
	Started time.Time `json:"started"`
	Socket  string    `json:"socket"` // control endpoint (unix socket)
	SHM     string    `json:"shm"`    // frame ring file
}

// Dir is a runtime directory holding session info files and sockets.
type Dir string

// DefaultDir returns the runtime directory for this user, taken from getenv
// (os.Getenv when nil): $XDG_RUNTIME_DIR/scope, else /tmp/scope-<uid>. It creates it with mode
// 0700. An existing one must be a real directory of this user's: a symbolic link or a
// directory another user owns (either may have been planted in /tmp by someone else) is
// refused, and never changed. One of this user's that others can enter is made 0700.
func DefaultDir(getenv func(string) string) (Dir, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var dir string
	if x := getenv("XDG_RUNTIME_DIR"); x != "" {
		dir = filepath.Join(x, "scope")
	} else {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("scope-%d", os.Getuid()))
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("session runtime dir: %w", err)
	}
	if err := makePrivate(dir); err != nil {
		return "", err
	}
	return Dir(dir), nil
}

// makePrivate checks that dir is a directory (not a symbolic link) owned by this user and
// takes away every other user's access to it. It works on the directory it opened, not on the
// path again, so the path cannot be swapped between the check and the chmod.
func makePrivate(dir string) error {
	const fix = "remove it (another user may have planted it) or set XDG_RUNTIME_DIR to a directory of your own"
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR):
		if target, lerr := os.Readlink(dir); lerr == nil {
			return fmt.Errorf("session runtime dir %s is a symbolic link (to %q), not a directory: %s", dir, target, fix)
		}
		return fmt.Errorf("session runtime dir %s is not a directory: %s", dir, fix)
	case err != nil:
		return fmt.Errorf("session runtime dir %s: %w", dir, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("session runtime dir %s: %w", dir, err)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("session runtime dir %s belongs to uid %d, not to you (uid %d): %s", dir, st.Uid, os.Getuid(), fix)
	}
	if st.Mode&0o077 != 0 {
		if err := syscall.Fchmod(fd, 0o700); err != nil {
			return fmt.Errorf("session runtime dir %s: make it private: %w", dir, err)
		}
	}
	return nil
}

// List returns the sessions of the default runtime directory, oldest first.
func List() ([]Info, error) {
	d, err := DefaultDir(nil)
	if err != nil {
		return nil, err
	}
	return d.List()
}

// Find returns the session with this id (or unique id prefix) in the default runtime
// directory; with an empty id, the only running session.
func Find(id string) (Info, error) {
	d, err := DefaultDir(nil)
	if err != nil {
		return Info{}, err
	}
	return d.Find(id)
}

// List returns the running sessions, oldest first. Entries whose process is gone are removed
// (info file, socket and frame ring).
func (d Dir) List() ([]Info, error) {
	names, err := filepath.Glob(filepath.Join(string(d), "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var out []Info
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			continue // removed meanwhile
		}
		var info Info
		if err := json.Unmarshal(b, &info); err != nil || info.ID == "" {
			continue
		}
		if !alive(info.PID) {
			removeFiles(name, info)
			continue
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// ErrNoSession is wrapped by Find when no session matches.
var ErrNoSession = errors.New("no running session")

// Find returns the session with this id or unique id prefix; with an empty id, the only one.
func (d Dir) Find(id string) (Info, error) {
	list, err := d.List()
	if err != nil {
		return Info{}, err
	}
	if id == "" {
		switch len(list) {
		case 0:
			return Info{}, fmt.Errorf("%w: start one with 'scope run PIPELINE'", ErrNoSession)
		case 1:
			return list[0], nil
		}
		return Info{}, fmt.Errorf("%d sessions are running (%s): name one (see 'scope sessions')", len(list), ids(list))
	}
	var match []Info
	for _, s := range list {
		if s.ID == id {
			return s, nil
		}
		if strings.HasPrefix(s.ID, id) {
			match = append(match, s)
		}
	}
	switch len(match) {
	case 0:
		return Info{}, fmt.Errorf("%w with id %q (see 'scope sessions')", ErrNoSession, id)
	case 1:
		return match[0], nil
	}
	return Info{}, fmt.Errorf("session id %q is ambiguous: %s", id, ids(match))
}

func ids(list []Info) string {
	var s []string
	for _, i := range list {
		s = append(s, i.ID)
	}
	return strings.Join(s, ", ")
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// removeFiles deletes a session's info file, socket and ring (ignoring what is gone).
func removeFiles(infoPath string, info Info) {
	os.Remove(infoPath)
	if info.Socket != "" {
		os.Remove(info.Socket)
	}
	if info.SHM != "" {
		os.Remove(info.SHM)
	}
}

// NewID returns a new session id: 8 random hex digits.
func NewID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// SHMPath picks where the frame ring of session id lives: /dev/shm when it is a writable
// directory, else the runtime directory.
func (d Dir) SHMPath(id string) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() && syscall.Access("/dev/shm", 2 /* W_OK */) == nil {
		return filepath.Join("/dev/shm", fmt.Sprintf("scope-%d-%s.frames", os.Getuid(), id))
	}
	return filepath.Join(string(d), id+".frames")
}

// WriteInfo writes the info file of a session atomically (readers never see half a file) and
// returns its path; the session is visible to List from then on.
func (d Dir) WriteInfo(info Info) (string, error) {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return "", fmt.Errorf("session info: %w", err)
	}
	path := filepath.Join(string(d), info.ID+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("write session info: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write session info: %w", err)
	}
	return path, nil
}
