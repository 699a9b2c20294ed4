package crosslang_test

import (
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// guideBlock matches a fenced code block whose info string names a file:
// ```rust file=src/lib.rs
var guideBlock = regexp.MustCompile("(?ms)^```([a-z+]+) file=(\\S+)\\n(.*?)^```")

// TestGuideCode builds the code of docs/guide-<lang>.md: every block marked with a file name
// is written (the last one of each name wins) over a project made by `scope plugin new`, built
// with the language's own tool, and the guide's two pipelines are run and checked pixel by
// pixel: my-color-generator (text mode, runtime colors, load-time size) and my-invert (video
// mode, the intensity slider).
func TestGuideCode(t *testing.T) {
	root := plugintest.Root(t)
	for _, lang := range []string{"c", "cpp", "rust", "go"} {
		t.Run(lang, func(t *testing.T) {
			guide := filepath.Join(root, "docs", "guide-"+lang+".md")
			text, err := os.ReadFile(guide)
			if err != nil {
				t.Skipf("no %s: %v", guide, err)
			}
			blocks := guideBlock.FindAllStringSubmatch(string(text), -1)
			if len(blocks) == 0 {
				t.Skipf("%s has no code blocks marked with file=...", guide)
			}
			dir := filepath.Join(t.TempDir(), "my-plugin")
			if code, _, stderr := scope(t, map[string]string{"SCOPE_SDK_DIR": root}, "plugin", "new", "my-plugin", "--lang", lang, "--dir", dir); code != 0 {
				t.Fatalf("plugin new: %s", stderr)
			}
			for _, b := range blocks {
				path := filepath.Join(dir, filepath.FromSlash(b[2]))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(b[3]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			lib := buildProject(t, dir, "my-plugin", lang)
			out := t.TempDir()

			// Text-only pipeline: runtime colors, load-time size.
			img := filepath.Join(out, "color.png")
			code, _, stderr := scope(t, nil, "run", "my-color-generator", "--plugin", lib,
				"--param", "color_r=10,color_g=20,color_b=30", "--load-param", "width=9,height=5", "--output", img)
			if code != 0 {
				t.Fatalf("my-color-generator: exit %d: %s", code, stderr)
			}
			got := plugintest.ReadPNG(t, img)
			if got.Bounds().Dx() != 9 || got.Bounds().Dy() != 5 {
				t.Fatalf("my-color-generator made %v, want 9x5 (load-time width, height)", got.Bounds())
			}
			for y := 0; y < 5; y++ {
				for x := 0; x < 9; x++ {
					if c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA); c.R != 10 || c.G != 20 || c.B != 30 {
						t.Fatalf("my-color-generator pixel (%d,%d) = %v, want 10,20,30", x, y, c)
					}
				}
			}
			code, _, stderr = scope(t, nil, "run", "my-color-generator", "--plugin", lib, "--param", "width=64")
			if code != 2 || !strings.Contains(stderr, "width is a load-time parameter") {
				t.Errorf("--param width: exit %d: %s", code, stderr)
			}

			// Video pipeline with a slider: intensity 0 is the input itself.
			var imgs []string
			for _, i := range []string{"0", "1", "0.5"} {
				p := filepath.Join(out, "invert-"+i+".png")
				code, _, stderr := scope(t, nil, "run", "my-invert", "--plugin", lib, "--input", "testsrc:33x17",
					"--frames", "1", "--param", "intensity="+i, "--output", p)
				if code != 0 {
					t.Fatalf("my-invert intensity=%s: exit %d: %s", i, code, stderr)
				}
				imgs = append(imgs, p)
			}
			src := plugintest.ReadPNG(t, imgs[0])
			for n, i := range []float64{1, 0.5} {
				got := plugintest.ReadPNG(t, imgs[n+1])
				for y := 0; y < 17; y++ {
					for x := 0; x < 33; x++ {
						s := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
						g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
						want := color.NRGBA{invertSample(s.R, i), invertSample(s.G, i), invertSample(s.B, i), 255}
						if g != want {
							t.Fatalf("my-invert intensity=%v pixel (%d,%d) = %v, want %v", i, x, y, g, want)
						}
					}
				}
			}
		})
	}
}
