package command

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
	"github.com/scopenative/scope/pluginhost"
	scopesession "github.com/scopenative/scope/session"
)

// graphFlags are the flags `scope run` adds for graphs.
func graphFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "graph", Aliases: []string{"g"}, Usage: "run the graph in this TOML `FILE` (sources, nodes, sinks; see docs/graphs.md) instead of a chain"},
		&cli.StringSliceFlag{Name: "mix", Usage: "another source `SPEC` for the next free input port of the chain's first multi-input pipeline (a mixer): scope run frei0r.addition -i a.y4m --mix b.y4m (repeatable)"},
	}
}

// wantsGraph reports whether `scope run` runs a graph (--graph or --mix) rather than a chain.
func wantsGraph(cmd *cli.Command) bool {
	return cmd.String("graph") != "" || len(cmd.StringSlice("mix")) > 0
}

func (a *app) graphCommand() *cli.Command {
	return &cli.Command{
		Name:  "graph",
		Usage: "check and print graph files (scope run --graph FILE); show and edit the graph of a running session",
		Commands: append([]*cli.Command{
			{
				Name:      "check",
				Usage:     "check a graph file without running it: every problem names the node or port and the fix",
				ArgsUsage: "FILE",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					cat := a.openCatalog(cmd)
					defer cat.Close()
					g, _, err := a.loadGraph(cmd, cat)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.io.Out, "%s: ok (%d nodes, %d edges)\n", cmd.Args().First(), len(g.Nodes), len(g.Edges))
					return nil
				},
			},
			{
				Name:      "show",
				Usage:     "print a graph file, or the pipelines of a running session, as text or Graphviz dot",
				ArgsUsage: "FILE|SESSION",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "dot", Usage: "print Graphviz dot (scope graph show FILE --dot | dot -Tpng -o graph.png)"}},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					cat := a.openCatalog(cmd)
					defer cat.Close()
					var g *graph.Graph
					var ports func(string) []string
					if _, err := os.Stat(cmd.Args().First()); err == nil || cmd.NArg() != 1 {
						var pipes map[string]*loader.Pipeline
						var err error
						if g, pipes, err = a.loadGraph(cmd, cat); err != nil {
							return err
						}
						ports = func(name string) []string {
							if p := pipes[name]; p != nil {
								return graph.Ports(p, graph.ModeOf(g.Node(name), p))
							}
							return nil
						}
					} else {
						var err error
						if g, ports, err = a.sessionGraph(ctx, cmd.Args().First()); err != nil {
							return err
						}
					}
					if !cmd.Bool("dot") {
						fmt.Fprint(a.io.Out, g.String())
						return nil
					}
					fmt.Fprint(a.io.Out, g.Dot(ports))
					return nil
				},
			},
		}, a.editCommands()...),
	}
}

// loadGraph reads and checks the graph file named by cmd's one argument.
func (a *app) loadGraph(cmd *cli.Command, cat *catalog.Catalog) (*graph.Graph, map[string]*loader.Pipeline, error) {
	if cmd.NArg() != 1 {
		return nil, nil, usagef("%s needs exactly one argument, a graph FILE", cmd.Name)
	}
	return readGraph(cat, cmd.Args().First())
}

// readGraph reads a graph file and checks it against the catalog's pipelines.
func readGraph(cat *catalog.Catalog, path string) (*graph.Graph, map[string]*loader.Pipeline, error) {
	g, err := graph.ReadFile(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	pipes, err := graph.Bind(g, cat.Pipeline)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("%s:\n%w", path, err)}
	}
	return g, pipes, nil
}

// sessionGraph is the live graph of a running session (the graph op): its sources, nodes,
// sinks and edges, with each pipeline node's ports.
func (a *app) sessionGraph(ctx context.Context, id string) (*graph.Graph, func(string) []string, error) {
	dir, err := scopesession.DefaultDir(a.io.Env)
	if err != nil {
		return nil, nil, err
	}
	info, err := dir.Find(id)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("%s is neither a graph file nor a session: %w", id, err)}
	}
	c, err := scopesession.DialInfo(info)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	res, err := c.Graph(ctx)
	if err != nil {
		return nil, nil, err
	}
	g, ports := sessionModel(res)
	return g, ports, nil
}

