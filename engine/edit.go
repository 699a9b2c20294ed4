package engine

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

// Live edits (docs/graphs.md "Edits"). Each edit is checked with package graph's rules
// against the graph as it would be after it and refused, with the problems and nothing
// changed, when it would break the graph. An accepted edit is applied under flow.mu, which
// every step holds while it takes its input frames and while it pushes its output, so it
// lands between two frames of every node; the nodes it does not touch keep their workers,
// windows and instances, and keep producing.

// ErrEdit is wrapped by every refused edit.
var ErrEdit = errors.New("edit refused")

// refuse is a refused edit's error.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEdit, fmt.Sprintf(format, args...))
}

// newQueue returns an empty edge into node to with the run's queue depth.
func (e *Engine) newQueue(to *node) *queue {
	depth := e.cfg.QueueDepth
	if depth <= 0 {
		depth = 2
	}
	return &queue{ring: make([]*buf, depth), to: to}
}

// link adds the edge from -> to.port (flow.mu held). A finished producer gives a closed edge.
func (e *Engine) link(from, to *node, port int) {
	q := e.newQueue(to)
	q.from, q.closed = from, from.done
	from.out = append(from.out, q)
	to.in[port] = q
}

// unlink takes q off its producer and releases the frames waiting in it (flow.mu held). The
// consumer's port still points at q until the caller gives it another queue.
func unlink(q *queue) {
	if q == nil {
		return
	}
	if q.from != nil {
		q.from.out = slices.DeleteFunc(q.from.out, func(o *queue) bool { return o == q })
		q.from = nil
	}
	q.discard = true
	for q.n > 0 {
		q.pop().release()
	}
}

// nodeLocked returns the running node called name (flow.mu held), or nil.
func (e *Engine) nodeLocked(name string) *node {
	for _, n := range e.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// cloneModel returns a deep enough copy of g for an edit to change.
func cloneModel(g *graph.Graph) *graph.Graph {
	return &graph.Graph{Nodes: slices.Clone(g.Nodes), Edges: slices.Clone(g.Edges)}
}

// edit is the frame of every edit. With flow.mu held it checks that the run takes edits,
// lets change edit a copy of the model (extra adds pipelines the copy may use), checks the
// result (CheckOpen when open) and, when it passes, calls apply and installs the new model
// and execution order. apply runs with flow.mu held and may add nodes to add.
func (e *Engine) edit(what string, open bool, extra map[string]*loader.Pipeline,
	change func(m *graph.Graph) error, apply func(m *graph.Graph, add *[]*node) error) error {
	if e.model == nil {
		return fmt.Errorf("%s: %w: this run is a CUDA device chain, which takes no graph edits (only swaps and parameters)", what, ErrEdit)
	}
	if e.cfg.Serial {
		return fmt.Errorf("%s: %w: a serial run takes no graph edits", what, ErrEdit)
	}
	f := &e.flow
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended || f.halt {
		return fmt.Errorf("%s: %w: the run has ended", what, ErrEdit)
	}
	m := cloneModel(e.model)
	if err := change(m); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	pipes := map[string]*loader.Pipeline{}
	for k, p := range e.pipes {
		if m.Node(k) != nil {
			pipes[k] = p
		}
	}
	for k, p := range extra {
		pipes[k] = p
	}
	resolve := func(id string) (*loader.Pipeline, error) {
		for _, p := range pipes {
			if p.ID == id {
				return p, nil
			}
		}
		return nil, fmt.Errorf("no pipeline %s", id)
	}
	check := graph.Check
	if open {
		check = graph.CheckOpen
	}
	// Only the problems the edit brings count: a node an earlier connect left idle does not
	// block an unrelated edit.
	had := map[string]bool{}
	var before graph.Problems
	if errors.As(check(e.model, resolve), &before) {
		for _, p := range before {
			had[p.Error()] = true
		}
	}
	var after, fresh graph.Problems
	if errors.As(check(m, resolve), &after) {
		for _, p := range after {
			if !had[p.Error()] {
				fresh = append(fresh, p)
			}
		}
	}
	// Check looks for cycles only in an otherwise valid graph; an edit never makes one.
	if _, err := graph.Order(m); err != nil && !slices.ContainsFunc(after, func(p error) bool { return p.Error() == err.Error() }) {
		fresh = append(fresh, err)
	}
	if len(fresh) > 0 {
		return fmt.Errorf("%s: %w: the graph would be invalid:\n%w", what, ErrEdit, fresh)
	}
	var added []*node
	if err := apply(m, &added); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	byName := map[string]*node{}
	for _, n := range append(slices.Clone(e.nodes), added...) {
		if !n.removed {
			byName[n.name] = n
		}
	}
	order, _ := graph.Order(m)
	nodes := make([]*node, 0, len(order))
	for _, i := range order {
		nodes = append(nodes, byName[m.Nodes[i].Name])
	}
	e.mu.Lock()
	e.nodes = nodes
	e.mu.Unlock()
	e.model, e.pipes = m, pipes
	for _, n := range added {
		n.next = time.Now()
		if f.spawn != nil {
			f.spawn(n)
		}
	}
	f.cond.Broadcast()
	return nil
}

// setEdge makes ed the only edge into its port in m (the one it replaces goes).
func setEdge(m *graph.Graph, ed graph.Edge) {
	m.Edges = slices.DeleteFunc(m.Edges, func(o graph.Edge) bool { return o.To == ed.To && o.Port == ed.Port })
	m.Edges = append(m.Edges, ed)
}

// AddNode adds pipeline node n (n.Instance set) to the running graph between two frames:
// inputs are the edges into it (their To is n.Name), outputs the edges out of it (From is
// n.Name); each output takes over the port it goes to from the edge that fed that port, so
// "add X between a and b" is inputs a -> X, outputs X -> b. On success the engine owns the
// instance (it closes it when the node is removed or replaced); on error the caller still
// does.
func (e *Engine) AddNode(n Node, inputs, outputs []graph.Edge) error {
	what := "add node " + n.Name
	if n.Instance == nil || n.Source != nil || n.IsSink {
		return fmt.Errorf("%s: %w: only pipeline nodes can be added; switch a source with switch-source", what, ErrEdit)
	}
	st, err := e.newStage(n.Instance)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", what, ErrEdit, err)
	}
	st.name = n.Name
	in := n.Instance
	return e.edit(what, false, map[string]*loader.Pipeline{n.Name: in.Pipeline()}, func(m *graph.Graph) error {
		m.Nodes = append(m.Nodes, graph.Node{Name: n.Name, Kind: graph.Pipeline, PipelineID: in.Pipeline().ID, Mode: in.Mode()})
		for _, ed := range inputs {
			if ed.To != n.Name {
				return refuse("input edge %s -> %s does not go to %s", ed.From, ed.To, n.Name)
			}
			m.Edges = append(m.Edges, ed)
		}
		for _, ed := range outputs {
			if ed.From != n.Name {
				return refuse("output edge %s -> %s does not come from %s", ed.From, ed.To, n.Name)
			}
			setEdge(m, ed)
		}
		return nil
	}, func(m *graph.Graph, add *[]*node) error {
		for _, ed := range inputs {
			if from := e.nodeLocked(ed.From); from.done {
				return refuse("node %s has finished; it produces no more frames", ed.From)
			}
		}
		nd := &node{name: n.Name, st: st, in: make([]*queue, len(st.inputs)), ports: make([]port, len(st.inputs)), fresh: make([]*buf, 0, len(st.inputs))}
		st.node = nd
		for _, ed := range inputs {
			e.link(e.nodeLocked(ed.From), nd, ed.Port)
		}
		for _, ed := range outputs {
			to := e.nodeLocked(ed.To)
			unlink(to.in[ed.Port])
			e.link(nd, to, ed.Port)
		}
		e.mu.Lock()
		e.stages = append(e.stages, st)
		e.mu.Unlock()
		*add = append(*add, nd)
		return nil
	})
}

