package media

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
)

func TestPNGExactRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := testFrames(t, 97, 61, 1)[0]
	path := filepath.Join(dir, "out.png")
	writeAll(t, path, 0, src)

	// The file is an 8-bit opaque RGB PNG with exactly the frame's values.
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ColorModel != color.RGBAModel || cfg.Width != 97 || cfg.Height != 61 {
		t.Fatalf("PNG config %+v, want 97x61 8-bit RGB", cfg)
	}
	got := readAll(t, open(t, path, SourceOptions{}), 10)
	if len(got) != 1 {
		t.Fatalf("a still with Frames 0 yielded %d frames, want 1", len(got))
	}
	if !frame.Equal(got[0], src) {
		t.Fatalf("PNG round trip not exact (max diff %d)", maxDiff(t, got[0], src))
	}

	// f32, 4 channels, padded: written as its u8 conversion; read back as RGB (alpha dropped).
	f32 := frame.NewWithPitch(frame.Format{Width: 97, Height: 61, Channels: 4, Elem: frame.F32}, 97*16+32)
	if err := frame.Convert(f32, src); err != nil {
		t.Fatal(err)
	}
	f32.Float32Row(3)[7] = 0.25 // alpha of pixel (1,3): not applied on read
	path = filepath.Join(dir, "f32.png")
	writeAll(t, path, 0, f32)
	got = readAll(t, open(t, path, SourceOptions{}), 10)
	if !frame.Equal(got[0], src) {
		t.Fatalf("f32 rgba PNG round trip not exact (max diff %d)", maxDiff(t, got[0], src))
	}

	// Gray u8 frames are written as gray PNGs and come back replicated.
	gray := frame.New(frame.Format{Width: 3, Height: 1, Channels: 1, Elem: frame.U8})
	copy(gray.Data, []byte{0, 77, 255})
	path = filepath.Join(dir, "gray.png")
	writeAll(t, path, 0, gray)
	got = readAll(t, open(t, path, SourceOptions{}), 10)
	if want := []byte{0, 0, 0, 77, 77, 77, 255, 255, 255}; string(got[0].Data) != string(want) {
		t.Fatalf("gray PNG read back %v", got[0].Data)
	}
}

func TestStillRepeats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.png")
	src := testFrames(t, 40, 30, 1)[0]
	writeAll(t, path, 0, src)
	got := readAll(t, open(t, path, SourceOptions{Frames: 10, FPS: 10}), 100)
	if len(got) != 10 {
		t.Fatalf("Frames 10 yielded %d frames", len(got))
	}
	for i, f := range got {
		if !frame.Equal(f, src) || f.Index != uint64(i) {
			t.Fatalf("frame %d differs or has index %d", i, f.Index)
		}
	}
	if got[9].PTS.Milliseconds() != 900 {
		t.Fatalf("PTS of frame 9 at 10 fps: %v", got[9].PTS)
	}
	// Repeat makes it endless: the caller (the engine's output count) stops it.
	if got := readAll(t, open(t, path, SourceOptions{Repeat: true}), 50); len(got) != 50 || !frame.Equal(got[49], src) {
		t.Fatalf("Repeat yielded %d frames, want endless copies", len(got))
	}
	if got := readAll(t, open(t, path, SourceOptions{}), 50); len(got) != 1 {
		t.Fatalf("a still without Frames or Repeat yielded %d frames, want 1", len(got))
	}
	// Repeats of a still are copies: no allocation.
	s := open(t, path, SourceOptions{Frames: 1000})
	dst := frame.New(s.Format())
	if n := testing.AllocsPerRun(20, func() { _ = s.Read(context.Background(), dst) }); n != 0 {
		t.Fatalf("still repeat allocates %v times per frame", n)
	}
}

