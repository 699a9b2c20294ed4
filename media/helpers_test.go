package media

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"testing"

	"github.com/scopenative/scope/frame"
)

// open opens spec or fails the test.
func open(t testing.TB, spec string, opts SourceOptions) Source {
	t.Helper()
	src, err := OpenSource(context.Background(), spec, opts)
	if err != nil {
		t.Fatalf("OpenSource(%q): %v", spec, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// readAll reads every frame of src (at most limit) into fresh packed frames.
func readAll(t testing.TB, src Source, limit int) []*frame.Frame {
	t.Helper()
	var out []*frame.Frame
	for len(out) < limit {
		f := frame.New(src.Format())
		err := src.Read(context.Background(), f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read frame %d: %v", len(out), err)
		}
		out = append(out, f)
	}
	return out
}

// writeAll creates spec for frames[0]'s format, writes every frame and closes it.
func writeAll(t testing.TB, spec string, fps float64, frames ...*frame.Frame) {
	t.Helper()
	sink, err := CreateSink(context.Background(), spec, frames[0].Format, SinkOptions{FPS: fps})
	if err != nil {
		t.Fatalf("CreateSink(%q): %v", spec, err)
	}
	for i, f := range frames {
		if err := sink.Write(f); err != nil {
			t.Fatalf("write frame %d to %s: %v", i, spec, err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("close %s: %v", spec, err)
	}
}

// testFrames returns n consecutive testsrc frames of size w x h.
func testFrames(t testing.TB, w, h, n int) []*frame.Frame {
	t.Helper()
	return readAll(t, open(t, "testsrc", SourceOptions{Width: w, Height: h, Frames: n}), n)
}

// maxDiff returns the largest absolute sample difference between two U8 frames of one size.
func maxDiff(t testing.TB, a, b *frame.Frame) int {
	t.Helper()
	if a.Width != b.Width || a.Height != b.Height || a.Channels != b.Channels || a.Elem != frame.U8 || b.Elem != frame.U8 {
		t.Fatalf("maxDiff: %v vs %v", a.Format, b.Format)
	}
	m := 0
	for y := 0; y < a.Height; y++ {
		ra, rb := a.Row(y), b.Row(y)
		for i := range ra {
			d := int(ra[i]) - int(rb[i])
			if d < 0 {
				d = -d
			}
			m = max(m, d)
		}
	}
	return m
}

// needFFmpeg skips the test when ffmpeg (and ffprobe) are not installed.
func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("ffmpeg not on PATH: %s: %v", tool, err)
		}
	}
}

// solidFrame returns a packed RGB U8 frame of one colour.
func solidFrame(w, h int, r, g, b byte) *frame.Frame {
	f := frame.New(frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.U8})
	for i := 0; i < len(f.Data); i += 3 {
		f.Data[i], f.Data[i+1], f.Data[i+2] = r, g, b
	}
	return f
}
