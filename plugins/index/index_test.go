package index

import "testing"

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
		{Version: "1.2.0", Git: "g", Ref: "v1.2.0"}, {Version: "1.10.0", Git: "g", Ref: "v1.10.0"}}}}}
	if v, err := ix.Resolve("invert", ""); err != nil || v.Ref != "v1.10.0" {
		t.Errorf("latest: %+v %v", v, err)
	}
	if _, err := ix.Resolve("invert", "3.0"); err == nil {
		t.Error("unknown version resolved")
	}
}
