package manager

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	UpdatePinned    = "pinned"  // installed at a commit: nothing to follow
	UpdateLinked    = "linked"  // a linked folder: reload rebuilds it
)

// UpdateStatus is the result of one update check.
type UpdateStatus struct {
	State string `json:"state"`
	// Latest is the newer commit (git) or version (index) when State is available.
	Latest string `json:"latest,omitempty"`
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
		ix, err := loadIndex(ctx)
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		v, err := ix.Resolve(p.Name, "")
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		if index.Compare(v.Version, p.Version) > 0 {
			return UpdateStatus{State: UpdateAvailable, Latest: v.Version}
		}
		return UpdateStatus{State: UpToDate}
	case source.KindGit:
		if p.Source.RefKind == source.RefCommit {
			return UpdateStatus{State: UpdatePinned}
		}
		head, err := source.RemoteCommit(ctx, p.Source.URL, p.Source.RefKind, p.Source.Ref)
		if err != nil {
			return UpdateStatus{State: UpdateUnknown, Error: err.Error()}
		}
		if head != p.Source.Commit {
			return UpdateStatus{State: UpdateAvailable, Latest: head}
		}
		return UpdateStatus{State: UpToDate}
	}
	return UpdateStatus{State: UpdateUnknown, Error: "unknown source kind " + p.Source.Kind}
}
