package engine_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
)

// patternSource yields n frames (0: endless) of a pattern that differs per pixel, channel,
// frame and seed.
type patternSource struct {
	format  frame.Format
	seed, n int
	i       int
}

func (s *patternSource) Format() frame.Format { return s.format }
func (s *patternSource) Close() error         { return nil }
func (s *patternSource) Read(_ context.Context, dst *frame.Frame) error {
	if s.n > 0 && s.i >= s.n {
		return io.EOF
	}
	for y := 0; y < dst.Height; y++ {
		row := dst.Row(y)
		for x := range row {
			row[x] = byte(x*3 + y*7 + s.i*s.seed + s.seed*11)
		}
	}
	dst.Index, dst.PTS = uint64(s.i), time.Duration(s.i)*time.Second/30
	s.i++
	return nil
}

// sinkNode is a graph sink collecting into c.
func sinkNode(name string, c *collectSink) engine.Node {
	return engine.Node{Name: name, Sink: c, IsSink: true}
}

func edge(from, to string, port int) graph.Edge { return graph.Edge{From: from, To: to, Port: port} }

func equalFrames(t *testing.T, what string, got, want []*frame.Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Format != want[i].Format || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("%s: frame %d differs (%v vs %v)", what, i, got[i].Format, want[i].Format)
		}
	}
}

// TestCrossfadeMixerExact: two sources into the crossfade example's ports a and b; every byte
// equals the integer formula of examples/c/crossfade.
func TestCrossfadeMixerExact(t *testing.T) {
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo, "mix=0.3")
	f := frame.Format{Width: 17, Height: 9, Channels: 3, Elem: frame.U8}
	sa, sb := &patternSource{format: f, seed: 1, n: 6}, &patternSource{format: f, seed: 5, n: 6}
	out := &collectSink{}
	e, err := engine.New(engine.Config{Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "a", Source: sa}, {Name: "b", Source: sb}, {Name: "mix", Instance: cf}, sinkNode("out", out)},
		Edges: []graph.Edge{edge("a", "mix", 0), edge("b", "mix", 1), edge("mix", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.frames) != 6 || stats.Frames != 6 {
		t.Fatalf("%d frames (stats %d), want 6", len(out.frames), stats.Frames)
	}
	ra, rb := frame.New(f), frame.New(f)
	ref := &patternSource{format: f, seed: 1}
	refB := &patternSource{format: f, seed: 5}
	w := uint32(77) // round(0.3 * 256)
	for i, got := range out.frames {
		ref.Read(context.Background(), ra)
		refB.Read(context.Background(), rb)
		for j := range ra.Data {
			want := byte((uint32(ra.Data[j])*(256-w) + uint32(rb.Data[j])*w + 128) >> 8)
			if got.Data[j] != want {
				t.Fatalf("frame %d byte %d = %d, want %d (a %d, b %d)", i, j, got.Data[j], want, ra.Data[j], rb.Data[j])
			}
		}
	}
}

// TestMixerPortLeftOpen: a mixer with one port connected is refused, naming the port.
func TestMixerPortLeftOpen(t *testing.T) {
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo)
	f := frame.Format{Width: 4, Height: 4, Channels: 3, Elem: frame.U8}
	_, err := engine.New(engine.Config{Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "a", Source: &patternSource{format: f}}, {Name: "mix", Instance: cf}, sinkNode("out", &collectSink{})},
		Edges: []graph.Edge{edge("a", "mix", 0), edge("mix", "out", 0)},
	}})
	if err == nil || !strings.Contains(err.Error(), "input port b of crossfade is not connected") {
		t.Fatalf("mixer with port b open: %v", err)
	}
	// A chain gives a mixer one input: refused with how to connect the others.
	cf2 := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo)
	_, err = engine.New(engine.Config{Stages: []engine.Instance{cf2}, Source: &patternSource{format: f}})
	if err == nil || !strings.Contains(err.Error(), "ports a, b") || !strings.Contains(err.Error(), "--graph") {
		t.Fatalf("mixer in a chain: %v", err)
	}
}

