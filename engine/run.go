package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

// node is one node of a running graph.
type node struct {
	name   string
	src    media.Source // source node
	st     *stage       // pipeline node
	sink   media.Sink   // sink node (nil discards)
	isSink bool
	first  bool // the first sink: OnFrame sees its frames

	in   []*queue // per input port (one for a sink)
	out  []*queue // the edges out of the node
	pool pool     // output frames
	done bool     // finished: no more output (guarded by flow.mu)

	// Pipeline nodes: per port, the window of input frames and a pool for conversions.
	ports []port
	fresh []*buf // per port, the frame taken for the next call (nil: keep the newest)
	// Roots (sources, text-mode pipelines): pacing.
	next    time.Time
	emitted uint64
	// Sinks: frames received and end-to-end latency (guarded by Engine.mu).
	frames  int
	latency histogram
	lastLat time.Duration
	// Pipeline nodes: frames produced, for their index.
	produced uint64
	// Edits (guarded by flow.mu): removed ends the node's worker, which then closes its
	// instance; nextSrc is a source that replaces src at the source's next step.
	removed bool
	nextSrc media.Source
}

// port is one input port of a pipeline node.
type port struct {
	win  refWindow
	conv pool         // frames converted to the format the pipeline asked for
	got  bool         // a frame ever arrived (live mixers hold the newest)
	want frame.Format // format of the frames in win
}

// flow is the state the workers share: every queue is guarded by mu, and every change that
// could let a waiting worker go on broadcasts cond. A step holds mu while it takes its input
// frames and while it pushes its output, never during a call, so a graph edit applied under
// mu (adding or removing a queue or a node, docs/graphs.md "Edits") lands between two frames
// of every node.
type flow struct {
	mu   sync.Mutex
	cond *sync.Cond
	halt bool  // stop every worker (cancelled, every sink done, or a fatal error)
	err  error // the first fatal error
	// drain ends every source at its next step while the frames already read still go
	// through to the sinks: a source failed, and the run ends with its error once they are
	// written.
	drain bool
	// spawn starts the worker of a node an edit added; nil when no concurrent run is going
	// (before Run, a serial run, after Run).
	spawn   func(n *node)
	workers int  // workers running
	ended   bool // Run has returned: no more edits
}

// build turns g into running nodes after checking it with package graph's rules.
func (e *Engine) build(g *Graph) error {
	model := &graph.Graph{Edges: append([]graph.Edge(nil), g.Edges...)}
	pipes := map[string]*loader.Pipeline{}
	for _, n := range g.Nodes {
		mn := graph.Node{Name: n.Name, Spec: n.Spec}
		if mn.Spec == "" {
			mn.Spec = "-"
		}
		set := 0
		if n.Source != nil {
			mn.Kind = graph.Source
			set++
		}
		if n.Instance != nil {
			mn.Kind, mn.PipelineID, mn.Mode = graph.Pipeline, n.Instance.Pipeline().ID, n.Instance.Mode()
			pipes[n.Name] = n.Instance.Pipeline()
			set++
		}
		if n.IsSink {
			mn.Kind = graph.Sink
			set++
		}
		if set != 1 {
			return fmt.Errorf("%w: node %s must be exactly one of a source, a pipeline or a sink", ErrConfig, n.Name)
		}
		model.Nodes = append(model.Nodes, mn)
	}
	byName := map[string]*node{}
	var all []*node
	firstSink := true
	for _, n := range g.Nodes {
		nd := &node{name: n.Name, src: n.Source, sink: n.Sink, isSink: n.IsSink}
		nd.pool.alloc = e.cfg.NewFrame
		if n.Instance != nil {
			st, err := e.newStage(n.Instance)
			if err != nil {
				return err
			}
			st.name, st.node = n.Name, nd
			nd.st = st
			e.stages = append(e.stages, st)
			nd.in = make([]*queue, len(st.inputs))
			nd.ports = make([]port, len(st.inputs))
			for i := range nd.ports {
				nd.ports[i].conv.alloc = e.cfg.NewFrame
			}
			nd.fresh = make([]*buf, 0, len(st.inputs))
		}
		if n.IsSink {
			nd.in = make([]*queue, 1)
			nd.first, firstSink = firstSink, false
		}
		byName[n.Name] = nd
		all = append(all, nd)
	}
	if err := graph.Check(model, func(id string) (*loader.Pipeline, error) {
		for _, p := range pipes {
			if p.ID == id {
				return p, nil
			}
		}
		return nil, fmt.Errorf("no pipeline %s", id)
	}); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	for _, ed := range g.Edges {
		e.link(byName[ed.From], byName[ed.To], ed.Port)
	}
	e.model, e.pipes = model, pipes
	order, _ := graph.Order(model)
	for _, i := range order {
		e.nodes = append(e.nodes, all[i])
	}
	e.flow.cond = sync.NewCond(&e.flow.mu)
	return nil
}

