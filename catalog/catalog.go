// Package catalog finds plugin libraries on the plugin search path, opens them, and indexes
// their pipelines by id. A library that fails to load is recorded with its reason and never
// hides the others; a pipeline id claimed by two libraries is refused in the second, naming
// both.
package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/scopenative/scope/loader"
)

// EnvPath is the environment variable holding extra plugin files or folders, separated by
// colons.
const EnvPath = "SCOPE_PLUGIN_PATH"

// Failure is a library that could not be used.
type Failure struct {
	Path string
	Err  error
}

// Catalog is the set of loaded libraries and their pipelines.
type Catalog struct {
	Libraries []*loader.Library
	Failed    []Failure
	byID      map[string]*loader.Pipeline
}

// SearchPath returns the places to look for plugins, in order: the --plugin values, the
// entries of SCOPE_PLUGIN_PATH (env), then the extra defaults (such as the installed-plugin
// folder) that exist.
func SearchPath(flags []string, env string, defaults ...string) []string {
	var out []string
	out = append(out, flags...)
	for _, p := range strings.Split(env, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	for _, d := range defaults {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// Files expands a search path into library files: files are taken as they are, folders are
// searched (one level deep, and one level of subfolders) for *.so files. Missing entries are
// returned as failures.
func Files(paths []string) ([]string, []Failure) {
	var files []string
	var failed []Failure
	seen := map[string]bool{}
	add := func(f string) {
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		if !seen[abs] {
			seen[abs] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			failed = append(failed, Failure{Path: p, Err: fmt.Errorf("plugin path %s: %w", p, err)})
			continue
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		for _, pattern := range []string{"*.so", "*/*.so"} {
			matches, _ := filepath.Glob(filepath.Join(p, pattern))
			sort.Strings(matches)
			for _, m := range matches {
				add(m)
			}
		}
	}
	return files, failed
}

// Open loads every library found on paths. It never fails as a whole: libraries that do not
// load are listed in Failed.
func Open(paths []string, opts loader.Options) *Catalog {
	c := &Catalog{byID: map[string]*loader.Pipeline{}}
	files, failed := Files(paths)
	c.Failed = append(c.Failed, failed...)
	for _, f := range files {
		lib, err := loader.Open(f, opts)
		if err != nil {
			c.Failed = append(c.Failed, Failure{Path: f, Err: err})
			continue
		}
		if err := c.add(lib); err != nil {
			c.Failed = append(c.Failed, Failure{Path: f, Err: err})
			lib.Close()
			continue
		}
		c.Libraries = append(c.Libraries, lib)
	}
	return c
}

// add indexes a library's pipelines, refusing the whole library if one of its ids is taken.
func (c *Catalog) add(lib *loader.Library) error {
	for _, p := range lib.Pipelines() {
		if other, dup := c.byID[p.ID]; dup {
			return fmt.Errorf("load %s: pipeline id %q is already provided by %s; remove one of the two plugins from the plugin path", lib.Path(), p.ID, other.Library().Path())
		}
	}
	for _, p := range lib.Pipelines() {
		c.byID[p.ID] = p
	}
	return nil
}

// Pipelines returns every pipeline, sorted by id.
func (c *Catalog) Pipelines() []*loader.Pipeline {
	out := make([]*loader.Pipeline, 0, len(c.byID))
	for _, p := range c.byID {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IDs returns every pipeline id, sorted.
func (c *Catalog) IDs() []string {
	ps := c.Pipelines()
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// Pipeline returns the pipeline with this id. The error for an unknown id lists the known
// ones and mentions libraries that failed to load.
func (c *Catalog) Pipeline(id string) (*loader.Pipeline, error) {
	if p, ok := c.byID[id]; ok {
		return p, nil
	}
	msg := fmt.Sprintf("unknown pipeline %q", id)
	if ids := c.IDs(); len(ids) > 0 {
		if near := similar(id, ids); len(near) > 0 {
			msg += "; did you mean " + strings.Join(near, ", ") + "?"
		}
		msg += "; known pipelines: " + knownIDs(ids)
	} else {
		msg += "; no plugins were found: build them (make examples) and add their folder to " + EnvPath + " or pass --plugin PATH"
	}
	if len(c.Failed) > 0 {
		msg += fmt.Sprintf(" (%d plugin file(s) failed to load; see 'scope pipelines')", len(c.Failed))
	}
	return nil, fmt.Errorf("%s", msg)
}

// Close closes every library (instances must be closed first).
func (c *Catalog) Close() {
	for _, l := range c.Libraries {
		l.Close()
	}
}

// bridgeSize is how many pipelines sharing a "namespace." prefix make a bridge (frei0r.*),
// which an unknown-pipeline message counts instead of listing.
const bridgeSize = 10

// knownIDs lists the pipelines an unknown-pipeline message shows: those of ordinary plugins
// first (at most 20), then one count per bridge namespace with the command that lists it.
func knownIDs(ids []string) string {
	byNS := map[string]int{}
	for _, id := range ids {
		if ns, _, ok := strings.Cut(id, "."); ok {
			byNS[ns]++
		}
	}
	var plain, bridges []string
	for _, id := range ids {
		if ns, _, ok := strings.Cut(id, "."); ok && byNS[ns] >= bridgeSize {
			continue
		}
		plain = append(plain, id)
	}
	nss := make([]string, 0, len(byNS))
	for ns, n := range byNS {
		if n >= bridgeSize {
			nss = append(nss, ns)
		}
	}
	sort.Strings(nss)
	for _, ns := range nss {
		bridges = append(bridges, fmt.Sprintf("%d %s.* pipelines (see 'scope pipelines %s')", byNS[ns], ns, ns))
	}
	const most = 20
	var parts []string
	if len(plain) > most {
		parts = append(parts, fmt.Sprintf("%s and %d more (see 'scope pipelines')", strings.Join(plain[:most], ", "), len(plain)-most))
	} else if len(plain) > 0 {
		parts = append(parts, strings.Join(plain, ", "))
	}
	if len(parts) == 0 {
		return strings.Join(bridges, " and ")
	}
	if len(bridges) > 0 {
		return parts[0] + " and " + strings.Join(bridges, " and ")
	}
	return parts[0]
}

// similar returns up to three ids that contain id or that id contains (case-insensitive),
// so a typo such as "invrt" or a partial "invert0r" still points somewhere.
func similar(id string, ids []string) []string {
	var out []string
	l := strings.ToLower(id)
	for _, k := range ids {
		kl := strings.ToLower(k)
		if strings.Contains(kl, l) || strings.Contains(l, kl) || editDistance(l, kl) <= 2 {
			out = append(out, k)
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
