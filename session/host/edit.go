package host

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/media"
	"github.com/scopenative/scope/session"
)

// NodeMaker makes what the graph edit ops put into a running graph; the application that
// runs the session implements it (it knows the catalog of pipelines and how the run opens
// its sources).
type NodeMaker interface {
	// NewInstance creates an instance of pipeline id in mode ("" = the pipeline's default),
	// with runtime and load-time parameters as text (key -> value).
	NewInstance(id, mode string, params, loadParams map[string]string) (engine.Instance, error)
	// OpenSource opens spec (as --input reads it) for source node name, as the run opens
	// its sources.
	OpenSource(ctx context.Context, name, spec string) (media.Source, error)
	// Switched says that source node name now reads src; the engine closed the one before
	// (or will, at the source's next frame).
	Switched(name string, src media.Source)
}

// errNoMaker is the reason an edit that needs new instances or sources fails without a
// NodeMaker.
const errNoMaker = "this session cannot create nodes (it was started without a node maker)"

// GraphOf is the wire form of the engine's running graph.
func GraphOf(eng *engine.Engine) session.GraphResult {
	res := session.GraphResult{Nodes: []session.GraphNode{}, Edges: []session.GraphEdge{}}
	g := eng.Graph()
	if g == nil {
		return res
	}
	live := eng.Live()
	stage := map[string]int{}
	for i, st := range live.Stages {
		stage[st.Name] = i
	}
	for _, n := range g.Nodes {
		gn := session.GraphNode{Name: n.Name, Kind: n.Kind.String()}
		switch n.Kind {
		case graph.Pipeline:
			gn.Pipeline, gn.Mode = n.PipelineID, n.Mode.String()
			gn.Ports, _ = eng.Ports(n.Name)
			if i, ok := stage[n.Name]; ok {
				gn.Stage = &i
			}
		default:
			if n.Spec != "-" {
				gn.Spec = n.Spec
			}
		}
		res.Nodes = append(res.Nodes, gn)
	}
	for _, e := range g.Edges {
		ge := session.GraphEdge{From: e.From, To: e.To, Port: e.Port}
		if ports, _ := eng.Ports(e.To); e.Port < len(ports) {
			ge.PortName = ports[e.Port]
		}
		res.Edges = append(res.Edges, ge)
	}
	return res
}