func TestStillSinkKeepsLastFrame(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(t, 32, 24, 5)
	path := filepath.Join(dir, "last.png")
	writeAll(t, path, 0, frames...)
	got := readAll(t, open(t, path, SourceOptions{}), 10)
	if !frame.Equal(got[0], frames[4]) {
		t.Fatal("still sink did not keep the last frame")
	}
	// Nothing written: Close reports it and no file appears.
	empty := filepath.Join(dir, "empty.png")
	sink, err := CreateSink(context.Background(), empty, frames[0].Format, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err == nil || !strings.Contains(err.Error(), empty) {
		t.Fatalf("Close without frames: %v", err)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty sink created a file: %v", err)
	}
	// Missing directory: an early error naming it.
	_, err = CreateSink(context.Background(), filepath.Join(dir, "nope", "x.png"), frames[0].Format, SinkOptions{})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("sink in a missing directory: %v", err)
	}
}

func TestPNGAlphaAnd16Bit(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, img image.Image) string {
		path := filepath.Join(dir, name)
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(fh, img); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		return path
	}
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	n.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 128})
	src := open(t, save("alpha.png", n), SourceOptions{})
	if src.Format().Channels != 3 {
		t.Fatalf("alpha PNG read as %v, want 3 channels", src.Format())
	}
	if got := readAll(t, src, 1)[0].Data; string(got) != string([]byte{200, 100, 50, 10, 20, 30}) {
		t.Fatalf("alpha PNG pixels %v", got)
	}
	n16 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	n16.SetRGBA64(0, 0, color.RGBA64{0x1234, 0xABCD, 0xFF00, 0xFFFF})
	if got := readAll(t, open(t, save("deep.png", n16), SourceOptions{}), 1)[0].Data; string(got) != string([]byte{0x12, 0xAB, 0xFF}) {
		t.Fatalf("16-bit PNG pixels %x", got)
	}
}

func TestJPEGRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flat.jpg")
	src := solidFrame(48, 32, 200, 60, 30)
	writeAll(t, path, 0, src)
	got := readAll(t, open(t, path, SourceOptions{}), 2)
	if len(got) != 1 || got[0].Width != 48 || got[0].Height != 32 {
		t.Fatalf("read %d frames of %v", len(got), got[0].Format)
	}
	if d := maxDiff(t, got[0], src); d > 4 {
		t.Fatalf("flat JPEG differs by %d", d)
	}
}

func TestSequenceRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "frames") // created by the sink
	spec := filepath.Join(dir, "%05d.png")
	frames := testFrames(t, 50, 20, 7)
	// Mixed input formats: the sequence stores u8 RGB either way.
	f32 := frame.New(frame.Format{Width: 50, Height: 20, Channels: 3, Elem: frame.F32})
	if err := frame.Convert(f32, frames[3]); err != nil {
		t.Fatal(err)
	}
	in := append(append(append([]*frame.Frame{}, frames[:3]...), f32), frames[4:]...)
	writeAll(t, spec, 0, in...)
	for i := 0; i < 7; i++ {
		if _, err := os.Stat(filepath.Join(dir, "0000"+string(rune('0'+i))+".png")); err != nil {
			t.Fatalf("frame file %d: %v", i, err)
		}
	}
	got := readAll(t, open(t, spec, SourceOptions{}), 100)
	if len(got) != 7 {
		t.Fatalf("read back %d frames, want 7", len(got))
	}
	for i := range got {
		if !frame.Equal(got[i], frames[i]) || got[i].Index != uint64(i) {
			t.Fatalf("frame %d differs after the round trip", i)
		}
	}
	// Frames limit.
	if n := len(readAll(t, open(t, spec, SourceOptions{Frames: 3}), 100)); n != 3 {
		t.Fatalf("Frames 3 read %d", n)
	}
}