// RemoveNode removes pipeline node name between two frames. A node with one input is
// bridged: its producer feeds its consumers in its place, so removing an effect from a chain
// keeps the chain running. Its worker stops after the call it may be in, and its instance is
// closed.
func (e *Engine) RemoveNode(name string) error {
	what := "remove node " + name
	var bridge string
	var closeNow Instance
	err := e.edit(what, false, nil, func(m *graph.Graph) error {
		mn := m.Node(name)
		if mn == nil {
			return refuse("no node %s", name)
		}
		if mn.Kind != graph.Pipeline {
			return refuse("%s is a %s; only pipeline nodes can be removed (switch a source with switch-source)", name, mn.Kind)
		}
		ins, outs := m.Inputs(name), m.Outputs(name)
		m.Nodes = slices.DeleteFunc(m.Nodes, func(n graph.Node) bool { return n.Name == name })
		m.Edges = slices.DeleteFunc(m.Edges, func(ed graph.Edge) bool { return ed.From == name || ed.To == name })
		if len(ins) == 1 {
			bridge = ins[0].From
			for _, o := range outs {
				m.Edges = append(m.Edges, graph.Edge{From: bridge, To: o.To, Port: o.Port})
			}
		}
		return nil
	}, func(m *graph.Graph, _ *[]*node) error {
		nd := e.nodeLocked(name)
		for _, q := range nd.in {
			unlink(q)
		}
		if p := e.nodeLocked(bridge); p != nil {
			for _, q := range nd.out { // the same queues: nothing waiting in them is lost
				q.from, q.closed = p, p.done
				p.out = append(p.out, q)
			}
		}
		nd.out = nil
		nd.removed, nd.done = true, true
		e.mu.Lock()
		e.stages = slices.DeleteFunc(e.stages, func(s *stage) bool { return s == nd.st })
		e.mu.Unlock()
		if e.flow.spawn == nil { // not running: no worker retires it
			closeNow = nd.st.inst
		}
		return nil
	})
	if closeNow != nil {
		closeNow.Close()
	}
	return err
}