// mixedGraph is a graph with every feature: two sources, a windowed pipeline, fan-out, a
// mixer, and two sinks. Each call builds fresh instances.
func mixedGraph(t *testing.T, n int, outA, outB *collectSink) *engine.Graph {
	f := frame.Format{Width: 33, Height: 19, Channels: 3, Elem: frame.U8}
	temporal := open(t, "temporal")
	blend := instance(t, temporal, "frame-blend", loader.ModeVideo, "frames=3", "blend=decay")
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo, "intensity=0.7")
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo, "mix=0.6")
	return &engine.Graph{
		Nodes: []engine.Node{
			{Name: "a", Source: &patternSource{format: f, seed: 3, n: n}},
			{Name: "b", Source: &patternSource{format: f, seed: 7, n: n}},
			{Name: "blend", Instance: blend},
			{Name: "inv", Instance: inv},
			{Name: "mix", Instance: cf},
			sinkNode("mixed", outA),
			sinkNode("inverted", outB),
		},
		Edges: []graph.Edge{
			edge("a", "blend", 0), edge("blend", "inv", 0),
			edge("inv", "mix", 0), edge("b", "mix", 1),
			edge("mix", "mixed", 0), edge("inv", "inverted", 0),
		},
	}
}

// TestHeadlessGraphMatchesSerial: a headless run of a graph with every feature drops nothing
// and is byte-identical to the serial reference run of the same graph.
func TestHeadlessGraphMatchesSerial(t *testing.T) {
	const n = 40
	run := func(serial bool) (*collectSink, *collectSink, engine.Stats) {
		a, b := &collectSink{}, &collectSink{}
		e, err := engine.New(engine.Config{Graph: mixedGraph(t, n, a, b), Serial: serial, QueueDepth: 1})
		if err != nil {
			t.Fatal(err)
		}
		stats, err := e.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return a, b, stats
	}
	ra, rb, _ := run(true)
	ga, gb, stats := run(false)
	if len(ra.frames) != n {
		t.Fatalf("serial run gave %d frames, want %d", len(ra.frames), n)
	}
	equalFrames(t, "mixed sink", ga.frames, ra.frames)
	equalFrames(t, "inverted sink", gb.frames, rb.frames)
	for _, st := range stats.Stages {
		if st.Calls != n || st.Dropped != 0 {
			t.Errorf("stage %s: %d calls, %d dropped; want %d, 0", st.Name, st.Calls, st.Dropped, n)
		}
	}
	if len(stats.Sinks) != 2 || stats.Sinks[0].Frames != n || stats.Sinks[1].Frames != n {
		t.Errorf("sink stats %+v", stats.Sinks)
	}
}

