package media

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
)

func TestY4MRoundTrip(t *testing.T) {
	const w, h = 96, 54
	frames := testFrames(t, w, h, 4)
	// Include the corners of the RGB cube.
	corners := frame.New(frames[0].Format)
	copy(corners.Data, []byte{0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 255, 255, 255, 0, 255})
	frames = append(frames, corners)
	path := filepath.Join(t.TempDir(), "clip.y4m")
	writeAll(t, path, 29.97, frames...)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := "YUV4MPEG2 W96 H54 F30000:1001 Ip A1:1 C444 XCOLORRANGE=FULL\n"
	if !strings.HasPrefix(string(data), hdr) {
		t.Fatalf("header %q, want %q", data[:len(hdr)], hdr)
	}
	if want := len(hdr) + len(frames)*(6+3*w*h); len(data) != want {
		t.Fatalf("file has %d bytes, want %d", len(data), want)
	}
	if !bytes.HasPrefix(data[len(hdr):], []byte("FRAME\n")) {
		t.Fatal("no FRAME marker after the header")
	}

	src := open(t, path, SourceOptions{FPS: 5}) // the file's own rate wins
	got := readAll(t, src, 100)
	if len(got) != len(frames) {
		t.Fatalf("read %d frames, want %d", len(got), len(frames))
	}
	for i := range got {
		if d := maxDiff(t, got[i], frames[i]); d > 2 {
			t.Errorf("frame %d: max difference %d after the Y4M round trip, want <= 2", i, d)
		}
	}
	if want := 4 * 1001 * time.Second / 30000; got[4].PTS != want {
		t.Errorf("PTS of frame 4 = %v, want %v", got[4].PTS, want)
	}
	// Black and white survive exactly (the other corners are within 1).
	if !bytes.Equal(got[4].Data[:6], corners.Data[:6]) {
		t.Errorf("black and white came back as %v", got[4].Data[:6])
	}
}

// y4mFile writes a hand-made Y4M file.
func y4mFile(t *testing.T, header string, frames ...[]byte) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for _, f := range frames {
		b.WriteString("FRAME\n")
		b.Write(f)
	}
	path := filepath.Join(t.TempDir(), "in.y4m")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestY4MReaderFormats(t *testing.T) {
	// 4x2 C420jpeg, limited range (no XCOLORRANGE): left half BT.601 red, right half white.
	// Y plane 4x2, Cb and Cr planes 2x1.
	planes := []byte{
		81, 81, 235, 235,
		81, 81, 235, 235,
		90, 128, // Cb
		240, 128, // Cr
	}
	for _, c := range []string{"C420jpeg", "C420mpeg2", "C420paldv", "C420", ""} {
		path := y4mFile(t, "YUV4MPEG2 W4 H2 F25:1 Ip A0:0 "+c, planes, planes)
		got := readAll(t, open(t, path, SourceOptions{}), 10)
		if len(got) != 2 {
			t.Fatalf("%s: %d frames", c, len(got))
		}
		want := solidFrame(4, 2, 255, 255, 255)
		for y := 0; y < 2; y++ {
			copy(want.Row(y), []byte{255, 0, 0, 255, 0, 0})
		}
		if d := maxDiff(t, got[0], want); d > 2 {
			t.Fatalf("%s: %v, want %v", c, got[0].Data, want.Data)
		}
		if got[1].PTS != 40*time.Millisecond {
			t.Fatalf("%s: PTS %v at F25:1", c, got[1].PTS)
		}
	}
	// C422 full range: chroma per 2 columns, every row.
	p422 := []byte{
		0, 255, 128, 128,
		0, 255, 128, 128,
		128, 128, 128, 128, // Cb 2x2
		128, 128, 255, 255, // Cr 2x2 (row 1, columns 2..3 reddish)
	}
	got := readAll(t, open(t, y4mFile(t, "YUV4MPEG2 W4 H2 F30:1 C422 XCOLORRANGE=FULL", p422), SourceOptions{}), 1)[0]
	if want := []byte{0, 0, 0, 255, 255, 255, 128, 128, 128, 128, 128, 128}; !bytes.Equal(got.Row(0), want) {
		t.Fatalf("C422 row 0 = %v, want %v", got.Row(0), want)
	}
	if r := got.Row(1); r[6] != 255 || r[7] >= 128 || r[8] != 128 {
		t.Fatalf("C422 row 1 = %v: want red-shifted pixels 2 and 3", r)
	}
	// Cmono, limited: 16 -> 0, 235 -> 255.
	got = readAll(t, open(t, y4mFile(t, "YUV4MPEG2 W2 H1 F30:1 Cmono", []byte{16, 235}), SourceOptions{}), 1)[0]
	if want := []byte{0, 0, 0, 255, 255, 255}; !bytes.Equal(got.Data, want) {
		t.Fatalf("Cmono = %v", got.Data)
	}
	// C444 full range gray.
	got = readAll(t, open(t, y4mFile(t, "YUV4MPEG2 W1 H1 F30:1 C444 XCOLORRANGE=FULL", []byte{77, 128, 128}), SourceOptions{}), 1)[0]
	if want := []byte{77, 77, 77}; !bytes.Equal(got.Data, want) {
		t.Fatalf("C444 gray = %v", got.Data)
	}
}

