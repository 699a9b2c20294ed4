package index

import (
	"errors"
	"testing"

	"github.com/scopenative/scope/plugins/source"
)

// FuzzIndex parses arbitrary index documents and resolves every plugin they list, latest
// and each version: nothing panics, and whatever resolves points at a remote repository
// at a valid ref, at the version asked for. Compare is antisymmetric on the versions.
func FuzzIndex(f *testing.F) {
	for _, seed := range []string{
		`{"plugins": [{"name": "invert", "description": "Inverts colors", "versions": [
			{"version": "1.0.0", "git": "https://github.com/o/invert", "ref": "v1.0.0"},
			{"version": "1.10.0-rc1", "git": "git@github.com:o/invert.git", "ref": "main"}]}]}`,
		`{"plugins": [{"name": "local", "versions": [{"version": "1", "git": "file:///srv/x.git", "ref": "main"}]}]}`,
		`{"plugins": [{"name": "path", "versions": [{"version": "1", "git": "/srv/x.git", "ref": "../../HEAD"}]}]}`,
		`{"plugins": [{"name": "none", "versions": []}, {"name": "Invert", "versions": [{"version": "v2", "git": "", "ref": ""}]}]}`,
		`{"plugins": null}`, `{"plugins": [null]}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		for _, e := range ix.Plugins {
			versions := []string{""}
			for _, v := range e.Versions {
				versions = append(versions, v.Version)
			}
			for _, want := range versions {
				v, err := ix.Resolve(e.Name, want)
				if err != nil {
					continue
				}
				if want != "" && v.Version != want {
					t.Fatalf("Resolve(%q, %q) returned version %q", e.Name, want, v.Version)
				}
				if err := source.CheckRemote(v.Git); err != nil {
					t.Fatalf("Resolve(%q, %q) returned a source that is not remote: %v", e.Name, want, err)
				}
				if err := source.CheckRef(v.Ref); errors.Is(err, source.ErrBadRef) {
					t.Fatalf("Resolve(%q, %q) returned a bad ref: %v", e.Name, want, err)
				}
			}
			for _, a := range e.Versions {
				for _, b := range e.Versions {
					if Compare(a.Version, b.Version) != -Compare(b.Version, a.Version) {
						t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a.Version, b.Version,
							Compare(a.Version, b.Version), b.Version, a.Version, Compare(b.Version, a.Version))
					}
				}
			}
		}
	})
}
