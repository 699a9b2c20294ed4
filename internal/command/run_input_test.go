package command_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// invertAndBlend builds the invert and temporal (frame-blend) examples into a fresh folder.
func invertAndBlend(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	plugintest.Example(t, dir, "invert")
	plugintest.Example(t, dir, "temporal")
	return dir
}

// wantExit checks the exit code and that stderr says every one of want.
func wantExit(t *testing.T, what string, code int, stderr string, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, code, wantCode, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: stderr %q\n  does not say %q", what, stderr, w)
		}
	}
}

// pngHeaderOnly is a PNG signature, an IHDR claiming w x h (8-bit RGBA) and IEND: a few
// dozen bytes that a decoder would turn into a w*h*4 buffer.
func pngHeaderOnly(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b
}

func writeBytes(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunRefusesOversizedInput(t *testing.T) {
	lib := invertAndBlend(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		input string
		size  string
		extra []string
	}{
		{"y4m 2^32-1", writeBytes(t, filepath.Join(dir, "huge.y4m"), []byte("YUV4MPEG2 W4294967295 H4294967295 F25:1 C420jpeg\nFRAME\n")), "4294967295x4294967295", nil},
		{"y4m 100000", writeBytes(t, filepath.Join(dir, "big.y4m"), []byte("YUV4MPEG2 W100000 H100000 F25:1 C444\nFRAME\n")), "100000x100000", nil},
		{"png bomb", writeBytes(t, filepath.Join(dir, "bomb.png"), pngHeaderOnly(20000, 20000)), "20000x20000", nil},
		{"testsrc --size", "testsrc", "20000x20000", []string{"--size", "20000x20000"}},
		{"lowered limit", "testsrc:64x48", "64x48", []string{"--max-frame-size", "32x32"}},
	} {
		out := filepath.Join(dir, "out.png")
		args := append([]string{"run", "invert", "--input", c.input, "--output", out}, c.extra...)
		code, _, stderr := scope(t, lib, args...)
		wantExit(t, c.name, code, stderr, 2, c.input, c.size, "over the limit", "--max-frame-size")
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output was written", c.name)
		}
	}
	// The flag the message names raises the limit.
	wide := filepath.Join(dir, "wide.y4m")
	writeBytes(t, wide, append([]byte("YUV4MPEG2 W20000 H1 F25:1 Cmono XCOLORRANGE=FULL\nFRAME\n"), bytes.Repeat([]byte{10}, 20000)...))
	code, _, stderr := scope(t, lib, "run", "invert", "--input", wide, "--output", filepath.Join(dir, "wide.png"))
	wantExit(t, "20000x1 at the default limit", code, stderr, 2, "--max-frame-size 20000x16384")
	out := filepath.Join(dir, "wide.png")
	code, _, stderr = scope(t, lib, "run", "invert", "--input", wide, "--output", out, "--max-frame-size", "20000x16384")
	wantExit(t, "20000x1 with --max-frame-size", code, stderr, 0)
	if img := plugintest.ReadPNG(t, out); img.Bounds().Dx() != 20000 || rgb(img.At(19999, 0)) != [3]uint8{245, 245, 245} {
		t.Errorf("wide output is %v with %v at the end", img.Bounds(), rgb(img.At(19999, 0)))
	}
	code, _, stderr = scope(t, lib, "run", "invert", "--max-frame-size", "huge")
	wantExit(t, "bad --max-frame-size", code, stderr, 2, "--max-frame-size", `"huge"`, "WxH")
}

func TestRunRefusesOutputOverInput(t *testing.T) {
	lib := invertAndBlend(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.y4m")
	if code, _, stderr := scope(t, lib, "run", "invert", "--input", "testsrc:16x8", "--frames", "3", "--output", in); code != 0 {
		t.Fatalf("make input: exit %d: %s", code, stderr)
	}
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.y4m")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.y4m")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, link, hard, dir + "/./in.y4m"} {
		code, _, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", out)
		wantExit(t, "output "+out, code, stderr, 2, "output "+out, in, "destroy the input")
		if got, _ := os.ReadFile(in); !bytes.Equal(got, orig) {
			t.Fatalf("output %s changed the input", out)
		}
	}
	// A sequence sink whose pattern matches the input sequence's images.
	seq := filepath.Join(dir, "seq", "%03d.png")
	if code, _, stderr := scope(t, lib, "run", "invert", "--input", "testsrc:16x8", "--frames", "2", "--output", seq); code != 0 {
		t.Fatalf("make sequence: exit %d: %s", code, stderr)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "seq", "000.png"))
	code, _, stderr := scope(t, lib, "run", "invert", "--input", seq, "--output", filepath.Join(dir, "seq", "%03d.png"))
	wantExit(t, "sequence over itself", code, stderr, 2, "would overwrite "+filepath.Join(dir, "seq", "000.png"), "an image of the input "+seq)
	if got, _ := os.ReadFile(filepath.Join(dir, "seq", "000.png")); !bytes.Equal(got, first) {
		t.Fatal("the refused run changed the input sequence")
	}
	// Another file is fine.
	code, _, stderr = scope(t, lib, "run", "invert", "--input", in, "--output", filepath.Join(dir, "out.y4m"))
	wantExit(t, "another output", code, stderr, 0)
}

