package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/scopenative/scope/plugins/index"
	"github.com/scopenative/scope/plugins/source"
	"github.com/scopenative/scope/plugins/store"
)

// Update states shown by `scope plugin list`.
const (
	UpdateAvailable = "available" // a newer commit or version exists
	UpToDate        = "up-to-date"
	UpdateUnknown   = "unknown" // the check failed or timed out: never shown as up to date
	UpdatePinned    = "pinned"  // installed at a commit, a tag or name==version: update keeps it
	UpdateLinked    = "linked"  // a linked folder: reload rebuilds it, update leaves it alone
)

// What `scope plugin update` does with each kind of source (docs/plugin-packages.md says
// the same; `plugin list` shows the same states):
//
//   - a branch or the default branch: follows it; installs when it points at a new commit;
//   - a tag: stays on the tag; reinstalls only when the tag itself was moved. A newer tag
//     is shown (Latest) but not taken: installing it is 'install --force URL@TAG';
//   - a commit: pinned, never changes;
//   - an index name: the index's newest version, installed when newer;
//   - an index name==version: pinned to that version; a newer one is shown, not taken;
//   - a linked folder: nothing (reload rebuilds it).

// UpdateStatus is the result of one update check.
type UpdateStatus struct {
	State string `json:"state"`
	// Latest is the newer commit (git) or version (index) when State is available.
	Latest string `json:"latest,omitempty"`
	// Pin says what holds a pinned plugin in place ("commit 1a2b3c4", "tag v1.0.0",
	// "version 0.1.0") and how to move it.
	Pin string `json:"pin,omitempty"`
	// Error says why State is unknown.
	Error string `json:"error,omitempty"`
	// Checked is when the check ran (it may come from the cache).
	Checked time.Time `json:"checked"`
}

type cacheEntry struct {
	Key    string       `json:"key"`
	Status UpdateStatus `json:"status"`
}

// cacheKey changes whenever what is installed changes, which invalidates the entry.
func cacheKey(p store.Plugin) string {
	return p.Source.Kind + "|" + p.Source.Spec + "|" + p.Source.Ref + "|" + p.Source.Commit + "|" + p.Version
}

func (m *Manager) cachePath() string {
	return filepath.Join(m.o.Store.Dir, store.CacheDir, "updates.json")
}

// CheckUpdates checks every plugin concurrently, each within CheckTimeout, using cached
// answers younger than CacheTTL unless refresh is set. Failures are UpdateUnknown.
func (m *Manager) CheckUpdates(ctx context.Context, st *store.State, refresh bool) map[string]UpdateStatus {
	cache := map[string]cacheEntry{}
	if b, err := os.ReadFile(m.cachePath()); err == nil {
		_ = json.Unmarshal(b, &cache)
	}
	now := m.o.Now()
	out := make(map[string]UpdateStatus, len(st.Plugins))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var ix *index.Index
	var ixErr error
	var ixOnce sync.Once
	loadIndex := func(ctx context.Context) (*index.Index, error) {
		ixOnce.Do(func() { ix, ixErr = index.Load(ctx, m.o.Index) })
		return ix, ixErr
	}
	for _, p := range st.Plugins {
		key := cacheKey(p)
		if c, ok := cache[p.Name]; ok && !refresh && c.Key == key && c.Status.State != UpdateUnknown && m.o.CacheTTL > 0 && now.Sub(c.Status.Checked) < m.o.CacheTTL {
			out[p.Name] = c.Status
			continue
		}
		wg.Add(1)
		go func(p store.Plugin) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, m.o.CheckTimeout)
			defer cancel()
			s := m.check(cctx, p, loadIndex)
			s.Checked = now
			mu.Lock()
			out[p.Name] = s
			cache[p.Name] = cacheEntry{Key: key, Status: s}
			mu.Unlock()
		}(p)
	}
	wg.Wait()
	for name := range cache { // forget uninstalled plugins
		if st.Find(name) == nil {
			delete(cache, name)
		}
	}
	if b, err := json.MarshalIndent(cache, "", "  "); err == nil {
		_ = os.MkdirAll(filepath.Dir(m.cachePath()), 0o755)
		tmp := m.cachePath() + ".tmp"
		if os.WriteFile(tmp, b, 0o644) == nil {
			_ = os.Rename(tmp, m.cachePath())
		}
	}
	return out
}

