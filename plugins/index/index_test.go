package index

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.10.0", "1.9.2", 1}, {"1.0.0", "1.0.0", 0}, {"v2", "1.9", 1},
		{"1.0.0-rc1", "1.0.0", -1}, {"1.0.0-rc1", "1.0.0-rc2", -1}, {"0.9", "0.9.1", -1},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	ix := &Index{Location: "test", Plugins: []Entry{{Name: "invert", Versions: []Version{
		{Version: "1.2.0", Git: "https://example.com/o/invert", Ref: "v1.2.0"}, {Version: "1.10.0", Git: "https://example.com/o/invert", Ref: "v1.10.0"}}}}}
	if v, err := ix.Resolve("invert", ""); err != nil || v.Ref != "v1.10.0" {
		t.Errorf("latest: %+v %v", v, err)
	}
	if _, err := ix.Resolve("invert", "3.0"); err == nil {
		t.Error("unknown version resolved")
	}
}

// TestResolveRefusesLocalEntries: an entry pointing at a local path or file:// repository,
// or at a ref that is no branch, tag or commit name, is refused with the entry named.
func TestResolveRefusesLocalEntries(t *testing.T) {
	cases := []struct{ git, ref, want string }{
		{"/home/me/secret.git", "main", "local path"},
		{"../invert", "main", "local path"},
		{"file:///home/me/secret.git", "main", "file://"},
		{"https://example.com/o/invert", "../../HEAD", "not a branch, tag or commit name"},
		{"https:///o/invert", "main", "names no host"},
	}
	for _, c := range cases {
		ix := &Index{Location: "idx.json", Plugins: []Entry{{Name: "invert", Versions: []Version{{Version: "1.0.0", Git: c.git, Ref: c.ref}}}}}
		for _, version := range []string{"", "1.0.0"} {
			_, err := ix.Resolve("invert", version)
			if err == nil || !strings.Contains(err.Error(), "entry invert 1.0.0") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("git %q ref %q version %q: %v, want a refusal naming the entry and %q", c.git, c.ref, version, err, c.want)
			}
		}
	}
	for _, ok := range []string{"https://github.com/o/invert", "ssh://git@host/o/r.git", "git@github.com:o/r.git", "git://host/r"} {
		ix := &Index{Location: "idx.json", Plugins: []Entry{{Name: "invert", Versions: []Version{{Version: "1.0.0", Git: ok, Ref: "v1.0.0"}}}}}
		if v, err := ix.Resolve("invert", ""); err != nil || v.Git != ok {
			t.Errorf("remote %q refused: %v", ok, err)
		}
	}
}
