package graph_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
)

// fakes are descriptor-only pipelines: a filter, a two-port mixer and a generator.
var fakes = map[string]*loader.Pipeline{
	"invert":    {ID: "invert", ProducesVideo: true, Modes: []loader.ModeInfo{{Mode: loader.ModeVideo, Default: true, InputSize: 1}}},
	"crossfade": {ID: "crossfade", ProducesVideo: true, InputPorts: []string{"a", "b"}, Modes: []loader.ModeInfo{{Mode: loader.ModeVideo, Default: true, InputSize: 1}}},
	"gen":       {ID: "gen", ProducesVideo: true, Modes: []loader.ModeInfo{{Mode: loader.ModeText, Default: true}}},
	"cuda":      {ID: "cuda", ProducesVideo: true, Memory: abi.MemoryCUDA, Modes: []loader.ModeInfo{{Mode: loader.ModeVideo, Default: true, InputSize: 1}}},
}

func resolve(id string) (*loader.Pipeline, error) {
	if p := fakes[id]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no pipeline %q (see 'scope pipelines')", id)
}

const mixer = `
[[source]]
name = "a"
input = "a.y4m"
[[source]]
name = "b"
input = "b.y4m"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a", "b=b"]
params = { mix = 0.25, on = true, n = 3, s = "x" }
[[node]]
name = "inv"
pipeline = "invert"
inputs = ["fade"]
[[sink]]
name = "file"
output = "out.y4m"
from = "inv"
[[sink]]
name = "preview"
output = "preview"
from = "fade"
`

