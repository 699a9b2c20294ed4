package command_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// promptColor runs prompt-color on a 4x4 frame with the given flags and returns the colour
// of its output, failing the test when the run does not succeed.
func promptColor(t *testing.T, lib string, args ...string) [3]uint8 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.png")
	code, _, stderr := scope(t, lib, append([]string{"run", "prompt-color", "--load-param", "width=4,height=4", "-o", out}, args...)...)
	if code != 0 {
		t.Fatalf("scope run prompt-color %v: exit %d: %s", args, code, stderr)
	}
	return rgb(plugintest.ReadPNG(t, out).At(1, 1))
}

// TestCommasInValues: urfave/cli no longer splits flags at commas. A prompt with a comma is one
// prompt (prompt-color takes the earliest colour word: red; split in two it averaged red and
// blue); a colour r,g,b is one value; several key=value still share one flag.
func TestCommasInValues(t *testing.T) {
	lib := plugins(t)
	for _, c := range []struct {
		name string
		args []string
		want [3]uint8
	}{
		{"one prompt with a comma", []string{"--prompt", "red, blue"}, [3]uint8{255, 0, 0}},
		{"two prompts", []string{"--prompt", "red", "--prompt", "blue"}, [3]uint8{128, 0, 128}},
		{"weighted prompt with a comma", []string{"--prompt", "blue, red::1", "--prompt", "red::0"}, [3]uint8{0, 0, 255}},
		{"colour r,g,b", []string{"--prompt", "white", "-p", "tint=0.2,0.4,0.6"}, [3]uint8{51, 102, 153}},
		{"colour #rgb", []string{"--prompt", "white", "-p", "tint=#f80"}, [3]uint8{255, 136, 0}},
		{"colour rgb()", []string{"--prompt", "white", "-p", "tint=rgb(255, 128, 0)"}, [3]uint8{255, 128, 0}},
		{"two pairs in one flag", []string{"--prompt", "white", "-p", "brightness=0.5,tint=0,1,0"}, [3]uint8{0, 128, 0}},
		{"escaped commas", []string{"--prompt", "white", "-p", `tint=0\,0\,1,brightness=0.5`}, [3]uint8{0, 0, 128}},
		{"repeated flags", []string{"--prompt", "white", "-p", "tint=1,0,0", "-p", "brightness=0.5"}, [3]uint8{128, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := promptColor(t, lib, c.args...); got != c.want {
				t.Errorf("%v: pixel %v, want %v", c.args, got, c.want)
			}
		})
	}
}

// TestBadValuesExitWithUsage: values the parser refuses end the run before it starts, with
// exit status 2 and a message that names the value and the fix.
func TestBadValuesExitWithUsage(t *testing.T) {
	lib := plugins(t)
	out := filepath.Join(t.TempDir(), "out.png")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-p", "tint=green"}, []string{`"green" is not a color`, "e.g. #ff8000, 1,0.5,0 or rgb(255,128,0)"}},
		{[]string{"-p", "tint=0.2,0.4,1.6"}, []string{"components must be numbers 0..1"}},
		{[]string{"-p", "brightness=1.8e308"}, []string{"brightness: 1.8e308 is out of range; allowed range 0..2"}},
		{[]string{"-p", "brightness=NaN"}, []string{`"NaN" is not a number`}},
		{[]string{"-p", "tint=1,0,0,bogus=1"}, []string{`no parameter "bogus"`, `write \, for a comma inside a value`}},
		{[]string{"--prompt", "red::NaN"}, []string{"--prompt: ", "must be a finite number >= 0", `e.g. "red::0.5"`}},
		{[]string{"--prompt", "red::Inf"}, []string{"must be a finite number >= 0"}},
		{[]string{"--fps", "NaN"}, []string{"--fps NaN: use a number of frames per second from 0 to 1000", "e.g. --fps 30"}},
		{[]string{"--fps", "Inf"}, []string{"--fps +Inf: use a number"}},
		{[]string{"--fps", "-5"}, []string{"--fps -5: use a number"}},
	} {
		code, _, stderr := scope(t, lib, append([]string{"run", "prompt-color", "--load-param", "width=4,height=4", "-o", out}, c.args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage): %s", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused run wrote %s", out)
	}
}