// portIndex finds port (a name or an index) among ports; "" is the first.
func portIndex(node string, ports []string, port string) (int, error) {
	if port == "" {
		if len(ports) == 0 {
			return 0, fmt.Errorf("%s takes no input", node)
		}
		return 0, nil
	}
	for i, p := range ports {
		if p == port {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(port); err == nil && i >= 0 && i < len(ports) {
		return i, nil
	}
	if len(ports) == 0 {
		return 0, fmt.Errorf("%s takes no input", node)
	}
	return 0, fmt.Errorf("%s has no port %s; its ports are %s", node, port, strings.Join(ports, ", "))
}

// target resolves "NODE" (its first port), "NODE.PORT" or NODE with a separate port against
// the running graph. Node names may contain dots: a whole name wins over a NODE.PORT split.
func target(eng *engine.Engine, to, port string) (string, int, error) {
	if ports, ok := eng.Ports(to); ok {
		i, err := portIndex(to, ports, port)
		return to, i, err
	}
	if port == "" {
		if dot := strings.LastIndex(to, "."); dot > 0 {
			if ports, ok := eng.Ports(to[:dot]); ok {
				i, err := portIndex(to[:dot], ports, to[dot+1:])
				return to[:dot], i, err
			}
		}
	}
	return "", 0, fmt.Errorf("no node %s in the graph", to)
}

// nodeOf returns node name of the running graph, or nil.
func nodeOf(eng *engine.Engine, name string) *graph.Node {
	if g := eng.Graph(); g != nil {
		return g.Node(name)
	}
	return nil
}

// registerEdits adds the graph op and the edit ops.
func (h *Host) registerEdits() {
	eng := h.cfg.Engine
	h.server.Handle(session.OpGraph, func(context.Context, json.RawMessage) (any, error) {
		return GraphOf(eng), nil
	})
	done := func(err error) (any, error) {
		if err != nil {
			return nil, err
		}
		h.refreshInfo()
		return GraphOf(eng), nil
	}
	h.server.Handle(session.OpAddNode, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.AddNodeArgs
		if err := session.DecodeArgs(session.OpAddNode, raw, &a); err != nil {
			return nil, err
		}
		what := "add node " + a.Name
		if a.Name == "" || a.Pipeline == "" {
			return nil, fmt.Errorf("%s: give the node a name and a pipeline", session.OpAddNode)
		}
		if h.cfg.Nodes == nil {
			return nil, fmt.Errorf("%s: %s", what, errNoMaker)
		}
		in, err := h.cfg.Nodes.NewInstance(a.Pipeline, a.Mode, a.Params, a.LoadParams)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		ports := graph.Ports(in.Pipeline(), in.Mode())
		var ins, outs []graph.Edge
		for i, s := range a.Inputs {
			from, p := s, i
			if k, v, ok := strings.Cut(s, "="); ok {
				from = v
				if p, err = portIndex(a.Name, ports, k); err != nil {
					in.Close()
					return nil, fmt.Errorf("%s: input %s: %w", what, s, err)
				}
			} else if i >= len(ports) {
				in.Close()
				return nil, fmt.Errorf("%s: input %s: %s has %d input port(s) (%s)", what, s, a.Pipeline, len(ports), strings.Join(ports, ", "))
			}
			ins = append(ins, graph.Edge{From: from, To: a.Name, Port: p})
		}
		for _, s := range a.Outputs {
			to, p, err := target(eng, s, "")
			if err != nil {
				in.Close()
				return nil, fmt.Errorf("%s: output %s: %w", what, s, err)
			}
			outs = append(outs, graph.Edge{From: a.Name, To: to, Port: p})
		}
		if err := eng.AddNode(engine.Node{Name: a.Name, Instance: in}, ins, outs); err != nil {
			in.Close()
			return nil, err
		}
		return done(nil)
	})
	h.server.Handle(session.OpRemoveNode, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.NodeArgs
		if err := session.DecodeArgs(session.OpRemoveNode, raw, &a); err != nil {
			return nil, err
		}
		return done(eng.RemoveNode(a.Name))
	})
	h.server.Handle(session.OpReplaceNode, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.ReplaceNodeArgs
		if err := session.DecodeArgs(session.OpReplaceNode, raw, &a); err != nil {
			return nil, err
		}
		what := "replace node " + a.Name
		if h.cfg.Nodes == nil {
			return nil, fmt.Errorf("%s: %s", what, errNoMaker)
		}
		mode := a.Mode
		if mode == "" { // keep the node's mode
			if n := nodeOf(eng, a.Name); n != nil && n.Kind == graph.Pipeline {
				mode = n.Mode.String()
			}
		}
		in, err := h.cfg.Nodes.NewInstance(a.Pipeline, mode, a.Params, a.LoadParams)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := eng.ReplaceNode(a.Name, in); err != nil {
			in.Close()
			return nil, err
		}
		return done(nil)
	})
	edge := func(op string, raw json.RawMessage) (graph.Edge, error) {
		var a session.EdgeArgs
		if err := session.DecodeArgs(op, raw, &a); err != nil {
			return graph.Edge{}, err
		}
		to, p, err := target(eng, a.To, a.Port)
		if err != nil {
			return graph.Edge{}, fmt.Errorf("%s %s -> %s: %w", op, a.From, a.To, err)
		}
		return graph.Edge{From: a.From, To: to, Port: p}, nil
	}
	h.server.Handle(session.OpConnect, func(ctx context.Context, raw json.RawMessage) (any, error) {
		e, err := edge(session.OpConnect, raw)
		if err != nil {
			return nil, err
		}
		return done(eng.Connect(e))
	})
	h.server.Handle(session.OpDisconnect, func(ctx context.Context, raw json.RawMessage) (any, error) {
		e, err := edge(session.OpDisconnect, raw)
		if err != nil {
			return nil, err
		}
		return done(eng.Disconnect(e))
	})
	h.server.Handle(session.OpSwitchSource, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a session.SwitchSourceArgs
		if err := session.DecodeArgs(session.OpSwitchSource, raw, &a); err != nil {
			return nil, err
		}
		what := "switch source " + a.Name
		if h.cfg.Nodes == nil {
			return nil, fmt.Errorf("%s: %s", what, errNoMaker)
		}
		if n := nodeOf(eng, a.Name); n == nil || n.Kind != graph.Source {
			return nil, fmt.Errorf("%s: %w: there is no source %s", what, engine.ErrEdit, a.Name)
		}
		src, err := h.cfg.Nodes.OpenSource(ctx, a.Name, a.Input)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := eng.SwitchSource(a.Name, a.Input, src); err != nil {
			src.Close()
			return nil, err
		}
		h.cfg.Nodes.Switched(a.Name, src)
		return GraphOf(eng), nil
	})
}
