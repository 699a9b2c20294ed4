package command

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

func (a *app) benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "measure a chain's speed on raw frames from memory, to a null sink",
		ArgsUsage: "PIPELINE[,PIPELINE...]",
		Description: "The source is one pre-rendered test frame copied into the chain each tick (a raw source with\n" +
			"no decoding cost), so the numbers are the pipelines' own cost plus one frame copy.\n\n" +
			"Beside each stage it prints this machine's floor and the stage's ratio to it. The floor is one\n" +
			"frame-sized memcpy of the output frame (RGB u8 at --size), measured here and now: the least\n" +
			"any node that writes a whole frame costs on one core, and about what a vectorised C loop\n" +
			"such as 255 - v costs. --threads sets the host thread pool plugins split their rows across\n" +
			"(scope_host.parallel_for; default one worker per CPU).\n\n" +
			"  $ scope bench invert --size 1920x1080\n  $ scope bench invert --threads 1\n  $ scope bench color-generator,invert --frames 1000",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "size", Value: "1920x1080", Usage: "frame size `WxH`"},
			&cli.IntFlag{Name: "frames", Aliases: []string{"n"}, Value: 300, Usage: "measured frames"},
			&cli.IntFlag{Name: "warmup", Value: 10, Usage: "frames run before measuring"},
			&cli.StringSliceFlag{Name: "param", Aliases: []string{"p"}, Usage: "runtime parameter `key=value`"},
			&cli.StringSliceFlag{Name: "load-param", Usage: "load-time parameter `key=value`"},
			&cli.StringFlag{Name: "mode", Usage: "mode of the first pipeline"},
			&cli.BoolFlag{Name: "serial", Usage: "run every pipeline on one goroutine, one frame at a time (the reference a graph run's speed-up is measured against)"},
			&cli.IntFlag{Name: "threads", Usage: "workers of the host thread pool (default: one per CPU)"},
		},
		Action: a.bench,
	}
}

// memorySource repeats one frame: a raw source with no generation or decoding cost.
// formatSink is the null sink of a benchmark; it keeps the format of the frames it was given.
type formatSink struct{ format frame.Format }

func (f *formatSink) Write(fr *frame.Frame) error { f.format = fr.Format; return nil }
func (f *formatSink) Close() error                { return nil }

type memorySource struct{ f *frame.Frame }

func (m *memorySource) Format() frame.Format { return m.f.Format }
func (m *memorySource) Read(_ context.Context, dst *frame.Frame) error {
	return frame.Convert(dst, m.f)
}
func (m *memorySource) Close() error { return nil }

func (a *app) bench(ctx context.Context, cmd *cli.Command) error {
	w, h, err := parseSize(cmd.String("size"))
	if err != nil {
		return err
	}
	n, warm := cmd.Int("frames"), cmd.Int("warmup")
	if n < 1 || warm < 0 {
		return usagef("--frames must be >= 1 and --warmup >= 0")
	}
	if cmd.IsSet("threads") && (cmd.Int("threads") < 1 || cmd.Int("threads") > maxThreads) {
		return usagef("--threads must be 1..%d, got %d", maxThreads, cmd.Int("threads"))
	}
	pool := benchPool(cmd)
	if pool == nil {
		pool = loader.DefaultPool()
	} else {
		defer pool.Close()
	}
	cat := a.openCatalogWith(cmd, a.logger(cmd), pool)
	defer cat.Close()
	s, err := a.startSession(cmd, cat)
	if err != nil {
		return err
	}
	defer s.close()

	var src media.Source
	if s.instances[0].Mode().String() == "video" {
		// The size was asked for explicitly (parseSize bounds it): no --max-frame-size here.
		test, err := media.OpenSource(ctx, "testsrc", media.SourceOptions{Width: w, Height: h, Limits: media.SizeLimits(w, h)})
		if err != nil {
			return err
		}
		f := frame.New(test.Format())
		err = test.Read(ctx, f)
		test.Close()
		if err != nil {
			return fmt.Errorf("render the test frame: %w", err)
		}
		src = &memorySource{f: f}
	}
	for _, pass := range []struct {
		frames  int
		measure bool
	}{{warm, false}, {n, true}} {
		if pass.frames == 0 {
			continue
		}
		out := &formatSink{}
		eng, err := engine.New(engine.Config{Stages: s.instances, Source: src, Sink: out, Frames: pass.frames, Device: s.cuda.engineDevice(), Serial: cmd.Bool("serial")})
		if err != nil {
			return usageError{err}
		}
		stats, err := eng.Run(ctx)
		if err != nil {
			return err
		}
		if stats.Errors > 0 {
			return fmt.Errorf("%d of %d ticks failed; run it with 'scope run' to see why", stats.Errors, stats.Errors+stats.Frames)
		}
		if !pass.measure {
			continue
		}
		how := "one worker per pipeline"
		if cmd.Bool("serial") || s.cuda != nil {
			how = "serial"
		}
		size := fmt.Sprintf("%dx%d", w, h) // a text-mode chain makes frames of its own size
		if src == nil {
			size = fmt.Sprintf("%dx%d output (a text-mode pipeline sets its own size, not --size)", out.format.Width, out.format.Height)
		}
		fw, fh := out.format.Width, out.format.Height
		if fw == 0 || fh == 0 { // no frame came out: the floor of the size asked for
			fw, fh = w, h
		}
		floor := copyFloor(fw * fh * 3)
		fmt.Fprintf(a.io.Out, "%s, %s, %d frames, %s, %s/%s, %d CPUs, pool of %d workers\n", cmd.Args().First(), size, stats.Frames, how, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), pool.Workers())
		fmt.Fprintf(a.io.Out, "  %-24s %8.3f ms/frame       (one %dx%d RGB u8 memcpy on one core)\n", "floor", ms(floor), fw, fh)
		for _, st := range stats.Stages {
			fmt.Fprintf(a.io.Out, "  %-24s %8.3f ms/frame mean  %8.3f ms p99  %6.2fx floor\n", st.ID, ms(st.Mean), ms(st.P99), float64(st.Mean)/float64(floor))
		}
		fmt.Fprintf(a.io.Out, "  %-24s %8.3f ms/frame       %8.1f fps\n", "whole chain (+source copy)", ms(stats.Elapsed)/float64(stats.Frames), stats.FPS())
	}
	return nil
}

func ms[T ~int64](d T) float64 { return float64(d) / 1e6 }

// maxThreads bounds --threads: more workers than this only costs memory and scheduling.
const maxThreads = 256

// benchPool is a pool of the size --threads asks for, or nil without it.
func benchPool(cmd *cli.Command) *loader.Pool {
	if cmd.IsSet("threads") {
		return loader.NewPool(int(cmd.Int("threads")))
	}
	return nil
}

// copyFloor measures the floor: the median time of one n-byte memcpy (Go's copy is the same
// memmove) between two buffers that stay in use, as a frame does, over about 50 ms.
func copyFloor(n int) time.Duration {
	src, dst := make([]byte, n), make([]byte, n)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src) // fault the pages in
	var runs []time.Duration
	for start := time.Now(); len(runs) < 5 || (time.Since(start) < 50*time.Millisecond && len(runs) < 1000); {
		t := time.Now()
		copy(dst, src)
		runs = append(runs, time.Since(t))
	}
	slices.Sort(runs)
	return max(runs[len(runs)/2], time.Nanosecond)
}