// mixGraph is the graph of `scope run CHAIN --input A --mix B ...`: the chain, with the mix
// sources feeding the free ports of its first multi-input pipeline in order.
func mixGraph(cat *catalog.Catalog, cmd *cli.Command) (*graph.Graph, map[string]*loader.Pipeline, error) {
	if cmd.NArg() != 1 {
		return nil, nil, usagef("%s needs exactly one argument, PIPELINE[,PIPELINE...] (see 'scope pipelines')", cmd.Name)
	}
	spec, err := parseChain(cat, cmd.Args().First())
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(spec.pipelines))
	for i, p := range spec.pipelines {
		ids[i] = p.ID
	}
	input := cmd.String("input")
	if input == "" {
		input = "testsrc"
	}
	g := graph.FromChain(ids, input, cmd.String("output"))
	mixer := ""
	for i, p := range spec.pipelines {
		if len(graph.Ports(p, loader.ModeVideo)) > 1 {
			mixer = g.Nodes[i+1].Name
			break
		}
	}
	if mixer == "" {
		return nil, nil, usagef("--mix: no pipeline of %s takes more than one input; --mix feeds a mixer's extra ports (see 'scope pipelines' for their ports)", cmd.Args().First())
	}
	for i, m := range cmd.StringSlice("mix") {
		name := fmt.Sprintf("mix%d", i+1)
		g.Nodes = append([]graph.Node{{Name: name, Kind: graph.Source, Spec: m}}, g.Nodes...)
		g.Edges = append(g.Edges, graph.Edge{From: name, To: mixer, Port: i + 1})
	}
	pipes, err := graph.Bind(g, cat.Pipeline)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return g, pipes, nil
}

// graphRun is a prepared graph: its instances, sources and sinks. close releases them.
type graphRun struct {
	model     *graph.Graph
	names     []string // pipeline node names, in stage order
	instances []engine.Instance
	sources   []media.Source
	sinks     []*lazySink
	sinkNames []string                        // the node name of each of sinks
	frames    *pluginhost.Frames              // shared frames when a node is isolated, else nil
	newFrame  func(frame.Format) *frame.Frame // allocates from frames (engine.Config.NewFrame)
}

func (g *graphRun) close() error {
	var err error
	for _, s := range g.sinks {
		if e := s.Close(); e != nil && err == nil {
			err = fmt.Errorf("finish %s: %w", s.spec, e)
		}
	}
	for _, s := range g.sources {
		if s != nil {
			s.Close()
		}
	}
	for _, in := range g.instances {
		in.Close()
	}
	g.sinks, g.sources, g.instances = nil, nil, nil
	if g.frames != nil {
		g.frames.Close() // after every child and sink: nothing uses the frames now
		g.frames = nil
	}
	return err
}

