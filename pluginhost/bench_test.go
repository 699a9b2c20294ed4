package pluginhost_test

import (
	"fmt"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/pluginhost"
)

// instance is what the benchmark calls: a *loader.Instance or a *pluginhost.Instance.
type instance interface {
	Prepare([]frame.Format) (loader.Requirements, error)
	Call(*loader.CallArgs) error
}

// BenchmarkInvert compares the invert example per frame in process and isolated, at 1080p
// and 360p (RGB u8): isolated with the caller's own frames (copied through the arena) and
// with frames from a Frames allocator (as scope run allocates them: no copy). The
// differences are the isolation overheads README.md and docs/isolation.md quote.
func BenchmarkInvert(b *testing.B) {
	lib := plugintest.Example(b, b.TempDir(), "invert")
	for _, size := range [][2]int{{1920, 1080}, {640, 360}} {
		f := frame.Format{Width: size[0], Height: size[1], Channels: 3, Elem: frame.U8}
		b.Run(fmt.Sprintf("%dx%d/in-process", size[0], size[1]), func(b *testing.B) {
			l, err := loader.Open(lib, loader.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			in, err := l.Pipeline("invert").NewInstance(0, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			benchCalls(b, in, f)
		})
		b.Run(fmt.Sprintf("%dx%d/isolated", size[0], size[1]), func(b *testing.B) {
			exe := options(&testing.T{}).ChildCommand
			in, err := pluginhost.Start(lib, "invert", 0, nil, -1, pluginhost.Options{ChildCommand: exe})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			benchCalls(b, in, f)
		})
		b.Run(fmt.Sprintf("%dx%d/isolated-shared", size[0], size[1]), func(b *testing.B) {
			shared := pluginhost.NewFrames()
			defer shared.Close()
			in, err := pluginhost.Start(lib, "invert", 0, nil, -1, pluginhost.Options{ChildCommand: options(&testing.T{}).ChildCommand, Frames: shared})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			if _, err := in.Prepare([]frame.Format{f}); err != nil {
				b.Fatal(err)
			}
			src, _ := shared.New(f)
			out, _ := shared.New(f)
			args := &loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}
			b.SetBytes(int64(len(src.Data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := in.Call(args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchCalls(b *testing.B, in instance, f frame.Format) {
	if _, err := in.Prepare([]frame.Format{f}); err != nil {
		b.Fatal(err)
	}
	src, out := frame.New(f), frame.New(f)
	args := &loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}
	if err := in.Call(args); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src.Data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := in.Call(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverhead is the isolation overhead alone: the test plugin's noop pipeline (which
// touches no pixel) per frame, in process and isolated, so what differs is the round trip
// and the copies into and out of the arena.
func BenchmarkOverhead(b *testing.B) {
	lib := plugintest.BuildC(b, b.TempDir()+"/testplugin.so", []string{plugintest.Root(b) + "/loader/testdata/testplugin.c"})
	for _, size := range [][2]int{{1920, 1080}, {640, 360}} {
		f := frame.Format{Width: size[0], Height: size[1], Channels: 3, Elem: frame.U8}
		b.Run(fmt.Sprintf("%dx%d/in-process", size[0], size[1]), func(b *testing.B) {
			l, err := loader.Open(lib, loader.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			in, err := l.Pipeline("noop").NewInstance(0, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			benchCalls(b, in, f)
		})
		b.Run(fmt.Sprintf("%dx%d/isolated", size[0], size[1]), func(b *testing.B) {
			exe := options(&testing.T{}).ChildCommand
			in, err := pluginhost.Start(lib, "noop", 0, nil, -1, pluginhost.Options{ChildCommand: exe})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			benchCalls(b, in, f)
		})
	}
}

// BenchmarkOverheadShared is BenchmarkOverhead's isolated case with frames from a Frames
// allocator, as a run that isolates nodes allocates them: no copy at all.
func BenchmarkOverheadShared(b *testing.B) {
	lib := plugintest.BuildC(b, b.TempDir()+"/testplugin.so", []string{plugintest.Root(b) + "/loader/testdata/testplugin.c"})
	for _, size := range [][2]int{{1920, 1080}, {640, 360}} {
		f := frame.Format{Width: size[0], Height: size[1], Channels: 3, Elem: frame.U8}
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			shared := pluginhost.NewFrames()
			defer shared.Close()
			in, err := pluginhost.Start(lib, "noop", 0, nil, -1, pluginhost.Options{ChildCommand: options(&testing.T{}).ChildCommand, Frames: shared})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			if _, err := in.Prepare([]frame.Format{f}); err != nil {
				b.Fatal(err)
			}
			src, _ := shared.New(f)
			out, _ := shared.New(f)
			args := &loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := in.Call(args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
