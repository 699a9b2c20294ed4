package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/plugins/build"
	"github.com/scopenative/scope/plugins/hotswap"
	"github.com/scopenative/scope/plugins/index"
	"github.com/scopenative/scope/plugins/manager"
	"github.com/scopenative/scope/plugins/store"
	scopesession "github.com/scopenative/scope/session"
	"github.com/scopenative/scope/validate"
)

// pluginManageCommands are the plugin manager's subcommands of `scope plugin`.
func (a *app) pluginManageCommands() []*cli.Command {
	verbose := &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the build tools' full output"}
	noSandbox := &cli.BoolFlag{Name: "no-sandbox", Usage: "run the build unsandboxed, with your full rights (also " + build.EnvSandbox + "=off)"}
	return []*cli.Command{
		{
			Name:      "install",
			Usage:     "build a plugin package from git, a folder or the plugin index and install it",
			ArgsUsage: "SPEC",
			Description: "SPEC is a git URL (https://host/owner/repo[.git], git+https://..., git@host:owner/repo,\n" +
				"ssh://..., file:///path/to/repo.git or a bare repository's path) with an optional @branch,\n" +
				"@tag or @commit; a local folder (installed linked: 'scope plugin reload' rebuilds it in place);\n" +
				"or an index name, name==1.2.0 (index from " + index.EnvIndex + " or index in <data>/config.toml).\n" +
				"Before building it prints the source, the commit and the build's commands. The build runs in\n" +
				"a bubblewrap sandbox where the machine allows it (read-only system, no network, only the\n" +
				"staging folder writable) and says so plainly when it cannot. The package is built in a\n" +
				"staging folder and validated in a child process; nothing changes unless every step\n" +
				"succeeds. See docs/plugin-packages.md.\n\n" +
				"  $ scope plugin install https://github.com/scopenative/invert@v1.0.0\n" +
				"  $ scope plugin install ./my-plugin",
			Flags: []cli.Flag{verbose, noSandbox,
				&cli.BoolFlag{Name: "force", Usage: "replace an installed plugin of the same name"}},
			Action: a.pluginInstall,
		},
		{
			Name:  "list",
			Usage: "list installed plugins, their source, pipelines, load errors and available updates",
			Description: "Updates are checked concurrently and cached for 10 minutes: a branch that moved, or a newer\n" +
				"index version, is \"update available\"; a commit, a tag or name==version is \"pinned\" (with the\n" +
				"newer tag or version, if any); a check that fails shows \"unknown\". 'update' does what this says.\n" +
				"A plugin hidden by a --plugin or " + catalog.EnvPath + " library of the same pipeline is named.",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "json", Usage: "print JSON"},
				&cli.BoolFlag{Name: "refresh", Usage: "check for updates now, ignoring the cache"},
				&cli.BoolFlag{Name: "offline", Usage: "do not check for updates"},
			},
			Action: a.pluginList,
		},
		{
			Name:      "update",
			Usage:     "install the newest build of a plugin's source (the followed branch, or the index's latest); pins (commit, tag, name==version) and linked folders stay as they are, and it says why",
			ArgsUsage: "NAME",
			Flags: []cli.Flag{verbose, noSandbox,
				&cli.BoolFlag{Name: "all", Usage: "update every installed plugin"}},
			Action: a.pluginUpdate,
		},
		{
			Name:      "uninstall",
			Usage:     "remove an installed plugin",
			ArgsUsage: "NAME",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "force", Usage: "remove its nodes from the running sessions that use it first (a session that cannot run without them is stopped)"}},
			Action: a.pluginUninstall,
		},
		{
			Name:      "reload",
			Usage:     "rebuild a linked plugin from its folder and hot-swap it into every running session",
			ArgsUsage: "NAME",
			Description: "The new build is validated first; sessions keep their frames flowing from the old build\n" +
				"until the new one is ready. A failed build keeps the old one running everywhere.",
			Flags:  []cli.Flag{verbose, noSandbox},
			Action: a.pluginReload,
		},
	}
}

// pluginConfig is <data>/config.toml.
type pluginConfig struct {
	Index string `toml:"index"`
}

