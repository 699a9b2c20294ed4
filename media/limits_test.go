package media

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
)

// pngChunk appends one PNG chunk (length, type, data, CRC) to b.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// pngBomb returns a small PNG whose header claims w x h pixels (8-bit RGBA): a valid IHDR
// and an IDAT with the first rows only, as a decompression bomb of a few hundred bytes would
// start. Decoding it would allocate the whole w x h x 4 image.
func pngBomb(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth 8, RGBA, deflate, no filter, no interlace
	b = pngChunk(b, "IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4*(1+4*int(min(w, 64))))) // four rows of zeros (or part of one)
	zw.Close()
	b = pngChunk(b, "IDAT", z.Bytes())
	return pngChunk(b, "IEND", nil)
}

// jpegBomb returns an 8x8 JPEG whose frame header (SOF0) is patched to claim w x h.
func jpegBomb(t *testing.T, w, h uint16) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in the encoded JPEG")
	}
	// FFC0, length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(data[i+5:], h)
	binary.BigEndian.PutUint16(data[i+7:], w)
	return data
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantLimitError checks that err is a *LimitError whose message names the size, the limit
// and the flag that raises it.
func wantLimitError(t *testing.T, what string, err error, size, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("%s: got %v, want a *LimitError", what, err)
	}
	for _, w := range []string{size, limit, "--max-frame-size"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %q does not say %q", what, err, w)
		}
	}
}

func TestY4MSizeLimits(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ header, size string }{
		{"YUV4MPEG2 W4294967295 H4294967295 F25:1 C420jpeg", "4294967295x4294967295"}, // was a makeslice panic
		{"YUV4MPEG2 W100000 H100000 F25:1 C444", "100000x100000"},                     // was out of memory
		{"YUV4MPEG2 W16385 H2 F25:1 Cmono", "16385x2"},
		{"YUV4MPEG2 W2 H9223372036854775807 C420", "2x9223372036854775807"},
	} {
		_, err := OpenSource(ctx, y4mFile(t, c.header), SourceOptions{})
		wantLimitError(t, c.header, err, c.size, "16384x16384")
		if !strings.Contains(err.Error(), "in.y4m") {
			t.Errorf("%s: %q does not name the file", c.header, err)
		}
	}
	// The limit is exactly inclusive, and raising it admits a larger size.
	path := y4mFile(t, "YUV4MPEG2 W16384 H1 F25:1 Cmono", make([]byte, 16384))
	if got := readAll(t, open(t, path, SourceOptions{}), 2); len(got) != 1 || got[0].Width != 16384 {
		t.Fatalf("16384x1 at the default limit: %d frames", len(got))
	}
	path = y4mFile(t, "YUV4MPEG2 W20000 H1 F25:1 Cmono", make([]byte, 20000))
	if _, err := OpenSource(ctx, path, SourceOptions{}); err == nil {
		t.Fatal("20000x1 opened under the default limit")
	}
	if got := readAll(t, open(t, path, SourceOptions{Limits: SizeLimits(20000, 20000)}), 2); len(got) != 1 || got[0].Width != 20000 {
		t.Fatalf("20000x1 with a raised limit: %d frames", len(got))
	}
	// A byte budget alone: 64x64 C444 needs 64*64*6 bytes.
	_, err := OpenSource(ctx, y4mFile(t, "YUV4MPEG2 W64 H64 C444"), SourceOptions{Limits: Limits{MaxBytes: 64 * 64 * 5}})
	var le *LimitError
	if !errors.As(err, &le) || le.Bytes != 64*64*6 || !strings.Contains(err.Error(), "needs 24.0 KiB of memory, over the budget of 20.0 KiB") {
		t.Fatalf("byte budget: %v", err)
	}
}

func TestY4MHeaderWithoutNewline(t *testing.T) {
	// A header that never ends is refused after the reader's buffer, not read into memory whole.
	path := writeFile(t, "long.y4m", append([]byte("YUV4MPEG2 W4 H2 X"), bytes.Repeat([]byte("a"), 2<<20)...))
	_, err := OpenSource(context.Background(), path, SourceOptions{})
	if err == nil || !strings.Contains(err.Error(), "long.y4m") || !strings.Contains(err.Error(), "no end of line") {
		t.Fatalf("endless header: %v", err)
	}
}

