package engine_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
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

// openOnePool opens an example with a host thread pool of one worker, so that a plugin's
// parallel_for runs on the calling node's worker alone: the serial run then uses one core and
// the graph run's speed-up is the engine's own (a worker per node), not the pool's.
func openOnePool(t testing.TB, example string) *loader.Library {
	t.Helper()
	pool := loader.NewPool(1)
	t.Cleanup(pool.Close)
	lib, err := loader.Open(plugintest.Example(t, t.TempDir(), example), loader.Options{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	return lib
}

// BenchmarkChain4x1080p runs a 4-stage CPU chain (invert four times, each a table lookup per
// byte) on 1920x1080 RGB u8 frames, serially (one goroutine, as the engine ran before graphs)
// and as a graph (one worker per node). fps is frames per second of wall time; on a machine
// with two or more idle cores the graph run should reach at least 1.7x the serial fps
// (README "Numbers"). Every plugin has a one-worker pool (openOnePool), so the
// speed-up measured is the graph's own.
func BenchmarkChain4x1080p(b *testing.B) {
	for _, mode := range []struct {
		name   string
		serial bool
	}{{"serial", true}, {"graph", false}} {
		b.Run(mode.name, func(b *testing.B) {
			lib := openOnePool(b, "invert")
			var stages []engine.Instance
			for i := 0; i < 4; i++ {
				stages = append(stages, instance(b, lib, "invert", loader.ModeVideo, "intensity=0.5"))
			}
			src := frame.New(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8})
			for i := range src.Data {
				src.Data[i] = byte(i)
			}
			e, err := engine.New(engine.Config{Stages: stages, Source: &rawSource{f: src}, Frames: b.N, Serial: mode.serial})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(src.Data)))
			b.ResetTimer()
			stats, err := e.Run(context.Background())
			if err != nil || stats.Frames != b.N {
				b.Fatalf("frames %d of %d: %v", stats.Frames, b.N, err)
			}
			b.ReportMetric(stats.FPS(), "fps")
		})
	}
}

// TestChainSpeedup checks the graph engine's throughput claim: the 4-stage 1080p chain of
// BenchmarkChain4x1080p runs at >= 1.7x the serial fps with two cores. Timing depends on the
// machine being idle, so it runs only with SCOPE_BENCH_CHECK=1 (best of 3 alternating runs).
func TestChainSpeedup(t *testing.T) {
	if os.Getenv("SCOPE_BENCH_CHECK") != "1" {
		t.Skip("a timing check: run it on an idle machine with SCOPE_BENCH_CHECK=1")
	}
	if runtime.NumCPU() < 2 {
		t.Skip("needs two cores")
	}
	lib := openOnePool(t, "invert")
	var stages []engine.Instance
	for i := 0; i < 4; i++ {
		stages = append(stages, instance(t, lib, "invert", loader.ModeVideo, "intensity=0.5"))
	}
	src := frame.New(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8})
	fps := func(serial bool) float64 {
		e, err := engine.New(engine.Config{Stages: stages, Source: &rawSource{f: src}, Frames: 120, Serial: serial})
		if err != nil {
			t.Fatal(err)
		}
		stats, err := e.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return stats.FPS()
	}
	var best [2]float64
	for i := 0; i < 3; i++ {
		best[0], best[1] = max(best[0], fps(true)), max(best[1], fps(false))
	}
	t.Logf("serial %.1f fps, graph %.1f fps: %.2fx on %d CPUs", best[0], best[1], best[1]/best[0], runtime.NumCPU())
	if best[1] < 1.7*best[0] {
		t.Errorf("graph %.1f fps is %.2fx the serial %.1f fps; want >= 1.7x", best[1], best[1]/best[0], best[0])
	}
}