// indexLocation is $SCOPE_INDEX, else index in <data>/config.toml.
func (a *app) indexLocation() string {
	if ix := a.io.Env(index.EnvIndex); ix != "" {
		return ix
	}
	var c pluginConfig
	if d := a.dataDir(); d != "" {
		_, _ = toml.DecodeFile(filepath.Join(d, "config.toml"), &c)
	}
	return c.Index
}

// pluginManager builds the manager for one command; p shows its steps.
func (a *app) pluginManager(cmd *cli.Command, p *progress) (*manager.Manager, error) {
	dir := a.dataDir()
	if dir == "" {
		return nil, fmt.Errorf("cannot find a data folder for plugins: set SCOPE_HOME")
	}
	cwd, _ := os.Getwd()
	o := manager.Options{
		Store:    store.New(dir),
		SDK:      func() (build.SDK, error) { return build.FindSDK(a.io.Env) },
		Validate: validateForInstall(cmd.Bool("verbose")),
		Index:    a.indexLocation(),
		Cwd:      cwd,
	}
	if p != nil { // a command that builds
		o.Step = p.Step
		if cmd.Bool("verbose") {
			o.Log = p.Writer()
		}
		o.Sandbox, o.Unsandboxed = a.buildSandbox(cmd, filepath.Join(dir, store.CacheDir, "sandbox"))
		if slices.Contains([]string{"install", "update", "reload"}, cmd.Name) {
			w := p.Writer()
			o.Plan = func(pl manager.Plan) { writePlan(w, pl) }
		}
	}
	return manager.New(o), nil
}

// buildSandbox returns the sandbox builds run in, or nil and why there is none: turned off
// with --no-sandbox or SCOPE_BUILD_SANDBOX=off, or bwrap missing or unusable here.
func (a *app) buildSandbox(cmd *cli.Command, cacheDir string) (*build.Sandbox, string) {
	switch {
	case cmd.Bool("no-sandbox"):
		return nil, "turned off with --no-sandbox"
	case strings.EqualFold(a.io.Env(build.EnvSandbox), "off"):
		return nil, "turned off with " + build.EnvSandbox + "=off"
	}
	sb, err := build.ProbeSandbox(context.Background(), cacheDir)
	if err != nil {
		return nil, err.Error()
	}
	return sb, ""
}

// writePlan prints what is about to be built: the source and commit, each build command,
// and whether the build is sandboxed.
func writePlan(w io.Writer, pl manager.Plan) {
	s := pl.Source
	var src string
	switch {
	case s.Path != "":
		src = s.Path + " (linked folder, as it is on disk)"
	default:
		src = fmt.Sprintf("%s, %s %s at commit %s", s.URL, s.RefKind, s.Ref, s.Commit)
		if s.RefKind == "commit" {
			src = fmt.Sprintf("%s at commit %s", s.URL, s.Commit)
		}
		if s.Index != "" {
			src = fmt.Sprintf("index %s: %s = %s", s.Index, s.Spec, src)
		}
	}
	fmt.Fprintf(w, "%s will be built from %s\n", pl.Name, src)
	for i, c := range pl.Commands {
		label := "build:  "
		if i > 0 {
			label = "        "
		}
		fmt.Fprintf(w, "  %s %s\n", label, c.Line())
	}
	if pl.Sandboxed {
		fmt.Fprintf(w, "  sandbox: %s\n", pl.Sandbox)
	} else {
		fmt.Fprintf(w, "  warning: the build runs UNSANDBOXED, with your full rights: %s\n", pl.Sandbox)
	}
}

// pluginFailure prints what the user needs to see about a failed transaction (the full
// compiler output, unless --verbose already showed it) and returns the error.
func (a *app) pluginFailure(cmd *cli.Command, err error) error {
	var be *build.Error
	if errors.As(err, &be) && !cmd.Bool("verbose") && len(be.Output) > 0 {
		fmt.Fprintf(a.io.Err, "--- output of %s ---\n%s", be.Command, be.Output)
		if !strings.HasSuffix(string(be.Output), "\n") {
			fmt.Fprintln(a.io.Err)
		}
		fmt.Fprintln(a.io.Err, "---")
		be.Shown = true // the error below need not repeat part of it
	}
	return fmt.Errorf("%w\nnothing was changed", err)
}

