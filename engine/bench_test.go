package engine_test

import (
	"context"
	"testing"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// rawSource repeats one pre-rendered frame: a raw source with no decoding cost (one copy).
type rawSource struct {
	f    *frame.Frame
	n, i int
}

func (s *rawSource) Format() frame.Format { return s.f.Format }
func (s *rawSource) Close() error         { return nil }
func (s *rawSource) Read(_ context.Context, dst *frame.Frame) error {
	s.i++
	return frame.Convert(dst, s.f)
}

// BenchmarkInvert1080p runs invert on 1920x1080 RGB u8 frames from a raw source to no sink:
// ns/op is the cost of one frame through the engine (source copy + prepare + call).
func BenchmarkInvert1080p(b *testing.B) {
	inv := instance(b, open(b, "invert"), "invert", loader.ModeVideo, "intensity=0.5")
	src := frame.New(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8})
	for i := range src.Data {
		src.Data[i] = byte(i)
	}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{inv}, Source: &rawSource{f: src}, Frames: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src.Data)))
	b.ReportAllocs()
	b.ResetTimer()
	stats, err := e.Run(context.Background())
	if err != nil || stats.Frames != b.N {
		b.Fatalf("frames %d of %d: %v", stats.Frames, b.N, err)
	}
	b.ReportMetric(float64(stats.Stages[0].Mean.Nanoseconds())/1e6, "invert-ms/frame")
}
