package command

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
	"github.com/scopenative/scope/pluginhost"
)

func (a *app) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a chain of pipelines from a source to a sink, or a graph (--graph FILE)",
		ArgsUsage: "PIPELINE[,PIPELINE...]",
		Description: "The output of each pipeline is the input of the next. The first pipeline may generate frames\n" +
			"(text mode); the others transform them (video mode). Runtime parameters apply to every pipeline\n" +
			"of the chain that has the key; qualify with the pipeline id to pick one (invert.intensity=0.5).\n\n" +
			"Sources: " + media.SourceHelp() + "\nSinks:   " + media.SinkHelp() + "\n\n" +
			"  $ scope run color-generator --param color_r=10,color_g=20,color_b=30 --output out.png\n" +
			"  $ scope run invert --input in.png --output out.png --param intensity=0.5\n" +
			"  $ scope run color-generator,invert --frames 60 --output out/%05d.png\n" +
			"  $ scope run frame-blend --input clip.mp4 --output blended.mp4 --param blend=decay\n" +
			"  $ scope run color-generator --preview --fps 30     # a window with live controls\n" +
			"  $ scope run tone --frames 90 --audio tone.wav     # audio-producing pipelines\n\n" +
			"Every run is a session: 'scope sessions' lists them, 'scope preview [ID]' opens a window on one.\n\n" + graphHelp,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "source of frames for a video-mode chain (default testsrc)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "null", Usage: "where the frames go"},
			&cli.IntFlag{Name: "frames", Aliases: []string{"n"}, HideDefault: true, Usage: "stop after N output frames; without it a run ends with the source, and a run writing one image (.png, .jpg) takes one frame, in either mode (not with --preview)"},
			&cli.StringSliceFlag{Name: "param", Aliases: []string{"p"}, Usage: "runtime parameter `key=value` (repeatable; several separated by commas, \\, for a comma before NAME= in a value)"},
			&cli.StringSliceFlag{Name: "load-param", Usage: "load-time parameter `key=value` (repeatable; several separated by commas, \\, for a comma before NAME= in a value)"},
			&cli.FloatFlag{Name: "fps", HideDefault: true, Usage: "pace the chain to this rate (default: as fast as it runs)"},
			&cli.StringSliceFlag{Name: "prompt", Usage: "prompt `TEXT` or TEXT::WEIGHT for pipelines that take prompts (one per flag, commas kept; repeatable)"},
			&cli.StringFlag{Name: "mode", Usage: "mode of the first pipeline: text or video (default: its default mode)"},
			&cli.StringFlag{Name: "size", Usage: "size `WxH` of generated test input (testsrc, solid) (default 640x360)"},
			&cli.StringFlag{Name: "max-frame-size", Usage: "refuse input frames larger than `WxH` (default 16384x16384)"},
			&cli.BoolFlag{Name: "skip-gaps", Usage: "step over missing images of an input sequence instead of stopping with an error"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the summary"},
			stopGraceFlag(),
		}, append(append(append(append(sessionFlags(), watchFlag()), graphFlags()...), liveIOFlags()...), isolateFlags()...)...),
		Action: a.run,
	}
}

// chainSpec is a parsed chain with its instances' settings.
type chainSpec struct {
	pipelines []*loader.Pipeline
	values    []loader.Values
	modes     []loader.Mode
}

// parseChain resolves the pipeline ids of "a,b,c".
func parseChain(cat *catalog.Catalog, arg string) (*chainSpec, error) {
	spec := &chainSpec{}
	for _, id := range strings.Split(arg, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, usagef("empty pipeline id in %q", arg)
		}
		p, err := cat.Pipeline(id)
		if err != nil {
			return nil, usageError{err}
		}
		spec.pipelines = append(spec.pipelines, p)
		spec.values = append(spec.values, p.Defaults())
		spec.modes = append(spec.modes, 0)
	}
	return spec, nil
}

// applyParams parses --param / --load-param values into the chain's value sets.
func (c *chainSpec) applyParams(args []string, loadTime bool) error {
	flag := "--param"
	if loadTime {
		flag = "--load-param"
	}
	for _, arg := range args {
		pairs := splitAssignments(arg)
		hint := "" // a split the user may not have meant gets the syntax rule
		if len(pairs) > 1 {
			hint = " (" + paramSyntaxHint + ")"
		}
		for _, kv := range pairs {
			key, val, ok := strings.Cut(kv, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" {
				return usagef("%s %q: expected key=value", flag, kv)
			}
			targets := c.targets(key)
			if len(targets) == 0 {
				var msgs []string
				for _, p := range c.pipelines {
					msgs = append(msgs, loader.UnknownParamError(p, key).Error())
				}
				return usagef("%s %s: %s%s", flag, kv, strings.Join(msgs, "; "), hint)
			}
			for _, t := range targets {
				p := c.pipelines[t.stage]
				q := p.Param(t.key)
				if q.LoadTime != loadTime {
					if loadTime {
						return usagef("%s %s: %s.%s is a runtime parameter; use --param", flag, kv, p.ID, q.Key)
					}
					return usagef("%s %s: %s.%s is a load-time parameter; use --load-param %s", flag, kv, p.ID, q.Key, kv)
				}
				if err := c.values[t.stage].Set(p, t.key, val); err != nil {
					return usagef("%s %s: %s: %v%s", flag, kv, p.ID, err, hint)
				}
			}
		}
	}
	return nil
}

