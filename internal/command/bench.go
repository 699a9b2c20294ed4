package command

import (
	"context"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/media"
)

func (a *app) benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "measure a chain's speed on raw frames from memory, to a null sink",
		ArgsUsage: "PIPELINE[,PIPELINE...]",
		Description: "The source is one pre-rendered test frame copied into the chain each tick (a raw source with\n" +
			"no decoding cost), so the numbers are the pipelines' own cost plus one frame copy.\n\n" +
			"  $ scope bench invert --size 1920x1080\n  $ scope bench color-generator,invert --frames 1000",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "size", Value: "1920x1080", Usage: "frame size `WxH`"},
			&cli.IntFlag{Name: "frames", Aliases: []string{"n"}, Value: 300, Usage: "measured frames"},
			&cli.IntFlag{Name: "warmup", Value: 10, Usage: "frames run before measuring"},
			&cli.StringSliceFlag{Name: "param", Aliases: []string{"p"}, Usage: "runtime parameter `key=value`"},
			&cli.StringSliceFlag{Name: "load-param", Usage: "load-time parameter `key=value`"},
			&cli.StringFlag{Name: "mode", Usage: "mode of the first pipeline"},
			&cli.BoolFlag{Name: "serial", Usage: "run every pipeline on one goroutine, one frame at a time (the reference a graph run's speed-up is measured against)"},
		},
		Action: a.bench,
	}
}

// memorySource repeats one frame: a raw source with no generation or decoding cost.
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
	cat := a.openCatalog(cmd)
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
		eng, err := engine.New(engine.Config{Stages: s.instances, Source: src, Frames: pass.frames, Device: s.cuda.engineDevice(), Serial: cmd.Bool("serial")})
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
		fmt.Fprintf(a.io.Out, "%s, %dx%d, %d frames, %s, %s/%s, %d CPUs\n", cmd.Args().First(), w, h, stats.Frames, how, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
		for _, st := range stats.Stages {
			fmt.Fprintf(a.io.Out, "  %-24s %8.3f ms/frame mean  %8.3f ms p99\n", st.ID, ms(st.Mean), ms(st.P99))
		}
		fmt.Fprintf(a.io.Out, "  %-24s %8.3f ms/frame       %8.1f fps\n", "whole chain (+source copy)", ms(stats.Elapsed)/float64(stats.Frames), stats.FPS())
	}
	return nil
}

func ms[T ~int64](d T) float64 { return float64(d) / 1e6 }
