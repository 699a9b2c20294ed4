package media

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/frame"
)

func benchRead(b *testing.B, spec string) {
	src := open(b, spec, SourceOptions{})
	dst := frame.New(src.Format())
	ctx := context.Background()
	b.SetBytes(int64(len(dst.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Read(ctx, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTestsrcRead1080p(b *testing.B) { benchRead(b, "testsrc:1920x1080") }

func BenchmarkSolidRead1080p(b *testing.B) { benchRead(b, "solid:336699:1920x1080") }

func BenchmarkY4MWrite1080p(b *testing.B) {
	f := readAll(b, open(b, "testsrc:1920x1080", SourceOptions{}), 1)[0]
	yw, err := newY4MWriter(io.Discard, 1920, 1080, 30, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := yw.write(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkY4MSinkFile1080p(b *testing.B) {
	f := readAll(b, open(b, "testsrc:1920x1080", SourceOptions{}), 1)[0]
	sink, err := CreateSink(context.Background(), filepath.Join(b.TempDir(), "b.y4m"), f.Format, SinkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := sink.Write(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkY4MRead1080p(b *testing.B) {
	f := readAll(b, open(b, "testsrc:1920x1080", SourceOptions{}), 1)[0]
	path := filepath.Join(b.TempDir(), "r.y4m")
	frames := make([]*frame.Frame, 8)
	for i := range frames {
		frames[i] = f
	}
	writeAll(b, path, 30, frames...)
	dst := frame.New(f.Format)
	ctx := context.Background()
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	var src Source
	i := 0
	for b.Loop() {
		if i%8 == 0 {
			b.StopTimer()
			if src != nil {
				src.Close()
			}
			src = open(b, path, SourceOptions{})
			b.StartTimer()
		}
		if err := src.Read(ctx, dst); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