func TestParseAndBind(t *testing.T) {
	g, err := graph.Parse(mixer)
	if err != nil {
		t.Fatal(err)
	}
	pipes, err := graph.Bind(g, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if pipes["fade"] != fakes["crossfade"] || pipes["inv"] != fakes["invert"] {
		t.Errorf("pipes %v", pipes)
	}
	// "a" is positional (port 0), "b=b" names port b (1).
	if in := g.Inputs("fade"); len(in) != 2 || in[0].From != "a" || in[0].Port != 0 || in[1].From != "b" || in[1].Port != 1 {
		t.Fatalf("inputs of fade: %+v", in)
	}
	n := g.Node("fade")
	if n.Params["mix"] != "0.25" || n.Params["on"] != "true" || n.Params["n"] != "3" || n.Params["s"] != "x" {
		t.Errorf("params as text: %v", n.Params)
	}
	order, err := graph.Order(g)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, j := range order {
		pos[g.Nodes[j].Name] = i
	}
	for _, e := range g.Edges {
		if pos[e.From] >= pos[e.To] {
			t.Errorf("order %v puts %s after %s", order, e.From, e.To)
		}
	}
}

func TestCheckProblems(t *testing.T) {
	src := graph.Node{Name: "s", Kind: graph.Source, Spec: "testsrc"}
	out := graph.Node{Name: "out", Kind: graph.Sink, Spec: "null"}
	pipe := func(name, id string) graph.Node { return graph.Node{Name: name, Kind: graph.Pipeline, PipelineID: id} }
	for _, c := range []struct {
		name string
		g    graph.Graph
		want string
	}{
		{"unknown node", graph.Graph{Nodes: []graph.Node{src, pipe("i", "invert"), out}, Edges: []graph.Edge{{From: "x", To: "i"}, {From: "i", To: "out"}, {From: "s", To: "out"}}}, `unknown node "x"`},
		{"unknown pipeline", graph.Graph{Nodes: []graph.Node{src, pipe("i", "nope"), out}, Edges: []graph.Edge{{From: "s", To: "i"}, {From: "i", To: "out"}}}, `node i: unknown pipeline: no pipeline "nope"`},
		{"unknown port", graph.Graph{Nodes: []graph.Node{src, pipe("i", "invert"), out}, Edges: []graph.Edge{{From: "s", To: "i", Port: 1}, {From: "i", To: "out"}}}, "unknown port 1; invert has ports video"},
		{"open port", graph.Graph{Nodes: []graph.Node{src, pipe("m", "crossfade"), out}, Edges: []graph.Edge{{From: "s", To: "m"}, {From: "m", To: "out"}}}, "node m: input port b of crossfade is not connected"},
		{"port fed twice", graph.Graph{Nodes: []graph.Node{src, pipe("i", "invert"), out}, Edges: []graph.Edge{{From: "s", To: "i"}, {From: "s", To: "i"}, {From: "i", To: "out"}}}, "port video is fed twice"},
		{"text mode input", graph.Graph{Nodes: []graph.Node{src, pipe("g", "gen"), out}, Edges: []graph.Edge{{From: "s", To: "g"}, {From: "g", To: "out"}}}, "g runs in text mode and takes no input"},
		{"cycle", graph.Graph{Nodes: []graph.Node{src, pipe("m", "crossfade"), pipe("i", "invert"), out}, Edges: []graph.Edge{{From: "s", To: "m"}, {From: "i", To: "m", Port: 1}, {From: "m", To: "i"}, {From: "i", To: "out"}}}, "cycle through m, i"},
		{"dangling output", graph.Graph{Nodes: []graph.Node{src, pipe("i", "invert"), out}, Edges: []graph.Edge{{From: "s", To: "i"}, {From: "s", To: "out"}}}, "pipeline i: its output goes nowhere"},
		{"sink without input", graph.Graph{Nodes: []graph.Node{pipe("g", "gen"), out, {Name: "o2", Kind: graph.Sink, Spec: "x.png"}}, Edges: []graph.Edge{{From: "g", To: "out"}}}, "sink o2 has no input"},
		{"duplicate name", graph.Graph{Nodes: []graph.Node{pipe("g", "gen"), {Name: "g", Kind: graph.Sink, Spec: "null"}}, Edges: []graph.Edge{{From: "g", To: "g"}}}, `two nodes are called "g"`},
		{"CUDA only", graph.Graph{Nodes: []graph.Node{src, pipe("c", "cuda"), out}, Edges: []graph.Edge{{From: "s", To: "c"}, {From: "c", To: "out"}}}, "node c: the formats of its edges cannot meet: cuda takes CUDA memory only"},
		{"source as target", graph.Graph{Nodes: []graph.Node{src, pipe("g", "gen"), out}, Edges: []graph.Edge{{From: "g", To: "s"}, {From: "s", To: "out"}, {From: "g", To: "out"}}}, "s is a source and takes no input"},
	} {
		err := graph.Check(&c.g, resolve)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, graph.ErrInvalid) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
	chain := graph.FromChain([]string{"invert", "invert"}, "testsrc", "out.y4m")
	if err := graph.Check(chain, resolve); err != nil {
		t.Errorf("a chain: %v", err)
	}
	if chain.Node("invert#2") == nil {
		t.Errorf("repeated ids get a suffix: %v", chain.Nodes)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"[[node]]\nname = \"x\"\nfoo = 1\n", "unknown key(s) node.foo"},
		{"[[node]]\nname = \"x\"\nmode = \"audio\"\n", "node x:"},
		{"[[node]]\nname = \"x\"\nparams = { a = [1] }\n", "params.a is a"},
		{"[[node\n", "invalid graph"},
	} {
		if _, err := graph.Parse(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want %q", c.text, err, c.want)
		}
	}
	g, err := graph.Parse(mixer)
	if err != nil {
		t.Fatal(err)
	}
	g.Nodes[2].PipelineID = "invert" // fade: "b=b" names a port invert lacks
	if _, err := graph.Bind(g, resolve); err == nil || !strings.Contains(err.Error(), `node fade: unknown port "b"; invert has ports video`) {
		t.Errorf("named port on the wrong pipeline: %v", err)
	}
}

// FuzzParse: no graph text makes Parse, Bind, Order, String or Dot panic or hang, and a graph
// that binds has an order with every edge forwards.
func FuzzParse(f *testing.F) {
	f.Add(mixer)
	f.Add("[[source]]\nname=\"a\"\ninput=\"x\"\n[[sink]]\nname=\"o\"\noutput=\"null\"\nfrom=\"a\"\n")
	f.Add("[[node]]\nname=\"n\"\npipeline=\"crossfade\"\ninputs=[\"n\",\"b=n\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		g, err := graph.Parse(text)
		if err != nil {
			return
		}
		_ = g.String()
		_ = g.Dot(func(string) []string { return []string{"a", "b"} })
		if _, err := graph.Bind(g, resolve); err != nil {
			return
		}
		order, err := graph.Order(g)
		if err != nil {
			t.Fatalf("a graph that binds has no order: %v", err)
		}
		pos := map[string]int{}
		for i, j := range order {
			pos[g.Nodes[j].Name] = i
		}
		for _, e := range g.Edges {
			if pos[e.From] >= pos[e.To] {
				t.Fatalf("edge %s -> %s goes backwards in %v", e.From, e.To, order)
			}
		}
	})
}