// writeGray writes a w x h PNG of one gray level.
func writeGray(t *testing.T, path string, w, h int, v uint8) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
	}
	plugintest.WritePNG(t, path, img)
}

func TestRunSequenceGap(t *testing.T) {
	lib := invertAndBlend(t)
	dir := t.TempDir()
	for i, n := range []string{"00001.png", "00002.png", "00004.png"} {
		writeGray(t, filepath.Join(dir, n), 8, 4, uint8(10*(i+1)))
	}
	in := filepath.Join(dir, "%05d.png")
	outDir := t.TempDir()
	code, _, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", filepath.Join(outDir, "%d.png"))
	wantExit(t, "gap", code, stderr, 1, filepath.Join(dir, "00003.png")+" is missing", "--skip-gaps")
	// The frames before the gap were written, nothing after it.
	if entries, _ := os.ReadDir(outDir); len(entries) != 2 {
		t.Errorf("the run wrote %d frames before the gap, want 2", len(entries))
	}
	outDir = t.TempDir()
	code, _, stderr = scope(t, lib, "run", "invert", "--input", in, "--output", filepath.Join(outDir, "%d.png"), "--skip-gaps")
	wantExit(t, "--skip-gaps", code, stderr, 0, "skipped 1 missing images of "+in)
	for i, v := range []uint8{245, 235, 225} {
		checkSolid(t, filepath.Join(outDir, []string{"0.png", "1.png", "2.png"}[i]), 8, 4, [3]uint8{v, v, v})
	}
}

func TestRunStillWithFramesAndTemporal(t *testing.T) {
	lib := invertAndBlend(t)
	dir := t.TempDir()
	still := filepath.Join(dir, "still.png")
	writeGray(t, still, 6, 4, 40)

	// --frames N repeats a still N times.
	seq := filepath.Join(dir, "inv", "%02d.png")
	code, stdout, stderr := scope(t, lib, "run", "invert", "--input", still, "--frames", "5", "--output", seq)
	wantExit(t, "invert --frames 5", code, stderr, 0)
	if !strings.Contains(stdout, "wrote 5 frames") {
		t.Errorf("summary %q", stdout)
	}
	for i := 0; i < 5; i++ {
		checkSolid(t, filepath.Join(dir, "inv", []string{"00", "01", "02", "03", "04"}[i]+".png"), 6, 4, [3]uint8{215, 215, 215})
	}
	if _, err := os.Stat(filepath.Join(dir, "inv", "05.png")); err == nil {
		t.Error("--frames 5 wrote a sixth frame")
	}

	// A windowed pipeline gives one frame per input frame (its window is filled at the
	// start), so frame-blend on a still writes that still.
	out := filepath.Join(dir, "blend.png")
	code, _, stderr = scope(t, lib, "run", "frame-blend", "--input", still, "--output", out)
	wantExit(t, "frame-blend on a still", code, stderr, 0)
	checkSolid(t, out, 6, 4, [3]uint8{40, 40, 40})
	// With --frames, the still is repeated until frame-blend has written that many.
	blended := filepath.Join(dir, "blend", "%d.png")
	code, stdout, stderr = scope(t, lib, "run", "frame-blend", "--input", still, "--frames", "3", "--output", blended)
	wantExit(t, "frame-blend --frames 3", code, stderr, 0)
	if !strings.Contains(stdout, "wrote 3 frames") {
		t.Errorf("summary %q", stdout)
	}
	for _, n := range []string{"0.png", "1.png", "2.png"} {
		checkSolid(t, filepath.Join(dir, "blend", n), 6, 4, [3]uint8{40, 40, 40})
	}
	// An input that ends before the chain outputs anything: a Y4M without frames. The run
	// says so, exits 1 and leaves no output file.
	empty := filepath.Join(dir, "empty.y4m")
	if err := os.WriteFile(empty, []byte("YUV4MPEG2 W8 H8 F30:1 Ip A1:1 C444\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "none.png")
	code, _, stderr = scope(t, lib, "run", "frame-blend", "--input", empty, "--output", out)
	wantExit(t, "frame-blend on no frames", code, stderr, 1, "no frame was written to "+out, "the input ended before the chain output a frame")
	if _, err := os.Stat(out); err == nil {
		t.Error("a run without frames left an output file")
	}
}

func TestBenchSizeIsItsOwnLimit(t *testing.T) {
	// bench has no --max-frame-size: the --size asked for is the limit, so a wide frame over
	// the default 16384 runs instead of pointing at a flag bench does not have.
	lib := invertAndBlend(t)
	code, stdout, stderr := scope(t, lib, "bench", "invert", "--size", "20000x2", "--frames", "2", "--warmup", "0")
	wantExit(t, "bench 20000x2", code, stderr, 0)
	if !strings.Contains(stdout, "invert, 20000x2, 2 frames") {
		t.Errorf("bench output %q", stdout)
	}
}
