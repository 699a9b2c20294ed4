package engine_test

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// counterSource yields n frames whose every byte is the frame number (mod 256).
type counterSource struct {
	format frame.Format
	n, i   int
}

func (s *counterSource) Format() frame.Format { return s.format }
func (s *counterSource) Close() error         { return nil }
func (s *counterSource) Read(_ context.Context, dst *frame.Frame) error {
	if s.n > 0 && s.i >= s.n {
		return io.EOF
	}
	for y := 0; y < dst.Height; y++ {
		row := dst.Row(y)
		for x := range row {
			row[x] = byte(s.i)
		}
	}
	s.i++
	return nil
}

// collectSink keeps a copy of every frame.
type collectSink struct{ frames []*frame.Frame }

func (c *collectSink) Write(f *frame.Frame) error {
	cp := frame.New(frame.Format{Width: f.Width, Height: f.Height, Channels: f.Channels, Elem: frame.U8})
	if err := frame.Convert(cp, f); err != nil {
		return err
	}
	c.frames = append(c.frames, cp)
	return nil
}
func (c *collectSink) Close() error { return nil }

func open(t testing.TB, example string) *loader.Library {
	t.Helper()
	lib, err := loader.Open(plugintest.Example(t, t.TempDir(), example), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	return lib
}

func instance(t testing.TB, lib *loader.Library, id string, mode loader.Mode, params ...string) *loader.Instance {
	t.Helper()
	p := lib.Pipeline(id)
	if p == nil {
		t.Fatalf("no pipeline %s", id)
	}
	vals := p.Defaults()
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		if err := vals.Set(p, k, v); err != nil {
			t.Fatal(err)
		}
	}
	in, err := p.NewInstance(mode, vals)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

func TestChainColorGeneratorInvert(t *testing.T) {
	cg := instance(t, open(t, "color-generator"), "color-generator", 0, "color_r=10", "color_g=20", "color_b=30", "width=64", "height=48")
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo)
	sink := &collectSink{}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{cg, inv}, Sink: sink, Frames: 3})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Frames != 3 || len(sink.frames) != 3 {
		t.Fatalf("frames = %d, sink got %d", stats.Frames, len(sink.frames))
	}
	f := sink.frames[2]
	if f.Width != 64 || f.Height != 48 || f.Channels != 3 {
		t.Fatalf("output format %v", f.Format)
	}
	for y := 0; y < f.Height; y++ {
		row := f.Row(y)
		for x := 0; x < f.Width; x++ {
			if row[3*x] != 245 || row[3*x+1] != 235 || row[3*x+2] != 225 {
				t.Fatalf("pixel (%d,%d) = %v, want 245,235,225", x, y, row[3*x:3*x+3])
			}
		}
	}
	if len(stats.Stages) != 2 || stats.Stages[0].Calls != 3 || stats.Stages[1].Calls != 3 {
		t.Errorf("stage stats %+v", stats.Stages)
	}
}

func TestSlidingWindow(t *testing.T) {
	// frame-blend with frames=4 (mean): N in, N out, aligned. Output k averages inputs
	// k-3..k, where the inputs before 0 are input 0 (the first frame fills the window).
	blend := instance(t, open(t, "temporal"), "frame-blend", loader.ModeVideo, "frames=4", "blend=mean")
	src := &counterSource{format: frame.Format{Width: 5, Height: 3, Channels: 3, Elem: frame.U8}, n: 10}
	sink := &collectSink{}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{blend}, Source: src, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Frames != 10 {
		t.Fatalf("10 inputs through a 4-frame window gave %d outputs, want 10", stats.Frames)
	}
	for k, f := range sink.frames {
		sum := 0
		for j := k - 3; j <= k; j++ {
			sum += max(j, 0)
		}
		want := byte((2*sum + 4) / 8) // the mean, rounded half up
		if got := f.Row(0)[0]; got != want {
			t.Errorf("output %d = %d, want %d (mean of inputs %d..%d, clamped to 0)", k, got, want, k-3, k)
		}
		if f.Index != uint64(k) {
			t.Errorf("output %d has index %d", k, f.Index)
		}
	}
}

