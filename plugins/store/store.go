// Package store keeps the installed plugins: the state file plugins.json (the source of
// truth for what is installed), the library files it points to under store/, and the lock
// that lets one change run at a time.
//
// Every change is a commit: new library files are written under unique names (temp file,
// fsync, rename), then plugins.json is written to a temp file, fsynced and renamed over the
// old one, then the folder is fsynced. A process killed at any point leaves either the old
// state or the new one, both complete; library files no state refers to are removed by the
// next change.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// File and folder names inside the data folder.
const (
	StateFile = "plugins.json"
	LibDir    = "store"
	LockFile  = "plugins.lock"
	StageDir  = "staging"
	CacheDir  = "cache"
)

// FormatVersion is the state file's format version.
const FormatVersion = 1

// Source is where an installed plugin came from.
type Source struct {
	// Kind is "git", "local" or "index".
	Kind string `json:"kind"`
	// Spec is what the user typed to install it (normalized).
	Spec string `json:"spec"`
	// URL is the git URL (git and index sources).
	URL string `json:"url,omitempty"`
	// RefKind is branch, tag, commit or default (git and index sources).
	RefKind string `json:"ref_kind,omitempty"`
	// Ref is the branch, tag or commit followed.
	Ref string `json:"ref,omitempty"`
	// Commit is the full hash installed.
	Commit string `json:"commit,omitempty"`
	// Path is the linked folder (local sources).
	Path string `json:"path,omitempty"`
	// Index is the index the plugin was resolved through (index sources).
	Index string `json:"index,omitempty"`
}

// Plugin is one installed plugin.
type Plugin struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	// ABI is the ABI major the library was built for.
	ABI    int    `json:"abi"`
	Source Source `json:"source"`
	// Linked is true for local folders installed in place (editable).
	Linked bool `json:"linked"`
	// Build is the build system used.
	Build string `json:"build"`
	// Library is the library's file name under store/.
	Library string `json:"library"`
	// SHA256 is the library file's checksum.
	SHA256 string `json:"sha256"`
	// Pipelines are the ids the library registered at validation.
	Pipelines []string `json:"pipelines"`
	// InstalledAt is when this build was committed.
	InstalledAt time.Time `json:"installed_at"`
}

// State is the content of plugins.json.
type State struct {
	Version int      `json:"version"`
	Plugins []Plugin `json:"plugins"`
}

// Find returns the plugin with this name, or nil.
func (s *State) Find(name string) *Plugin {
	for i := range s.Plugins {
		if s.Plugins[i].Name == name {
			return &s.Plugins[i]
		}
	}
	return nil
}

// Names returns every plugin's name.
func (s *State) Names() []string {
	out := make([]string, len(s.Plugins))
	for i, p := range s.Plugins {
		out[i] = p.Name
	}
	return out
}

// Owner returns the plugin that provides pipeline id, or nil.
func (s *State) Owner(id string) *Plugin {
	for i := range s.Plugins {
		for _, p := range s.Plugins[i].Pipelines {
			if p == id {
				return &s.Plugins[i]
			}
		}
	}
	return nil
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := &State{Version: s.Version, Plugins: make([]Plugin, len(s.Plugins))}
	for i, p := range s.Plugins {
		p.Pipelines = append([]string(nil), p.Pipelines...)
		c.Plugins[i] = p
	}
	return c
}

// Put adds p or replaces the plugin of the same name, keeping the list sorted by name.
func (s *State) Put(p Plugin) {
	if old := s.Find(p.Name); old != nil {
		*old = p
		return
	}
	s.Plugins = append(s.Plugins, p)
	sort.Slice(s.Plugins, func(i, j int) bool { return s.Plugins[i].Name < s.Plugins[j].Name })
}

// Remove deletes the plugin with this name.
func (s *State) Remove(name string) {
	for i := range s.Plugins {
		if s.Plugins[i].Name == name {
			s.Plugins = append(s.Plugins[:i], s.Plugins[i+1:]...)
			return
		}
	}
}

// Store is the data folder holding the state and the libraries.
type Store struct {
	// Dir is the data folder ($SCOPE_HOME, $XDG_DATA_HOME/scope or ~/.local/share/scope).
	Dir string
}

