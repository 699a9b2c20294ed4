package command

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/pluginhost"
	"github.com/scopenative/scope/validate"
)

func (a *app) pluginValidateCommand() *cli.Command {
	var checks strings.Builder
	tw := tabwriter.NewWriter(&checks, 0, 0, 2, ' ', 0)
	for _, c := range validate.Checks() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.ID, c.Doc)
	}
	tw.Flush()
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a plugin library against the ABI contract before installing or shipping it",
		ArgsUsage: "PATH",
		Description: "Loads the plugin and drives every pipeline, mode and memory kind it declares through odd sizes,\n" +
			"padded pitches, guarded buffers, parameter extremes and lifecycles in the wrong order. Each check\n" +
			"runs in a child process with a timeout, so a crash or a hang fails that check (with the signal and\n" +
			"where it happened) instead of the validator. The report groups the checks as passed, warnings,\n" +
			"failed and skipped; the exit status is 1 when a check failed.\n\n" +
			"Checks (--only matches these ids):\n" + checks.String() + "\n" +
			"  $ scope plugin validate build/plugins/invert.so\n" +
			"  $ scope plugin validate --only 'sizes|pitch' --threads 4 my-plugin.so\n" +
			"  $ scope plugin validate --json my-plugin.so | jq '.results[] | select(.status == \"fail\")'\n\n" +
			"A library with more than --sample pipelines gets the per-pipeline checks on an evenly spaced sample\n" +
			"of them, and no check starts after --budget; the report's notes say what was left out.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			&cli.StringFlag{Name: "only", Usage: "run only the checks whose id matches this `REGEX`"},
			&cli.StringFlag{Name: "pipeline", Usage: "check only the pipelines whose id matches this `REGEX` (the library checks always run)"},
			&cli.DurationFlag{Name: "timeout", Value: validate.DefaultTimeout, Usage: "fail a check still running after this long (hung)"},
			&cli.IntFlag{Name: "threads", Usage: "add the parallel check: `N` instances at once must match their serial output"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "run `N` checks at once (0: one per CPU)"},
			&cli.IntFlag{Name: "sample", Value: validate.DefaultSample, Usage: "with more pipelines than `N`, check an evenly spaced sample of N (0: every pipeline)"},
			&cli.DurationFlag{Name: "budget", Value: validate.DefaultBudget, Usage: "start no per-pipeline check after this long; the report counts the ones left out (0: no limit)"},
			&cli.BoolFlag{Name: "progress", Usage: "print progress lines on stderr even when it is not a terminal (on a terminal a progress line is always shown)"},
			&cli.BoolFlag{Name: "in-process", Usage: "run the checks in this process: faster, but a plugin that crashes kills the validator, and a hung call cannot be stopped"},
			&cli.BoolFlag{Name: "child", Hidden: true, Usage: "run one check for a parent validator (internal)"},
		},
		Action: a.pluginValidate,
	}
}

// errFailed is returned when the report has failures: the report has said everything, Main
// only needs exit status 1.
var errFailed = errors.New("the plugin failed validation")

func (a *app) pluginValidate(ctx context.Context, cmd *cli.Command) error {
	if cmd.Bool("child") {
		if validate.ServeChild(ctx, cmd.Args().Slice()) != 0 {
			return usagef("plugin validate --child: bad arguments")
		}
		return nil
	}
	if cmd.NArg() != 1 {
		return usagef("plugin validate needs exactly one argument, the plugin file (got %d)", cmd.NArg())
	}
	opts := validate.Options{Timeout: cmd.Duration("timeout"), Threads: cmd.Int("threads"), Jobs: cmd.Int("jobs"), InProcess: cmd.Bool("in-process")}
	if opts.Timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if opts.Threads < 0 || opts.Threads > 256 {
		return usagef("--threads must be 0..256")
	}
	if opts.Jobs < 0 {
		return usagef("--jobs must be >= 0")
	}
	if err := sampleAndBudget(cmd, &opts); err != nil {
		return err
	}
	for _, f := range []struct {
		flag string
		dst  **regexp.Regexp
	}{{"only", &opts.Only}, {"pipeline", &opts.Pipelines}} {
		if expr := cmd.String(f.flag); expr != "" {
			re, err := regexp.Compile(expr)
			if err != nil {
				return usagef("--%s %q: %v", f.flag, expr, err)
			}
			*f.dst = re
		}
	}
	if opts.Only != nil && !slices.ContainsFunc(validate.Checks(), func(c validate.Check) bool { return opts.Only.MatchString(c.ID) }) {
		var ids []string
		for _, c := range validate.Checks() {
			ids = append(ids, c.ID)
		}
		return usagef("--only %q matches no check; the checks are %s", opts.Only, strings.Join(ids, ", "))
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	path := cmd.Args().First()
	var prog *progress
	if cmd.Bool("progress") || isTerminal(a.io.Err) {
		prog = newProgress(a.io.Err)
		defer prog.Done()
		prog.Step("validate " + path + ": library checks")
		opts.Progress = validateProgress(prog, path)
	}
	rep, err := validate.Run(ctx, path, opts)
	if prog != nil {
		prog.Done() // before the report, so the progress line does not tangle with it
	}
	if errors.Is(err, fs.ErrNotExist) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if cmd.Bool("json") {
		err = rep.WriteJSON(a.io.Out)
	} else {
		err = rep.WriteText(a.io.Out)
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("%w: %s", errFailed, rep.Summary())
	}
	return nil
}

// ServeValidateChildForTests lets a test binary stand in for the scope binary as the
// validator's child process and as a plugin host child: call it first thing in TestMain.
// When the binary was started with the validator's or the plugin host's child arguments it
// serves that and exits; otherwise it returns. (Both re-execute os.Executable(), which
// under `go test` is the test binary.)
func ServeValidateChildForTests() {
	for _, child := range [][]string{validate.DefaultChildArgs(), pluginhost.DefaultChildArgs()} {
		n := len(child)
		if len(os.Args) > n && slices.Equal(os.Args[1:1+n], child) {
			os.Exit(Main(context.Background(), append([]string{"scope"}, os.Args[1:]...), IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
		}
	}
}

// sampleAndBudget reads --sample and --budget into opts (their 0 means "no limit", which
// validate.Options spells negative).
func sampleAndBudget(cmd *cli.Command, opts *validate.Options) error {
	opts.Sample, opts.Budget = cmd.Int("sample"), cmd.Duration("budget")
	if opts.Sample < 0 {
		return usagef("--sample must be >= 0 (0 checks every pipeline)")
	}
	if opts.Budget < 0 {
		return usagef("--budget must be >= 0 (0 sets no limit)")
	}
	if opts.Sample == 0 {
		opts.Sample = -1
	}
	if opts.Budget == 0 {
		opts.Budget = -1
	}
	return nil
}

// validateProgress shows the per-pipeline checks' progress on prog: every check on a
// terminal (the line is rewritten in place), each tenth of the way otherwise.
func validateProgress(prog *progress, path string) func(validate.Progress) {
	last := -1
	return func(p validate.Progress) {
		tenth := p.Done * 10 / max(p.Total, 1)
		if !prog.tty && tenth == last && p.Done != p.Total {
			return
		}
		last = tenth
		prog.Step(fmt.Sprintf("validate %s: %d/%d checks on %d pipelines, %.0fs", path, p.Done, p.Total, p.Pipelines, p.Elapsed.Seconds()))
	}
}