func oneName(cmd *cli.Command) (string, error) {
	if cmd.NArg() != 1 {
		return "", usagef("%s needs exactly one argument, the plugin's NAME (see 'scope plugin list')", cmd.Name)
	}
	return cmd.Args().First(), nil
}

func (a *app) pluginInstall(ctx context.Context, cmd *cli.Command) error {
	if cmd.NArg() != 1 {
		return usagef("install needs exactly one argument, SPEC: a git URL, a folder or an index name")
	}
	p := newProgress(a.io.Err)
	m, err := a.pluginManager(cmd, p)
	if err != nil {
		return err
	}
	res, err := m.Install(ctx, cmd.Args().First(), manager.InstallOptions{Replace: cmd.Bool("force")})
	p.Done()
	if err != nil {
		if errors.Is(err, manager.ErrAlreadyInstalled) || errors.Is(err, store.ErrLocked) {
			return err
		}
		return a.pluginFailure(cmd, err)
	}
	pl := res.Plugin
	fmt.Fprintf(a.io.Out, "installed %s from %s\n  pipelines: %s\n", nameVersion(pl), describeSource(pl), strings.Join(pl.Pipelines, ", "))
	for _, n := range res.Notes {
		fmt.Fprintf(a.io.Err, "note: %s\n", n)
	}
	cat := a.openCatalog(cmd)
	if note := a.shadowNote(cmd, cat, *pl, res.Library); note != "" {
		fmt.Fprintf(a.io.Err, "warning: %s\n", note)
	}
	cat.Close()
	if res.Previous != nil {
		a.swapSessions(ctx, *res.Previous, res.Library, "")
	}
	return nil
}

// nameVersion is "name version", or the name alone for an unversioned plugin.
func nameVersion(p *store.Plugin) string {
	return strings.TrimSpace(p.Name + " " + p.Version)
}

// describeSource is a plugin's source in one line.
func describeSource(p *store.Plugin) string {
	s := p.Source
	switch {
	case p.Linked:
		return s.Path + " (linked)"
	case s.Commit != "":
		short := s.Commit
		if len(short) > 7 {
			short = short[:7]
		}
		where := s.URL
		if s.Kind == "index" {
			where = "index: " + s.Spec + " = " + s.URL
		}
		if s.RefKind == "commit" {
			return fmt.Sprintf("%s@%s", where, short)
		}
		return fmt.Sprintf("%s@%s (%s %s)", where, s.Ref, s.RefKind, short)
	}
	return s.Spec
}

// pluginListEntry is one plugin in `scope plugin list --json`.
type pluginListEntry struct {
	store.Plugin
	LibraryPath string                `json:"library_path"`
	Update      *manager.UpdateStatus `json:"update,omitempty"`
	Error       string                `json:"error,omitempty"`
	// Runs is how scope run runs its pipelines by default: installed plugins run isolated,
	// in plugin host children (see docs/isolation.md; --in-process overrides it).
	Runs string `json:"runs"`
	// Hidden says which library on the search path provides the plugin's pipelines instead.
	Hidden string `json:"hidden,omitempty"`
}

func (a *app) pluginList(ctx context.Context, cmd *cli.Command) error {
	m, err := a.pluginManager(cmd, nil)
	if err != nil {
		return err
	}
	st, err := m.Installed()
	if err != nil {
		return err
	}
	// Load the search path as the other commands would, to report the broken and the
	// hidden plugins.
	cat := a.openCatalog(cmd)
	defer cat.Close()
	failed := map[string]string{}
	for _, f := range cat.Failed {
		failed[f.Path] = f.Err.Error()
	}
	var updates map[string]manager.UpdateStatus
	if !cmd.Bool("offline") {
		updates = m.CheckUpdates(ctx, st, cmd.Bool("refresh"))
	}
	entries := []pluginListEntry{}
	for _, p := range st.Plugins {
		e := pluginListEntry{Plugin: p, LibraryPath: m.Store().LibPath(p.Library), Error: failed[m.Store().LibPath(p.Library)], Runs: "isolated"}
		if note := a.shadowNote(cmd, cat, p, e.LibraryPath); note != "" {
			e.Hidden, e.Error = note, ""
		}
		if u, ok := updates[p.Name]; ok {
			e.Update = &u
		}
		entries = append(entries, e)
	}
	if cmd.Bool("json") {
		enc := json.NewEncoder(a.io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Plugins []pluginListEntry `json:"plugins"`
		}{entries})
	}
	if len(entries) == 0 {
		fmt.Fprintln(a.io.Out, "No plugins installed. Install one with 'scope plugin install SPEC' (a git URL, a folder or an index name).")
		return nil
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSOURCE\tPIPELINES\tRUNS\tUPDATE")
	for _, e := range entries {
		v := e.Version
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, v, describeSource(&e.Plugin), strings.Join(e.Pipelines, ", "), e.Runs, updateText(e.Update))
	}
	tw.Flush()
	for _, e := range entries {
		if e.Error != "" {
			fmt.Fprintf(a.io.Out, "%s failed to load: %s\n", e.Name, e.Error)
		}
		if e.Hidden != "" {
			fmt.Fprintf(a.io.Out, "warning: %s\n", e.Hidden)
		}
	}
	return nil
}