// ReplaceNode replaces the instance of pipeline node name with in between two frames (Swap
// by name, checked against the graph: the new pipeline must take the node's ports and
// edges). On success the engine owns in; on error the caller still does.
func (e *Engine) ReplaceNode(name string, in Instance) error {
	what := "replace node " + name
	var st *stage
	var idx int
	err := e.edit(what, false, map[string]*loader.Pipeline{name: in.Pipeline()}, func(m *graph.Graph) error {
		mn := m.Node(name)
		if mn == nil {
			return refuse("no node %s", name)
		}
		if mn.Kind != graph.Pipeline {
			return refuse("%s is a %s, not a pipeline node", name, mn.Kind)
		}
		mn.PipelineID, mn.Mode = in.Pipeline().ID, in.Mode()
		return nil
	}, func(*graph.Graph, *[]*node) error {
		st = e.nodeLocked(name).st
		e.mu.Lock()
		idx = e.indexLocked(st)
		e.mu.Unlock()
		if err := e.swap(st, idx, in); err != nil {
			return fmt.Errorf("%w: %w", ErrEdit, err)
		}
		return nil
	})
	return err
}

// Connect makes ed an edge of the running graph between two frames. It takes the port over
// from the edge that fed it, if any; that producer keeps its other outputs, and idles when
// it had none.
func (e *Engine) Connect(ed graph.Edge) error {
	what := fmt.Sprintf("connect %s -> %s", ed.From, ed.To)
	return e.edit(what, true, nil, func(m *graph.Graph) error {
		if slices.Contains(m.Edges, ed) {
			return refuse("%s already feeds port %d of %s", ed.From, ed.Port, ed.To)
		}
		setEdge(m, ed)
		return nil
	}, func(*graph.Graph, *[]*node) error {
		from, to := e.nodeLocked(ed.From), e.nodeLocked(ed.To)
		if from.done {
			return refuse("node %s has finished; it produces no more frames", ed.From)
		}
		unlink(to.in[ed.Port])
		e.link(from, to, ed.Port)
		return nil
	})
}

// Disconnect removes edge ed between two frames. The port it fed holds its last frame until
// an edge connects it again (a mixer's other ports go on; a node whose first port lost its
// edge waits); a sink that lost its input and a producer that lost its last output idle.
func (e *Engine) Disconnect(ed graph.Edge) error {
	what := fmt.Sprintf("disconnect %s -> %s", ed.From, ed.To)
	return e.edit(what, true, nil, func(m *graph.Graph) error {
		if !slices.Contains(m.Edges, ed) {
			return refuse("there is no edge from %s to port %d of %s", ed.From, ed.Port, ed.To)
		}
		m.Edges = slices.DeleteFunc(m.Edges, func(o graph.Edge) bool { return o == ed })
		return nil
	}, func(*graph.Graph, *[]*node) error {
		to := e.nodeLocked(ed.To)
		unlink(to.in[ed.Port])
		to.in[ed.Port] = e.newQueue(to) // fed by nobody until a connect
		return nil
	})
}

// SwitchSource replaces the media source of source node name with src; the new one takes
// over at the source's next frame and the old one is closed then. spec describes src for
// Graph. On success the engine owns src; on error the caller still does.
func (e *Engine) SwitchSource(name, spec string, src media.Source) error {
	what := "switch source " + name
	var closeNow media.Source
	err := e.edit(what, false, nil, func(m *graph.Graph) error {
		mn := m.Node(name)
		if mn == nil {
			return refuse("no node %s", name)
		}
		if mn.Kind != graph.Source {
			return refuse("%s is a %s, not a source", name, mn.Kind)
		}
		if spec != "" {
			mn.Spec = spec
		}
		return nil
	}, func(*graph.Graph, *[]*node) error {
		nd := e.nodeLocked(name)
		if nd.done {
			return refuse("source %s has ended", name)
		}
		if e.flow.spawn == nil { // not running yet: switch now
			closeNow, nd.src = nd.src, src
			return nil
		}
		if nd.nextSrc != nil {
			closeNow = nd.nextSrc // a switch queued earlier that no frame took yet
		}
		nd.nextSrc = src
		return nil
	})
	if closeNow != nil {
		closeNow.Close()
	}
	return err
}

// Graph returns the structure of the running graph now: its nodes (with the specs of sources
// and sinks where the caller gave them) and edges. It is a copy.
func (e *Engine) Graph() *graph.Graph {
	if e.model == nil {
		return nil
	}
	e.flow.mu.Lock()
	defer e.flow.mu.Unlock()
	return cloneModel(e.model)
}

// Ports returns the input port names of node name in the running graph: a pipeline node's
// (graph.Ports), "input" for a sink, none for a source; ok is false when there is no such node.
func (e *Engine) Ports(name string) (ports []string, ok bool) {
	if e.model == nil {
		return nil, false
	}
	e.flow.mu.Lock()
	defer e.flow.mu.Unlock()
	n := e.model.Node(name)
	if n == nil {
		return nil, false
	}
	switch n.Kind {
	case graph.Sink:
		return []string{"input"}, true
	case graph.Pipeline:
		p := e.pipes[name]
		return slices.Clone(graph.Ports(p, graph.ModeOf(n, p))), true
	}
	return nil, true
}
