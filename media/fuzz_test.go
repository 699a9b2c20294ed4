package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
)

// fuzzLimits keeps fuzzed sizes small, so that every accepted input is cheap to read.
var fuzzLimits = Limits{MaxWidth: 64, MaxHeight: 64, MaxBytes: 64 * 64 * 11}

// FuzzY4MReader feeds arbitrary bytes to the Y4M reader: it must refuse what it cannot read
// with an error naming the stream (never panic or allocate past the limits) and read what it
// accepts into frames of the size its header gave.
func FuzzY4MReader(f *testing.F) {
	for _, seed := range []string{
		"YUV4MPEG2 W4 H2 F25:1 C444\nFRAME\n" + strings.Repeat("\x80", 24),
		"YUV4MPEG2 W3 H3 F30000:1001 Ip A1:1 C420jpeg XCOLORRANGE=FULL\nFRAME\n" + strings.Repeat("\x10", 9+2*4) + "FRAME Ixyz\n" + strings.Repeat("\xf0", 17),
		"YUV4MPEG2 W5 H1 C422\nFRAME\n" + strings.Repeat("a", 5+2*3),
		"YUV4MPEG2 W2 H2 Cmono\nFRAME\n\x00\x01\x02\x03FRAME\n\x00",
		"YUV4MPEG2 W4294967295 H4294967295 F25:1 C420jpeg\nFRAME\n",
		"YUV4MPEG2 W100000 H100000 C444\n",
		"YUV4MPEG2 W-1 H2\n",
		"YUV4MPEG2 W2 H2 F0:0 C420p10\n",
		"YUV4MPEG2 W1 H1 C444\nFRAMX\n\x00\x00\x00",
		"YUV4MPEG2",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newY4MReader(bytes.NewReader(data), "fuzz.y4m", fuzzLimits)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.y4m") {
				t.Fatalf("error does not name the stream: %v", err)
			}
			return
		}
		fm := r.format()
		if fm.Width < 1 || fm.Height < 1 || fm.Width > fuzzLimits.MaxWidth || fm.Height > fuzzLimits.MaxHeight || fm.Channels != 3 || fm.Elem != frame.U8 {
			t.Fatalf("accepted format %v", fm)
		}
		if num, den := r.rate(); (num == 0) != (den == 0) || num < 0 || den < 0 {
			t.Fatalf("rate %d/%d", num, den)
		}
		// Read into a frame with a padded pitch too: the reader must respect dst's pitch.
		dst := frame.NewWithPitch(fm, fm.RowBytes()+5)
		for i := 0; i < 100; i++ {
			err := r.read(context.Background(), dst)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), "fuzz.y4m") {
					t.Fatalf("frame error does not name the stream: %v", err)
				}
				return
			}
		}
	})
}

// encoded returns img as PNG or JPEG bytes.
func encoded(f *testing.F, img image.Image, asJPEG bool) []byte {
	var b bytes.Buffer
	var err error
	if asJPEG {
		err = jpeg.Encode(&b, img, nil)
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

// FuzzImageHeader feeds arbitrary bytes to the still and sequence image decoder: headers over
// the limits are refused with a *LimitError before decoding, another size than the sequence's
// is refused from the header, and what decodes has the size its header claimed.
func FuzzImageHeader(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 7, 5))
	rgba := image.NewNRGBA64(image.Rect(0, 0, 3, 2))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 7)
	}
	for _, seed := range [][]byte{
		encoded(f, gray, false),
		encoded(f, rgba, false),
		encoded(f, gray, true),
		encoded(f, image.NewYCbCr(image.Rect(0, 0, 9, 9), image.YCbCrSubsampleRatio420), true),
		pngBomb(20000, 20000),
		pngBomb(65, 1),
		[]byte("\x89PNG\r\n\x1a\n"),
		[]byte("\xff\xd8\xff"),
		{},
	} {
		f.Add(seed, uint8(0), uint8(0))
		f.Add(seed, uint8(7), uint8(5))
	}
	f.Fuzz(func(t *testing.T, data []byte, ww, wh uint8) {
		var want *frame.Format
		if ww > 0 && wh > 0 {
			want = &frame.Format{Width: int(ww), Height: int(wh), Channels: 3, Elem: frame.U8}
		}
		cfg, _, cfgErr := image.DecodeConfig(bytes.NewReader(data))
		img, err := decodeImage(bytes.NewReader(data), "fuzz.png", fuzzLimits, want)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.png") {
				t.Fatalf("error does not name the file: %v", err)
			}
			var le *LimitError
			if cfgErr == nil && (cfg.Width > fuzzLimits.MaxWidth || cfg.Height > fuzzLimits.MaxHeight) &&
				(want == nil || want.Width == cfg.Width && want.Height == cfg.Height) && !errors.As(err, &le) {
				t.Fatalf("a %dx%d header was refused with %v, want a *LimitError", cfg.Width, cfg.Height, err)
			}
			return
		}
		if cfgErr != nil || img.Width != cfg.Width || img.Height != cfg.Height || img.Channels != 3 {
			t.Fatalf("decoded %v from a header of %dx%d (%v)", img.Format, cfg.Width, cfg.Height, cfgErr)
		}
		if img.Width > fuzzLimits.MaxWidth || img.Height > fuzzLimits.MaxHeight {
			t.Fatalf("decoded %v past the limits", img.Format)
		}
		if want != nil && (img.Width != want.Width || img.Height != want.Height) {
			t.Fatalf("decoded %v for a sequence of %v", img.Format, *want)
		}
	})
}