func TestImageBombsAreRefusedBeforeDecoding(t *testing.T) {
	ctx := context.Background()
	png := writeFile(t, "bomb.png", pngBomb(20000, 20000))
	if st, _ := os.Stat(png); st.Size() > 2000 {
		t.Fatalf("the bomb is %d bytes, want a small file", st.Size())
	}
	_, err := OpenSource(ctx, png, SourceOptions{})
	wantLimitError(t, "PNG 20000x20000", err, "20000x20000", "16384x16384")
	if !strings.Contains(err.Error(), "bomb.png") {
		t.Errorf("%q does not name the file", err)
	}
	jpg := writeFile(t, "bomb.jpg", jpegBomb(t, 65535, 65535))
	_, err = OpenSource(ctx, jpg, SourceOptions{})
	wantLimitError(t, "JPEG 65535x65535", err, "65535x65535", "16384x16384")

	// Within the size limit, the memory budget decides: 4000x4000 RGBA decodes into 64 MB,
	// then 48 MB of RGB.
	png = writeFile(t, "big.png", pngBomb(4000, 4000))
	_, err = OpenSource(ctx, png, SourceOptions{Limits: Limits{MaxBytes: 100 << 20}})
	var le *LimitError
	if !errors.As(err, &le) || le.Bytes != 4000*4000*7 || !strings.Contains(err.Error(), "106.8 MiB") || !strings.Contains(err.Error(), "100.0 MiB") {
		t.Fatalf("byte budget: %v", err)
	}

	// A sequence checks every image's header: the first one, and a later one that claims
	// another size is refused without decoding it.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0.png"), pngBomb(30000, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenSource(ctx, filepath.Join(dir, "%d.png"), SourceOptions{})
	wantLimitError(t, "sequence", err, "30000x2", "16384x16384")
	writeAll(t, filepath.Join(dir, "0.png"), 0, solidFrame(4, 4, 1, 2, 3))
	if err := os.WriteFile(filepath.Join(dir, "1.png"), pngBomb(20000, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	src := open(t, filepath.Join(dir, "%d.png"), SourceOptions{})
	dst := frame.New(src.Format())
	if err := src.Read(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := src.Read(ctx, dst); err == nil || !strings.Contains(err.Error(), "1.png is 20000x20000, the sequence started at 4x4") {
		t.Fatalf("bomb inside a sequence: %v", err)
	}
}

func TestGeneratedSizeLimits(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		spec string
		opts SourceOptions
		size string
	}{
		{"testsrc:20000x20000", SourceOptions{}, "20000x20000"},
		{"solid:ff0000:16385x1", SourceOptions{}, "16385x1"},
		{"testsrc", SourceOptions{Width: 100000, Height: 100000}, "100000x100000"},
		{"solid:00ff00", SourceOptions{Width: 1, Height: 40000}, "1x40000"},
		{"testsrc:99999999999x99999999999", SourceOptions{}, "99999999999x99999999999"},
	} {
		_, err := OpenSource(ctx, c.spec, c.opts)
		wantLimitError(t, c.spec, err, c.size, "16384x16384")
	}
	if _, err := OpenSource(ctx, "testsrc:64x32", SourceOptions{Limits: Limits{MaxWidth: 32}}); err == nil || !strings.Contains(err.Error(), "64x32 is over the limit of 32x16384") {
		t.Fatalf("custom width limit: %v", err)
	}
	if got := readAll(t, open(t, "solid:102030:20000x1", SourceOptions{Limits: SizeLimits(20000, 1)}), 1); got[0].Width != 20000 || got[0].Data[3*19999] != 0x10 {
		t.Fatal("a raised limit does not admit solid:102030:20000x1")
	}
}

func TestFFmpegSizeLimits(t *testing.T) {
	needFFmpeg(t)
	// Size from ffprobe: a 40x30 clip (as Y4M in a file ffmpeg has to probe) over a 32-pixel limit.
	path := filepath.Join(t.TempDir(), "clip.nut")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=40x30:rate=5", "-frames:v", "2", "-c:v", "ffv1", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	_, err := OpenSource(context.Background(), path, SourceOptions{Limits: Limits{MaxWidth: 32, MaxHeight: 32}})
	wantLimitError(t, "ffmpeg", err, "40x30", "32x32")
	if got := readAll(t, open(t, path, SourceOptions{}), 5); len(got) != 2 || got[0].Width != 40 {
		t.Fatalf("under the default limit: %d frames", len(got))
	}
}

func TestLimitsCheckNeverOverflows(t *testing.T) {
	l := SizeLimits(1<<40, 1<<40)
	err := l.check("x", 1<<40, 1<<40, 11)
	var le *LimitError
	if !errors.As(err, &le) || le.Bytes <= 0 {
		t.Fatalf("2^80 pixels: %v", err)
	}
	if err := (Limits{}).check("x", 0, 5, 3); err == nil || !strings.Contains(err.Error(), "0x5") {
		t.Fatalf("zero width: %v", err)
	}
	if DefaultLimits() != (Limits{}).orDefault() || DefaultLimits().MaxBytes != 4<<30 {
		t.Fatalf("defaults: %+v", DefaultLimits())
	}
}
