package media

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
)

func TestFFmpegRoundTrip(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name         string
		w, h, ww, wh int // written and expected read-back size (odd sizes are padded to even, edge smeared)
	}{
		{"flat.mp4", 64, 48, 64, 48},
		{"flat.mkv", 80, 40, 80, 40},
		{"flat.webm", 64, 32, 64, 32},
		{"odd.mp4", 63, 47, 64, 48},
	} {
		t.Run(c.name, func(t *testing.T) {
			flat := solidFrame(c.w, c.h, 200, 100, 50)
			frames := make([]*frame.Frame, 10)
			for i := range frames {
				frames[i] = flat
			}
			path := filepath.Join(dir, c.name)
			writeAll(t, path, 25, frames...)
			src := open(t, path, SourceOptions{})
			if f := src.Format(); f.Width != c.ww || f.Height != c.wh || f.Channels != 3 || f.Elem != frame.U8 {
				t.Fatalf("read back as %v, want %dx%d rgb u8", f, c.ww, c.wh)
			}
			got := readAll(t, src, 100)
			if len(got) != 10 {
				t.Fatalf("read back %d frames, want 10", len(got))
			}
			// The padding repeats the edge, so the whole frame is flat.
			want := solidFrame(c.ww, c.wh, 200, 100, 50)
			for i, g := range got {
				if d := maxDiff(t, g, want); d > 4 {
					t.Fatalf("frame %d differs by %d: %v", i, d, g.Data[:3])
				}
			}
			if got[9].PTS != 9*40*time.Millisecond || got[9].Index != 9 {
				t.Fatalf("frame 9: index %d PTS %v at 25 fps", got[9].Index, got[9].PTS)
			}
		})
	}
}

func TestFFmpegMovingAndLimit(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "moving.mkv")
	frames := testFrames(t, 128, 72, 30)
	writeAll(t, path, 30, frames...)
	got := readAll(t, open(t, path, SourceOptions{Frames: 12}), 100)
	if len(got) != 12 {
		t.Fatalf("Frames 12 read %d", len(got))
	}
	// Lossy but recognisable: mean difference small.
	var sum, n int
	for y := 0; y < 72; y++ {
		a, b := got[5].Row(y), frames[5].Row(y)
		for i := range a {
			d := int(a[i]) - int(b[i])
			sum += max(d, -d)
			n++
		}
	}
	if mean := float64(sum) / float64(n); mean > 6 {
		t.Fatalf("frame 5 mean difference %.1f", mean)
	}
}

func TestFFmpegReadNoAllocAndClose(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "long.mp4")
	frames := make([]*frame.Frame, 200)
	flat := solidFrame(64, 48, 1, 2, 3)
	for i := range frames {
		frames[i] = flat
	}
	writeAll(t, path, 30, frames...)
	src := open(t, path, SourceOptions{})
	packed := frame.New(src.Format())
	padded := frame.NewWithPitch(src.Format(), 64*3+5)
	ctx := context.Background()
	for _, dst := range []*frame.Frame{packed, padded} {
		if n := testing.AllocsPerRun(20, func() {
			if err := src.Read(ctx, dst); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("ffmpeg Read (pitch %d) allocates %v times per frame", dst.Pitch, n)
		}
	}
	// Close mid-stream kills the child promptly.
	r := src.(*source).r.(*ffmpegReader)
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if r.cmd.ProcessState == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("ffmpeg child not reaped by Close (state %v)", r.cmd.ProcessState)
	}
}

func TestFFmpegSinkErrorHasStderr(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "out.notaformat")
	f := solidFrame(16, 16, 0, 0, 0)
	sink, err := CreateSink(context.Background(), path, f.Format, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 50 && werr == nil; i++ {
		werr = sink.Write(f)
		time.Sleep(time.Millisecond)
	}
	cerr := sink.Close()
	err = errors.Join(werr, cerr)
	if err == nil || !strings.Contains(err.Error(), "ffmpeg said") || !strings.Contains(err.Error(), "out.notaformat") {
		t.Fatalf("error %v, want ffmpeg's stderr and the file name", err)
	}
}

func TestFFmpegBrokenInput(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "junk.mp4")
	if err := os.WriteFile(path, []byte("this is not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSource(context.Background(), path, SourceOptions{})
	if err == nil || !strings.Contains(err.Error(), "junk.mp4") {
		t.Fatalf("junk input: %v", err)
	}
}

func TestFFmpegMissing(t *testing.T) {
	dir := t.TempDir()
	video := filepath.Join(dir, "video.mp4")
	if err := os.WriteFile(video, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir) // no ffmpeg there
	_, err := OpenSource(context.Background(), video, SourceOptions{})
	want := "cannot read " + video + ": ffmpeg not found on PATH; install it (apt-get install ffmpeg) or use PNG/Y4M input"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	_, err = CreateSink(context.Background(), filepath.Join(dir, "out.mp4"), frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}, SinkOptions{})
	if err == nil || !strings.Contains(err.Error(), "ffmpeg not found on PATH") || !strings.Contains(err.Error(), "out.mp4") {
		t.Fatalf("sink without ffmpeg: %v", err)
	}
	// PNG and Y4M still work without ffmpeg.
	writeAll(t, filepath.Join(dir, "ok.y4m"), 30, solidFrame(2, 2, 1, 2, 3))
	if n := len(readAll(t, open(t, filepath.Join(dir, "ok.y4m"), SourceOptions{}), 5)); n != 1 {
		t.Fatalf("y4m without ffmpeg: %d frames", n)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 16}
	for i := 0; i < 100; i++ {
		io.WriteString(tb, "line\n")
	}
	io.WriteString(tb, "last words\n")
	if got := tb.String(); got != "last words" {
		t.Fatalf("tail %q", got)
	}
}
