package command

import (
	"bytes"
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
