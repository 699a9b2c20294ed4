// Package graph is the model of a live graph: sources, pipeline nodes and sinks joined by
// edges from an output to an input port. It reads graph files (TOML, see docs/graphs.md),
// checks a graph before anything is loaded or opened (every problem names the node or port
// and the fix), orders the nodes for execution and prints a graph as text or Graphviz dot.
//
// The engine runs a graph; this package only describes and checks it. A chain "a,b,c" is the
// simple case: FromChain builds its graph.
package graph

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/loader"
)

// Kind is what a node is.
type Kind int

// The three kinds of node.
const (
	Source   Kind = iota // produces frames from a media source (a file, a camera, testsrc)
	Pipeline             // runs a pipeline instance: input ports in, video (and audio) out
	Sink                 // consumes frames: a media sink, or the session's frame ring
)

// String is the kind's name as messages use it: source, pipeline or sink.
func (k Kind) String() string {
	switch k {
	case Source:
		return "source"
	case Pipeline:
		return "pipeline"
	default:
		return "sink"
	}
}

// Node is one node of a graph.
type Node struct {
	Name string
	Kind Kind
	// Spec is the media spec of a source (--input) or a sink (--output).
	Spec string
	// PipelineID names the pipeline of a pipeline node.
	PipelineID string
	// Mode of a pipeline node; 0 means the pipeline's default mode.
	Mode loader.Mode
	// Params and LoadParams are key=value settings of a pipeline node, as text.
	Params, LoadParams map[string]string
	// Isolate, when set, says whether the pipeline node runs in a plugin host child (true)
	// or in the scope process (false); nil leaves it to the run (see docs/isolation.md).
	Isolate *bool
}

// Edge connects the output of node From to input port Port (an index into the ports the
// pipeline declares; 0 for a sink) of node To.
type Edge struct {
	From, To string
	Port     int
}

// Graph is a set of nodes and the edges between them. Node names are unique.
type Graph struct {
	Nodes []Node
	Edges []Edge

	portNames []string // port names of edges parsed by name, until Bind resolves them
}

// Node returns the node called name, or nil.
func (g *Graph) Node(name string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].Name == name {
			return &g.Nodes[i]
		}
	}
	return nil
}