func TestErrorDropsOnlyThatFrame(t *testing.T) {
	lib, err := loader.Open(plugintest.BuildC(t, filepath.Join(t.TempDir(), "tp.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	cp := instance(t, lib, "copy", loader.ModeVideo)
	p := lib.Pipeline("copy")
	src := &counterSource{format: frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8}, n: 10}
	sink := &collectSink{}
	var errs []string
	var e *engine.Engine
	e, err = engine.New(engine.Config{
		// Serial: the parameter change from OnFrame must land before the next frame's call.
		Stages: []engine.Instance{cp}, Source: src, Sink: sink, Serial: true,
		// Make the tick after the third output fail, then recover.
		OnError: func(stage int, err error) {
			errs = append(errs, err.Error())
			if err := e.SetParams(0, p.Defaults()); err != nil {
				t.Error(err)
			}
		},
		OnFrame: func(f *frame.Frame) {
			if f.Index == 2 {
				vals := p.Defaults()
				vals.Set(p, "fail", "true")
				if err := e.SetParams(0, vals); err != nil {
					t.Error(err)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Frames != 9 || stats.Errors != 1 || len(errs) != 1 {
		t.Fatalf("frames %d errors %d (%v); want 9 frames and 1 error", stats.Frames, stats.Errors, errs)
	}
	if !strings.Contains(errs[0], "refusing frame 3 on purpose") || !strings.Contains(errs[0], "copy") {
		t.Errorf("error message %q", errs[0])
	}
	// Input frame 3 was dropped: outputs are 0,1,2,4,5...
	if got := sink.frames[3].Row(0)[0]; got != 4 {
		t.Errorf("frame after the error carries input %d, want 4", got)
	}
}

func TestNoAllocationsInSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (its instrumentation allocates)")
	}
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo)
	format := frame.Format{Width: 64, Height: 32, Channels: 3, Elem: frame.U8}
	// purego's SyscallN makes one small allocation per call into C (prepare and call: 2 per
	// frame); anything beyond that would be the engine's own.
	steadyAllocations(t, 2.5, func(n int) engine.Config {
		return engine.Config{Stages: []engine.Instance{inv}, Source: &counterSource{format: format, n: n}}
	})
}

// steadyAllocations runs the engine cfg(n) makes for 10 and for 1010 frames and fails when the
// 1000 frames between them allocated more than limit times per frame.
func steadyAllocations(t *testing.T, limit float64, cfg func(frames int) engine.Config) {
	t.Helper()
	mallocs := func(n int) uint64 {
		e, err := engine.New(cfg(n))
		if err != nil {
			t.Fatal(err)
		}
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		if _, err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&b)
		return b.Mallocs - a.Mallocs
	}
	small, large := mallocs(10), mallocs(1010)
	perFrame := float64(large-small) / 1000
	t.Logf("%.2f allocations per frame", perFrame)
	if perFrame > limit {
		t.Fatalf("%.1f allocations per frame in steady state (%d for 10 frames, %d for 1010)", perFrame, small, large)
	}
}

func TestChainRules(t *testing.T) {
	cg := instance(t, open(t, "color-generator"), "color-generator", 0)
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo)
	if _, err := engine.New(engine.Config{Stages: []engine.Instance{inv, cg}, Source: &counterSource{format: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}}}); err == nil ||
		!strings.Contains(err.Error(), "color-generator runs in text mode") {
		t.Errorf("text-mode pipeline after another: %v", err)
	}
	if _, err := engine.New(engine.Config{Stages: []engine.Instance{inv}}); err == nil || !strings.Contains(err.Error(), "invert needs input frames") {
		t.Errorf("video chain without source: %v", err)
	}
}

func TestSwapPauseAndLive(t *testing.T) {
	lib := open(t, "invert")
	p := lib.Pipeline("invert")
	a := instance(t, lib, "invert", loader.ModeVideo, "intensity=1")
	b, err := p.NewInstance(loader.ModeVideo, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals := p.Defaults()
	vals.Set(p, "intensity", "0")
	if err := b.SetParams(vals); err != nil {
		t.Fatal(err)
	}
	src := &counterSource{format: frame.Format{Width: 3, Height: 2, Channels: 3, Elem: frame.U8}, n: 8}
	sink := &collectSink{}
	var e *engine.Engine
	e, err = engine.New(engine.Config{Stages: []engine.Instance{a}, Source: src, Sink: sink, Serial: true,
		OnFrame: func(f *frame.Frame) {
			if f.Index == 3 {
				if err := e.Swap(0, b); err != nil {
					t.Error(err)
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Frames 0-3 inverted by a (intensity 1), 4-7 passed through by b (intensity 0).
	for i, f := range sink.frames {
		want := byte(255 - i)
		if i >= 4 {
			want = byte(i)
		}
		if got := f.Row(0)[0]; got != want {
			t.Errorf("frame %d = %d, want %d", i, got, want)
		}
	}
	if e.Instances()[0] != b {
		t.Error("Instances does not report the swapped-in instance")
	}
	if live := e.Live(); live.Frames != 8 || len(live.Stages) != 1 || live.Stages[0].Calls != 8 {
		t.Errorf("live stats %+v", live)
	}
	b.Close()

	// Pause holds the run until resumed.
	c := instance(t, lib, "invert", loader.ModeVideo)
	e2, err := engine.New(engine.Config{Stages: []engine.Instance{c}, Source: &counterSource{format: src.format, n: 5}})
	if err != nil {
		t.Fatal(err)
	}
	e2.SetPaused(true)
	done := make(chan engine.Stats)
	go func() { s, _ := e2.Run(context.Background()); done <- s }()
	select {
	case <-done:
		t.Fatal("a paused run finished")
	case <-time.After(100 * time.Millisecond):
	}
	if e2.Live().Frames != 0 {
		t.Fatal("frames flowed while paused")
	}
	e2.SetPaused(false)
	if s := <-done; s.Frames != 5 {
		t.Errorf("after resume: %d frames, want 5", s.Frames)
	}
}

// blockingSource waits for the context like a live source, then returns its error.
type blockingSource struct{ format frame.Format }

func (s *blockingSource) Format() frame.Format { return s.format }
func (s *blockingSource) Close() error         { return nil }
func (s *blockingSource) Read(ctx context.Context, _ *frame.Frame) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestStopWhileReadingIsCleanEnd(t *testing.T) {
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo)
	e, err := engine.New(engine.Config{Stages: []engine.Instance{inv}, Source: &blockingSource{format: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Run(ctx); err != nil {
		t.Fatalf("a run stopped while its source was reading returned %v, want nil", err)
	}
}

func TestFailingPrepareOfFirstStageGivesUp(t *testing.T) {
	lib, err := loader.Open(plugintest.BuildC(t, filepath.Join(t.TempDir(), "tp.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	cp := instance(t, lib, "copy", loader.ModeVideo, "label=fail-prepare")
	src := &counterSource{format: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{cp}, Source: src, MaxConsecutiveErrors: 5})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "giving up after 5 failed frames in a row") || !strings.Contains(err.Error(), "refusing to prepare on purpose") {
		t.Fatalf("a first stage whose prepare always fails: %v", err)
	}
}

// TestInFlightNamesTheHungStage: while a stage's call never returns, the engine says which
// plugin, pipeline, call and frame it is stuck in (what `scope run` prints before giving up).
func TestInFlightNamesTheHungStage(t *testing.T) {
	path := plugintest.BuildC(t, filepath.Join(t.TempDir(), "hang.so"), []string{filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")}, "HANG_CALL_AT=2")
	lib, err := loader.Open(path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is closed: a thread stays inside the plugin for the rest of the test binary.
	cp, err := lib.Pipeline("copy").NewInstance(loader.ModeVideo, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{cp}, Source: &counterSource{format: frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8}}, Sink: &collectSink{}})
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := e.InFlight(); ok {
		t.Fatalf("before the run: %v in flight", f)
	}
	go e.Run(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if f, ok := e.InFlight(); ok && f.Op == loader.OpCall && f.Frame == 2 {
			if f.File != path || f.Pipeline != "copy" {
				t.Fatalf("in flight: %+v, want copy in %s", f, path)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung call on frame 2 never showed as in flight")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