// Run processes frames until the sources end, every sink has its frames or ctx is
// cancelled, and returns the statistics. A failed call drops that frame at that node and the
// run goes on; source and sink errors end the run.
func (e *Engine) Run(ctx context.Context) (Stats, error) {
	defer e.closing.Wait() // swapped-out instances still being destroyed
	if e.cfg.Device != nil {
		return e.runDevice(ctx)
	}
	start := time.Now()
	e.mu.Lock()
	e.running, e.started = true, start
	e.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopWatch := context.AfterFunc(ctx, func() { e.stop(nil) })
	defer stopWatch()
	r := &runner{e: e, ctx: ctx, start: start}
	if e.cfg.FPS > 0 {
		r.interval = time.Duration(float64(time.Second) / e.cfg.FPS)
	}
	for _, n := range e.nodes {
		n.next = start
	}
	f := &e.flow
	if e.cfg.Serial {
		r.serial()
		f.mu.Lock()
	} else {
		f.mu.Lock()
		f.spawn = func(n *node) { // flow.mu held
			f.workers++
			go func() {
				r.worker(n)
				f.mu.Lock()
				f.workers--
				f.cond.Broadcast()
				f.mu.Unlock()
			}()
		}
		for _, n := range e.nodes {
			f.spawn(n)
		}
		for f.workers > 0 {
			f.cond.Wait()
		}
	}
	f.spawn, f.ended = nil, true
	err := f.err
	f.mu.Unlock()
	e.release()
	stats := e.snapshot(start, true)
	e.mu.Lock()
	e.live = stats
	e.running = false
	e.mu.Unlock()
	return stats, err
}

// stop halts every worker; a non-nil err is the run's error (the first one wins).
func (e *Engine) stop(err error) {
	e.flow.mu.Lock()
	if err != nil && e.flow.err == nil {
		e.flow.err = err
	}
	e.flow.halt = true
	e.flow.cond.Broadcast()
	e.flow.mu.Unlock()
	e.mu.Lock()
	if e.paused {
		close(e.resume)
		e.resume = make(chan struct{})
		e.paused = false
	}
	e.mu.Unlock()
}

// release returns every frame still held in windows and queues (the run is over) and closes
// the sources that an edit queued but no step took.
func (e *Engine) release() {
	for _, n := range e.nodes {
		if n.nextSrc != nil {
			n.nextSrc.Close()
			n.nextSrc = nil
		}
		for i := range n.ports {
			n.ports[i].win.clear()
		}
		for _, q := range n.in {
			for q.n > 0 {
				q.pop().release()
			}
		}
	}
}

// runner is one Run's shared settings.
type runner struct {
	e        *Engine
	ctx      context.Context
	start    time.Time
	interval time.Duration
}

// worker runs node n until it is done, removed or the run halts. A removed node's worker
// releases what the node holds and closes its instance.
func (r *runner) worker(n *node) {
	defer r.retire(n)
	for {
		ok, err := r.step(n, true)
		if err != nil {
			r.e.stop(err)
			return
		}
		if !ok {
			return
		}
	}
}

