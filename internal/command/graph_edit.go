package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
	"github.com/scopenative/scope/pluginhost"
	scopesession "github.com/scopenative/scope/session"
)

// nodeMaker is a run's host.NodeMaker: pipelines from the run's catalog, sources opened
// with the run's source options (and played live as the run's own are).
type nodeMaker struct {
	ctx  context.Context
	cat  *catalog.Catalog
	opts media.SourceOptions
	live func(media.Source) media.Source
	// create makes an instance the way the run makes its own (in process or isolated); nil
	// makes it in process.
	create func(p *loader.Pipeline, mode loader.Mode, vals loader.Values) (engine.Instance, error)

	// fixed is set when the run writes files or streams: their sinks keep the frame size
	// they opened with, so a source may only be switched to one of the same size (sizes).
	fixed bool
	sizes map[string][2]int // source node -> its frame size

	mu       sync.Mutex
	made     []engine.Instance       // closed by close (the engine closes those it retires first)
	replaced map[string]media.Source // source node -> the source it reads now, when switched
}

// NewInstance creates an instance of pipeline id for an add-node or replace-node edit.
func (m *nodeMaker) NewInstance(id, mode string, params, loadParams map[string]string) (engine.Instance, error) {
	p, err := m.cat.Pipeline(id)
	if err != nil {
		return nil, err
	}
	md := p.DefaultMode().Mode
	if mode != "" {
		if md, err = loader.ParseMode(mode); err != nil {
			return nil, err
		}
		if _, ok := p.ModeInfo(md); !ok {
			return nil, fmt.Errorf("%s does not support %s mode", p.ID, md)
		}
	}
	vals := p.Defaults()
	for _, set := range []struct {
		kv   map[string]string
		load bool
	}{{params, false}, {loadParams, true}} {
		for k, v := range set.kv {
			q := p.Param(k)
			if q == nil {
				return nil, loader.UnknownParamError(p, k)
			}
			if q.LoadTime != set.load {
				if q.LoadTime {
					return nil, fmt.Errorf("%s.%s is a load-time parameter; give it with --load-param", p.ID, k)
				}
				return nil, fmt.Errorf("%s.%s is a runtime parameter; give it with --param", p.ID, k)
			}
			if err := vals.Set(p, k, v); err != nil {
				return nil, fmt.Errorf("%s: %w", p.ID, err)
			}
		}
	}
	create := m.create
	if create == nil {
		create = func(p *loader.Pipeline, md loader.Mode, vals loader.Values) (engine.Instance, error) {
			return p.NewInstance(md, vals)
		}
	}
	in, err := create(p, md, vals)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", p.ID, err)
	}
	m.mu.Lock()
	m.made = append(m.made, in)
	m.mu.Unlock()
	return in, nil
}

// editCreate is how a run's edits create instances: as the run created its own, in process
// or in a plugin host child by the same isolation rules (pipelines are the run's).
func (a *app) editCreate(cmd *cli.Command, pipelines []*loader.Pipeline, opts pluginhost.Options) func(*loader.Pipeline, loader.Mode, loader.Values) (engine.Instance, error) {
	return func(p *loader.Pipeline, md loader.Mode, vals loader.Values) (engine.Instance, error) {
		iso, err := a.isolation(cmd, append(slices.Clone(pipelines), p), nil)
		if err != nil {
			return nil, err
		}
		return newInstance(p, md, vals, -1, iso[len(iso)-1], opts)
	}
}

// OpenSource opens spec for a switch-source edit.
func (m *nodeMaker) OpenSource(ctx context.Context, name, spec string) (media.Source, error) {
	src, err := media.OpenSource(m.ctx, spec, m.opts)
	if err != nil {
		return nil, fmt.Errorf("open input %s: %w", spec, err)
	}
	m.mu.Lock()
	old, known := m.sizes[name]
	m.mu.Unlock()
	f := src.Format()
	if now := [2]int{f.Width, f.Height}; m.fixed && known && now != old {
		src.Close()
		return nil, fmt.Errorf("input %s is %dx%d but source %s gives %dx%d frames, and this run writes outputs that keep the size they opened with; give the new input that size (e.g. solid:RRGGBB:%dx%d, or a file of that size)",
			spec, now[0], now[1], name, old[0], old[1], old[0], old[1])
	}
	return m.live(src), nil
}

