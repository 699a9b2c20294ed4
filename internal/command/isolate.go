package command

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/pluginhost"
	"github.com/scopenative/scope/plugins/store"
)

// isolateFlags choose which pipelines of a run go into plugin host children.
func isolateFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "isolate", Usage: "run every pipeline in a plugin host child process: a crash, hang or leak restarts that child, and the run goes on (default: installed plugins only; see docs/isolation.md)"},
		&cli.StringSliceFlag{Name: "isolate-only", Usage: "run only these pipeline `ID`s in plugin host children (repeatable; commas separate)"},
		&cli.BoolFlag{Name: "in-process", Usage: "run every pipeline in this process, installed plugins too"},
		&cli.DurationFlag{Name: "call-deadline", DefaultText: "4 frame intervals, 133ms without --fps", Usage: "an isolated call that takes longer is killed and its child restarted"},
		&cli.DurationFlag{Name: "setup-deadline", Value: pluginhost.DefaultSetupDeadline, Usage: "an isolated child that takes longer to start, create or prepare is killed and restarted"},
		&cli.StringFlag{Name: "child-memory", Value: "4GiB", Usage: "resident memory an isolated child may use before it is restarted (`SIZE` in MiB or GiB; 0: no limit)"},
	}
}

// isolation says, per pipeline node, whether it runs isolated: --isolate and --in-process
// decide for every node, then --isolate-only and a graph node's own isolate setting (nodes,
// nil for a chain), then the default: installed plugins isolated, the others in process.
func (a *app) isolation(cmd *cli.Command, pipelines []*loader.Pipeline, nodes []*bool) ([]bool, error) {
	all, none, only := cmd.Bool("isolate"), cmd.Bool("in-process"), splitList(cmd.StringSlice("isolate-only"))
	if all && none || (all || none) && len(only) > 0 {
		return nil, usagef("--isolate, --isolate-only and --in-process choose the same thing: give one")
	}
	for _, id := range only {
		if !slices.ContainsFunc(pipelines, func(p *loader.Pipeline) bool { return p.ID == id }) {
			return nil, usagef("--isolate-only %s: the chain has no pipeline %s", id, id)
		}
	}
	storeDir := filepath.Join(a.dataDir(), store.LibDir)
	out := make([]bool, len(pipelines))
	for i, p := range pipelines {
		explicit := all || slices.Contains(only, p.ID)
		var node *bool
		if i < len(nodes) {
			node = nodes[i]
		}
		switch {
		case none:
		case explicit:
			out[i] = true
		case node != nil:
			out[i], explicit = *node, *node
		default: // installed third-party plugins run isolated, everything else in process
			out[i] = filepath.Clean(filepath.Dir(p.Library().Path())) == filepath.Clean(storeDir)
		}
		if out[i] && p.Memory&abi.MemoryHost == 0 {
			if explicit {
				return nil, usagef("%s takes CUDA frames only, which isolated pipelines cannot take yet: run it in process (drop it from --isolate-only, or --in-process)", p.ID)
			}
			out[i] = false
		}
	}
	return out, nil
}

// newInstance creates the instance of one pipeline node, in a plugin host child when
// isolate is set.
func newInstance(p *loader.Pipeline, mode loader.Mode, values loader.Values, cuda int, isolate bool, opts pluginhost.Options) (engine.Instance, error) {
	if isolate {
		return pluginhost.Start(p.Library().Path(), p.ID, mode, values, cuda, opts)
	}
	return p.NewInstanceOn(mode, values, cuda)
}

// splitList splits repeated, comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseMemory reads "4GiB", "512MiB", "0".
func parseMemory(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mul := int64(1)
	switch {
	case strings.HasSuffix(t, "GiB"):
		mul, t = 1<<30, strings.TrimSuffix(t, "GiB")
	case strings.HasSuffix(t, "MiB"):
		mul, t = 1<<20, strings.TrimSuffix(t, "MiB")
	}
	var n int64
	if _, err := fmt.Sscan(t, &n); err != nil || n < 0 || (mul == 1 && n != 0) {
		return 0, fmt.Errorf("%q: give a size such as 512MiB or 4GiB (0: no limit)", s)
	}
	return n * mul, nil
}

// hostOptions are the plugin host options of a run; events are printed to w.
func hostOptions(cmd *cli.Command, w io.Writer) (pluginhost.Options, error) {
	var limit int64 // the default, for commands without the flag
	if m := cmd.String("child-memory"); m != "" {
		n, err := parseMemory(m)
		if err != nil {
			return pluginhost.Options{}, usagef("--child-memory %v", err)
		}
		limit = n
		if n == 0 {
			limit = -1
		}
	}
	opts := pluginhost.Options{CallDeadline: cmd.Duration("call-deadline"), SetupDeadline: cmd.Duration("setup-deadline"), MemoryLimit: limit}
	if fps := cmd.Float("fps"); fps > 0 {
		opts.FrameInterval = time.Duration(float64(time.Second) / fps)
	}
	var mu sync.Mutex // events come from restart goroutines too
	opts.OnEvent = func(ev pluginhost.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "warning: %s\n", ev)
	}
	return opts, nil
}

// sharedFrames returns, when any node is isolated, an allocator of frames in shared memory
// for the run's pools (engine.Config.NewFrame) and the children (Options.Frames), so that
// isolated nodes read and write the run's frames in place; nil otherwise. Close it after
// the run and its instances.
func sharedFrames(isolate []bool, opts *pluginhost.Options) (*pluginhost.Frames, func(frame.Format) *frame.Frame) {
	if !slices.Contains(isolate, true) {
		return nil, nil
	}
	fr := pluginhost.NewFrames()
	opts.Frames = fr
	return fr, func(f frame.Format) *frame.Frame {
		out, err := fr.New(f)
		if err != nil {
			return nil // the engine falls back to frame.New (copied through the arena)
		}
		return out
	}
}

// printedFault reports whether err is a plugin host fault, which OnEvent printed already.
func printedFault(err error) bool {
	var fe *pluginhost.FaultError
	return errors.As(err, &fe)
}
