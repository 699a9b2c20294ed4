package host_test

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
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
	"github.com/scopenative/scope/session"
	"github.com/scopenative/scope/session/host"
)

// maker is the test's NodeMaker: pipelines from the loaded libraries, sources from media.
type maker struct {
	libs     []*loader.Library
	switched []string
}

func (m *maker) NewInstance(id, mode string, params, loadParams map[string]string) (engine.Instance, error) {
	for _, l := range m.libs {
		if p := l.Pipeline(id); p != nil {
			vals := p.Defaults()
			for k, v := range params {
				if err := vals.Set(p, k, v); err != nil {
					return nil, err
				}
			}
			md := p.DefaultMode().Mode
			if mode != "" {
				var err error
				if md, err = loader.ParseMode(mode); err != nil {
					return nil, err
				}
			}
			return p.NewInstance(md, vals)
		}
	}
	return nil, fmt.Errorf("unknown pipeline %s", id)
}

func (m *maker) OpenSource(ctx context.Context, name, spec string) (media.Source, error) {
	return media.OpenSource(ctx, spec, media.SourceOptions{Width: 8, Height: 4})
}

func (m *maker) Switched(name string, _ media.Source) { m.switched = append(m.switched, name) }

// graphSession runs src -> inv (invert) -> the ring at fps, live, with edit ops.
type graphSession struct {
	dir    session.Dir
	host   *host.Host
	eng    *engine.Engine
	client *session.Client
	ring   *session.Reader
}

func startGraphSession(t *testing.T, fps float64) *graphSession {
	t.Helper()
	dir := t.TempDir()
	var libs []*loader.Library
	for _, ex := range []string{"invert", "crossfade"} {
		lib, err := loader.Open(plugintest.Example(t, dir, ex), loader.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lib.Close() })
		libs = append(libs, lib)
	}
	mk := &maker{libs: libs}
	inv, err := mk.NewInstance("invert", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := mk.OpenSource(context.Background(), "src", "solid:0a141e")
	if err != nil {
		t.Fatal(err)
	}
	s := &graphSession{}
	ring := publisher{s: s}
	s.eng, err = engine.New(engine.Config{Live: true, FPS: fps, Graph: &engine.Graph{
		Nodes: []engine.Node{{Name: "src", Source: src, Spec: "solid:0a141e"}, {Name: "inv", Instance: inv}, {Name: "preview", Sink: ring, IsSink: true, Spec: "preview"}},
		Edges: []graph.Edge{{From: "src", To: "inv"}, {From: "inv", To: "preview"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.dir = session.Dir(t.TempDir())
	s.host, err = host.Start(host.Config{Dir: s.dir, Engine: s.eng, Stop: cancel, Nodes: mk})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.eng.Run(ctx); done <- err }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		s.host.Close()
		for _, in := range s.eng.Instances() {
			in.Close()
		}
	})
	if s.client, err = session.DialInfo(s.host.Info()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.Close() })
	if s.ring, err = session.OpenReader(s.host.Info().SHM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ring.Close() })
	return s
}

// publisher is the ring as a sink node.
type publisher struct{ s *graphSession }

func (p publisher) Write(f *frame.Frame) error { return p.s.host.Publish(f) }
func (p publisher) Close() error               { return nil }

// watcher reads the ring in the background, recording each frame's number, first pixel
// and arrival time.
type watcher struct {
	mu     sync.Mutex
	nums   []uint64
	pix    [][3]byte
	at     []time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func watch(s *graphSession) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var f session.Frame
		for ctx.Err() == nil {
			if ok, _ := s.ring.Next(&f); ok {
				w.mu.Lock()
				w.nums = append(w.nums, f.Number)
				w.pix = append(w.pix, [3]byte{f.Pix[0], f.Pix[1], f.Pix[2]})
				w.at = append(w.at, time.Now())
				w.mu.Unlock()
				continue
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return w
}

func (w *watcher) stop() { w.cancel(); <-w.done }

// newest is the number of the newest frame seen.
func (w *watcher) newest() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.nums) == 0 {
		return 0
	}
	return w.nums[len(w.nums)-1]
}

// reflect waits for a frame after number after with pixel want and fails unless it is at
// most within frames after it.
func (w *watcher) reflect(t *testing.T, what string, after uint64, want [3]byte, within uint64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for i, n := range w.nums {
			if n > after && w.pix[i] == want {
				w.mu.Unlock()
				if n > after+within {
					t.Errorf("%s: the first frame with the edit is %d frames after the edit, want at most %d", what, n-after, within)
				}
				return
			}
		}
		w.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: no frame with pixel %v after frame %d", what, want, after)
}