type target struct {
	stage int
	key   string
}

// targets finds which stages a (possibly "pipeline-id."-qualified) key addresses.
func (c *chainSpec) targets(key string) []target {
	var out []target
	for i, p := range c.pipelines {
		if rest, ok := strings.CutPrefix(key, p.ID+"."); ok && p.Param(rest) != nil {
			out = append(out, target{i, rest})
		}
	}
	if len(out) > 0 {
		return out
	}
	for i, p := range c.pipelines {
		if p.Param(key) != nil {
			out = append(out, target{i, key})
		}
	}
	return out
}

// parseSize reads WxH.
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 1 || h < 1 || w > 1<<15 || h > 1<<15 {
		return 0, 0, usagef("size %q: expected WIDTHxHEIGHT, e.g. 1920x1080", s)
	}
	return w, h, nil
}

// isStill reports whether a sink spec writes a single image.
func isStill(spec string) bool {
	ext := strings.ToLower(filepath.Ext(spec))
	return (ext == ".png" || ext == ".jpg" || ext == ".jpeg") && !strings.Contains(spec, "%")
}

// session is a prepared chain: instances, source, sink. close releases everything.
type session struct {
	spec      *chainSpec
	instances []engine.Instance
	source    media.Source
	sink      media.Sink
	cuda      *cudaSession       // the CUDA device when a pipeline takes CUDA memory, else nil
	frames    *pluginhost.Frames // shared frames when a node is isolated, else nil
	// create makes the instances of nodes that live edits add (nil: in process).
	create   func(*loader.Pipeline, loader.Mode, loader.Values) (engine.Instance, error)
	newFrame func(frame.Format) *frame.Frame // allocates from frames (engine.Config.NewFrame)
}

func (s *session) close() error {
	var err error
	if s.sink != nil {
		err = s.sink.Close()
	}
	if s.source != nil {
		s.source.Close()
	}
	for _, in := range s.instances {
		in.Close()
	}
	s.instances = nil
	if s.frames != nil {
		s.frames.Close() // after every child and the sink: nothing uses the frames now
		s.frames = nil
	}
	s.cuda.close()
	s.cuda = nil
	return err
}

// startSession parses the chain and its parameters and creates the instances. It does not
// open the source or the sink.
func (a *app) startSession(cmd *cli.Command, cat *catalog.Catalog) (*session, error) {
	if cmd.NArg() != 1 {
		return nil, usagef("%s needs exactly one argument, PIPELINE[,PIPELINE...] (see 'scope pipelines')", cmd.Name)
	}
	spec, err := parseChain(cat, cmd.Args().First())
	if err != nil {
		return nil, err
	}
	if m := cmd.String("mode"); m != "" {
		mode, err := loader.ParseMode(m)
		if err != nil {
			return nil, usageError{err}
		}
		if _, ok := spec.pipelines[0].ModeInfo(mode); !ok {
			return nil, usagef("%s does not support %s mode", spec.pipelines[0].ID, mode)
		}
		spec.modes[0] = mode
	}
	for i := 1; i < len(spec.pipelines); i++ {
		p := spec.pipelines[i]
		if _, ok := p.ModeInfo(loader.ModeVideo); !ok {
			return nil, usagef("%s runs in text mode only (it takes no input), so it can only start a chain, not follow %s", p.ID, spec.pipelines[i-1].ID)
		}
		spec.modes[i] = loader.ModeVideo
	}
	if err := spec.applyParams(cmd.StringSlice("param"), false); err != nil {
		return nil, err
	}
	if err := spec.applyParams(cmd.StringSlice("load-param"), true); err != nil {
		return nil, err
	}
	cuda, err := a.openCUDA(spec.pipelines)
	if err != nil {
		return nil, err
	}
	isolate, err := a.isolation(cmd, spec.pipelines, nil)
	if err != nil {
		return nil, err
	}
	hostOpts, err := hostOptions(cmd, a.io.Err)
	if err != nil {
		return nil, err
	}
	s := &session{spec: spec, cuda: cuda}
	if cuda == nil { // device runs stay a chain on one goroutine, with frames of their own
		s.frames, s.newFrame = sharedFrames(isolate, &hostOpts)
		s.create = a.editCreate(cmd, spec.pipelines, hostOpts)
	}
	for i, p := range spec.pipelines {
		in, err := newInstance(p, spec.modes[i], spec.values[i], cuda.ordinal(), isolate[i], hostOpts)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("start %s: %w", p.ID, err)
		}
		s.instances = append(s.instances, in)
	}
	return s, nil
}