func TestY4MReaderErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ header, word string }{
		{"YUV4MPEG2 W4 H2 F25:1 C420p10", "C420p10"},
		{"YUV4MPEG2 H2 F25:1", "size"},
		{"NOTY4M W4 H2", "not a YUV4MPEG2"},
	} {
		_, err := OpenSource(ctx, y4mFile(t, c.header), SourceOptions{})
		if err == nil || !strings.Contains(err.Error(), c.word) || !strings.Contains(err.Error(), "in.y4m") {
			t.Errorf("%q: %v, want an error naming the file and %q", c.header, err, c.word)
		}
	}
	// Truncated frame.
	path := y4mFile(t, "YUV4MPEG2 W4 H2 F25:1 C444", make([]byte, 24), make([]byte, 10))
	src := open(t, path, SourceOptions{})
	dst := frame.New(src.Format())
	if err := src.Read(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := src.Read(ctx, dst); err == nil || err == io.EOF || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated frame: %v", err)
	}
}

func TestY4MReadWriteNoAlloc(t *testing.T) {
	const w, h = 64, 32
	f := testFrames(t, w, h, 1)[0]
	yw, err := newY4MWriter(io.Discard, w, h, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	padded := frame.NewWithPitch(f.Format, 3*w+8)
	frame.Convert(padded, f)
	if n := testing.AllocsPerRun(20, func() {
		if err := yw.write(padded); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Y4M write allocates %v times per frame", n)
	}
	path := filepath.Join(t.TempDir(), "a.y4m")
	frames := make([]*frame.Frame, 30)
	for i := range frames {
		frames[i] = f
	}
	writeAll(t, path, 30, frames...)
	src := open(t, path, SourceOptions{})
	dst := frame.New(src.Format())
	if n := testing.AllocsPerRun(20, func() {
		if err := src.Read(context.Background(), dst); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Y4M read allocates %v times per frame", n)
	}
}

func TestY4MFFmpegInterop(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	src := testFrames(t, 64, 48, 1)[0]
	// Our file, read by ffmpeg (it must honour XCOLORRANGE=FULL), back to PNG.
	ours := filepath.Join(dir, "ours.y4m")
	writeAll(t, ours, 30, src)
	png := filepath.Join(dir, "viaffmpeg.png")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", ours, "-pix_fmt", "rgb24", png).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	got := readAll(t, open(t, png, SourceOptions{}), 1)[0]
	if d := maxDiff(t, got, src); d > 3 {
		t.Errorf("ffmpeg reading our Y4M differs by %d", d)
	}
	// ffmpeg's 4:2:0 limited-range file, read by us: a flat colour survives.
	flat := solidFrame(64, 48, 180, 90, 40)
	flatPNG := filepath.Join(dir, "flat.png")
	writeAll(t, flatPNG, 0, flat)
	theirs := filepath.Join(dir, "theirs.y4m")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", flatPNG, "-pix_fmt", "yuv420p", theirs).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	hdr, _ := os.ReadFile(theirs)
	got = readAll(t, open(t, theirs, SourceOptions{}), 2)[0]
	if d := maxDiff(t, got, flat); d > 3 {
		t.Errorf("our reading of ffmpeg's Y4M (%q) differs by %d: %v", strings.SplitN(string(hdr), "\n", 2)[0], d, got.Data[:3])
	}
}