func updateText(u *manager.UpdateStatus) string {
	if u == nil {
		return "not checked"
	}
	if u.State == manager.UpdateUnknown {
		return "unknown (" + truncate(u.Error, 60) + ")"
	}
	return u.Describe()
}

func (a *app) pluginUpdate(ctx context.Context, cmd *cli.Command) error {
	p := newProgress(a.io.Err)
	defer p.Done()
	m, err := a.pluginManager(cmd, p)
	if err != nil {
		return err
	}
	var names []string
	switch {
	case cmd.Bool("all") && cmd.NArg() == 0:
		st, err := m.Installed()
		if err != nil {
			return err
		}
		names = st.Names()
	case !cmd.Bool("all") && cmd.NArg() == 1:
		names = []string{cmd.Args().First()}
	default:
		return usagef("update needs a plugin NAME or --all")
	}
	var failures []string
	for _, name := range names {
		res, err := m.Update(ctx, name)
		p.Step("")
		if err != nil {
			if len(names) == 1 {
				p.Done()
				if errors.Is(err, manager.ErrNotInstalled) || errors.Is(err, store.ErrLocked) {
					return err
				}
				return a.pluginFailure(cmd, err)
			}
			fmt.Fprintf(a.io.Err, "update %s failed, it stays as it was: %v\n", name, err)
			failures = append(failures, name)
			continue
		}
		if !res.Changed {
			fmt.Fprintf(a.io.Out, "%s stays as it is (%s): %s\n", name, describeSource(res.Plugin), strings.Join(res.Notes, "; "))
			continue
		}
		fmt.Fprintf(a.io.Out, "updated %s %s -> %s from %s\n", name, res.Previous.Version, res.Plugin.Version, describeSource(res.Plugin))
		a.swapSessions(ctx, *res.Previous, res.Library, "")
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d update(s) failed: %s", len(failures), len(names), strings.Join(failures, ", "))
	}
	return nil
}

func (a *app) pluginUninstall(ctx context.Context, cmd *cli.Command) error {
	name, err := oneName(cmd)
	if err != nil {
		return err
	}
	m, err := a.pluginManager(cmd, nil)
	if err != nil {
		return err
	}
	st, err := m.Installed()
	if err != nil {
		return err
	}
	if pl := st.Find(name); pl != nil {
		if users := a.sessionsUsing(*pl); len(users) > 0 {
			if !cmd.Bool("force") {
				return fmt.Errorf("plugin %s is in use by running session(s) %s; stop them or pass --force to remove its nodes from them and uninstall", name, sessionIDs(users))
			}
			for _, s := range users {
				if err := a.removePluginNodes(ctx, s, *pl); err == nil {
					continue
				} else {
					fmt.Fprintf(a.io.Err, "session %s cannot run without %s (%v); stopping it\n", s.ID, name, err)
				}
				if err := a.stopSession(ctx, s); err != nil {
					return fmt.Errorf("stop session %s that uses %s: %w", s.ID, name, err)
				}
				fmt.Fprintf(a.io.Err, "stopped session %s (it used %s)\n", s.ID, name)
			}
		}
	}
	res, err := m.Uninstall(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.io.Out, "uninstalled %s %s (pipelines: %s)\n", name, res.Previous.Version, strings.Join(res.Previous.Pipelines, ", "))
	return nil
}

