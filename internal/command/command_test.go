package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
)

// plugins builds the C examples once per test into a fresh folder.
func plugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	plugintest.Examples(t, dir)
	return dir
}

// scope runs the CLI in-process with SCOPE_PLUGIN_PATH=path and returns exit code, stdout
// and stderr.
func scope(t *testing.T, path string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"SCOPE_PLUGIN_PATH": path, "SCOPE_HOME": t.TempDir()}
	code := command.Main(context.Background(), append([]string{"scope"}, args...), command.IO{
		In: strings.NewReader(""), Out: &out, Err: &errb, Env: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

// randomImage is an opaque 37x23 image of pseudo-random colours (odd size on purpose).
func randomImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	x := uint32(12345)
	for i := 0; i < len(img.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			x = x*1664525 + 1013904223
			img.Pix[i+c] = byte(x >> 24)
		}
		img.Pix[i+3] = 255
	}
	return img
}

func rgb(c color.Color) [3]uint8 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

func TestInvertPixels(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	src := randomImage()
	plugintest.WritePNG(t, in, src)
	for _, c := range []struct {
		intensity string
		want      func(v uint8) uint8
	}{
		{"1", func(v uint8) uint8 { return 255 - v }},
		{"0", func(v uint8) uint8 { return v }},
	} {
		out := filepath.Join(dir, "out-"+c.intensity+".png")
		code, stdout, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", out, "--param", "intensity="+c.intensity)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "1 frames") || !strings.Contains(stdout, "invert") || !strings.Contains(stdout, "p99") {
			t.Errorf("summary line missing: %q", stdout)
		}
		got := plugintest.ReadPNG(t, out)
		if got.Bounds() != src.Bounds() {
			t.Fatalf("size %v, want %v", got.Bounds(), src.Bounds())
		}
		for y := 0; y < 23; y++ {
			for x := 0; x < 37; x++ {
				s, g := rgb(src.At(x, y)), rgb(got.At(x, y))
				for ch := 0; ch < 3; ch++ {
					if g[ch] != c.want(s[ch]) {
						t.Fatalf("intensity %s: pixel (%d,%d) channel %d = %d, want %d", c.intensity, x, y, ch, g[ch], c.want(s[ch]))
					}
				}
			}
		}
	}
}

func checkSolid(t *testing.T, path string, w, h int, want [3]uint8) {
	t.Helper()
	img := plugintest.ReadPNG(t, path)
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("%s is %v, want %dx%d", path, img.Bounds(), w, h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if got := rgb(img.At(x, y)); got != want {
				t.Fatalf("%s pixel (%d,%d) = %v, want %v", path, x, y, got, want)
			}
		}
	}
}

func TestColorGeneratorAndChain(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "color.png")
	if code, _, stderr := scope(t, lib, "run", "color-generator", "--param", "color_r=10,color_g=20,color_b=30", "--output", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkSolid(t, out, 512, 512, [3]uint8{10, 20, 30})

	chain := filepath.Join(dir, "chain.png")
	if code, _, stderr := scope(t, lib, "run", "color-generator,invert", "--param", "color_r=10", "--param", "color_g=20,color_b=30", "--output", chain); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkSolid(t, chain, 512, 512, [3]uint8{245, 235, 225})

	// Load-time parameters size the frame; a sequence sink writes one file per frame.
	seq := filepath.Join(dir, "seq", "%03d.png")
	if code, _, stderr := scope(t, lib, "run", "color-generator", "--load-param", "width=33,height=17", "--param", "invert.intensity=1", "--frames", "3", "--output", seq); code == 0 {
		t.Fatalf("a param for a pipeline that is not in the chain was accepted: %s", stderr)
	}
	code, stdout, stderr := scope(t, lib, "run", "color-generator,invert", "--load-param", "width=33,height=17", "--param", "invert.intensity=0", "--frames", "3", "--output", seq)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote 3 frames to "+seq) {
		t.Errorf("the run does not say where its frames went: %q", stdout)
	}
	for i := 0; i < 3; i++ {
		checkSolid(t, filepath.Join(dir, "seq", []string{"000.png", "001.png", "002.png"}[i]), 33, 17, [3]uint8{128, 128, 128})
	}
	if _, err := os.Stat(filepath.Join(dir, "seq", "003.png")); err == nil {
		t.Error("--frames 3 wrote a fourth frame")
	}
}