// TestFanOutSharesOneOutput: one source, invert, two sinks: both get the serial chain's
// output, and the frame limit stops the run with every sink full.
func TestFanOutSharesOneOutput(t *testing.T) {
	f := frame.Format{Width: 8, Height: 6, Channels: 3, Elem: frame.U8}
	ref := &collectSink{}
	e, err := engine.New(engine.Config{Stages: []engine.Instance{instance(t, open(t, "invert"), "invert", loader.ModeVideo)},
		Source: &patternSource{format: f, seed: 2, n: 12}, Sink: ref, Serial: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s1, s2 := &collectSink{}, &collectSink{}
	e, err = engine.New(engine.Config{Frames: 10, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "in", Source: &patternSource{format: f, seed: 2}}, {Name: "inv", Instance: instance(t, open(t, "invert"), "invert", loader.ModeVideo)},
			sinkNode("one", s1), sinkNode("two", s2)},
		Edges: []graph.Edge{edge("in", "inv", 0), edge("inv", "one", 0), edge("inv", "two", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	equalFrames(t, "sink one", s1.frames, ref.frames[:10])
	equalFrames(t, "sink two", s2.frames, ref.frames[:10])
}

// TestLiveLatencyStaysBounded: a live run whose middle node is slower than its source. Every
// 50 ms the test reads the queue depths and the sink's latency: depths never pass the queue
// capacity, frames are dropped (counted), and the latency at the end is no worse than at the
// start. SCOPE_LONG_TESTS=1 runs it for 60 s instead of 1.5 s.
func TestLiveLatencyStaysBounded(t *testing.T) {
	dur := 1500 * time.Millisecond
	if os.Getenv("SCOPE_LONG_TESTS") == "1" {
		dur = 60 * time.Second
	}
	f := frame.Format{Width: 1280, Height: 720, Channels: 3, Elem: frame.U8}
	slow := instance(t, open(t, "temporal"), "frame-blend", loader.ModeVideo, "frames=16", "blend=mean")
	// The source copies one pre-rendered frame: cheap, so it stays faster than the node even
	// under -race.
	pre := frame.New(f)
	(&patternSource{format: f, seed: 1}).Read(context.Background(), pre)
	e, err := engine.New(engine.Config{Live: true, FPS: 200, QueueDepth: 2, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "cam", Source: &rawSource{f: pre}}, {Name: "slow", Instance: slow}, {Name: "out", IsSink: true}},
		Edges: []graph.Edge{edge("cam", "slow", 0), edge("slow", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	done := make(chan engine.Stats, 1)
	go func() {
		s, err := e.Run(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	var lat []time.Duration
	maxDepth := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-tick.C:
			live := e.Live()
			if len(live.Stages) == 1 {
				maxDepth = max(maxDepth, live.Stages[0].Queue)
			}
			if len(live.Sinks) == 1 && live.Sinks[0].Frames > 0 {
				lat = append(lat, live.Sinks[0].Latency)
			}
		case <-ctx.Done():
			break loop
		}
	}
	stats := <-done
	st := stats.Stages[0]
	t.Logf("%d calls, %.1f ms p50 per call, %d dropped, max queue %d; sink latency p50 %.1f ms, p99 %.1f ms",
		st.Calls, ms(st.P50), st.Dropped, st.MaxQueue, ms(stats.Sinks[0].P50), ms(stats.Sinks[0].P99))
	if st.MaxQueue > 2 || maxDepth > 2 {
		t.Errorf("queue depth reached %d (sampled %d); the capacity is 2", st.MaxQueue, maxDepth)
	}
	if st.Dropped == 0 {
		t.Errorf("no frame dropped although the node (%.1f ms per call) is slower than its 5 ms source", ms(st.P50))
	}
	if len(lat) < 8 {
		t.Fatalf("only %d latency samples", len(lat))
	}
	q := len(lat) / 4
	first, last := meanDur(lat[:q]), meanDur(lat[len(lat)-q:])
	// Latency is one call plus at most one queued frame: bounded by a few calls, and the last
	// quarter is no worse than the first (with slack for a loaded machine).
	bound := 4*st.P95 + 50*time.Millisecond
	if last > bound || last > 2*first+30*time.Millisecond {
		t.Errorf("latency grew: first quarter %.1f ms, last quarter %.1f ms (bound %.1f ms)", ms(first), ms(last), ms(bound))
	}
}

func meanDur(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// slowSource delays every Read: a source slower than the others.
type slowSource struct {
	patternSource
	delay time.Duration
}

func (s *slowSource) Read(ctx context.Context, dst *frame.Frame) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.delay):
	}
	return s.patternSource.Read(ctx, dst)
}

// TestLiveMixerHoldsTheSlowInput: in a live run, port a (fast) drives the mixer and port b
// (a source 8x slower) contributes its newest frame to every call: the mixer runs at the
// fast rate, not the slow one, and never waits for b once b has a frame.
func TestLiveMixerHoldsTheSlowInput(t *testing.T) {
	f := frame.Format{Width: 16, Height: 8, Channels: 3, Elem: frame.U8}
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo, "mix=1")
	slow := &slowSource{patternSource: patternSource{format: f, seed: 9}, delay: 80 * time.Millisecond}
	out := &collectSink{}
	e, err := engine.New(engine.Config{Live: true, FPS: 100, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "fast", Source: &patternSource{format: f, seed: 1}}, {Name: "slow", Source: slow}, {Name: "mix", Instance: cf}, sinkNode("out", out)},
		Edges: []graph.Edge{edge("fast", "mix", 0), edge("slow", "mix", 1), edge("mix", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	stats, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slow.i < 2 || stats.Stages[0].Calls < 3*slow.i {
		t.Fatalf("the mixer made %d calls while the slow source gave %d frames; want the fast rate", stats.Stages[0].Calls, slow.i)
	}
	// mix=1 outputs port b: consecutive outputs repeat the held slow frame.
	repeats := 0
	for i := 1; i < len(out.frames); i++ {
		if bytes.Equal(out.frames[i].Data, out.frames[i-1].Data) {
			repeats++
		}
	}
	if repeats < len(out.frames)/2 {
		t.Errorf("%d of %d outputs repeat the previous one; the slow input should be held", repeats, len(out.frames))
	}
}

// TestMixerEndsWithItsShortestInput: a headless mixer of a 5-frame source and an endless one
// gives 5 frames and the run ends (the endless source stops once nothing reads it).
func TestMixerEndsWithItsShortestInput(t *testing.T) {
	f := frame.Format{Width: 6, Height: 4, Channels: 3, Elem: frame.U8}
	out := &collectSink{}
	e, err := engine.New(engine.Config{Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "short", Source: &patternSource{format: f, seed: 1, n: 5}}, {Name: "endless", Source: &patternSource{format: f, seed: 2}},
			{Name: "mix", Instance: instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo)}, sinkNode("out", out)},
		Edges: []graph.Edge{edge("endless", "mix", 0), edge("short", "mix", 1), edge("mix", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run did not end by itself: the endless source kept going")
	}
	if len(out.frames) != 5 {
		t.Errorf("%d frames, want 5", len(out.frames))
	}
}

// TestFanOutNoAllocationsInSteadyState: a graph with a mixer and a fan-out to two sinks
// allocates nothing of its own per frame (purego makes 2 small allocations per prepare+call,
// so 4 for the two pipelines).
func TestFanOutNoAllocationsInSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (its instrumentation allocates)")
	}
	f := frame.Format{Width: 32, Height: 16, Channels: 3, Elem: frame.U8}
	inv := instance(t, open(t, "invert"), "invert", loader.ModeVideo)
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo)
	steadyAllocations(t, 4.5, func(n int) engine.Config {
		return engine.Config{Graph: &engine.Graph{
			Nodes: []engine.Node{{Name: "a", Source: &counterSource{format: f, n: n}}, {Name: "b", Source: &counterSource{format: f, n: n}},
				{Name: "inv", Instance: inv}, {Name: "mix", Instance: cf}, {Name: "s1", IsSink: true}, {Name: "s2", IsSink: true}},
			Edges: []graph.Edge{edge("a", "inv", 0), edge("inv", "mix", 0), edge("b", "mix", 1), edge("mix", "s1", 0), edge("inv", "s2", 0)},
		}}
	})
}

// failingSource yields n frames of its pattern, then fails.
type failingSource struct{ patternSource }

func (s *failingSource) Read(ctx context.Context, dst *frame.Frame) error {
	if s.i >= s.n {
		return errors.New("disk on fire")
	}
	return s.patternSource.Read(ctx, dst)
}

// TestSourceErrorDrainsTheGraph: a source that fails after 4 frames, beside an endless one
// feeding a sink of its own. Every frame the failing source gave reaches its sink (nothing
// read is lost), the endless source stops too, and the run ends with the source's error.
func TestSourceErrorDrainsTheGraph(t *testing.T) {
	f := frame.Format{Width: 6, Height: 4, Channels: 3, Elem: frame.U8}
	for _, serial := range []bool{false, true} {
		fromBad, fromEndless := &collectSink{}, &collectSink{}
		e, err := engine.New(engine.Config{Serial: serial, Graph: &engine.Graph{
			Nodes: []engine.Node{{Name: "bad", Source: &failingSource{patternSource{format: f, seed: 1, n: 4}}},
				{Name: "endless", Source: &patternSource{format: f, seed: 2}},
				{Name: "inv", Instance: instance(t, open(t, "invert"), "invert", loader.ModeVideo)},
				sinkNode("a", fromBad), sinkNode("b", fromEndless)},
			Edges: []graph.Edge{edge("bad", "inv", 0), edge("inv", "a", 0), edge("endless", "b", 0)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = e.Run(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			t.Fatalf("serial=%v: the run did not end after the source failed", serial)
		}
		if err == nil || !strings.Contains(err.Error(), "read input bad: disk on fire") {
			t.Errorf("serial=%v: run error %v, want the source's error", serial, err)
		}
		if len(fromBad.frames) != 4 {
			t.Errorf("serial=%v: %d frames of the failing source reached its sink, want all 4", serial, len(fromBad.frames))
		}
	}
}