func (a *app) pluginReload(ctx context.Context, cmd *cli.Command) error {
	name, err := oneName(cmd)
	if err != nil {
		return err
	}
	p := newProgress(a.io.Err)
	m, err := a.pluginManager(cmd, p)
	if err != nil {
		return err
	}
	st, err := m.Installed()
	if err != nil {
		return err
	}
	old := st.Find(name)
	res, err := m.Reload(ctx, name)
	p.Done()
	if err != nil {
		if old != nil && old.Linked && !errors.Is(err, store.ErrLocked) {
			a.swapSessions(ctx, *old, "", err.Error()) // the sessions show the failure too
		}
		if errors.Is(err, manager.ErrNotInstalled) || errors.Is(err, store.ErrLocked) {
			return err
		}
		return a.pluginFailure(cmd, err)
	}
	fmt.Fprintf(a.io.Out, "rebuilt %s from %s\n  pipelines: %s\n", nameVersion(res.Plugin), res.Plugin.Source.Path, strings.Join(res.Plugin.Pipelines, ", "))
	if n := a.swapSessions(ctx, *res.Previous, res.Library, ""); n == 0 {
		fmt.Fprintln(a.io.Out, "no running session uses it; the next run loads the new build")
	}
	return nil
}

// sessionsUsing lists the running sessions whose chain has one of the plugin's pipelines.
func (a *app) sessionsUsing(pl store.Plugin) []scopesession.Info {
	dir, err := scopesession.DefaultDir(a.io.Env)
	if err != nil {
		return nil
	}
	list, err := dir.List()
	if err != nil {
		return nil
	}
	var out []scopesession.Info
	for _, s := range list {
		if slices.ContainsFunc(s.Chain, func(id string) bool { return slices.Contains(pl.Pipelines, id) }) {
			out = append(out, s)
		}
	}
	return out
}

func sessionIDs(list []scopesession.Info) string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return strings.Join(ids, ", ")
}

// removePluginNodes removes every node of session s that runs a pipeline of plugin pl
// (remove-node edits), saying so for each; it fails when the session's graph cannot do
// without one of them (then nothing more is removed).
func (a *app) removePluginNodes(ctx context.Context, s scopesession.Info, pl store.Plugin) error {
	c, err := scopesession.DialInfo(s)
	if err != nil {
		return err
	}
	defer c.Close()
	g, err := c.Graph(ctx)
	if err != nil {
		return err
	}
	for _, n := range g.Nodes {
		if n.Kind != "pipeline" || !slices.Contains(pl.Pipelines, n.Pipeline) {
			continue
		}
		if _, err := c.Edit(ctx, scopesession.OpRemoveNode, scopesession.NodeArgs{Name: n.Name}); err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "removed node %s (%s) from session %s; the session goes on without %s\n", n.Name, n.Pipeline, s.ID, pl.Name)
	}
	return nil
}

func (a *app) stopSession(ctx context.Context, s scopesession.Info) error {
	c, err := scopesession.DialInfo(s)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Stop(ctx)
}

// swapSessions asks every running session that uses the plugin (as it was before, old) to
// hot-swap to lib, or to report errMsg. It prints each outcome and returns how many
// sessions it reached.
func (a *app) swapSessions(ctx context.Context, old store.Plugin, lib, errMsg string) int {
	users := a.sessionsUsing(old)
	req := hotswap.Request{Plugin: old.Name, Library: lib, Pipelines: old.Pipelines, Error: errMsg}
	if d := a.dataDir(); d != "" {
		req.StoreDir = filepath.Join(d, store.LibDir)
	}
	n := 0
	for _, s := range users {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := a.callSession(cctx, s, req)
		cancel()
		n++
		switch {
		case errMsg != "":
		case err != nil:
			fmt.Fprintf(a.io.Err, "warning: session %s keeps the old %s: %v\n", s.ID, old.Name, err)
		default:
			fmt.Fprintf(a.io.Out, "session %s: hot-swapped %s\n", s.ID, old.Name)
		}
	}
	return n
}

