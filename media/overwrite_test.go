package media

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOverwrite(t *testing.T) {
	dir := t.TempDir()
	f := solidFrame(4, 2, 9, 8, 7)
	in := filepath.Join(dir, "in.y4m")
	writeAll(t, in, 0, f)
	still := filepath.Join(dir, "in.png")
	writeAll(t, still, 0, f)
	if err := os.Symlink(in, filepath.Join(dir, "link.y4m")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard.y4m")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "seq"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"00003.png", "00004.png"} {
		writeAll(t, filepath.Join(dir, "seq", n), 0, f)
	}
	seq := filepath.Join(dir, "seq", "%05d.png")
	other := filepath.Join(dir, "other.y4m")
	writeAll(t, other, 0, f)

	for _, c := range []struct {
		source, sink string
		want         []string // substrings of the error; nil: allowed
	}{
		{in, in, []string{"output " + in + " is also the input"}},
		{in, dir + "/./seq/../in.y4m", []string{"is the same file as the input " + in}},
		{in, filepath.Join(dir, "link.y4m"), []string{"link.y4m", in}},
		{filepath.Join(dir, "link.y4m"), in, []string{"link.y4m", in}},
		{in, filepath.Join(dir, "hard.y4m"), []string{"hard.y4m", in}},
		{in, "file://" + in, []string{"file://" + in, in}},
		{still, still, []string{"is also the input"}},
		{seq, seq, []string{"output " + seq + " would overwrite " + filepath.Join(dir, "seq", "00003.png") + ", an image of the input " + seq}},
		{seq, filepath.Join(dir, "seq", "%05d.png"), []string{"00003.png"}},
		{seq, filepath.Join(dir, "seq", "0000%d.png"), []string{"00003.png"}},
		{seq, filepath.Join(dir, "seq", "00004.png"), []string{"00004.png", seq}},
		{filepath.Join(dir, "seq", "00003.png"), filepath.Join(dir, "seq", "%05d.png"), []string{"would overwrite the input"}},
		// No collision.
		{in, other, nil},
		{in, filepath.Join(dir, "new.y4m"), nil},
		{seq, filepath.Join(dir, "seq", "%03d.png"), nil},
		{seq, filepath.Join(dir, "out", "%05d.png"), nil},
		{"testsrc", in, nil},
		{"solid:000000", in, nil},
		{in, "null", nil},
		{"rtsp://example.com/in.y4m", in, nil},
		{filepath.Join(dir, "missing.y4m"), filepath.Join(dir, "missing.y4m"), nil}, // opening reports it
	} {
		err := CheckOverwrite(c.source, c.sink)
		if c.want == nil {
			if err != nil {
				t.Errorf("%s -> %s: %v, want no error", c.source, c.sink, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s -> %s: allowed, want a refusal", c.source, c.sink)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s -> %s: %q does not say %q", c.source, c.sink, err, w)
			}
		}
	}
}
