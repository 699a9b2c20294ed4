package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
)

func TestTestsrcDeterministicAndMoving(t *testing.T) {
	a := testFrames(t, 320, 180, 40)
	b := testFrames(t, 320, 180, 40)
	if len(a) != 40 {
		t.Fatalf("got %d frames, want 40", len(a))
	}
	for i := range a {
		if !frame.Equal(a[i], b[i]) {
			t.Fatalf("frame %d differs between two opens", i)
		}
		if a[i].Index != uint64(i) {
			t.Fatalf("frame %d has Index %d", i, a[i].Index)
		}
		if want := time.Duration(i) * time.Second / 30; a[i].PTS != want {
			t.Fatalf("frame %d PTS %v, want %v", i, a[i].PTS, want)
		}
		if i > 0 && frame.Equal(a[i], a[i-1]) {
			t.Fatalf("frame %d equals frame %d", i, i-1)
		}
	}
	// The pattern is not flat: the bars have their colours.
	f := a[0]
	if f.Format != (frame.Format{Width: 320, Height: 180, Channels: 3, Elem: frame.U8}) {
		t.Fatalf("format %v", f.Format)
	}
	px := func(x, y int) []byte { return f.Row(y)[3*x : 3*x+3] }
	if got := px(320*5/14, 60); !bytes.Equal(got, []byte{0, 191, 191}) { // third bar: cyan
		t.Fatalf("cyan bar pixel %v", got)
	}
	if got := px(319, 60); !bytes.Equal(got, []byte{0, 0, 191}) { // last bar: blue
		t.Fatalf("blue bar pixel %v", got)
	}
}

func TestTestsrcSizesAndEndless(t *testing.T) {
	for _, c := range []struct {
		spec string
		opts SourceOptions
		w, h int
	}{
		{"testsrc", SourceOptions{}, 640, 360},
		{"testsrc", SourceOptions{Width: 100, Height: 50}, 100, 50},
		{"testsrc:1920x1080", SourceOptions{Width: 100, Height: 50}, 1920, 1080},
		{"testsrc:1x1", SourceOptions{}, 1, 1},
		{"testsrc:7x3", SourceOptions{}, 7, 3},
		{"solid:ff0000", SourceOptions{}, 640, 360},
		{"solid:ff0000:33x2", SourceOptions{Width: 8, Height: 8}, 33, 2},
		{"solid:#00ff00", SourceOptions{Width: 8, Height: 4}, 8, 4},
	} {
		src := open(t, c.spec, c.opts)
		if f := src.Format(); f.Width != c.w || f.Height != c.h || f.Channels != 3 || f.Elem != frame.U8 {
			t.Errorf("%s %+v: format %v, want %dx%d rgb u8", c.spec, c.opts, f, c.w, c.h)
		}
		// Endless: 300 frames without EOF, tiny sizes included.
		if c.w*c.h < 10000 {
			if n := len(readAll(t, src, 300)); n != 300 {
				t.Errorf("%s: EOF after %d frames", c.spec, n)
			}
		}
	}
}

func TestFramesLimit(t *testing.T) {
	src := open(t, "solid:102030:4x4", SourceOptions{Frames: 3})
	if n := len(readAll(t, src, 100)); n != 3 {
		t.Fatalf("got %d frames, want 3", n)
	}
	if err := src.Read(context.Background(), frame.New(src.Format())); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the end: %v, want io.EOF", err)
	}
}

func TestSolidValues(t *testing.T) {
	src := open(t, "solid:0A80fF:5x3", SourceOptions{FPS: 25})
	for _, pitch := range []int{15, 20} {
		dst := frame.NewWithPitch(src.Format(), pitch)
		for i := range dst.Data {
			dst.Data[i] = 0xEE
		}
		if err := src.Read(context.Background(), dst); err != nil {
			t.Fatal(err)
		}
		for y := 0; y < 3; y++ {
			if want := bytes.Repeat([]byte{0x0A, 0x80, 0xFF}, 5); !bytes.Equal(dst.Row(y), want) {
				t.Fatalf("pitch %d row %d = %v", pitch, y, dst.Row(y))
			}
		}
		if pitch == 20 && dst.Data[15] != 0xEE {
			t.Fatal("padding was overwritten")
		}
	}
	// Second frame at 25 fps.
	dst := frame.New(src.Format())
	if err := src.Read(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	if dst.Index != 2 || dst.PTS != 80*time.Millisecond {
		t.Fatalf("Index %d PTS %v, want 2 and 80ms", dst.Index, dst.PTS)
	}
}

func TestReadIntoOtherFormats(t *testing.T) {
	packed := testFrames(t, 64, 48, 2)
	// Padded pitch.
	src := open(t, "testsrc:64x48", SourceOptions{})
	padded := frame.NewWithPitch(src.Format(), 64*3+13)
	if err := src.Read(context.Background(), padded); err != nil {
		t.Fatal(err)
	}
	if !frame.Equal(padded, packed[0]) {
		t.Fatal("padded read differs from packed read")
	}
	// Another channel count and element type: converted.
	f32 := frame.New(frame.Format{Width: 64, Height: 48, Channels: 4, Elem: frame.F32})
	if err := src.Read(context.Background(), f32); err != nil {
		t.Fatal(err)
	}
	want := frame.New(f32.Format)
	if err := frame.Convert(want, packed[1]); err != nil {
		t.Fatal(err)
	}
	if !frame.Equal(f32, want) || f32.Index != 1 {
		t.Fatalf("converted read differs (index %d)", f32.Index)
	}
	// Another size: an error.
	err := src.Read(context.Background(), frame.New(frame.Format{Width: 32, Height: 48, Channels: 3, Elem: frame.U8}))
	if err == nil || !strings.Contains(err.Error(), "32x48") {
		t.Fatalf("wrong-size read: %v", err)
	}
	// Cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Read(ctx, padded); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	// Closed.
	src.Close()
	if err := src.Read(context.Background(), padded); err == nil {
		t.Fatal("read after Close succeeded")
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestGeneratedReadNoAlloc(t *testing.T) {
	for _, spec := range []string{"testsrc:320x240", "solid:123456:320x240"} {
		src := open(t, spec, SourceOptions{})
		dst := frame.NewWithPitch(src.Format(), 320*3+4)
		ctx := context.Background()
		if n := testing.AllocsPerRun(50, func() {
			if err := src.Read(ctx, dst); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Read allocates %v times per frame", spec, n)
		}
	}
}

func TestRationalAndPTS(t *testing.T) {
	for _, c := range []struct {
		fps      float64
		num, den int64
	}{
		{30, 30, 1}, {0, 30, 1}, {29.97, 30000, 1001}, {23.976, 24000, 1001}, {59.94, 60000, 1001},
		{119.88, 120000, 1001}, {12.5, 25, 2}, {0.5, 1, 2}, {1000, 1000, 1},
	} {
		if n, d := rational(c.fps); n != c.num || d != c.den {
			t.Errorf("rational(%v) = %d/%d, want %d/%d", c.fps, n, d, c.num, c.den)
		}
	}
	if got := pts(30000, 30000, 1001); got != 1001*time.Second {
		t.Errorf("pts(30000 @ 29.97) = %v", got)
	}
	if got := pts(1, 30, 1); got != 33333333*time.Nanosecond {
		t.Errorf("pts(1 @ 30) = %v", got)
	}
	if got, want := pts(1<<34, 30, 1), time.Duration(float64(1<<34)/30*1e9); got < want-time.Microsecond || got > want+time.Microsecond {
		t.Errorf("pts of a huge index overflowed: %v", got)
	}
}
