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
