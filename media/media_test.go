package media

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
)

func TestSourceSpecErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		spec  string
		words []string
	}{
		{filepath.Join(dir, "missing.png"), []string{filepath.Join(dir, "missing.png"), "no such file"}},
		{filepath.Join(dir, "missing.mp4"), []string{filepath.Join(dir, "missing.mp4")}},
		{filepath.Join(dir, "missing.y4m"), []string{filepath.Join(dir, "missing.y4m")}},
		{filepath.Join(dir, "nodir", "%05d.png"), []string{filepath.Join(dir, "nodir")}},
		{filepath.Join(dir, "%05d.png"), []string{"no files match"}},
		{"nonsense", []string{`"nonsense"`, "accepted forms", "testsrc", "solid:RRGGBB", ".y4m"}},
		{"", []string{"accepted forms"}},
		{"testsrc:12xfoo", []string{"12xfoo", "WxH"}},
		{"testsrc:0x10", []string{"0x10"}},
		{"testsrc:", []string{"testsrc:WxH"}},
		{"solid:12345", []string{"12345", "RRGGBB"}},
		{"solid:zzzzzz", []string{"zzzzzz"}},
		{"solid:ffffff:", []string{"WxH"}},
		{dir, []string{dir, "directory", "%05d.png"}},
	} {
		src, err := OpenSource(ctx, c.spec, SourceOptions{})
		if err == nil {
			src.Close()
			t.Errorf("OpenSource(%q) succeeded", c.spec)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("OpenSource(%q) = %q, want it to mention %q", c.spec, err, w)
			}
		}
	}
	if _, err := OpenSource(ctx, "testsrc", SourceOptions{Width: 10}); err == nil {
		t.Error("Width without Height accepted")
	}
	if _, err := OpenSource(ctx, "testsrc", SourceOptions{Frames: -1}); err == nil {
		t.Error("negative Frames accepted")
	}
}

func TestSinkSpecErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rgb := frame.Format{Width: 4, Height: 4, Channels: 3, Elem: frame.U8}
	for _, c := range []struct {
		spec  string
		f     frame.Format
		words []string
	}{
		{"nonsense", rgb, []string{`"nonsense"`, "accepted forms", "null"}},
		{"", rgb, []string{"accepted forms"}},
		{dir, rgb, []string{dir, "directory"}},
		{filepath.Join(dir, "a.png"), frame.Format{Width: 0, Height: 4, Channels: 3, Elem: frame.U8}, []string{"width"}},
		{filepath.Join(dir, "%d.tif"), rgb, []string{".tif"}},
		{filepath.Join(dir, "no", "such", "x.y4m"), rgb, []string{filepath.Join(dir, "no", "such", "x.y4m")}},
	} {
		s, err := CreateSink(ctx, c.spec, c.f, SinkOptions{})
		if err == nil {
			s.Close()
			t.Errorf("CreateSink(%q) succeeded", c.spec)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CreateSink(%q) = %q, want it to mention %q", c.spec, err, w)
			}
		}
	}
}

func TestNullAndRawSinks(t *testing.T) {
	ctx := context.Background()
	a := testFrames(t, 8, 4, 2)
	f := frame.Format{Width: 8, Height: 4, Channels: 3, Elem: frame.U8}
	null, err := CreateSink(ctx, "null", f, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := null.Write(a[0]); err != nil {
		t.Fatal(err)
	}
	if err := null.Close(); err != nil {
		t.Fatal(err)
	}

	// Raw: packed rgb24 per frame, whatever the input format and pitch.
	path := filepath.Join(t.TempDir(), "out.raw")
	rgbaF32 := frame.NewWithPitch(frame.Format{Width: 8, Height: 4, Channels: 4, Elem: frame.F32}, 8*16+4)
	if err := frame.Convert(rgbaF32, a[1]); err != nil {
		t.Fatal(err)
	}
	writeAll(t, path, 0, a[0], rgbaF32)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, a[0].Data...), a[1].Data...); !bytes.Equal(data, want) {
		t.Fatalf("raw file has %d bytes, differs from the two frames", len(data))
	}
	// Size changes are rejected by stream sinks.
	sink, err := CreateSink(ctx, path, f, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Write(testFrames(t, 9, 4, 1)[0]); err == nil || !strings.Contains(err.Error(), "9x4") {
		t.Fatalf("raw sink size change: %v", err)
	}
	// No allocation per frame when converting.
	if n := testing.AllocsPerRun(10, func() { _ = sink.Write(rgbaF32) }); n != 0 {
		t.Fatalf("raw sink allocates %v times per frame", n)
	}
}

func TestHelp(t *testing.T) {
	for _, h := range []string{SourceHelp(), SinkHelp()} {
		if h == "" || strings.Contains(h, "\n") {
			t.Errorf("help %q must be one line", h)
		}
	}
	for _, w := range []string{"testsrc", "solid:RRGGBB", ".png", "%05d", ".y4m", "ffmpeg"} {
		if !strings.Contains(SourceHelp(), w) {
			t.Errorf("SourceHelp lacks %q", w)
		}
	}
	for _, w := range []string{"null", ".png", "%05d", ".y4m", ".raw", ".mp4"} {
		if !strings.Contains(SinkHelp(), w) {
			t.Errorf("SinkHelp lacks %q", w)
		}
	}
}
