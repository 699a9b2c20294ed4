// Package index resolves plugin names through a plugin index: a JSON document, at a URL or
// a path, that lists each plugin's versions and the git source and ref of each.
//
//	{"plugins": [
//	  {"name": "invert", "description": "Inverts colors",
//	   "versions": [{"version": "1.0.0", "git": "https://github.com/o/invert", "ref": "v1.0.0"}]}
//	]}
package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/scopenative/scope/plugins/source"
)

// EnvIndex names the environment variable holding the index location.
const EnvIndex = "SCOPE_INDEX"

// Version is one installable version of a plugin.
type Version struct {
	Version string `json:"version"`
	Git     string `json:"git"`
	Ref     string `json:"ref"`
}

// Entry is one plugin of the index.
type Entry struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Versions    []Version `json:"versions"`
}

// Index is a loaded index document.
type Index struct {
	// Location is where it was read from.
	Location string  `json:"-"`
	Plugins  []Entry `json:"plugins"`
}

// Load reads the index at location: an http(s) URL, a file:// URL or a path.
func Load(ctx context.Context, location string) (*Index, error) {
	if location == "" {
		return nil, fmt.Errorf("no plugin index is configured: set %s or index in the scope config to a URL or file", EnvIndex)
	}
	var data []byte
	var err error
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		data, err = fetch(ctx, location)
	} else {
		data, err = os.ReadFile(strings.TrimPrefix(location, "file://"))
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin index %s: %w", location, err)
	}
	return Parse(location, data)
}

// Parse reads an index document; location names it in errors.
func Parse(location string, data []byte) (*Index, error) {
	ix := &Index{Location: location}
	if err := json.Unmarshal(data, ix); err != nil {
		return nil, fmt.Errorf("read plugin index %s: %w", location, err)
	}
	return ix, nil
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// Resolve returns the entry for name at version, or the latest version when version is
// empty. An entry whose git source is not a remote repository (a path, a file:// URL) or
// whose ref is not a branch, tag or commit name is refused with an error naming it.
func (ix *Index) Resolve(name, version string) (Version, error) {
	for _, e := range ix.Plugins {
		if !strings.EqualFold(e.Name, name) {
			continue
		}
		if len(e.Versions) == 0 {
			return Version{}, fmt.Errorf("plugin index %s lists %s without versions", ix.Location, name)
		}
		if version == "" {
			return ix.checked(e, Latest(e.Versions))
		}
		var have []string
		for _, v := range e.Versions {
			if v.Version == version {
				return ix.checked(e, v)
			}
			have = append(have, v.Version)
		}
		return Version{}, fmt.Errorf("plugin index %s has no version %s of %s (versions: %s)", ix.Location, version, name, strings.Join(have, ", "))
	}
	return Version{}, fmt.Errorf("plugin index %s has no plugin named %s", ix.Location, name)
}

// checked returns v of entry e when its source is a remote git repository at a valid ref;
// the error names the entry.
func (ix *Index) checked(e Entry, v Version) (Version, error) {
	entry := fmt.Sprintf("plugin index %s: entry %s %s", ix.Location, e.Name, v.Version)
	if v.Git == "" {
		return Version{}, fmt.Errorf("%s has no git source", entry)
	}
	if err := source.CheckRemote(v.Git); err != nil {
		return Version{}, fmt.Errorf("%s is refused: %w; an index may only point at remote repositories", entry, err)
	}
	if err := source.CheckRef(v.Ref); err != nil {
		return Version{}, fmt.Errorf("%s is refused: %w", entry, err)
	}
	return v, nil
}

// Latest returns the highest version.
func Latest(vs []Version) Version {
	best := vs[0]
	for _, v := range vs[1:] {
		if Compare(v.Version, best.Version) > 0 {
			best = v
		}
	}
	return best
}

// Compare orders dotted versions numerically ("1.10.0" > "1.9.2"); a pre-release suffix
// ("1.0.0-rc1") sorts before the release. It returns -1, 0 or 1.
func Compare(a, b string) int {
	a, b = strings.TrimPrefix(a, "v"), strings.TrimPrefix(b, "v")
	ac, apre, _ := strings.Cut(a, "-")
	bc, bpre, _ := strings.Cut(b, "-")
	as, bs := strings.Split(ac, "."), strings.Split(bc, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	case apre < bpre:
		return -1
	}
	return 1
}