// noteSource records the frame size of source node name (for the check in OpenSource).
func (m *nodeMaker) noteSource(name string, src media.Source) {
	if src == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sizes == nil {
		m.sizes = map[string][2]int{}
	}
	f := src.Format()
	m.sizes[name] = [2]int{f.Width, f.Height}
}

// keepsSize reports whether a sink spec keeps the frame size it opened with (files, streams,
// devices); the session's ring and null take any size.
func keepsSize(spec string) bool {
	return spec != "null" && spec != "preview" && spec != "session"
}

// Switched records that source node name reads src now: the engine closed the source
// before, and close closes src.
func (m *nodeMaker) Switched(name string, src media.Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.replaced == nil {
		m.replaced = map[string]media.Source{}
	}
	m.replaced[name] = src
	if m.sizes == nil {
		m.sizes = map[string][2]int{}
	}
	f := src.Format()
	m.sizes[name] = [2]int{f.Width, f.Height}
}

// wasSwitched reports whether source node name was switched (the run must not close the
// source it opened for it: the engine did).
func (m *nodeMaker) wasSwitched(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.replaced[name]
	return ok
}

// close closes the instances the edits made (closing one twice is harmless) and the sources
// switched in. Call it after the engine's Run.
func (m *nodeMaker) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.made {
		in.Close()
	}
	for _, src := range m.replaced {
		src.Close()
	}
	m.made, m.replaced = nil, nil
}

// sessionModel is the graph package's form of a session's live graph, for printing.
func sessionModel(g scopesession.GraphResult) (*graph.Graph, func(string) []string) {
	m := &graph.Graph{}
	ports := map[string][]string{}
	for _, n := range g.Nodes {
		mn := graph.Node{Name: n.Name, Spec: n.Spec, PipelineID: n.Pipeline}
		switch n.Kind {
		case graph.Source.String():
			mn.Kind = graph.Source
		case graph.Sink.String():
			mn.Kind = graph.Sink
		default:
			mn.Kind = graph.Pipeline
			mn.Mode, _ = loader.ParseMode(n.Mode)
			ports[n.Name] = n.Ports
		}
		m.Nodes = append(m.Nodes, mn)
	}
	for _, e := range g.Edges {
		m.Edges = append(m.Edges, graph.Edge{From: e.From, To: e.To, Port: e.Port})
	}
	return m, func(name string) []string { return ports[name] }
}

// dialSession connects to the running session id.
func (a *app) dialSession(id string) (*scopesession.Client, error) {
	dir, err := scopesession.DefaultDir(a.io.Env)
	if err != nil {
		return nil, err
	}
	info, err := dir.Find(id)
	if err != nil {
		return nil, usageError{err}
	}
	return scopesession.DialInfo(info)
}

// kvFlags reads repeatable key=value flags into a map.
func kvFlags(cmd *cli.Command, flag string) (map[string]string, error) {
	out := map[string]string{}
	for _, arg := range cmd.StringSlice(flag) {
		for _, kv := range splitAssignments(arg) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, usagef("--%s %q: expected key=value", flag, kv)
			}
			out[strings.TrimSpace(k)] = v
		}
	}
	return out, nil
}

