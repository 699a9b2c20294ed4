package graph

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/scopenative/scope/loader"
)

// file is the TOML form of a graph (docs/graphs.md).
type file struct {
	Source []struct {
		Name  string `toml:"name"`
		Input string `toml:"input"`
	} `toml:"source"`
	Node []struct {
		Name       string         `toml:"name"`
		Pipeline   string         `toml:"pipeline"`
		Mode       string         `toml:"mode"`
		Inputs     []string       `toml:"inputs"`
		Params     map[string]any `toml:"params"`
		LoadParams map[string]any `toml:"load_params"`
		Isolate    *bool          `toml:"isolate"`
	} `toml:"node"`
	Sink []struct {
		Name   string `toml:"name"`
		Output string `toml:"output"`
		From   string `toml:"from"`
	} `toml:"sink"`
}

// ReadFile reads a graph file.
func ReadFile(path string) (*Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	g, err := Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Parse reads the TOML text of a graph file. Inputs of a pipeline node are node names in
// port order ("a", "b") or port=node pairs ("video2=b"); ports are resolved against the
// pipeline later (Bind), so Parse records them by name when named. Parse checks the syntax;
// Check checks the graph.
func Parse(text string) (*Graph, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, problem("unknown key(s) %s; a graph has [[source]] (name, input), [[node]] (name, pipeline, mode, inputs, params, load_params, isolate) and [[sink]] (name, output, from) (see docs/graphs.md)", strings.Join(keys, ", "))
	}
	g := &Graph{}
	for _, s := range f.Source {
		g.Nodes = append(g.Nodes, Node{Name: s.Name, Kind: Source, Spec: s.Input})
	}
	for _, n := range f.Node {
		node := Node{Name: n.Name, Kind: Pipeline, PipelineID: n.Pipeline, Isolate: n.Isolate}
		if n.Mode != "" {
			m, err := loader.ParseMode(n.Mode)
			if err != nil {
				return nil, problem("node %s: %v", n.Name, err)
			}
			node.Mode = m
		}
		var perr error
		if node.Params, perr = textValues(n.Name, "params", n.Params); perr != nil {
			return nil, perr
		}
		if node.LoadParams, perr = textValues(n.Name, "load_params", n.LoadParams); perr != nil {
			return nil, perr
		}
		g.Nodes = append(g.Nodes, node)
		for i, in := range n.Inputs {
			port, from, named := strings.Cut(in, "=")
			if !named {
				g.Edges = append(g.Edges, Edge{From: strings.TrimSpace(in), To: n.Name, Port: i})
				continue
			}
			g.Edges = append(g.Edges, Edge{From: strings.TrimSpace(from), To: n.Name, Port: namedPort})
			g.portNames = append(g.portNames, strings.TrimSpace(port))
		}
	}
	for _, s := range f.Sink {
		g.Nodes = append(g.Nodes, Node{Name: s.Name, Kind: Sink, Spec: s.Output})
		if s.From != "" {
			g.Edges = append(g.Edges, Edge{From: s.From, To: s.Name})
		}
	}
	return g, nil
}

// namedPort marks an edge whose port is still a name (in portNames, in edge order).
const namedPort = -1 << 20

// textValues turns TOML values into the text Param.Parse reads.
func textValues(node, table string, in map[string]any) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range in {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case float64:
			out[k] = strconv.FormatFloat(v, 'g', -1, 64)
		default:
			return nil, problem("node %s: %s.%s is a %T; use a string, number or bool", node, table, k, v)
		}
	}
	return out, nil
}

// Bind resolves the pipelines of g's pipeline nodes and the port names of its edges, then
// runs Check. It returns the pipeline of every pipeline node by name.
func Bind(g *Graph, resolve Resolver) (map[string]*loader.Pipeline, error) {
	pipes := map[string]*loader.Pipeline{}
	var probs Problems
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.Kind == Pipeline && n.PipelineID != "" {
			if p, err := resolve(n.PipelineID); err == nil {
				pipes[n.Name] = p
			}
		}
	}
	named := 0
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Port != namedPort {
			continue
		}
		name := g.portNames[named]
		named++
		p := pipes[e.To]
		if p == nil {
			e.Port = 0 // Check reports the unknown node or pipeline
			continue
		}
		ports := Ports(p, ModeOf(g.Node(e.To), p))
		e.Port = -1
		for j, q := range ports {
			if q == name {
				e.Port = j
			}
		}
		if e.Port < 0 {
			probs = append(probs, problem("node %s: unknown port %q; %s has ports %s", e.To, name, p.ID, strings.Join(ports, ", ")))
			e.Port = 0
		}
	}
	g.portNames = nil
	if err := Check(g, resolve); err != nil {
		probs = append(probs, err.(Problems)...)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return pipes, nil
}

// String prints the graph: one line per node with what feeds each port.
func (g *Graph) String() string {
	var b strings.Builder
	for _, n := range g.Nodes {
		switch n.Kind {
		case Source:
			fmt.Fprintf(&b, "source   %s  %s\n", n.Name, n.Spec)
		case Pipeline:
			fmt.Fprintf(&b, "pipeline %s  %s", n.Name, n.PipelineID)
			if n.Mode != 0 {
				fmt.Fprintf(&b, " (%s)", n.Mode)
			}
			for _, e := range g.Inputs(n.Name) {
				fmt.Fprintf(&b, "  [%d]<-%s", e.Port, e.From)
			}
			for _, kv := range sortedPairs(n.Params) {
				fmt.Fprintf(&b, "  %s", kv)
			}
			for _, kv := range sortedPairs(n.LoadParams) {
				fmt.Fprintf(&b, "  load:%s", kv)
			}
			if n.Isolate != nil {
				fmt.Fprintf(&b, "  isolate=%v", *n.Isolate)
			}
			b.WriteByte('\n')
		case Sink:
			fmt.Fprintf(&b, "sink     %s  %s", n.Name, n.Spec)
			for _, e := range g.Inputs(n.Name) {
				fmt.Fprintf(&b, "  <-%s", e.From)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Dot prints the graph in Graphviz dot: sources as ellipses, pipelines as boxes, sinks as
// notes, edges labelled with the port they feed when the node has more than one.
func (g *Graph) Dot(ports func(node string) []string) string {
	var b strings.Builder
	b.WriteString("digraph scope {\n  rankdir=LR;\n")
	for _, n := range g.Nodes {
		shape, label := "box", n.Name
		switch n.Kind {
		case Source:
			shape, label = "ellipse", n.Name+"\n"+n.Spec
		case Pipeline:
			if n.PipelineID != n.Name {
				label = n.Name + "\n" + n.PipelineID
			}
		case Sink:
			shape, label = "note", n.Name+"\n"+n.Spec
		}
		fmt.Fprintf(&b, "  %s [shape=%s, label=%s];\n", strconv.Quote(n.Name), shape, strconv.Quote(label))
	}
	for _, e := range g.Edges {
		attr := ""
		if ps := ports(e.To); len(ps) > 1 && e.Port >= 0 && e.Port < len(ps) {
			attr = fmt.Sprintf(" [label=%s]", strconv.Quote(ps[e.Port]))
		}
		fmt.Fprintf(&b, "  %s -> %s%s;\n", strconv.Quote(e.From), strconv.Quote(e.To), attr)
	}
	b.WriteString("}\n")
	return b.String()
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