// New returns the store in dir.
func New(dir string) *Store { return &Store{Dir: dir} }

// StatePath is plugins.json's path.
func (s *Store) StatePath() string { return filepath.Join(s.Dir, StateFile) }

// LibPath is the path of a library file named in the state.
func (s *Store) LibPath(name string) string { return filepath.Join(s.Dir, LibDir, name) }

// Load reads plugins.json; a missing file is an empty state.
func (s *Store) Load() (*State, error) {
	b, err := os.ReadFile(s.StatePath())
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: FormatVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read installed plugins: %w", err)
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("read installed plugins: %s is damaged: %w", s.StatePath(), err)
	}
	if st.Version > FormatVersion {
		return nil, fmt.Errorf("read installed plugins: %s has format %d; this scope reads up to %d (upgrade scope)", s.StatePath(), st.Version, FormatVersion)
	}
	return st, nil
}

// Lock is a held plugins.lock.
type Lock struct{ f *os.File }

// ErrLocked is wrapped by TryLock when another process holds the lock.
var ErrLocked = errors.New("another scope process is changing the installed plugins")

// TryLock takes the store's lock without waiting. The lock is an flock on plugins.lock:
// the kernel drops it when the holder exits, however it exits.
func (s *Store) TryLock() (*Lock, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(f)
		f.Close()
		who := strings.TrimSpace(string(holder))
		if who != "" {
			who = " (pid " + who + ")"
		}
		return nil, fmt.Errorf("%w%s; try again when it finishes", ErrLocked, who)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// Stage creates a fresh staging folder for one transaction. Remove it when done.
func (s *Store) Stage() (string, error) {
	base := filepath.Join(s.Dir, StageDir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create staging folder: %w", err)
	}
	d, err := os.MkdirTemp(base, "tx-")
	if err != nil {
		return "", fmt.Errorf("create staging folder: %w", err)
	}
	return d, nil
}

// UniqueName returns a new library file name for plugin name: name-<tag>-<random>.so.
func UniqueName(name, tag string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	if len(tag) > 12 {
		tag = tag[:12]
	}
	if tag == "" {
		tag = time.Now().UTC().Format("20060102T150405")
	}
	return fmt.Sprintf("%s-%s-%s.so", name, tag, hex.EncodeToString(b[:]))
}

// AddLibrary copies the built library src into store/ under name (temp file, fsync,
// rename, fsync of the folder). The state does not refer to it until Commit.
func (s *Store) AddLibrary(src, name string) error {
	dir := filepath.Join(s.Dir, LibDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("add library: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("add library: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("add library: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("add library: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("add library: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("add library: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("add library: %w", err)
	}
	return syncDir(dir)
}

// Commit writes st as the new plugins.json atomically: temp file, fsync, rename, fsync of
// the folder.
func (s *Store) Commit(st *State) error {
	st.Version = FormatVersion
	if st.Plugins == nil {
		st.Plugins = []Plugin{}
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write installed plugins: %w", err)
	}
	b = append(b, '\n')
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("write installed plugins: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, ".plugins-*.json")
	if err != nil {
		return fmt.Errorf("write installed plugins: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write installed plugins: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write installed plugins: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write installed plugins: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write installed plugins: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.StatePath()); err != nil {
		return fmt.Errorf("write installed plugins: %w", err)
	}
	return syncDir(s.Dir)
}

// Collect removes what no committed state refers to: library files of earlier commits or of
// killed transactions, temp files and staging folders. Call it with the lock held.
func (s *Store) Collect(st *State) {
	keep := map[string]bool{}
	for _, p := range st.Plugins {
		keep[p.Library] = true
	}
	if ents, err := os.ReadDir(filepath.Join(s.Dir, LibDir)); err == nil {
		for _, e := range ents {
			if !keep[e.Name()] {
				_ = os.RemoveAll(filepath.Join(s.Dir, LibDir, e.Name()))
			}
		}
	}
	if ents, err := os.ReadDir(s.Dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".plugins-") {
				_ = os.Remove(filepath.Join(s.Dir, e.Name()))
			}
		}
	}
	_ = os.RemoveAll(filepath.Join(s.Dir, StageDir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
