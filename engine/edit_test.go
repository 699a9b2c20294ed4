package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
)

// solidSource yields endless frames of one colour.
type solidSource struct {
	format frame.Format
	rgb    [3]byte
	closed chan struct{}
}

func newSolid(r, g, b byte) *solidSource {
	return &solidSource{format: frame.Format{Width: 8, Height: 4, Channels: 3, Elem: frame.U8}, rgb: [3]byte{r, g, b}, closed: make(chan struct{})}
}

func (s *solidSource) Format() frame.Format { return s.format }
func (s *solidSource) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}
func (s *solidSource) Read(_ context.Context, dst *frame.Frame) error {
	for i := 0; i < len(dst.Data); i += 3 {
		copy(dst.Data[i:i+3], s.rgb[:])
	}
	return nil
}

// liveSink records the first pixel of every frame with its arrival time.
type liveSink struct {
	mu    sync.Mutex
	first [][3]byte
	at    []time.Time
}

func (s *liveSink) Write(f *frame.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first = append(s.first, [3]byte{f.Data[0], f.Data[1], f.Data[2]})
	s.at = append(s.at, time.Now())
	return nil
}
func (s *liveSink) Close() error { return nil }

// n returns the number of frames so far.
func (s *liveSink) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

// waitPixel waits until a frame written after frame from has pixel want; it returns the
// index of the first such frame.
func (s *liveSink) waitPixel(t *testing.T, what string, from int, want [3]byte) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for i := from; i < len(s.first); i++ {
			if s.first[i] == want {
				s.mu.Unlock()
				return i
			}
		}
		s.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last := [3]byte{}
	if len(s.first) > 0 {
		last = s.first[len(s.first)-1]
	}
	t.Fatalf("%s: no frame with pixel %v after frame %d (%d frames, last %v)", what, want, from, len(s.first), last)
	return 0
}

// TestLiveEdits edits a running live graph source -> inv -> out: a node is added, removed and
// replaced, the source switched and an edge moved, and each change shows in the output
// pixels while the frames keep coming; refused edits change nothing.
func TestLiveEdits(t *testing.T) {
	invLib := open(t, "invert")
	inv := instance(t, invLib, "invert", loader.ModeVideo)
	src := newSolid(10, 20, 30)
	out := &liveSink{}
	e, err := engine.New(engine.Config{Live: true, FPS: 200, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "src", Source: src, Spec: "solid:0a141e"}, {Name: "inv", Instance: inv}, {Name: "out", Sink: out, IsSink: true, Spec: "null"}},
		Edges: []graph.Edge{edge("src", "inv", 0), edge("inv", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := e.Run(ctx); done <- err }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	at := out.waitPixel(t, "start", 0, [3]byte{245, 235, 225})

	// Add a second invert between inv and out: the output is the source colour again.
	inv2 := instance(t, invLib, "invert", loader.ModeVideo)
	if err := e.AddNode(engine.Node{Name: "inv2", Instance: inv2}, []graph.Edge{edge("inv", "inv2", 0)}, []graph.Edge{edge("inv2", "out", 0)}); err != nil {
		t.Fatal(err)
	}
	at = out.waitPixel(t, "add", at, [3]byte{10, 20, 30})
	if got := len(e.Instances()); got != 2 {
		t.Errorf("after add: %d stages, want 2", got)
	}

	// Refused edits: each names the problem and the output stays as it is.
	for _, c := range []struct {
		do   func() error
		want string
	}{
		{func() error { return e.Connect(edge("inv", "src", 0)) }, "src is a source and takes no input"},
		{func() error { return e.RemoveNode("src") }, "only pipeline nodes can be removed"},
		{func() error { return e.RemoveNode("nope") }, "no node nope"},
		{func() error { return e.Disconnect(edge("src", "out", 0)) }, "no edge from src to port 0 of out"},
		{func() error { return e.Connect(edge("src", "inv", 1)) }, "unknown port 1; invert has ports video"},
		{func() error { return e.Connect(edge("inv2", "inv", 0)) }, "cycle through inv, out, inv2"},
		{func() error {
			return e.AddNode(engine.Node{Name: "inv", Instance: instance(t, invLib, "invert", loader.ModeVideo)}, []graph.Edge{edge("src", "inv", 0)}, nil)
		}, `two nodes are called "inv"`},
	} {
		err := c.do()
		if !errors.Is(err, engine.ErrEdit) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("edit error %v, want ErrEdit with %q", err, c.want)
		}
	}
	before := out.n()
	time.Sleep(50 * time.Millisecond)
	out.mu.Lock()
	for i := before; i < len(out.first); i++ {
		if out.first[i] != [3]byte{10, 20, 30} {
			t.Fatalf("frame %d after refused edits: %v, want the unchanged output", i, out.first[i])
		}
	}
	out.mu.Unlock()
	if g := e.Graph(); len(g.Nodes) != 4 || len(g.Edges) != 3 {
		t.Fatalf("refused edits changed the graph: %v", g)
	}

	// Remove inv2: inv feeds out again.
	if err := e.RemoveNode("inv2"); err != nil {
		t.Fatal(err)
	}
	at = out.waitPixel(t, "remove", out.n(), [3]byte{245, 235, 225})

	// Replace inv with a quarter-strength invert.
	half := instance(t, invLib, "invert", loader.ModeVideo, "intensity=0.25")
	if err := e.ReplaceNode("inv", half); err != nil {
		t.Fatal(err)
	}
	at = out.waitPixel(t, "replace", at, quarterInvert(10, 20, 30))

	// Switch the source: the old one is closed.
	if err := e.SwitchSource("src", "solid:ffffff", newSolid(255, 255, 255)); err != nil {
		t.Fatal(err)
	}
	out.waitPixel(t, "switch", at, quarterInvert(255, 255, 255))
	select {
	case <-src.closed:
	case <-time.After(time.Second):
		t.Error("the switched-out source was not closed")
	}

	// Disconnect inv -> out: the sink idles; connect src -> out: the raw source (inv idles).
	if err := e.Disconnect(edge("inv", "out", 0)); err != nil {
		t.Fatal(err)
	}
	cut := out.n()
	time.Sleep(60 * time.Millisecond)
	if n := out.n(); n > cut+1 {
		t.Errorf("%d frames reached a sink without input", n-cut)
	}
	if err := e.Connect(edge("src", "out", 0)); err != nil {
		t.Fatal(err)
	}
	out.waitPixel(t, "connect", cut, [3]byte{255, 255, 255})
	// Stats follow the edits: one stage, called inv.
	st := e.Live()
	if len(st.Stages) != 1 || st.Stages[0].Name != "inv" {
		t.Errorf("stats after edits: %+v", st.Stages)
	}
	// The frames never stopped: no gap above 200 ms at 200 fps on a loaded machine.
	out.mu.Lock()
	defer out.mu.Unlock()
	for i := 1; i < cut; i++ {
		if d := out.at[i].Sub(out.at[i-1]); d > 200*time.Millisecond {
			t.Errorf("gap of %v before frame %d", d, i)
		}
	}
}