func (a *app) callSession(ctx context.Context, s scopesession.Info, req hotswap.Request) error {
	c, err := scopesession.DialInfo(s)
	if err != nil {
		return err
	}
	defer c.Close()
	var res hotswap.Result
	if err := c.Call(ctx, hotswap.Op, req, &res); err != nil {
		return err
	}
	for _, sw := range res.Swapped {
		if len(sw.Dropped) > 0 {
			fmt.Fprintf(a.io.Err, "session %s stage %d (%s): values reset to defaults: %s\n", s.ID, sw.Stage, sw.Pipeline, strings.Join(sw.Dropped, "; "))
		}
	}
	return nil
}

// installedLibraries returns the library paths of the installed plugins, by path the
// plugin's name, and a failure when the state file cannot be read.
func installedLibraries(dir string) ([]string, map[string]store.Plugin, []catalog.Failure) {
	if dir == "" {
		return nil, nil, nil
	}
	s := store.New(dir)
	st, err := s.Load()
	if err != nil {
		return nil, nil, []catalog.Failure{{Path: s.StatePath(), Err: err}}
	}
	byPath := map[string]store.Plugin{}
	var paths []string
	for _, p := range st.Plugins {
		path := s.LibPath(p.Library)
		paths = append(paths, path)
		byPath[path] = p
	}
	return paths, byPath, nil
}

// explainInstalled rewrites the failures of installed libraries to name the plugin, or, when
// another library on the search path provides the plugin's pipelines, which one and why.
func (a *app) explainInstalled(cmd *cli.Command, cat *catalog.Catalog, byPath map[string]store.Plugin) {
	for i, f := range cat.Failed {
		if p, ok := byPath[f.Path]; ok {
			if note := a.shadowNote(cmd, cat, p, f.Path); note != "" {
				cat.Failed[i].Err = errors.New(note)
				continue
			}
			cat.Failed[i].Err = fmt.Errorf("installed plugin %s %s (%s): %w; reinstall it with 'scope plugin update %s' or remove it with 'scope plugin uninstall %s'",
				p.Name, p.Version, describeSource(&p), f.Err, p.Name, p.Name)
		}
	}
}

// validateForInstall returns the manager's validation step: every `scope plugin validate`
// check on a built library (each in a child process, so a crashing plugin cannot take the CLI
// down), refusing it when any check fails. The reason is the failed checks and the summary;
// with verbose, the whole report.
func validateForInstall(verbose bool) func(ctx context.Context, path string) (*manager.Validated, error) {
	return validateWith(verbose, validate.Options{})
}

// validateQuick is validateForInstall with only validate.QuickOnly's checks, for `scope run
// --watch`: the rest run after the swap (see fullValidateAfterSwap).
func validateQuick(verbose bool) func(ctx context.Context, path string) (*manager.Validated, error) {
	return validateWith(verbose, validate.Options{Only: validate.QuickOnly()})
}

// validateWith returns a validation step that runs validate.Run with opts and refuses a
// library that fails a check.
func validateWith(verbose bool, opts validate.Options) func(ctx context.Context, path string) (*manager.Validated, error) {
	return func(ctx context.Context, path string) (*manager.Validated, error) {
		rep, err := validate.Run(ctx, path, opts)
		if err != nil {
			return nil, err
		}
		if !rep.Failed() {
			return &manager.Validated{Pipelines: rep.Pipelines, Version: rep.Version}, nil
		}
		var b strings.Builder
		failed := fmt.Sprintf("%d check%s failed", rep.Count(validate.Fail), map[bool]string{true: "s"}[rep.Count(validate.Fail) != 1])
		if verbose {
			rep.WriteText(&b)
			return nil, fmt.Errorf("%s:\n%s", failed, strings.TrimRight(b.String(), "\n"))
		}
		for _, r := range rep.Results {
			if r.Status == validate.Fail {
				fmt.Fprintf(&b, "  ✗ %s: %s: %s\n", r.Subject, r.Check, strings.Join(strings.Fields(r.Reason), " "))
			}
		}
		return nil, fmt.Errorf("%s:\n%s%s (--verbose shows every check)", failed, b.String(), rep.Summary())
	}
}
