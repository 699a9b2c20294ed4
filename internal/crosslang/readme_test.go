package crosslang_test

import (
	"context"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
)

// TestReadmeWalkthrough follows the README's "Write your first plugin in C": `scope plugin
// new posterize --lang c`, the README's C code over posterize.c, a CMake build, a validation
// and a run, then checks that every output sample is one of the levels asked for.
func TestReadmeWalkthrough(t *testing.T) {
	root := plugintest.Root(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?ms)^```c\\n(.*?)^```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```c block for the walkthrough")
	}
	dir := filepath.Join(t.TempDir(), "posterize")
	if code, _, stderr := scope(t, map[string]string{"SCOPE_SDK_DIR": root}, "plugin", "new", "posterize", "--lang", "c", "--dir", dir); code != 0 {
		t.Fatalf("plugin new: %s", stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "posterize.c"), m[1], 0o644); err != nil {
		t.Fatalf("the generated project has no posterize.c to replace: %v", err)
	}
	lib := buildProject(t, dir, "posterize", "c")

	if code, stdout, stderr := scope(t, nil, "plugin", "validate", lib); code != 0 {
		t.Fatalf("plugin validate: exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "poster.png")
	if code, _, stderr := scope(t, nil, "run", "posterize", "--plugin", lib, "--input", "testsrc:64x36", "--frames", "30", "--param", "levels=3", "--output", out); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	img := plugintest.ReadPNG(t, out)
	for y := 0; y < 36; y++ {
		for x := 0; x < 64; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for _, v := range []uint8{c.R, c.G, c.B} {
				if v != 0 && v != 127 && v != 255 {
					t.Fatalf("pixel (%d,%d) = %v: %d is not one of the 3 levels 0, 127, 255", x, y, c, v)
				}
			}
		}
	}
	code, _, stderr := scope(t, nil, "run", "posterize", "--plugin", lib, "--param", "levels=40")
	if code != 2 || !strings.Contains(stderr, "levels: 40 is out of range; allowed range 2..32") {
		t.Errorf("levels=40: exit %d: %s", code, stderr)
	}
}

// TestReadmeThen runs the README's "Then:" block as written, in an empty folder, with the
// examples on SCOPE_PLUGIN_PATH: every file a command reads (photo.png, clip.mp4) is made by
// an earlier command of the block, and each command ends on its own. The preview line needs
// a display and the bench line is timed elsewhere; both are left out.
func TestReadmeThen(t *testing.T) {
	root := plugintest.Root(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?ms)^Then:\\n\\n```sh\\n(.*?)^```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Then: block")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed: the block writes and reads clip.mp4")
	}
	plugins := t.TempDir()
	for _, name := range []string{"invert", "temporal", "color-generator"} {
		plugintest.Example(t, plugins, name)
	}
	work := t.TempDir()
	ran := 0
	for _, line := range strings.Split(string(m[1]), "\n") {
		line, _, _ = strings.Cut(line, "#")
		args := strings.Fields(line)
		if len(args) == 0 || args[0] != "bin/scope" || slices.Contains(args, "--preview") || args[1] == "bench" {
			continue
		}
		for i, a := range args { // the block's relative paths are relative to the folder it runs in
			if i > 0 && (strings.HasSuffix(a, ".png") || strings.HasSuffix(a, ".mp4")) {
				args[i] = filepath.Join(work, a)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var out, errb syncBuffer
		code := command.Main(ctx, append([]string{"scope"}, args[1:]...), command.IO{
			In: strings.NewReader(""), Out: &out, Err: &errb, Env: hermetic(t, map[string]string{"SCOPE_PLUGIN_PATH": plugins}),
		})
		timedOut := ctx.Err() != nil
		cancel()
		if code != 0 || timedOut {
			t.Fatalf("%s: exit %d (timed out: %v)\n%s%s", line, code, timedOut, out.String(), errb.String())
		}
		ran++
	}
	if ran < 5 {
		t.Fatalf("ran %d commands of the Then: block, want pipelines and four runs", ran)
	}
	img := plugintest.ReadPNG(t, filepath.Join(work, "inverted.png"))
	if img.Bounds().Dx() != 640 || img.Bounds().Dy() != 360 {
		t.Errorf("inverted.png is %v, want the 640x360 test pattern", img.Bounds())
	}
	for _, f := range []string{"clip.mp4", "out.mp4"} {
		if st, err := os.Stat(filepath.Join(work, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