// retire releases what a node that an edit removed still holds, once its worker is out of
// its last step, and closes its instance (and an instance queued to replace it).
func (r *runner) retire(n *node) {
	e := r.e
	e.flow.mu.Lock()
	removed := n.removed
	e.flow.mu.Unlock()
	if !removed {
		return
	}
	for i := range n.ports {
		n.ports[i].win.clear()
	}
	if n.st != nil {
		e.mu.Lock()
		sw := e.swaps[n.st]
		delete(e.swaps, n.st)
		delete(e.pending, n.st)
		e.mu.Unlock()
		if sw != nil {
			e.retire(sw)
		}
		e.retire(n.st.inst)
	}
}

// serial runs the graph on this goroutine: each round, every node in execution order does at
// most one step, so one frame goes through the whole graph before the next.
func (r *runner) serial() {
	for {
		progressed, live := false, false
		for _, n := range r.e.nodes {
			r.e.flow.mu.Lock()
			done, halt := n.done, r.e.flow.halt
			r.e.flow.mu.Unlock()
			if halt {
				return
			}
			if done {
				continue
			}
			live = true
			ok, err := r.step(n, false)
			if err != nil {
				r.e.stop(err)
				return
			}
			r.e.flow.mu.Lock()
			ended := n.done
			r.e.flow.mu.Unlock()
			progressed = progressed || ok || ended
		}
		if !live {
			return
		}
		if !progressed {
			r.e.stop(errors.New("the graph stalled: no node could go on (a node waits for an input that never comes)"))
			return
		}
	}
}

// step does one unit of work of node n: read one frame (source), one call (pipeline) or one
// write (sink). With wait it blocks until it can; without, it returns false when it cannot go
// on yet. It returns false with wait when the node is done or the run halts.
func (r *runner) step(n *node, wait bool) (bool, error) {
	if !r.e.waitWhilePaused(r.ctx) {
		return false, nil
	}
	r.e.flow.mu.Lock()
	removed := n.removed
	r.e.flow.mu.Unlock()
	if removed {
		return false, nil
	}
	switch {
	case n.src != nil:
		return r.stepSource(n, wait)
	case n.st != nil:
		return r.stepPipeline(n, wait)
	default:
		return r.stepSink(n, wait)
	}
}

// await waits, with flow.mu held, until ready() or the run halts or an edit removes n;
// without wait it checks once. It returns false when the step cannot go on (halted, removed,
// or not ready without wait).
func (r *runner) await(n *node, wait bool, ready func() bool) bool {
	f := &r.e.flow
	for !f.halt && !n.removed && !ready() {
		if !wait {
			return false
		}
		f.cond.Wait()
	}
	return !f.halt && !n.removed
}

// finish marks n done: its outputs end, and whatever still comes in is discarded.
func (r *runner) finish(n *node) {
	n.done = true
	for _, q := range n.out {
		q.closed = true
	}
	for _, q := range n.in {
		if q == nil {
			continue
		}
		q.discard = true
		for q.n > 0 {
			q.pop().release()
		}
	}
	r.e.flow.cond.Broadcast()
}

// rootHeld reports whether root n has emitted all the frames a headless run with a frame
// limit needs so far: the limit, plus one for every frame a failed call dropped (as a chain
// retries a failed tick). A held root waits: for a failure (it emits one more) or for the
// sinks to be full (the run ends), so the run reads no frame it does not use.
func (r *runner) rootHeld(n *node) bool {
	return !r.e.cfg.Live && r.e.cfg.Frames > 0 && n.emitted >= uint64(r.e.cfg.Frames)+uint64(r.e.failed.Load())
}

// unused reports whether nothing consumes n's output any more (every consumer is done), so
// n can finish too: an endless source beside a finite one into a mixer stops with it.
func unused(n *node) bool {
	for _, q := range n.out {
		if !q.discard {
			return false
		}
	}
	return len(n.out) > 0
}

