package command_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/media"
)

// readFrames decodes every frame of a video file the way scope run reads it (RGB u8).
func readFrames(t *testing.T, spec string) []*frame.Frame {
	t.Helper()
	src, err := media.OpenSource(context.Background(), spec, media.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []*frame.Frame
	for {
		f := frame.New(src.Format())
		if err := src.Read(context.Background(), f); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

// pngFrame reads a PNG as an RGB u8 frame.
func pngFrame(t *testing.T, path string) *frame.Frame {
	t.Helper()
	img := plugintest.ReadPNG(t, path)
	b := img.Bounds()
	f := frame.New(frame.Format{Width: b.Dx(), Height: b.Dy(), Channels: 3, Elem: frame.U8})
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			p := rgb(img.At(b.Min.X+x, b.Min.Y+y))
			copy(f.Row(y)[3*x:], p[:])
		}
	}
	return f
}

func mustRun(t *testing.T, lib string, args ...string) string {
	t.Helper()
	code, stdout, stderr := scope(t, lib, args...)
	if code != 0 {
		t.Fatalf("scope %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGraphFanOutMatchesChain: one source feeds invert, which feeds a PNG sequence and a
// Y4M file; both equal the output of the plain chain.
func TestGraphFanOutMatchesChain(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.y4m")
	refPNG := filepath.Join(dir, "ref-%03d.png")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:40x24", "--frames", "5", "-p", "intensity=0.8", "-o", ref, "-q")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:40x24", "--frames", "5", "-p", "intensity=0.8", "-o", refPNG, "-q")
	g := filepath.Join(dir, "fanout.toml")
	writeFile(t, g, fmt.Sprintf(`
[[source]]
name = "cam"
input = "testsrc:40x24"

[[node]]
name = "inv"
pipeline = "invert"
inputs = ["cam"]
params = { intensity = 0.8 }

[[sink]]
name = "frames"
output = %q
from = "inv"

[[sink]]
name = "video"
output = %q
from = "inv"
`, filepath.Join(dir, "out-%03d.png"), filepath.Join(dir, "out.y4m")))
	stdout := mustRun(t, lib, "run", "--graph", g, "--frames", "5")
	if !strings.Contains(stdout, "sink frames: wrote 5 frames") || !strings.Contains(stdout, "sink video: wrote 5 frames") {
		t.Errorf("summary %q", stdout)
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(filepath.Join(dir, "out.y4m"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the graph's Y4M (%d bytes) differs from the chain's (%d bytes)", len(b), len(a))
	}
	for i := 0; i < 5; i++ {
		got := pngFrame(t, filepath.Join(dir, fmt.Sprintf("out-%03d.png", i)))
		want := pngFrame(t, filepath.Join(dir, fmt.Sprintf("ref-%03d.png", i)))
		if !bytes.Equal(got.Data, want.Data) {
			t.Errorf("PNG %d differs from the chain's", i)
		}
	}
}

// TestGraphCrossfadeFile: the crossfade example in a graph file, with its mix from the file,
// byte-exact against the formula, on two Y4M inputs.
func TestGraphCrossfadeFile(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.y4m"), filepath.Join(dir, "b.y4m")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:24x16", "--frames", "3", "-p", "intensity=0", "-o", a, "-q")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:24x16", "--frames", "3", "-p", "intensity=1", "-o", b, "-q")
	g := filepath.Join(dir, "mix.toml")
	writeFile(t, g, fmt.Sprintf(`
[[source]]
name = "a"
input = %q
[[source]]
name = "b"
input = %q
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["b=b", "a=a"]
params = { mix = 0.25 }
[[sink]]
name = "out"
output = %q
from = "fade"
`, a, b, filepath.Join(dir, "o-%d.png")))
	mustRun(t, lib, "run", "--graph", g, "-q")
	fa, fb := readFrames(t, a), readFrames(t, b)
	if len(fa) != 3 || len(fb) != 3 {
		t.Fatalf("inputs have %d and %d frames", len(fa), len(fb))
	}
	w := uint32(64) // round(0.25 * 256)
	for i := range fa {
		got := pngFrame(t, filepath.Join(dir, fmt.Sprintf("o-%d.png", i)))
		for j := range got.Data {
			want := byte((uint32(fa[i].Data[j])*(256-w) + uint32(fb[i].Data[j])*w + 128) >> 8)
			if got.Data[j] != want {
				t.Fatalf("frame %d byte %d = %d, want %d", i, j, got.Data[j], want)
			}
		}
	}
}

// TestFrei0rAdditionOfTwoY4M: `scope run frei0r.addition -i a.y4m --mix b.y4m` equals the
// per-pixel saturated sum.
func TestFrei0rAdditionOfTwoY4M(t *testing.T) {
	requireFrei0r(t)
	lib := plugins(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.y4m"), filepath.Join(dir, "b.y4m")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:32x18", "--frames", "3", "-p", "intensity=0", "-o", a, "-q")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:32x18", "--frames", "3", "-p", "intensity=0.6", "-o", b, "-q")
	code, _, stderr := scope(t, lib, "run", "frei0r.addition", "-i", a, "-o", "null", "-q")
	if code == 0 || !strings.Contains(stderr, "video, video2") || !strings.Contains(stderr, "--mix") {
		t.Errorf("a mixer given one input: exit %d, %q; want the ports and how to connect them", code, stderr)
	}
	mustRun(t, lib, "run", "frei0r.addition", "-i", a, "--mix", b, "-o", filepath.Join(dir, "s-%d.png"), "-q")
	fa, fb := readFrames(t, a), readFrames(t, b)
	for i := range fa {
		got := pngFrame(t, filepath.Join(dir, fmt.Sprintf("s-%d.png", i)))
		for j := range got.Data {
			if want := byte(min(int(fa[i].Data[j])+int(fb[i].Data[j]), 255)); got.Data[j] != want {
				t.Fatalf("frame %d byte %d = %d, want %d + %d = %d", i, j, got.Data[j], fa[i].Data[j], fb[i].Data[j], want)
			}
		}
	}
}

// TestGraphCheckMessages: scope graph check names the node or port and the fix for each kind
// of bad graph, and exits 2; a good graph passes.
func TestGraphCheckMessages(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"unknown node", `
[[source]]
name = "cam"
input = "testsrc"
[[node]]
name = "inv"
pipeline = "invert"
inputs = ["camera"]
[[sink]]
name = "out"
output = "null"
from = "inv"`, `unknown node "camera"`},
		{"unknown pipeline", `
[[source]]
name = "cam"
input = "testsrc"
[[node]]
name = "x"
pipeline = "no-such-pipeline"
inputs = ["cam"]
[[sink]]
name = "out"
output = "null"
from = "x"`, "node x: unknown pipeline"},
		{"unknown port", `
[[source]]
name = "a"
input = "testsrc"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a=a", "c=a"]
[[sink]]
name = "out"
output = "null"
from = "fade"`, `node fade: unknown port "c"; crossfade has ports a, b`},
		{"unconnected port", `
[[source]]
name = "a"
input = "testsrc"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a"]
[[sink]]
name = "out"
output = "null"
from = "fade"`, "node fade: input port b of crossfade is not connected"},
		{"cycle", `
[[source]]
name = "a"
input = "testsrc"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a", "inv"]
[[node]]
name = "inv"
pipeline = "invert"
inputs = ["fade"]
[[sink]]
name = "out"
output = "null"
from = "inv"`, "cycle through fade, inv"},
		{"text mode given an input", `
[[source]]
name = "a"
input = "testsrc"
[[node]]
name = "gen"
pipeline = "color-generator"
inputs = ["a"]
[[sink]]
name = "out"
output = "null"
from = "gen"`, "gen runs in text mode and takes no input"},
		{"unknown key", `
[[node]]
name = "gen"
pipeline = "color-generator"
colour = "red"`, "unknown key(s) node.colour"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".toml")
		writeFile(t, path, c.text)
		code, _, stderr := scope(t, lib, "graph", "check", path)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", c.name, code, stderr, c.want)
		}
		// scope run --graph refuses the same graph with the same message.
		if code, _, stderr := scope(t, lib, "run", "--graph", path); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("run --graph %s: exit %d, stderr %q", c.name, code, stderr)
		}
	}
	good := filepath.Join(dir, "good.toml")
	writeFile(t, good, `
[[source]]
name = "a"
input = "testsrc"
[[source]]
name = "b"
input = "solid:ff0000"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a", "b"]
[[sink]]
name = "out"
output = "null"
from = "fade"`)
	if out := mustRun(t, lib, "graph", "check", good); !strings.Contains(out, "ok (4 nodes, 3 edges)") {
		t.Errorf("check of a good graph: %q", out)
	}
	out := mustRun(t, lib, "graph", "show", good, "--dot")
	for _, want := range []string{`"a" -> "fade" [label="a"]`, `"b" -> "fade" [label="b"]`, `"fade" -> "out"`, "digraph", `"fade" [shape=box, label="fade\ncrossfade"]`, `"a" [shape=ellipse, label="a\ntestsrc"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("dot output lacks %q:\n%s", want, out)
		}
	}
	if out := mustRun(t, lib, "graph", "show", good); !strings.Contains(out, "pipeline fade  crossfade  [0]<-a  [1]<-b") {
		t.Errorf("show: %q", out)
	}
}

// TestHeadlessTextModeRunsUntilStopped: `scope run color-generator` with no --frames and no
// still image keeps generating until it is stopped (it used to write one frame and exit).
func TestHeadlessTextModeRunsUntilStopped(t *testing.T) {
	lib := plugins(t)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	env := map[string]string{"SCOPE_PLUGIN_PATH": lib, "SCOPE_HOME": t.TempDir()}
	start := time.Now()
	code := command.Main(ctx, []string{"scope", "run", "color-generator", "--fps", "30"}, command.IO{
		In: strings.NewReader(""), Out: &out, Err: &errb, Env: func(k string) string { return env[k] },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if el := time.Since(start); el < 600*time.Millisecond {
		t.Errorf("the run ended by itself after %v", el)
	}
	m := regexp.MustCompile(`^(\d+) frames`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary: %q", out.String())
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 {
		t.Errorf("%d frames in 0.7 s at 30 fps, want about 20", n)
	}
	// A still image still gets exactly one frame.
	png := filepath.Join(t.TempDir(), "one.png")
	if out := mustRun(t, lib, "run", "color-generator", "-o", png); !strings.HasPrefix(out, "1 frames") {
		t.Errorf("still image: %q", out)
	}
}

// TestBenchSerialAndGraph: scope bench measures a chain both ways and says which.
func TestBenchSerialAndGraph(t *testing.T) {
	lib := plugins(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "invert,invert", "--size", "64x36", "--frames", "20", "--warmup", "2", "--serial"}, "20 frames, serial,"},
		{[]string{"bench", "invert,invert", "--size", "64x36", "--frames", "20", "--warmup", "2"}, "20 frames, one worker per pipeline,"},
	} {
		out := mustRun(t, lib, c.args...)
		if !strings.Contains(out, c.want) || !regexp.MustCompile(`whole chain \(\+source copy\)\s+[0-9.]+ ms/frame\s+[0-9.]+ fps`).MatchString(out) {
			t.Errorf("%v: %q; want %q and the fps line", c.args, out, c.want)
		}
	}
}

// TestGraphShowSession: scope graph show ID prints a running session's pipelines in order.
func TestGraphShowSession(t *testing.T) {
	lib := plugins(t)
	env := map[string]string{"SCOPE_PLUGIN_PATH": lib, "SCOPE_HOME": t.TempDir(), "XDG_RUNTIME_DIR": t.TempDir()}
	ioFor := func(out *bytes.Buffer) command.IO {
		return command.IO{In: strings.NewReader(""), Out: out, Err: io.Discard, Env: func(k string) string { return env[k] }}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		done <- command.Main(ctx, []string{"scope", "run", "color-generator,invert", "--fps", "30"}, ioFor(&out))
	}()
	defer func() { cancel(); <-done }()
	id := ""
	for deadline := time.Now().Add(5 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out bytes.Buffer
		command.Main(context.Background(), []string{"scope", "sessions"}, ioFor(&out))
		if m := regexp.MustCompile(`(?m)^([0-9a-f]{8})\s`).FindStringSubmatch(out.String()); m != nil {
			id = m[1]
		}
	}
	if id == "" {
		t.Fatal("the session did not appear in scope sessions")
	}
	var out bytes.Buffer
	if code := command.Main(context.Background(), []string{"scope", "graph", "show", id}, ioFor(&out)); code != 0 {
		t.Fatalf("graph show %s: exit %d", id, code)
	}
	for _, want := range []string{"pipeline color-generator  color-generator\n", "pipeline invert  invert  [0]<-color-generator\n", "sink     output  session  <-invert\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("graph show %s lacks %q:\n%s", id, want, out.String())
		}
	}
}

// TestMixFlag: --mix feeds a chain's mixer its second port; without a mixer, or beside
// --graph, it is a usage error that says why.
func TestMixFlag(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "m-%d.png")
	mustRun(t, lib, "run", "invert,crossfade", "-i", "solid:000000:8x4", "--mix", "solid:ffffff:8x4", "-p", "mix=0.5,intensity=1", "--frames", "2", "-o", out, "-q")
	// invert(black) = white on port a, white on port b: the mix is white.
	if f := pngFrame(t, filepath.Join(dir, "m-1.png")); f.Data[0] != 255 || f.Width != 8 {
		t.Errorf("mix of white and white = %d (%dx%d)", f.Data[0], f.Width, f.Height)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "invert", "-i", "testsrc", "--mix", "testsrc"}, "no pipeline of invert takes more than one input"},
		{[]string{"run", "invert", "--graph", filepath.Join(dir, "x.toml")}, "drop the chain argument"},
		{[]string{"run", "--graph", filepath.Join(dir, "missing.toml")}, "read graph"},
	} {
		if code, _, stderr := scope(t, lib, c.args...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestGraphRunKeepsTheInputChecks: a graph run refuses what a chain run refuses — a sink over
// its own source's file, an oversized input, a NaN --fps — with exit 2, and the input file is
// left as it was.
func TestGraphRunKeepsTheInputChecks(t *testing.T) {
	lib := plugins(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.y4m")
	mustRun(t, lib, "run", "invert", "-i", "testsrc:24x16", "--frames", "3", "-o", in, "-q")
	before, _ := os.ReadFile(in)
	g := filepath.Join(dir, "g.toml")
	writeFile(t, g, fmt.Sprintf(`
[[source]]
name = "cam"
input = %q
[[node]]
name = "inv"
pipeline = "invert"
inputs = ["cam"]
[[sink]]
name = "file"
output = %q
from = "inv"
`, in, in))
	code, _, stderr := scope(t, lib, "run", "--graph", g)
	if code != 2 || !strings.Contains(stderr, "sink file over source cam") || !strings.Contains(stderr, "is also the input") {
		t.Errorf("sink over its source: exit %d, stderr %q; want exit 2 naming both", code, stderr)
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(before, after) {
		t.Errorf("the input changed (%d bytes, was %d)", len(after), len(before))
	}
	writeFile(t, g, fmt.Sprintf(`
[[source]]
name = "cam"
input = %q
[[node]]
name = "inv"
pipeline = "invert"
inputs = ["cam"]
[[sink]]
name = "file"
output = "null"
from = "inv"
`, in))
	code, _, stderr = scope(t, lib, "run", "--graph", g, "--max-frame-size", "8x8")
	if code != 2 || !strings.Contains(stderr, "24x16 is over the limit of 8x8") {
		t.Errorf("oversized input: exit %d, stderr %q; want exit 2 naming the size and the limit", code, stderr)
	}
	code, _, stderr = scope(t, lib, "run", "--graph", g, "--fps", "NaN")
	if code != 2 || !strings.Contains(stderr, "--fps NaN") {
		t.Errorf("--fps NaN: exit %d, stderr %q; want exit 2", code, stderr)
	}
}
