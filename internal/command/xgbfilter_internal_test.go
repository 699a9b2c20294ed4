package command

import (
	"bytes"
	"strings"
	"testing"
)

// TestXGBFilter: the X11 library's .Xauthority notes are dropped from the preview's output,
// whatever chunks they arrive in; every other line, and a last line without a newline, passes.
func TestXGBFilter(t *testing.T) {
	in := "XGB: conn.go:41: Could not get authority info: open /root/.Xauthority: no such file or directory\n" +
		"scope-preview: attached to session 08b2\n" +
		"XGB: conn.go:47: Trying connection without authority info\n" +
		"the session ended"
	for _, chunk := range []int{1, 7, len(in)} {
		var out bytes.Buffer
		f := &xgbFilter{w: &out}
		for i := 0; i < len(in); i += chunk {
			if _, err := f.Write([]byte(in[i:min(i+chunk, len(in))])); err != nil {
				t.Fatal(err)
			}
		}
		f.flush()
		if want := "scope-preview: attached to session 08b2\nthe session ended"; out.String() != want {
			t.Errorf("chunks of %d: got %q, want %q", chunk, out.String(), want)
		}
	}
}

// FuzzXGBFilter: whatever the output and however it is split into writes, the filter passes
// exactly the lines that do not start with "XGB: ", in order, bytes unchanged.
func FuzzXGBFilter(f *testing.F) {
	f.Add("XGB: conn.go:41: Could not get authority info\nok\n", uint8(3))
	f.Add("a\nXGB: x", uint8(1))
	f.Add("XGB:no space\n\n\nXGB: \nXGB", uint8(0))
	f.Fuzz(func(t *testing.T, in string, chunk uint8) {
		var want strings.Builder
		lines := strings.SplitAfter(in, "\n")
		for _, l := range lines {
			if !strings.HasPrefix(l, "XGB: ") {
				want.WriteString(l)
			}
		}
		var out bytes.Buffer
		x := &xgbFilter{w: &out}
		step := int(chunk) + 1
		for i := 0; i < len(in); i += step {
			if n, err := x.Write([]byte(in[i:min(i+step, len(in))])); err != nil || n != min(step, len(in)-i) {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		x.flush()
		if out.String() != want.String() {
			t.Fatalf("in %q (chunks of %d): got %q, want %q", in, step, out.String(), want.String())
		}
	})
}
