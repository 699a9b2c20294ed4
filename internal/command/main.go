// Package command implements the scope command line: one file per subcommand, each with its
// flags and its run function. Main is the whole program; cmd/scope only calls it.
//
// This package must never import Ebitengine (directly or through another package): it
// opens a display in its init and would make the scope binary die on headless machines.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/loader"
	scopesession "github.com/scopenative/scope/session"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad arguments, unknown pipeline, invalid parameter values
)

// usageError marks an error caused by what the user typed; Main exits with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// IO is where a command reads and writes; tests swap it.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// Env looks up environment variables (os.Getenv in production).
	Env func(string) string
}

// app carries what every subcommand needs.
type app struct {
	io IO
	// hosted, when set, is told the session of a `scope run` once it is up (scope serve).
	hosted func(*scopesession.Host)
}

// Main runs the scope CLI with args (args[0] is the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	if stdio.Env == nil {
		stdio.Env = os.Getenv
	}
	a := &app{io: stdio}
	root := a.root()
	noSliceSplitting(root)
	err := root.Run(ctx, args)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stdio.Err, "error: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCLIUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isCLIUsage recognises urfave/cli's own flag and argument errors.
func isCLIUsage(err error) bool {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode() == ExitUsage
	}
	return false
}

func (a *app) root() *cli.Command {
	return &cli.Command{
		Name:    "scope",
		Usage:   "run real-time video pipelines from native plugins",
		Version: loader.Version,
		Description: "Scope Native loads pipeline plugins (shared libraries built against include/scope/plugin.h)\n" +
			"from --plugin, " + catalog.EnvPath + " and the installed-plugin folder, and runs them on frames.\n\n" +
			"  $ scope pipelines\n" +
			"  $ scope run color-generator,invert --param color_r=10 --output out.png\n" +
			"  $ scope run invert --input in.png --output out.png --param intensity=0.5",
		Writer:                    a.io.Out,
		ErrWriter:                 a.io.Err,
		Reader:                    a.io.In,
		HideHelpCommand:           true,
		Suggest:                   true,
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(context.Context, *cli.Command, error) {},
		OnUsageError: func(_ context.Context, _ *cli.Command, err error, _ bool) error {
			return usageError{err}
		},
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "plugin", Usage: "load plugins from this file or folder (repeatable)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show plugin debug logs"},
		},
		Commands: []*cli.Command{
			a.pipelinesCommand(),
			a.runCommand(),
			a.graphCommand(),
			a.benchCommand(),
			a.sessionsCommand(),
			a.previewCommand(),
			a.serveCommand(),
			a.pluginCommand(),
			a.doctorCommand(),
			a.devicesCommand(),
		},
	}
}

// logger returns the logger for plugin log lines: warnings and errors by default, only errors
// with --quiet, everything with --verbose. Lines carry no timestamp (they go to a terminal).
func (a *app) logger(cmd *cli.Command) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case cmd.Bool("verbose"):
		level = slog.LevelDebug
	case cmd.Bool("quiet"):
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(a.io.Err, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime}))
}

// dropTime is a slog ReplaceAttr that removes the record's time.
func dropTime(groups []string, attr slog.Attr) slog.Attr {
	if len(groups) == 0 && attr.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return attr
}

// dataDir is where installed plugins live: $SCOPE_HOME, else $XDG_DATA_HOME/scope, else
// ~/.local/share/scope.
func (a *app) dataDir() string {
	if d := a.io.Env("SCOPE_HOME"); d != "" {
		return d
	}
	if d := a.io.Env("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "scope")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".local", "share", "scope")
}

// openCatalog loads every plugin on the search path: --plugin, SCOPE_PLUGIN_PATH, the
// installed plugins (as plugins.json in the data folder lists them; a broken one is reported
// with its name and never hides the others), and the bundled examples (bundledPluginDirs).
func (a *app) openCatalog(cmd *cli.Command) *catalog.Catalog {
	return a.openCatalogWith(cmd, a.logger(cmd), nil)
}

// bundledPluginDirs are the example plugins that come with the scope binary, where they
// exist: build/plugins beside a bin/scope built in the repository, share/scope/plugins in the
// prefix a `make install PREFIX=...` wrote.
func bundledPluginDirs() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	prefix := filepath.Clean(filepath.Join(filepath.Dir(exe), ".."))
	return catalog.SearchPath(nil, "", filepath.Join(prefix, "build", "plugins"), filepath.Join(prefix, "share", "scope", "plugins"))
}

// openCatalogWith is openCatalog with the plugins' log lines going to logger and the
// libraries' thread pool (nil: the loader's default).
func (a *app) openCatalogWith(cmd *cli.Command, logger *slog.Logger, pool *loader.Pool) *catalog.Catalog {
	paths := catalog.SearchPath(cmd.StringSlice("plugin"), a.io.Env(catalog.EnvPath))
	installed, byPath, stateFailed := installedLibraries(a.dataDir())
	paths = append(paths, installed...)
	paths = append(paths, bundledPluginDirs()...)
	cat := catalog.Open(paths, loader.Options{Logger: logger, Pool: pool})
	cat.Failed = append(stateFailed, cat.Failed...)
	a.explainInstalled(cmd, cat, byPath)
	return cat
}