func TestSequenceStartAndGapAndSize(t *testing.T) {
	dir := t.TempDir()
	f := testFrames(t, 16, 8, 1)[0]
	for _, n := range []string{"img_3.png", "img_4.png", "img_5.png", "img_7.png", "img_x.png", "other.png"} {
		writeAll(t, filepath.Join(dir, n), 0, f)
	}
	spec := filepath.Join(dir, "img_%d.png")
	// A missing number in the middle is an error naming the missing file, after the frames
	// before it; it used to end the sequence quietly.
	src := open(t, spec, SourceOptions{})
	dst := frame.New(src.Format())
	for i := 0; i < 3; i++ {
		if err := src.Read(context.Background(), dst); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	err := src.Read(context.Background(), dst)
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), filepath.Join(dir, "img_6.png")+" is missing") ||
		!strings.Contains(err.Error(), "--skip-gaps") {
		t.Fatalf("gap at 6: %v", err)
	}
	// With SkipGaps, the gap is stepped over and counted.
	src = open(t, spec, SourceOptions{SkipGaps: true})
	if got := readAll(t, src, 100); len(got) != 4 || Skipped(src) != 1 {
		t.Fatalf("SkipGaps read %d frames (want 3,4,5,7) and skipped %d (want 1)", len(got), Skipped(src))
	}
	// Past the highest number found at open, the sequence goes on while files appear.
	src = open(t, spec, SourceOptions{SkipGaps: true})
	readAll(t, src, 3)
	writeAll(t, filepath.Join(dir, "img_8.png"), 0, f)
	if got := readAll(t, src, 100); len(got) != 2 {
		t.Fatalf("after img_8.png appeared: %d more frames, want 7 and 8", len(got))
	}
	if err := os.Remove(filepath.Join(dir, "img_8.png")); err != nil {
		t.Fatal(err)
	}
	// A frame of another size: the error names the file.
	writeAll(t, filepath.Join(dir, "img_6.png"), 0, testFrames(t, 17, 8, 1)[0])
	src = open(t, spec, SourceOptions{})
	err = nil
	for i := 0; i < 10 && err == nil; i++ {
		err = src.Read(context.Background(), dst)
	}
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "img_6.png") || !strings.Contains(err.Error(), "17x8") {
		t.Fatalf("size change: %v", err)
	}
	// Padded patterns only match their own width.
	if _, err := OpenSource(context.Background(), filepath.Join(dir, "img_%03d.png"), SourceOptions{}); err == nil || !strings.Contains(err.Error(), "no files match") {
		t.Fatalf("img_%%03d.png over unpadded names: %v", err)
	}
}

func TestParsePattern(t *testing.T) {
	for _, c := range []struct {
		spec           string
		ok             bool
		prefix, suffix string
		width          int
		name3          string
	}{
		{"out/%05d.png", true, "", ".png", 5, "out/00003.png"},
		{"f_%d_x.jpg", true, "f_", "_x.jpg", 0, "f_3_x.jpg"},
		{"a/b/%010d.jpeg", true, "", ".jpeg", 10, "a/b/0000000003.jpeg"},
		{"my%20video.mp4", false, "", "", 0, ""},
		{"plain.png", false, "", "", 0, ""},
	} {
		p, ok, err := parsePattern(c.spec)
		if err != nil || ok != c.ok {
			t.Errorf("parsePattern(%q) = %v, %v", c.spec, ok, err)
			continue
		}
		if ok && (p.prefix != c.prefix || p.suffix != c.suffix || p.width != c.width || p.name(3) != filepath.FromSlash(c.name3)) {
			t.Errorf("parsePattern(%q) = %+v, name(3) %q", c.spec, p, p.name(3))
		}
	}
	for _, bad := range []string{"%d/%d.png", "%d/x.png", "x%05d.tif", "%d%d.png"} {
		if _, _, err := parsePattern(bad); err == nil {
			t.Errorf("parsePattern(%q) accepted", bad)
		}
	}
	// Padding wider than a file name can be: it made name() build a string of that many zeros
	// (a panic for a width past the int range, gigabytes for %0999999999d).
	dir := t.TempDir()
	writeAll(t, filepath.Join(dir, "1.png"), 0, solidFrame(2, 2, 0, 0, 0))
	for _, spec := range []string{"%099999999999999999999d.png", "%0999999999d.png", "%0256d.png"} {
		_, err := OpenSource(context.Background(), filepath.Join(dir, spec), SourceOptions{})
		if err == nil || !strings.Contains(err.Error(), spec) || !strings.Contains(err.Error(), "at most 255 bytes") {
			t.Errorf("%s: %v, want a refusal of the padding", spec, err)
		}
	}
	if p, ok, err := parsePattern("%0255d.png"); err != nil || !ok || len(filepath.Base(p.name(1))) != 259 {
		t.Errorf("%%0255d.png: %v", err)
	}
}
