package loader_test

import (
	"testing"

	"github.com/scopenative/scope/frame"
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