// editCommands are `scope graph add|remove|replace|connect|disconnect|source`: each is one
// session edit op; it prints the graph after the edit, or the reason it was refused.
func (a *app) editCommands() []*cli.Command {
	paramFlags := []cli.Flag{
		&cli.StringSliceFlag{Name: "param", Aliases: []string{"p"}, Usage: "runtime parameter `key=value` of the new node (repeatable)"},
		&cli.StringSliceFlag{Name: "load-param", Usage: "load-time parameter `key=value` of the new node (repeatable)"},
		&cli.StringFlag{Name: "mode", Usage: "mode of the new node: text or video (default: the pipeline's default)"},
	}
	edit := func(name, usage, argsUsage string, nargs int, flags []cli.Flag, args func(cmd *cli.Command, pos []string) (string, any, error)) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: "SESSION " + argsUsage, Flags: flags,
			Action: func(ctx context.Context, cmd *cli.Command) error {
				if cmd.NArg() != nargs+1 {
					return usagef("graph %s takes %d arguments: SESSION %s", name, nargs+1, argsUsage)
				}
				pos := cmd.Args().Slice()
				op, req, err := args(cmd, pos[1:])
				if err != nil {
					return err
				}
				c, err := a.dialSession(pos[0])
				if err != nil {
					return err
				}
				defer c.Close()
				g, err := c.Edit(ctx, op, req)
				var re *scopesession.RemoteError
				if errors.As(err, &re) {
					return fmt.Errorf("session %s: %s", c.Session().ID, re.Message)
				}
				if err != nil {
					return err
				}
				m, _ := sessionModel(g)
				fmt.Fprint(a.io.Out, m.String())
				return nil
			},
		}
	}
	nodeArgs := func(cmd *cli.Command) (map[string]string, map[string]string, error) {
		p, err := kvFlags(cmd, "param")
		if err != nil {
			return nil, nil, err
		}
		lp, err := kvFlags(cmd, "load-param")
		return p, lp, err
	}
	return []*cli.Command{
		edit("add", "add a pipeline node to a running session between two frames", "NAME PIPELINE", 2,
			append([]cli.Flag{
				&cli.StringSliceFlag{Name: "input", Aliases: []string{"i"}, Usage: "`NODE` that feeds the next port, or PORT=NODE (repeatable)"},
				&cli.StringSliceFlag{Name: "output", Aliases: []string{"o"}, Usage: "`NODE[.PORT]` the new node feeds instead of what fed it (repeatable)"},
			}, paramFlags...),
			func(cmd *cli.Command, pos []string) (string, any, error) {
				p, lp, err := nodeArgs(cmd)
				return scopesession.OpAddNode, scopesession.AddNodeArgs{Name: pos[0], Pipeline: pos[1], Mode: cmd.String("mode"), Params: p, LoadParams: lp,
					Inputs: cmd.StringSlice("input"), Outputs: cmd.StringSlice("output")}, err
			}),
		edit("remove", "remove a pipeline node from a running session (its input takes over its outputs)", "NAME", 1, nil,
			func(cmd *cli.Command, pos []string) (string, any, error) {
				return scopesession.OpRemoveNode, scopesession.NodeArgs{Name: pos[0]}, nil
			}),
		edit("replace", "run another pipeline in a node of a running session (the node keeps its edges)", "NAME PIPELINE", 2, paramFlags,
			func(cmd *cli.Command, pos []string) (string, any, error) {
				p, lp, err := nodeArgs(cmd)
				return scopesession.OpReplaceNode, scopesession.ReplaceNodeArgs{Name: pos[0], Pipeline: pos[1], Mode: cmd.String("mode"), Params: p, LoadParams: lp}, err
			}),
		edit("connect", "feed a node's port from another node (the edge that fed the port goes)", "FROM TO[.PORT]", 2, nil,
			func(cmd *cli.Command, pos []string) (string, any, error) {
				return scopesession.OpConnect, scopesession.EdgeArgs{From: pos[0], To: pos[1]}, nil
			}),
		edit("disconnect", "remove an edge (the port holds its last frame until connected again)", "FROM TO[.PORT]", 2, nil,
			func(cmd *cli.Command, pos []string) (string, any, error) {
				return scopesession.OpDisconnect, scopesession.EdgeArgs{From: pos[0], To: pos[1]}, nil
			}),
		edit("source", "switch a source of a running session to another input (e.g. another file)", "NAME SPEC", 2, nil,
			func(cmd *cli.Command, pos []string) (string, any, error) {
				return scopesession.OpSwitchSource, scopesession.SwitchSourceArgs{Name: pos[0], Input: pos[1]}, nil
			}),
	}
}