// runGraph is `scope run --graph FILE` and `scope run CHAIN --mix SPEC`.
func (a *app) runGraph(ctx context.Context, cmd *cli.Command) error {
	cat := a.openCatalog(cmd)
	defer cat.Close()
	if err := checkFPS(cmd); err != nil {
		return err
	}
	if err := checkStopGrace(cmd); err != nil {
		return err
	}
	var model *graph.Graph
	var pipes map[string]*loader.Pipeline
	var err error
	if path := cmd.String("graph"); path != "" {
		if cmd.NArg() > 0 || len(cmd.StringSlice("mix")) > 0 {
			return usagef("--graph %s describes the whole run: drop the chain argument and --mix (put them in the file)", path)
		}
		model, pipes, err = readGraph(cat, path)
	} else {
		model, pipes, err = mixGraph(cat, cmd)
	}
	if err != nil {
		return err
	}
	run := &graphRun{model: model}
	defer run.close()
	// Parameters: the file's, then --param/--load-param (qualified by pipeline id, as for
	// chains).
	spec := &chainSpec{}
	var nodes []*graph.Node
	for i := range model.Nodes {
		n := &model.Nodes[i]
		if n.Kind != graph.Pipeline {
			continue
		}
		p := pipes[n.Name]
		vals := p.Defaults()
		for _, set := range []struct {
			kv   map[string]string
			load bool
		}{{n.Params, false}, {n.LoadParams, true}} {
			for k, v := range set.kv {
				q := p.Param(k)
				if q == nil {
					return usagef("node %s: %v", n.Name, loader.UnknownParamError(p, k))
				}
				if q.LoadTime != set.load {
					return usagef("node %s: %s is a %s parameter; move it to %s", n.Name, k, map[bool]string{true: "load-time", false: "runtime"}[q.LoadTime], map[bool]string{true: "load_params", false: "params"}[q.LoadTime])
				}
				if err := vals.Set(p, k, v); err != nil {
					return usagef("node %s: %s: %v", n.Name, p.ID, err)
				}
			}
		}
		spec.pipelines = append(spec.pipelines, p)
		spec.values = append(spec.values, vals)
		nodes = append(nodes, n)
	}
	if err := spec.applyParams(cmd.StringSlice("param"), false); err != nil {
		return err
	}
	if err := spec.applyParams(cmd.StringSlice("load-param"), true); err != nil {
		return err
	}
	perNode := make([]*bool, len(nodes))
	for i, n := range nodes {
		perNode[i] = n.Isolate
	}
	isolate, err := a.isolation(cmd, spec.pipelines, perNode)
	if err != nil {
		return err
	}
	hostOpts, err := hostOptions(cmd, a.io.Err)
	if err != nil {
		return err
	}
	run.frames, run.newFrame = sharedFrames(isolate, &hostOpts)
	for i, p := range spec.pipelines {
		in, err := newInstance(p, graph.ModeOf(nodes[i], p), spec.values[i], -1, isolate[i], hostOpts)
		if err != nil {
			return fmt.Errorf("start %s (node %s): %w", p.ID, nodes[i].Name, err)
		}
		run.instances = append(run.instances, in)
		run.names = append(run.names, nodes[i].Name)
	}
	prompts, err := parsePrompts(cmd.StringSlice("prompt"))
	if err != nil {
		return err
	}
	frames := cmd.Int("frames")
	if frames < 0 {
		return usagef("--frames must be >= 0")
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	sess, err := a.newSessionRun(ctx, cmd, run.instances)
	if err != nil {
		return err
	}
	defer sess.finish()
	opts, err := a.sourceOptions(cmd)
	if err != nil {
		return err
	}
	// No sink may write over a file a source reads (sinks truncate when they open).
	for _, src := range model.Nodes {
		for _, snk := range model.Nodes {
			if src.Kind == graph.Source && snk.Kind == graph.Sink {
				if err := media.CheckOverwrite(src.Spec, snk.Spec); err != nil {
					return usageError{fmt.Errorf("sink %s over source %s: %w", snk.Name, src.Name, err)}
				}
			}
		}
	}
	eg := &engine.Graph{Edges: model.Edges}
	stage := 0
	published := false
	var srcNames []string
	for _, n := range model.Nodes {
		switch n.Kind {
		case graph.Source:
			src, err := media.OpenSource(ctx, n.Spec, opts)
			if err != nil {
				return usageError{fmt.Errorf("open input of source %s: %w", n.Name, err)}
			}
			run.sources = append(run.sources, src)
			srcNames = append(srcNames, n.Name)
			eg.Nodes = append(eg.Nodes, engine.Node{Name: n.Name, Source: sess.live(src), Spec: n.Spec})
		case graph.Pipeline:
			eg.Nodes = append(eg.Nodes, engine.Node{Name: n.Name, Instance: run.instances[stage]})
			stage++
		case graph.Sink:
			var sink media.Sink
			if n.Spec == "preview" || n.Spec == "session" {
				sink = publishSink{sess}
				published = true
			} else {
				l := &lazySink{ctx: ctx, spec: n.Spec, opts: encodeOptions(cmd)}
				run.sinks = append(run.sinks, l)
				run.sinkNames = append(run.sinkNames, n.Name)
				sink = l
			}
			eg.Nodes = append(eg.Nodes, engine.Node{Name: n.Name, Sink: sink, IsSink: true, Spec: n.Spec})
		}
	}
	ctx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var errCount int
	cfg := engine.Config{
		NewFrame:             run.newFrame,
		Graph:                eg,
		Frames:               frames,
		FPS:                  sess.flags.fps,
		Live:                 sess.flags.live(),
		Prompts:              prompts,
		MaxConsecutiveErrors: 30,
		OnAudio:              sess.onAudio,
		OnError: func(stage int, err error) {
			if printedFault(err) {
				return // printed with its restart; the node passes its input through
			}
			errCount++
			if errCount <= 10 {
				fmt.Fprintf(a.io.Err, "warning: node %s: %v (frame dropped)\n", run.names[stage], err)
			} else if errCount == 11 {
				fmt.Fprintln(a.io.Err, "warning: more errors; counting them silently")
			}
		},
	}
	if !published {
		cfg.OnFrame = sess.onFrame // the first sink's frames go to the session's ring
	}
	eng, err := engine.New(cfg)
	if err != nil {
		return usageError{err}
	}
	maker := &nodeMaker{ctx: ctx, cat: cat, opts: opts, live: sess.live, create: a.editCreate(cmd, spec.pipelines, hostOpts)}
	for _, n := range model.Nodes {
		maker.fixed = maker.fixed || n.Kind == graph.Sink && keepsSize(n.Spec)
	}
	for i, src := range run.sources {
		maker.noteSource(srcNames[i], src)
	}
	defer maker.close()
	if err := sess.start(eng, cancelRun, maker); err != nil {
		return err
	}
	// A stop that a plugin stuck in a call ignores still ends the process.
	endWatch := a.watchStop(ctx, cmd.Duration("stop-grace"), eng)
	reload := a.startReload(ctx, cmd, eng, sess.host)
	defer reload.Close()
	stats, runErr := eng.Run(ctx)
	endWatch() // finishing the outputs is not cut short
	sessErr := sess.finish()
	sinks, sinkNames := run.sinks, run.sinkNames
	for i, src := range run.sources {
		if k := media.Skipped(src); k > 0 {
			fmt.Fprintf(a.io.Err, "warning: source %s: skipped %d missing images (--skip-gaps)\n", srcNames[i], k)
		}
	}
	for i, name := range srcNames {
		if maker.wasSwitched(name) {
			run.sources[i] = nil // the engine closed it; maker.close closes the one switched in
		}
	}
	closeErr := run.close()
	if runErr != nil {
		return runErr
	}
	if stats.Frames == 0 && ctx.Err() == nil {
		return fmt.Errorf("no frame was written: the graph produced no frame (%d calls failed; a pipeline that works on several frames needs at least that many)", errCount)
	}
	if closeErr != nil {
		return closeErr
	}
	if sessErr != nil {
		return fmt.Errorf("finish session: %w", sessErr)
	}
	if !cmd.Bool("quiet") {
		fmt.Fprintln(a.io.Out, stats.Summary())
		for _, sk := range stats.Sinks {
			for i, l := range sinks {
				if l.opened && sinkNames[i] == sk.Name && l.spec != "null" {
					fmt.Fprintf(a.io.Out, "sink %s: wrote %d frames to %s\n", sk.Name, sk.Frames, l.spec)
				}
			}
		}
	}
	return nil
}

// publishSink is the session's frame ring as a sink node ("preview" in a graph file).
type publishSink struct{ s *sessionRun }

// Write publishes f to the session's ring.
func (p publishSink) Write(f *frame.Frame) error { p.s.onFrame(f); return nil }

// Close does nothing: the session closes its ring when the run ends.
func (p publishSink) Close() error { return nil }

// graphHelp is the part of `scope run`'s description about graphs.
const graphHelp = "Graphs: --graph FILE runs sources, pipeline nodes (mixers with all their ports) and sinks\n" +
	"described in a TOML file; --mix SPEC feeds a chain's mixer its extra inputs (docs/graphs.md):\n" +
	"  $ scope run --graph show.toml\n" +
	"  $ scope run frei0r.addition -i a.y4m --mix b.y4m -o sum.y4m\n" +
	"  $ scope graph check show.toml     # or: scope graph show show.toml --dot\n"