func TestUsageErrors(t *testing.T) {
	lib := plugins(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "nope"}, []string{`unknown pipeline "nope"`, "known pipelines:", "channel-mix, color-generator"}},
		{[]string{"run", "invrt"}, []string{`unknown pipeline "invrt"; did you mean invert?`}},
		{[]string{"run", "invert", "--param", "strength=1"}, []string{`invert has no parameter "strength"; valid keys: intensity`}},
		{[]string{"run", "invert", "--param", "intensity=2"}, []string{"intensity: 2 is out of range; allowed range 0..1"}},
		{[]string{"run", "invert", "--param", "intensity=much"}, []string{`intensity: "much" is not a number; allowed range 0..1`}},
		{[]string{"run", "color-generator", "--param", "color_r=300"}, []string{"color_r: 300 is out of range; allowed range 0..255"}},
		{[]string{"run", "color-generator", "--param", "width=64"}, []string{"color-generator.width is a load-time parameter; use --load-param width=64"}},
		{[]string{"run", "frame-blend", "--param", "blend=sideways"}, []string{`blend: "sideways" is not an option; use one of mean, max, min, decay`}},
		{[]string{"run", "invert,color-generator"}, []string{"color-generator runs in text mode only"}},
		{[]string{"run", "color-generator", "--input", "x.png"}, []string{"takes no input"}},
		{[]string{"run", "invert", "--input", "/nonexistent/in.png"}, []string{"/nonexistent/in.png"}},
		{[]string{"run"}, []string{"needs exactly one argument"}},
	} {
		code, _, stderr := scope(t, lib, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q\n  does not contain %q", c.args, stderr, w)
			}
		}
	}
}

func TestPipelinesJSONAndBrokenPlugin(t *testing.T) {
	lib := plugins(t)
	// A broken plugin on the path is reported and hides nothing.
	plugintest.BuildC(t, filepath.Join(lib, "broken.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}, "DUP_KEY")
	code, stdout, stderr := scope(t, lib, "pipelines", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Pipelines []command.PipelineJSON `json:"pipelines"`
		Failed    []struct{ Plugin, Error string }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	ids := map[string]command.PipelineJSON{}
	for _, p := range got.Pipelines {
		ids[p.ID] = p
	}
	for _, id := range []string{"color-generator", "invert", "frame-blend", "prompt-color", "channel-mix"} {
		if _, ok := ids[id]; !ok {
			t.Errorf("pipeline %s missing from %v", id, got.Pipelines)
		}
	}
	inv := ids["invert"]
	if filepath.Base(inv.Plugin) != "invert.so" || len(inv.Modes) != 1 || inv.Modes[0].Mode != "video" || len(inv.Params) != 1 ||
		inv.Params[0].Key != "intensity" || *inv.Params[0].Max != 1 || inv.Params[0].Default != 1.0 || inv.Params[0].Category != "configuration" {
		t.Errorf("invert described as %+v", inv)
	}
	if len(got.Failed) != 1 || filepath.Base(got.Failed[0].Plugin) != "broken.so" || !strings.Contains(got.Failed[0].Error, "duplicate parameter key") {
		t.Errorf("failed plugins = %+v", got.Failed)
	}
	code, stdout, stderr = scope(t, lib, "pipelines")
	if code != 0 || !strings.Contains(stdout, "invert — Invert Colors") || !strings.Contains(stderr, "broken.so") {
		t.Errorf("text listing: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestFailingPluginIsReportedAndRunGivesUp(t *testing.T) {
	lib := plugins(t)
	tp := plugintest.BuildC(t, filepath.Join(t.TempDir(), "tp.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")})
	code, _, stderr := scope(t, lib, "--plugin", tp, "run", "copy", "--param", "fail=true", "--frames", "3", "--input", "testsrc")
	if code != 1 || !strings.Contains(stderr, "refusing frame 0 on purpose") || !strings.Contains(stderr, "giving up after 30 failed frames in a row") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestBinaryHeadless builds bin/scope and runs it without a display: --help and a run to a
// file must work on a headless machine.
func TestBinaryHeadless(t *testing.T) {
	lib := plugins(t)
	bin := filepath.Join(t.TempDir(), "scope")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scope")
	build.Dir = plugintest.Root(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "SCOPE_PLUGIN_PATH=" + lib} // no DISPLAY
	help := exec.Command(bin, "--help")
	help.Env = env
	if out, err := help.CombinedOutput(); err != nil || !strings.Contains(string(out), "run") {
		t.Fatalf("scope --help without a display: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "o.png")
	run := exec.Command(bin, "run", "color-generator,invert", "-p", "color_r=10,color_g=20,color_b=30", "-o", out)
	run.Env = env
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("scope run without a display: %v\n%s", err, b)
	}
	checkSolid(t, out, 512, 512, [3]uint8{245, 235, 225})
	bad := exec.Command(bin, "run", "invert", "--param", "intensity=9")
	bad.Env = env
	if err := bad.Run(); err == nil || bad.ProcessState.ExitCode() != 2 {
		t.Errorf("bad parameter: exit %v, want 2", err)
	}
}