// TestLiveEditsAt30FPS is the live-edit acceptance: a 30 fps session gets a node added,
// removed and replaced and its source switched through the session protocol. The ring keeps
// advancing (no gap longer than 2 frame intervals), each edit shows in the pixels within 2
// frames, and a refused edit leaves the graph and the output as they were.
func TestLiveEditsAt30FPS(t *testing.T) {
	s := startGraphSession(t, 30)
	ctx := context.Background()
	w := watch(s)
	w.reflect(t, "start", 0, [3]byte{245, 235, 225}, 1<<30)
	start := len(w.nums)

	edit := func(op string, args any) session.GraphResult {
		t.Helper()
		g, err := s.client.Edit(ctx, op, args)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return g
	}
	n := w.newest()
	g := edit(session.OpAddNode, session.AddNodeArgs{Name: "inv2", Pipeline: "invert", Inputs: []string{"inv"}, Outputs: []string{"preview"}})
	w.reflect(t, "add-node", n, [3]byte{10, 20, 30}, 2)
	if len(g.Nodes) != 4 || len(g.Edges) != 3 {
		t.Errorf("graph after add-node: %+v", g)
	}
	// The info file lists the pipelines the graph runs now (scope sessions, the plugin manager).
	if list, err := s.dir.List(); err != nil || len(list) != 1 || strings.Join(list[0].Chain, ",") != "invert,invert" {
		t.Errorf("sessions after add-node: %+v, %v; want the chain invert,invert", list, err)
	}

	// A refused edit: the reason, and nothing changes.
	n = w.newest()
	_, err := s.client.Edit(ctx, session.OpConnect, session.EdgeArgs{From: "inv2", To: "inv"})
	var re *session.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "cycle through") || !strings.Contains(re.Message, "edit refused") {
		t.Errorf("a cycle: %v, want refused with the cycle", err)
	}
	_, err = s.client.Edit(ctx, session.OpConnect, session.EdgeArgs{From: "src", To: "inv.video2"})
	if err == nil || !strings.Contains(err.Error(), "inv has no port video2; its ports are video") {
		t.Errorf("unknown port: %v", err)
	}
	time.Sleep(150 * time.Millisecond)
	w.mu.Lock()
	for i, num := range w.nums {
		if num > n && w.pix[i] != [3]byte{10, 20, 30} {
			t.Errorf("frame %d after a refused edit: %v", num, w.pix[i])
		}
	}
	w.mu.Unlock()
	if now, _ := s.client.Graph(ctx); len(now.Nodes) != 4 || len(now.Edges) != 3 {
		t.Errorf("a refused edit changed the graph: %+v", now)
	}

	n = w.newest()
	edit(session.OpRemoveNode, session.NodeArgs{Name: "inv2"})
	w.reflect(t, "remove-node", n, [3]byte{245, 235, 225}, 2)

	n = w.newest()
	edit(session.OpReplaceNode, session.ReplaceNodeArgs{Name: "inv", Pipeline: "invert", Params: map[string]string{"intensity": "0"}})
	w.reflect(t, "replace-node", n, [3]byte{10, 20, 30}, 2)

	n = w.newest()
	g = edit(session.OpSwitchSource, session.SwitchSourceArgs{Name: "src", Input: "solid:ff8000"})
	w.reflect(t, "switch-source", n, [3]byte{255, 128, 0}, 2)
	if g.Nodes[0].Name != "src" || g.Nodes[0].Spec != "solid:ff8000" {
		t.Errorf("graph after switch-source: %+v", g.Nodes)
	}
	w.stop()

	// The ring never stood still: no gap longer than 2 frame intervals.
	interval := time.Second / 30
	w.mu.Lock()
	defer w.mu.Unlock()
	worst := time.Duration(0)
	for i := start + 1; i < len(w.at); i++ {
		worst = max(worst, w.at[i].Sub(w.at[i-1]))
	}
	t.Logf("%d frames during the edits, longest gap %v", len(w.at)-start, worst)
	if worst > 2*interval {
		t.Errorf("the ring stood still for %v, more than 2 frame intervals (%v)", worst, 2*interval)
	}
}

// TestGraphOp: the graph op carries sources, sinks, ports and edges.
func TestGraphOp(t *testing.T) {
	s := startGraphSession(t, 100)
	g, err := s.client.Graph(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "src source solid:0a141e|inv pipeline invert video [video] 0|preview sink preview"
	var got []string
	for _, n := range g.Nodes {
		f := []string{n.Name, n.Kind}
		if n.Pipeline != "" {
			f = append(f, n.Pipeline, n.Mode, fmt.Sprint(n.Ports))
		}
		if n.Spec != "" {
			f = append(f, n.Spec)
		}
		if n.Stage != nil {
			f = append(f, fmt.Sprint(*n.Stage))
		}
		got = append(got, strings.Join(f, " "))
	}
	if strings.Join(got, "|") != want {
		t.Errorf("nodes %q, want %q", strings.Join(got, "|"), want)
	}
	if len(g.Edges) != 2 || g.Edges[0] != (session.GraphEdge{From: "src", To: "inv", Port: 0, PortName: "video"}) {
		t.Errorf("edges %+v", g.Edges)
	}
}

// TestConcurrentSetsNoneLost: three clients set different keys of one node at the same
// time, many times; every change lands (the set op used to read, edit and write back the
// whole value list, so one client's write could undo another's).
func TestConcurrentSetsNoneLost(t *testing.T) {
	r := startSession(t, session.Dir(t.TempDir()))
	p := r.eng.Instances()[0].Pipeline()
	const rounds = 400
	var wg sync.WaitGroup
	var mu sync.Mutex
	lost := map[string]int{}
	for _, key := range []string{"color_r", "color_g", "color_b"} {
		c, err := session.DialInfo(r.host.Info())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= rounds; i++ {
				v := fmt.Sprint(i % 256)
				if _, err := c.Set(context.Background(), 0, key, v); err != nil {
					t.Error(err)
					return
				}
				// Another client's set may not undo this one.
				if got := r.eng.Values(0)[p.Param(key).Index].Text(); got != v {
					mu.Lock()
					lost[key]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(lost) > 0 {
		t.Errorf("changes undone by concurrent sets of other keys: %v", lost)
	}
	vals := r.eng.Values(0)
	for _, k := range []string{"color_r", "color_g", "color_b"} {
		if got := vals[p.Param(k).Index].Text(); got != fmt.Sprint(rounds%256) {
			t.Errorf("%s = %s after every client finished, want %d", k, got, rounds%256)
		}
	}
}