// openIO opens the source (for a video-mode chain) and the sink.
func (a *app) openIO(ctx context.Context, cmd *cli.Command, s *session) error {
	opts, err := a.sourceOptions(cmd)
	if err != nil {
		return err
	}
	input := cmd.String("input")
	if s.instances[0].Mode() == loader.ModeVideo {
		if input == "" {
			input = "testsrc"
		}
		if err := media.CheckOverwrite(input, cmd.String("output")); err != nil {
			return usageError{err}
		}
		src, err := media.OpenSource(ctx, input, opts)
		var missing *fs.PathError
		if errors.As(err, &missing) && errors.Is(err, fs.ErrNotExist) {
			return usagef("input %s: no such file or directory", missing.Path)
		}
		if err != nil {
			return usageError{err} // media's errors start with "open source SPEC"
		}
		s.source = src
	} else if input != "" {
		return usagef("%s runs in text mode and takes no input; drop --input (or use --mode video if it supports it)", s.spec.pipelines[0].ID)
	}
	return nil
}

// sourceOptions maps the run's source flags (--fps, --frames, --skip-gaps, --loop,
// --max-frame-size, --size) to the options every source of the run is opened with.
func (a *app) sourceOptions(cmd *cli.Command) (media.SourceOptions, error) {
	opts := media.SourceOptions{FPS: cmd.Float("fps"), Repeat: cmd.Int("frames") > 0, SkipGaps: cmd.Bool("skip-gaps")}
	a.liveSourceOptions(cmd, &opts)
	if m := cmd.String("max-frame-size"); m != "" {
		l, err := media.ParseLimits(m)
		if err != nil {
			return opts, usagef("--max-frame-size: %w", err)
		}
		opts.Limits = l
	}
	if sz := cmd.String("size"); sz != "" {
		w, h, err := parseSize(sz)
		if err != nil {
			return opts, err
		}
		opts.Width, opts.Height = w, h
	}
	return opts, nil
}

// checkStopGrace refuses a --stop-grace that would end a run before it could stop.
func checkStopGrace(cmd *cli.Command) error {
	if g := cmd.Duration("stop-grace"); g <= 0 {
		return usagef("--stop-grace %v: give a positive duration, such as 5s", g)
	}
	return nil
}