func (m *Manager) check(ctx context.Context, p store.Plugin, loadIndex func(context.Context) (*index.Index, error)) UpdateStatus {
	if p.Linked {
		return UpdateStatus{State: UpdateLinked}
	}
	type answer struct {
		s UpdateStatus
	}
	ch := make(chan answer, 1)
	go func() { // go-git does not always honour the context: bound the wait ourselves
		ch <- answer{m.checkSlow(ctx, p, loadIndex)}
	}()
	select {
	case a := <-ch:
		return a.s
	case <-ctx.Done():
		return UpdateStatus{State: UpdateUnknown, Error: "the check timed out"}
	}
}

func (m *Manager) checkSlow(ctx context.Context, p store.Plugin, loadIndex func(context.Context) (*index.Index, error)) UpdateStatus {
	switch p.Source.Kind {
	case source.KindIndex:
		name, pinned, _ := strings.Cut(p.Source.Spec, "==")
		ix, err := loadIndex(ctx)
		if err != nil {
			if pinned != "" {
				return UpdateStatus{State: UpdatePinned, Pin: pinIndex(name, pinned, "")}
			}
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		v, err := ix.Resolve(name, "")
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		newer := index.Compare(v.Version, p.Version) > 0
		switch {
		case pinned != "" && newer:
			return UpdateStatus{State: UpdatePinned, Latest: v.Version, Pin: pinIndex(name, pinned, v.Version)}
		case pinned != "":
			return UpdateStatus{State: UpdatePinned, Pin: pinIndex(name, pinned, "")}
		case newer:
			return UpdateStatus{State: UpdateAvailable, Latest: v.Version}
		}
		return UpdateStatus{State: UpToDate}
	case source.KindGit:
		if p.Source.RefKind == source.RefCommit {
			return UpdateStatus{State: UpdatePinned, Pin: "commit " + short(p.Source.Commit) + "; install --force URL@BRANCH to follow a branch"}
		}
		refs, err := source.RemoteRefs(ctx, p.Source.URL)
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		head, err := refs.Commit(p.Source.URL, p.Source.RefKind, p.Source.Ref)
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		if head != p.Source.Commit {
			return UpdateStatus{State: UpdateAvailable, Latest: head}
		}
		if p.Source.RefKind == source.RefTag {
			s := UpdateStatus{State: UpdatePinned, Pin: "tag " + p.Source.Ref}
			if t := newestTag(refs.Tags(), p.Source.Ref); t != "" {
				s.Latest = t
				s.Pin += fmt.Sprintf("; newer tag %s: 'scope plugin install --force %s@%s' takes it", t, p.Source.URL, t)
			}
			return s
		}
		return UpdateStatus{State: UpToDate}
	}
	return UpdateStatus{State: UpdateUnknown, Error: "unknown source kind " + p.Source.Kind}
}

// pinIndex describes an index pin and, when the index has newer, how to move it.
func pinIndex(name, pinned, newer string) string {
	if newer == "" {
		return "version " + pinned
	}
	return fmt.Sprintf("version %s; the index has %s: 'scope plugin install --force %s' follows the latest, 'scope plugin install --force %s==%s' pins it", pinned, newer, name, name, newer)
}

// newestTag returns the tag among tags with the highest version above cur, or "" when cur
// or none of them looks like a version (v1.2.3, 1.2).
func newestTag(tags []string, cur string) string {
	if !looksVersion(cur) {
		return ""
	}
	best := ""
	for _, t := range tags {
		if !looksVersion(t) || index.Compare(t, cur) <= 0 {
			continue
		}
		if best == "" || index.Compare(t, best) > 0 {
			best = t
		}
	}
	return best
}

func looksVersion(s string) bool {
	s = strings.TrimPrefix(s, "v")
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

// Describe is the status in words, the same for `plugin list` and `plugin update`.
func (s UpdateStatus) Describe() string {
	switch s.State {
	case UpdateAvailable:
		return "update available (" + short40(s.Latest) + ")"
	case UpToDate:
		return "up to date"
	case UpdatePinned:
		if s.Pin == "" {
			return "pinned"
		}
		return "pinned to " + s.Pin
	case UpdateLinked:
		return "linked (update leaves it alone; 'scope plugin reload' rebuilds it)"
	}
	return "unknown (" + s.Error + ")"
}

// short40 shortens a full commit hash, leaving versions as they are.
func short40(s string) string {
	if len(s) == 40 {
		return s[:7]
	}
	return s
}