// FuzzSequencePattern checks the sequence pattern and file-name parsing: a pattern that parses
// names number n so that the name parses back to n, and a name it accepts is the one it writes.
func FuzzSequencePattern(f *testing.F) {
	for _, seed := range []struct {
		spec, name string
		n          int
	}{
		{"dir/%05d.png", "00042.png", 42},
		{"img_%d.jpg", "img_7.jpg", 7},
		{"a/b/x%03dy.jpeg", "x1000y.jpeg", 1000},
		{"%d.png", "+1.png", 0},
		{"%d.png", "-1.png", -1},
		{"%0d.png", "1.png", 1},
		{"%%d.png", "%1.png", 1},
		{"dir%d/%d.png", "1.png", 1},
		{"x/%09999999999d.png", "1.png", 1},
		{"%d.gif", "1.gif", 1},
	} {
		f.Add(seed.spec, seed.name, seed.n)
	}
	f.Fuzz(func(t *testing.T, spec, name string, n int) {
		p, ok, err := parsePattern(spec)
		if err != nil || !ok {
			return
		}
		if p.width > maxNameLen {
			t.Fatalf("%q parsed with padding %d", spec, p.width)
		}
		if n >= 0 {
			full := p.name(n)
			got, ok := p.number(filepath.Base(full))
			if !ok || got != n {
				t.Fatalf("%q names %d as %q, which parses back as %d, %v", spec, n, full, got, ok)
			}
		}
		if strings.ContainsRune(name, filepath.Separator) {
			return
		}
		if got, ok := p.number(name); ok {
			if got < 0 || filepath.Base(p.name(got)) != name {
				t.Fatalf("%q accepted %q as %d, but names %d %q", spec, name, got, got, p.name(got))
			}
		}
	})
}

// FuzzLiveSpec parses camera and screen specs: any text gives ffmpeg arguments or an error
// naming the spec, never a panic; a parsed region is always WxH+X+Y with sane numbers.
func FuzzLiveSpec(f *testing.F) {
	for _, s := range []string{"camera:3", "v4l2:/dev/video0?size=1280x720&fps=30&format=mjpeg",
		"screen::0?region=640x480+10+20&fps=15", "screen?region=1x1", "v4l2:?size=0x0", "screen:%zz?fps=1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		env := func(string) string { return ":0" }
		if strings.HasPrefix(spec, "screen") {
			in, err := screenInput(spec, env)
			if err != nil {
				if !strings.Contains(err.Error(), spec) {
					t.Fatalf("error %q does not name %q", err, spec)
				}
				return
			}
			if len(in.args) < 2 || in.args[len(in.args)-2] != "-i" {
				t.Fatalf("args %q", in.args)
			}
			return
		}
		dev, req, err := cameraInput(spec, t.TempDir())
		if err != nil {
			if !strings.Contains(err.Error(), spec) {
				t.Fatalf("error %q does not name %q", err, spec)
			}
			return
		}
		if dev == "" || req.Size.Width < 0 || req.Size.Height < 0 || req.FPS < 0 || req.FPS > 1000 {
			t.Fatalf("%q -> %q %+v", spec, dev, req)
		}
	})
}