// TestEditMixerPort moves a mixer's second port to another source between two frames.
func TestEditMixerPort(t *testing.T) {
	cf := instance(t, open(t, "crossfade"), "crossfade", loader.ModeVideo, "mix=1")
	out := &liveSink{}
	e, err := engine.New(engine.Config{Live: true, FPS: 200, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "a", Source: newSolid(0, 0, 0)}, {Name: "b", Source: newSolid(200, 0, 0)}, {Name: "c", Source: newSolid(0, 200, 0)},
			{Name: "mix", Instance: cf}, {Name: "out", Sink: out, IsSink: true}, {Name: "rest", IsSink: true}},
		Edges: []graph.Edge{edge("a", "mix", 0), edge("b", "mix", 1), edge("c", "rest", 0), edge("mix", "out", 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := e.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()
	at := out.waitPixel(t, "start", 0, [3]byte{200, 0, 0})
	// c feeds port b now; b idles.
	if err := e.Connect(edge("c", "mix", 1)); err != nil {
		t.Fatal(err)
	}
	at = out.waitPixel(t, "move port b", at, [3]byte{0, 200, 0})
	// Disconnecting port b holds its last frame: the output stays c's colour.
	if err := e.Disconnect(edge("c", "mix", 1)); err != nil {
		t.Fatal(err)
	}
	n := out.n()
	time.Sleep(50 * time.Millisecond)
	out.mu.Lock()
	defer out.mu.Unlock()
	if len(out.first) < n+3 {
		t.Fatalf("the mixer stopped when its port b lost its edge: %d frames in 50 ms", len(out.first)-n)
	}
	for i := n; i < len(out.first); i++ {
		if out.first[i] != [3]byte{0, 200, 0} {
			t.Fatalf("frame %d: %v, want port b's last frame held", i, out.first[i])
		}
	}
}

// quarterInvert is what invert with intensity 0.25 makes of a pixel (examples/c/invert).
func quarterInvert(r, g, b byte) [3]byte {
	f := func(v byte) byte { return byte(float64(v)*0.75 + float64(255-int(v))*0.25 + 0.5) }
	return [3]byte{f(r), f(g), f(b)}
}

// TestSetParamConcurrentKeys: goroutines setting different keys of one stage at once never
// undo each other's change (SetParam reads, checks and writes under one lock).
func TestSetParamConcurrentKeys(t *testing.T) {
	cg := instance(t, open(t, "color-generator"), "color-generator", 0, "width=8", "height=4")
	e, err := engine.New(engine.Config{Stages: []engine.Instance{cg}})
	if err != nil {
		t.Fatal(err)
	}
	p := cg.Pipeline()
	keys := []string{"color_r", "color_g", "color_b"}
	const rounds = 255 // the colour range; every key's value only grows from 0
	for _, k := range keys {
		if _, err := e.SetParam(0, k, "0"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	lost := map[string]int{}
	for _, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := make([]int64, len(keys))
			for i := 1; i <= rounds; i++ {
				if _, err := e.SetParam(0, key, fmt.Sprint(i)); err != nil {
					t.Error(err)
					return
				}
				// A value smaller than one seen before is a change some set undid.
				vals := e.Values(0)
				for j, k := range keys {
					got := vals[p.Param(k).Index].Int
					if got < seen[j] {
						t.Logf("%s saw %s go back from %d to %d", key, k, seen[j], got)
						mu.Lock()
						lost[k]++
						mu.Unlock()
					}
					seen[j] = got
				}
			}
		}()
	}
	wg.Wait()
	if len(lost) > 0 {
		t.Errorf("changes undone by concurrent sets of other keys: %v", lost)
	}
	vals := e.Values(0)
	for _, k := range keys {
		if got := vals[p.Param(k).Index].Int; got != rounds {
			t.Errorf("%s = %d after every goroutine finished, want %d", k, got, rounds)
		}
	}
}

// FuzzEdits applies a sequence of edits, coded by the input bytes, to a graph src -> inv ->
// out (plus a second source and sink), before the run or (odd first byte) while it runs. A refused edit leaves the graph
// exactly as it was; after every accepted one the graph passes graph.CheckOpen; nothing
// panics or hangs.
func FuzzEdits(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{0x10, 0x21, 0x05, 0x33, 0x42})
	f.Add([]byte{0x01, 0x11, 0x21, 0x31, 0x41, 0x51})
	f.Add([]byte{0x50, 0x12, 0x03, 0x24})
	f.Add([]byte{0x11, 0x21, 0x03, 0x24, 0x35, 0x40, 0x12})
	lib := open(f, "invert")
	p := lib.Pipeline("invert")
	names := []string{"src", "inv", "out", "n1", "n2", "src2", "out2"}
	resolve := func(id string) (*loader.Pipeline, error) {
		if id == p.ID {
			return p, nil
		}
		return nil, fmt.Errorf("no pipeline %s", id)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 24 {
			ops = ops[:24]
		}
		inv, err := p.NewInstance(loader.ModeVideo, p.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(engine.Config{Live: true, FPS: 500, Graph: &engine.Graph{
			Nodes: []engine.Node{{Name: "src", Source: newSolid(1, 2, 3)}, {Name: "src2", Source: newSolid(4, 5, 6)}, {Name: "inv", Instance: inv},
				{Name: "out", Sink: &liveSink{}, IsSink: true}, {Name: "out2", IsSink: true}},
			Edges: []graph.Edge{edge("src", "inv", 0), edge("inv", "out", 0), edge("src2", "out2", 0)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var made []*loader.Instance
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		running := len(ops) > 0 && ops[0]&1 == 1
		if running {
			go func() { _, err := e.Run(ctx); done <- err }()
		}
		defer func() {
			cancel()
			if running {
				<-done
			}
			for _, in := range append(made, inv) {
				in.Close()
			}
		}()
		for i, op := range ops {
			a, b := names[int(op>>4)%len(names)], names[int(op)%len(names)]
			before := e.Graph()
			var err error
			switch i % 6 {
			case 0:
				in, _ := p.NewInstance(loader.ModeVideo, p.Defaults())
				made = append(made, in)
				err = e.AddNode(engine.Node{Name: a, Instance: in}, []graph.Edge{edge(b, a, 0)}, []graph.Edge{edge(a, names[int(op)%3+1], 0)})
			case 1:
				err = e.RemoveNode(a)
			case 2:
				err = e.Connect(edge(a, b, int(op>>7)))
			case 3:
				err = e.Disconnect(edge(a, b, 0))
			case 4:
				in, _ := p.NewInstance(loader.ModeVideo, p.Defaults())
				made = append(made, in)
				err = e.ReplaceNode(a, in)
			case 5:
				err = e.SwitchSource(a, "solid", newSolid(op, op, op))
			}
			after := e.Graph()
			if err != nil {
				if !errors.Is(err, engine.ErrEdit) {
					t.Fatalf("edit %d: error %v does not wrap ErrEdit", i, err)
				}
				if after.String() != before.String() || len(after.Edges) != len(before.Edges) {
					t.Fatalf("refused edit %d (%v) changed the graph:\n%s\nto\n%s", i, err, before, after)
				}
				continue
			}
			if err := graph.CheckOpen(after, resolve); err != nil {
				t.Fatalf("edit %d was accepted but the graph is invalid: %v\n%s", i, err, after)
			}
		}
		time.Sleep(10 * time.Millisecond)
		if running {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("run during the edits: %v", err)
			}
			running = false
			return
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel2()
		if _, err := e.Run(ctx2); err != nil {
			t.Fatalf("run after the edits: %v", err)
		}
	})
}