// roomOut reports whether every output queue can take a frame (live queues always can).
func (r *runner) roomOut(n *node) bool {
	if r.e.cfg.Live && r.interval > 0 {
		return true
	}
	for _, q := range n.out {
		if !q.discard && q.n == len(q.ring) {
			return false
		}
	}
	return true
}

// pace waits for a root's next frame time with FPS set.
func (r *runner) pace(n *node) bool {
	if r.interval <= 0 {
		return true
	}
	if d := time.Until(n.next); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	} else if -d > r.interval {
		r.e.mu.Lock()
		r.e.live.Late++
		r.e.mu.Unlock()
		n.next = time.Now()
	}
	n.next = n.next.Add(r.interval)
	return true
}

// emit sends b (holding one reference) to every output of n, and releases that reference.
func (r *runner) emit(n *node, b *buf) {
	f := &r.e.flow
	f.mu.Lock()
	for _, q := range n.out {
		if q.discard {
			continue
		}
		b.retain()
		if old := q.push(b); old != nil {
			old.release()
		}
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	b.release()
}

func (r *runner) stepSource(n *node, wait bool) (bool, error) {
	f := &r.e.flow
	f.mu.Lock()
	if n.nextSrc != nil { // switch-source: the new one takes over between two frames
		old := n.src
		n.src, n.nextSrc = n.nextSrc, nil
		f.mu.Unlock()
		old.Close()
		f.mu.Lock()
	}
	if !r.await(n, wait, func() bool { return f.drain || unused(n) || (r.roomOut(n) && !r.rootHeld(n)) }) {
		f.mu.Unlock()
		return false, nil
	}
	if f.drain || unused(n) {
		r.finish(n)
		f.mu.Unlock()
		return false, nil
	}
	f.mu.Unlock()
	if !r.pace(n) {
		return false, nil
	}
	b := n.pool.get(n.src.Format())
	if err := n.src.Read(r.ctx, b.f); err != nil {
		b.release()
		// The source ends here, but the frames it already gave still go through the graph
		// to the sinks (nothing read is lost); a read error becomes the run's error once
		// they are written, without halting the other nodes first.
		f.mu.Lock()
		r.finish(n)
		if !errors.Is(err, io.EOF) && r.ctx.Err() == nil {
			if f.err == nil {
				f.err = fmt.Errorf("read input %s: %w", n.name, err)
			}
			f.drain = true // the other sources end too
			f.cond.Broadcast()
		}
		f.mu.Unlock()
		return false, nil
	}
	b.origin = time.Now()
	n.emitted++
	r.emit(n, b)
	return true, nil
}

func (r *runner) stepSink(n *node, wait bool) (bool, error) {
	f := &r.e.flow
	f.mu.Lock()
	// n.in[0] is read under the lock each time: an edit may give the sink another edge.
	if !r.await(n, wait, func() bool { return n.in[0].n > 0 || n.in[0].closed }) {
		f.mu.Unlock()
		return false, nil
	}
	q := n.in[0]
	if q.n == 0 { // closed and drained
		r.finish(n)
		f.mu.Unlock()
		return false, nil
	}
	b := r.take(n, q)
	f.cond.Broadcast()
	f.mu.Unlock()
	defer b.release()
	if n.sink != nil {
		if err := n.sink.Write(b.f); err != nil {
			return false, fmt.Errorf("write output frame %d to %s: %w", n.frames, n.name, err)
		}
	}
	if n.first && r.e.cfg.OnFrame != nil {
		r.e.cfg.OnFrame(b.f)
	}
	lat := time.Since(b.origin)
	e := r.e
	e.mu.Lock()
	n.frames++
	n.latency.add(lat)
	n.lastLat = lat
	frames := n.frames
	e.mu.Unlock()
	if limit := e.cfg.Frames; limit > 0 && frames >= limit {
		f.mu.Lock()
		r.finish(n)
		all := true
		for _, m := range e.nodes {
			all = all && (!m.isSink || m.done)
		}
		f.mu.Unlock()
		if all {
			e.stop(nil)
		}
	}
	return true, nil
}

// take pops the frame a node works on next from q (flow.mu held): the oldest in a headless
// run; in a live run the newest, releasing and counting the older ones.
func (r *runner) take(n *node, q *queue) *buf {
	if r.e.cfg.Live {
		for q.n > 1 {
			q.pop().release()
			q.dropped++
		}
	}
	return q.pop()
}

func (r *runner) stepPipeline(n *node, wait bool) (bool, error) {
	e := r.e
	f := &e.flow
	f.mu.Lock()
	if len(n.in) == 0 {
		if !r.await(n, wait, func() bool { return unused(n) || (r.roomOut(n) && !r.rootHeld(n)) }) {
			f.mu.Unlock()
			return false, nil
		}
		if unused(n) {
			r.finish(n)
			f.mu.Unlock()
			return false, nil
		}
		f.mu.Unlock()
		if !r.pace(n) {
			return false, nil
		}
		return true, r.call(n, nil)
	}
	ended := false
	ready := func() bool {
		if unused(n) {
			ended = true
			return true
		}
		if !r.roomOut(n) {
			return false
		}
		for i, q := range n.in {
			if q.n > 0 {
				continue
			}
			// Live: a port other than the first may reuse the newest frame it holds, also
			// after its input ended.
			hold := e.cfg.Live && i > 0 && n.ports[i].got
			if q.closed && !hold {
				ended = true
				return true
			}
			if !hold {
				return false
			}
		}
		return true
	}
	if !r.await(n, wait, ready) {
		f.mu.Unlock()
		return false, nil
	}
	if ended {
		r.finish(n)
		f.mu.Unlock()
		return false, nil
	}
	fresh := n.fresh[:0]
	for _, q := range n.in {
		var b *buf
		if q.n > 0 {
			b = r.take(n, q)
		}
		fresh = append(fresh, b)
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	return true, r.call(n, fresh)
}

// call runs one call of pipeline node n on the newly arrived frames (nil for a port that
// keeps its newest frame, and for a text-mode node), then emits the output.
func (r *runner) call(n *node, fresh []*buf) error {
	e, st := r.e, n.st
	e.applyStage(st)
	for i, b := range fresh {
		if b != nil {
			st.formats[i] = b.f.Format
		} else {
			st.formats[i] = n.ports[i].want
		}
	}
	var formats []frame.Format
	if st.video {
		formats = st.formats
	}
	fail := func(err error) error {
		for _, b := range fresh {
			if b != nil {
				b.release()
			}
		}
		f := &e.flow
		f.mu.Lock()
		e.failed.Add(1) // a held root may emit one more frame
		f.cond.Broadcast()
		f.mu.Unlock()
		e.mu.Lock()
		st.errors++
		st.failing++
		failing := st.failing
		e.mu.Unlock()
		e.report(e.stageIndex(st), err)
		if max := e.cfg.MaxConsecutiveErrors; max > 0 && failing >= max {
			return fmt.Errorf("giving up after %d failed frames in a row; last error: %w", failing, err)
		}
		return nil
	}
	req, err := st.inst.Prepare(formats)
	if ok, reported := bypass(err); ok {
		return r.bypass(n, fresh, err, reported)
	}
	if err != nil {
		return fail(err)
	}
	e.noteInputs(st, formats, abi.MemoryHost)
	st.req = req
	origin := time.Now()
	var ts time.Duration
	if st.video {
		for i := range n.ports {
			want := req.Input
			want.Width, want.Height = st.formats[i].Width, st.formats[i].Height
			if i > 0 && (want.Width != st.formats[0].Width || want.Height != st.formats[0].Height) {
				return fail(fmt.Errorf("%s: port %s gets %dx%d frames but port %s gets %dx%d; the inputs of a mixer must have one size: give the sources the same size (e.g. --size)",
					st.name, st.inst.Pipeline().InputPorts[i], want.Width, want.Height, st.inst.Pipeline().InputPorts[0], st.formats[0].Width, st.formats[0].Height))
			}
			p := &n.ports[i]
			if want != p.want {
				p.win.clear()
				p.want = want
			}
			p.win.resize(req.InputSize)
			if b := fresh[i]; b != nil {
				if b.f.Format != want {
					c := p.conv.get(want)
					if err := frame.Convert(c.f, b.f); err != nil {
						c.release()
						return fail(fmt.Errorf("convert input %s of %s: %w", st.inst.Pipeline().InputPorts[i], st.name, err))
					}
					c.f.Index, c.f.PTS, c.origin = b.f.Index, b.f.PTS, b.origin
					b.release()
					fresh[i], b = c, c
				}
				p.win.push(b)
				p.got = true
				fresh[i] = nil // the window holds it now
			}
			st.inputs[i] = p.win.frames(st.inputs[i])
		}
		newest := n.ports[0].win.newest()
		origin, ts = newest.origin, newest.f.PTS
		for i := 1; i < len(n.ports); i++ {
			if o := n.ports[i].win.newest().origin; o.Before(origin) {
				origin = o // latency counts from the oldest data in the output
			}
		}
		st.args.Inputs = st.inputs
	} else {
		ts = time.Since(r.start)
		if r.interval > 0 {
			ts = time.Duration(n.emitted) * r.interval
		}
		n.emitted++
		st.args.Inputs = nil
	}
	out := n.pool.get(req.Output)
	st.args.Output = out.f
	st.args.Prompts = st.prompts
	st.args.Audio = st.audio
	st.args.TimestampUS = ts.Microseconds()
	if st.audio != nil && len(st.audio.Samples) < 2*req.AudioMaxFrames {
		st.audio.Samples = make([]float32, 2*req.AudioMaxFrames)
	}
	t0 := time.Now()
	err = st.inst.Call(&st.args)
	d := time.Since(t0)
	e.mu.Lock()
	st.times.add(d)
	if st.calls == 0 {
		st.recent = d
	} else {
		st.recent += (d - st.recent) / 16 // moving average over ~16 calls
	}
	st.calls++
	if err == nil {
		st.failing = 0
	}
	e.mu.Unlock()
	if ok, reported := bypass(err); ok {
		out.release()
		return r.bypass(n, fresh, err, reported)
	}
	if err != nil {
		out.release()
		return fail(err)
	}
	if e.cfg.OnAudio != nil && st.audio != nil && st.audio.Frames > 0 {
		e.cfg.OnAudio(e.stageIndex(st), st.audio)
	}
	out.f.Index, out.f.PTS, out.origin = n.produced, ts, origin
	n.produced++
	if !st.video {
		if _, iso := st.inst.(isolated); iso {
			// A text-mode node has no input to pass through: it holds its last frame.
			if st.held != nil {
				st.held.release()
			}
			out.retain()
			st.held = out
		}
	}
	r.emit(n, out)
	return nil
}

// bypass keeps node n's output going while its (isolated) instance cannot run: a video node
// passes the newest frame of its first port through, by reference; a text-mode node repeats
// the last frame it produced. A node with neither emits nothing this time. err, the cause,
// goes to OnError unless it was reported already.
func (r *runner) bypass(n *node, fresh []*buf, err error, reported bool) error {
	e, st := r.e, n.st
	if !reported {
		e.report(e.stageIndex(st), err)
	}
	var b *buf
	if st.video {
		if len(fresh) > 0 && fresh[0] != nil {
			b = fresh[0] // prepare failed: it never reached the window
		} else if len(n.ports) > 0 && n.ports[0].win.count > 0 {
			b = n.ports[0].win.newest()
		}
	} else {
		b = st.held
	}
	if b != nil {
		b.retain()
	}
	for _, f := range fresh {
		if f != nil {
			f.release()
		}
	}
	e.mu.Lock()
	st.bypassed++
	e.mu.Unlock()
	if b == nil {
		f := &e.flow
		f.mu.Lock()
		e.failed.Add(1) // as for a failed call: a held root may emit one more frame
		f.cond.Broadcast()
		f.mu.Unlock()
		return nil
	}
	n.produced++
	r.emit(n, b)
	return nil
}