// run is `scope run`.
func (a *app) run(ctx context.Context, cmd *cli.Command) error {
	if wantsGraph(cmd) {
		return a.runGraph(ctx, cmd)
	}
	cat := a.openCatalog(cmd)
	defer cat.Close()
	if err := checkFPS(cmd); err != nil {
		return err
	}
	s, err := a.startSession(cmd, cat)
	if err != nil {
		return err
	}
	defer s.close()
	prompts, err := parsePrompts(cmd.StringSlice("prompt"))
	if err != nil {
		return err
	}
	if err := a.openIO(ctx, cmd, s); err != nil {
		return err
	}
	input := s.source // before the session wraps it
	inputSpec := cmd.String("input")
	if inputSpec == "" {
		inputSpec = "testsrc"
	}
	output := cmd.String("output")
	frames := cmd.Int("frames")
	if frames < 0 {
		return usagef("--frames must be >= 0")
	}
	if err := checkStopGrace(cmd); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C ends the run cleanly (the sink is finished); a second one, for a
	// plugin stuck inside a call, kills the process as usual.
	go func() { <-ctx.Done(); stop() }()
	sess, err := a.newSessionRun(ctx, cmd, s.instances)
	if err != nil {
		return err
	}
	defer sess.finish()
	// A single image takes one frame and ends, whatever the mode and the source (writing
	// it again for every frame of an endless test pattern would never end); any other
	// headless run without --frames goes on until its source ends or it is stopped, and so
	// does a session served by `scope serve`.
	if frames == 0 && isStill(output) && !sess.flags.preview && a.hosted == nil {
		frames = 1
	}
	s.source = sess.live(s.source)
	ctx, cancelRun := context.WithCancel(ctx) // the session's stop op and the preview end the run
	defer cancelRun()

	var errCount int
	cfg := engine.Config{
		NewFrame: s.newFrame,
		Stages:   s.instances,
		Source:   s.source,
		Frames:   frames,
		FPS:      sess.flags.fps,
		Live:     sess.flags.live(),
		Prompts:  prompts,
		// A headless run stops when a pipeline fails every frame instead of spinning.
		MaxConsecutiveErrors: 30,
		Device:               s.cuda.engineDevice(),
		OnError: func(stage int, err error) {
			if printedFault(err) {
				return // printed with its restart; the stage passes its input through
			}
			errCount++
			if errCount <= 10 {
				fmt.Fprintf(a.io.Err, "warning: %v (frame dropped)\n", err)
			} else if errCount == 11 {
				fmt.Fprintln(a.io.Err, "warning: more errors; counting them silently")
			}
		},
	}
	// The sink's format is the last pipeline's output, known after the first prepare: open
	// it lazily on the first frame.
	lazy := &lazySink{ctx: ctx, spec: output, opts: a.sinkOptions(ctx, cmd, s)}
	cfg.Sink = lazy
	s.sink = lazy
	cfg.OnFrame = sess.onFrame
	cfg.OnAudio = func(stage int, au *loader.Audio) {
		sess.onAudio(stage, au)
		lazy.writeAudio(au, a.io.Err)
	}
	cfg.SourceSpec, cfg.SinkSpec = inputSpec, output
	if s.source == nil {
		cfg.SourceSpec = ""
	}
	eng, err := engine.New(cfg)
	if err != nil {
		return usageError{err}
	}
	opts, err := a.sourceOptions(cmd)
	if err != nil {
		return err
	}
	maker := &nodeMaker{ctx: ctx, cat: cat, opts: opts, live: sess.live, fixed: keepsSize(output), create: s.create}
	maker.noteSource("input", s.source)
	defer maker.close()
	if err := sess.start(eng, cancelRun, maker); err != nil {
		return err
	}
	// A stop that a plugin stuck in a call ignores still ends the process.
	endWatch := a.watchStop(ctx, cmd.Duration("stop-grace"), eng)
	reload := a.startReload(ctx, cmd, eng, sess.host) // `scope plugin reload` and --watch
	defer reload.Close()
	stats, runErr := eng.Run(ctx)
	endWatch() // finishing the output is not cut short
	sessErr := sess.finish()
	skipped := media.Skipped(input)
	if maker.wasSwitched("input") {
		s.source = nil // the engine closed it; maker.close closes the one switched in
	}
	closeErr := s.close()
	s.source, s.sink = nil, nil
	if skipped > 0 {
		fmt.Fprintf(a.io.Err, "warning: skipped %d missing images of %s (--skip-gaps)\n", skipped, cmd.String("input"))
	}
	if runErr != nil {
		return runErr
	}
	if stats.Frames == 0 && ctx.Err() == nil {
		return noFrames(output, input != nil, errCount)
	}
	if closeErr != nil {
		return fmt.Errorf("finish %s: %w", output, closeErr)
	}
	if sessErr != nil {
		return fmt.Errorf("finish session: %w", sessErr)
	}
	if !cmd.Bool("quiet") {
		fmt.Fprintln(a.io.Out, stats.Summary())
		if lazy.opened && output != "null" {
			switch {
			case strings.Contains(output, "%"):
				fmt.Fprintf(a.io.Out, "wrote %d frames to %s\n", stats.Frames, output)
			case isStill(output) && stats.Frames > 1:
				fmt.Fprintf(a.io.Out, "wrote %s (the last of %d frames)\n", output, stats.Frames)
			default:
				fmt.Fprintf(a.io.Out, "wrote %s\n", output)
			}
		}
		if sess.wavPath != "" {
			fmt.Fprintf(a.io.Out, "wrote %s\n", sess.wavPath)
		}
	}
	return nil
}

// noFrames says why a run that ended on its own wrote no frame at all.
func noFrames(output string, hasInput bool, failed int) error {
	why := "the chain produced no frame"
	switch {
	case failed > 0:
		why = fmt.Sprintf("all %d frames failed (see the warnings above)", failed)
	case hasInput:
		why = "the input ended before the chain output a frame"
	}
	return fmt.Errorf("no frame was written to %s: %s", output, why)
}

// lazySink opens the real sink when the first frame shows its format.
type lazySink struct {
	ctx    context.Context
	spec   string
	opts   media.SinkOptions
	sink   media.Sink
	opened bool // a frame reached the sink

	conv     audio.Converter // the chain's audio, for a sink that muxes it
	pending  []float32       // audio that came before the first frame
	audioErr bool
}

func (l *lazySink) Write(f *frame.Frame) error {
	if l.sink == nil {
		s, err := media.CreateSink(l.ctx, l.spec, f.Format, l.opts)
		if err != nil {
			return fmt.Errorf("open output: %w", err)
		}
		l.sink = s
		l.opened = true
	}
	return l.sink.Write(f)
}

func (l *lazySink) Close() error {
	if l.sink == nil {
		return nil
	}
	err := l.sink.Close()
	l.sink = nil
	return err
}
