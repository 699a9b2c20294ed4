package loader_test

import (
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// BenchmarkNoopRoundTrip measures the host's cost of one prepare+call into a plugin that does
// nothing: the per-frame overhead of the ABI boundary.
func BenchmarkNoopRoundTrip(b *testing.B) {
	lib, err := loader.Open(testPlugin(b, ""), loader.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer lib.Close()
	in, err := lib.Pipeline("noop").NewInstance(0, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	f := frame.New(frame.Format{Width: 16, Height: 16, Channels: 3, Elem: frame.U8})
	out := frame.New(f.Format)
	formats := []frame.Format{f.Format}
	args := &loader.CallArgs{Inputs: [][]*frame.Frame{{f}}, Output: out}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Prepare(formats); err != nil {
			b.Fatal(err)
		}
		if err := in.Call(args); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFrame is a 1920x1080 RGB u8 frame that keeps the ABI 1.1 guarantees.
func benchFrame() *frame.Frame {
	f := loader.NewAlignedFrame(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8})
	for i := range f.Data {
		f.Data[i] = byte(i * 7)
	}
	return f
}

// BenchmarkCopyFloor is the C floor of the table: one 1920x1080 RGB u8 memcpy (Go's
// copy is the same memmove).
func BenchmarkCopyFloor(b *testing.B) {
	src, dst := benchFrame(), benchFrame()
	b.SetBytes(int64(len(src.Data)))
	for i := 0; i < b.N; i++ {
		copy(dst.Data, src.Data)
	}
}

// benchInvertChain runs `stages` instances of examples/c/invert (built at -O3 as the CMake
// package builds it) one after the other on a 1920x1080 RGB frame, with a pool of `workers`.
func benchInvertChain(b *testing.B, workers, stages int) {
	lib := plugintest.BuildCFlags(b, filepath.Join(b.TempDir(), "invert.so"), []string{"-O3"},
		[]string{filepath.Join(plugintest.Root(b), "examples", "c", "invert", "invert.c")})
	pool := loader.NewPool(workers)
	defer pool.Close()
	l, err := loader.Open(lib, loader.Options{Pool: pool})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	frames := []*frame.Frame{benchFrame()}
	var insts []*loader.Instance
	for s := 0; s < stages; s++ {
		in, err := l.Pipeline("invert").NewInstance(0, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close()
		insts = append(insts, in)
		frames = append(frames, benchFrame())
	}
	formats := []frame.Format{frames[0].Format}
	b.SetBytes(int64(len(frames[0].Data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for s, in := range insts {
			if _, err := in.Prepare(formats); err != nil {
				b.Fatal(err)
			}
			if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{frames[s]}}, Output: frames[s+1]}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkInvert1080p is the acceptance benchmark: invert at 1920x1080 RGB on one
// and two workers, and a 4-stage chain of it with the pool (compare with BenchmarkCopyFloor).
func BenchmarkInvert1080p(b *testing.B) {
	b.Run("workers=1", func(b *testing.B) { benchInvertChain(b, 1, 1) })
	b.Run("workers=2", func(b *testing.B) { benchInvertChain(b, 2, 1) })
	b.Run("chain4/workers=1", func(b *testing.B) { benchInvertChain(b, 1, 4) })
	b.Run("chain4/workers=2", func(b *testing.B) { benchInvertChain(b, 2, 4) })
}