// Inputs returns the edges into node name, ordered by port.
func (g *Graph) Inputs(name string) []Edge {
	var out []Edge
	for _, e := range g.Edges {
		if e.To == name {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// Outputs returns the edges out of node name, in the graph's order.
func (g *Graph) Outputs(name string) []Edge {
	var out []Edge
	for _, e := range g.Edges {
		if e.From == name {
			out = append(out, e)
		}
	}
	return out
}

// FromChain is the graph of a chain: an optional source "input", the pipelines named by
// their ids (a repeated id gets a #2, #3 suffix), and one sink "output".
func FromChain(ids []string, input, output string) *Graph {
	g := &Graph{}
	prev := ""
	if input != "" {
		g.Nodes = append(g.Nodes, Node{Name: "input", Kind: Source, Spec: input})
		prev = "input"
	}
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
		name := id
		if seen[id] > 1 {
			name = fmt.Sprintf("%s#%d", id, seen[id])
		}
		g.Nodes = append(g.Nodes, Node{Name: name, Kind: Pipeline, PipelineID: id})
		if prev != "" {
			g.Edges = append(g.Edges, Edge{From: prev, To: name})
		}
		prev = name
	}
	g.Nodes = append(g.Nodes, Node{Name: "output", Kind: Sink, Spec: output})
	if prev != "" {
		g.Edges = append(g.Edges, Edge{From: prev, To: "output"})
	}
	return g
}

// Resolver finds a pipeline by id (catalog.Catalog.Pipeline).
type Resolver func(id string) (*loader.Pipeline, error)

// Problems is every problem Check found, one per line.
type Problems []error

// Error is every problem, one per line.
func (p Problems) Error() string {
	msgs := make([]string, len(p))
	for i, e := range p {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As look at each.
func (p Problems) Unwrap() []error { return p }

// ErrInvalid is wrapped by every problem Check reports.
var ErrInvalid = errors.New("invalid graph")

func problem(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Ports returns the input port names of pipeline p in mode m: none in text mode, the
// declared ones (at least "video") in video mode.
func Ports(p *loader.Pipeline, m loader.Mode) []string {
	if m == loader.ModeText {
		return nil
	}
	if len(p.InputPorts) == 0 {
		return []string{"video"}
	}
	return p.InputPorts
}

// ModeOf returns the mode a pipeline node runs in: its own, else the pipeline's default.
func ModeOf(n *Node, p *loader.Pipeline) loader.Mode {
	if n.Mode != 0 {
		return n.Mode
	}
	return p.DefaultMode().Mode
}

// Check reports every structural problem of g: duplicate or empty names, edges to unknown
// nodes, unknown pipelines (with resolve), modes a pipeline lacks, ports that do not exist,
// ports left unconnected or fed twice, inputs given to a source or a text-mode pipeline,
// outputs that lead nowhere, sinks without exactly one input, and cycles. resolve may be nil
// when the pipelines have been resolved already (pipes maps node name to pipeline).
// It returns nil or Problems.
func Check(g *Graph, resolve Resolver) error { return check(g, resolve, false) }

// CheckOpen is Check for a running graph after an edit that moved or removed an edge: an
// input port without an edge (it holds its last frame until it is connected again), a sink
// without input and a node whose output goes nowhere (they idle) are allowed; every other
// rule holds.
func CheckOpen(g *Graph, resolve Resolver) error { return check(g, resolve, true) }

func check(g *Graph, resolve Resolver, open bool) error {
	pipes := map[string]*loader.Pipeline{}
	var probs Problems
	seen := map[string]bool{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		switch {
		case n.Name == "":
			probs = append(probs, problem("node %d has no name; give it name = \"...\"", i+1))
			continue
		case strings.ContainsAny(n.Name, " \t\n\",=[]{}"):
			probs = append(probs, problem("node name %q has a space or one of \",=[]{}; use letters, digits, '-', '_', '.' or '#'", n.Name))
		case seen[n.Name]:
			probs = append(probs, problem("two nodes are called %q; node names must be unique", n.Name))
		}
		seen[n.Name] = true
		if n.Kind != Pipeline {
			if n.Spec == "" {
				what := "input"
				if n.Kind == Sink {
					what = "output"
				}
				probs = append(probs, problem("%s %s has no %s; set %s = \"...\"", n.Kind, n.Name, what, what))
			}
			continue
		}
		if n.PipelineID == "" {
			probs = append(probs, problem("node %s names no pipeline; set pipeline = \"ID\" (see 'scope pipelines')", n.Name))
			continue
		}
		if resolve == nil {
			continue
		}
		p, err := resolve(n.PipelineID)
		if err != nil {
			probs = append(probs, problem("node %s: unknown pipeline: %v", n.Name, err))
			continue
		}
		if n.Mode != 0 {
			if _, ok := p.ModeInfo(n.Mode); !ok {
				probs = append(probs, problem("node %s: %s has no %s mode", n.Name, p.ID, n.Mode))
				continue
			}
		}
		if !p.ProducesVideo {
			probs = append(probs, problem("node %s: %s produces no video; audio-only pipelines cannot be graph nodes yet", n.Name, p.ID))
		}
		if p.Memory != 0 && p.Memory&abi.MemoryHost == 0 {
			probs = append(probs, problem("node %s: the formats of its edges cannot meet: %s takes CUDA memory only and graph edges carry host frames; run it in a chain (scope run %s ...)", n.Name, p.ID, p.ID))
		}
		pipes[n.Name] = p
	}
	fed := map[string]map[int]string{}
	for _, e := range g.Edges {
		from, to := g.Node(e.From), g.Node(e.To)
		if from == nil {
			probs = append(probs, problem("edge %s -> %s: unknown node %q; define it or fix the name", e.From, e.To, e.From))
		}
		if to == nil {
			probs = append(probs, problem("edge %s -> %s: unknown node %q; define it or fix the name", e.From, e.To, e.To))
		}
		if from == nil || to == nil {
			continue
		}
		if from.Kind == Sink {
			probs = append(probs, problem("edge %s -> %s: %s is a sink and has no output", e.From, e.To, e.From))
		}
		switch to.Kind {
		case Source:
			probs = append(probs, problem("edge %s -> %s: %s is a source and takes no input", e.From, e.To, e.To))
			continue
		case Sink:
			if e.Port != 0 {
				probs = append(probs, problem("edge %s -> %s: a sink has one input; port %d does not exist", e.From, e.To, e.Port))
				continue
			}
		case Pipeline:
			p := pipes[to.Name]
			if p == nil {
				continue
			}
			ports := Ports(p, ModeOf(to, p))
			if len(ports) == 0 {
				probs = append(probs, problem("edge %s -> %s: %s runs in text mode and takes no input; remove the edge or set mode = \"video\" if %s has it", e.From, e.To, to.Name, p.ID))
				continue
			}
			if e.Port < 0 || e.Port >= len(ports) {
				probs = append(probs, problem("edge %s -> %s: unknown port %d; %s has ports %s", e.From, e.To, e.Port, p.ID, strings.Join(ports, ", ")))
				continue
			}
		}
		if fed[e.To] == nil {
			fed[e.To] = map[int]string{}
		}
		if prev, ok := fed[e.To][e.Port]; ok {
			probs = append(probs, problem("%s: port %s is fed twice (by %s and %s); an input port takes one edge", e.To, portName(to, pipes[to.Name], e.Port), prev, e.From))
		}
		fed[e.To][e.Port] = e.From
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.Kind != Sink && len(g.Outputs(n.Name)) == 0 && !open {
			probs = append(probs, problem("%s %s: its output goes nowhere; connect it to a node or a sink (output = \"null\" discards)", n.Kind, n.Name))
		}
		switch n.Kind {
		case Sink:
			if len(fed[n.Name]) == 0 && !open {
				probs = append(probs, problem("sink %s has no input; set from = \"NODE\"", n.Name))
			}
		case Pipeline:
			p := pipes[n.Name]
			if p == nil || open {
				continue
			}
			for j, port := range Ports(p, ModeOf(n, p)) {
				if _, ok := fed[n.Name][j]; !ok {
					probs = append(probs, problem("node %s: input port %s of %s is not connected; add it to inputs (e.g. inputs = [%s])", n.Name, port, p.ID, exampleInputs(Ports(p, ModeOf(n, p)))))
				}
			}
		}
	}
	if len(probs) == 0 {
		if _, err := Order(g); err != nil {
			probs = append(probs, err)
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return probs
}

func portName(n *Node, p *loader.Pipeline, port int) string {
	if n.Kind == Pipeline && p != nil {
		if ports := Ports(p, ModeOf(n, p)); port < len(ports) {
			return ports[port]
		}
	}
	return fmt.Sprint(port)
}

func exampleInputs(ports []string) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%q", p+"=NODE")
	}
	return strings.Join(parts, ", ")
}

// Order returns the node indices in an order where every node comes after the nodes that
// feed it (sources first, in the graph's order where there is a choice), or an error naming
// the nodes of a cycle.
func Order(g *Graph) ([]int, error) {
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	indeg := make([]int, len(g.Nodes))
	for _, e := range g.Edges {
		if j, ok := index[e.To]; ok {
			if _, ok := index[e.From]; ok {
				indeg[j]++
			}
		}
	}
	var order []int
	done := make([]bool, len(g.Nodes))
	for len(order) < len(g.Nodes) {
		progressed := false
		for i, n := range g.Nodes {
			if done[i] || indeg[i] > 0 {
				continue
			}
			done[i] = true
			progressed = true
			order = append(order, i)
			for _, e := range g.Edges {
				if e.From == n.Name {
					if j, ok := index[e.To]; ok {
						indeg[j]--
					}
				}
			}
		}
		if !progressed {
			var cyc []string
			for i, n := range g.Nodes {
				if !done[i] {
					cyc = append(cyc, n.Name)
				}
			}
			return nil, problem("cycle through %s; frames must flow one way: remove one of the edges between them", strings.Join(cyc, ", "))
		}
	}
	return order, nil
}
