package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/httpapi"
	"github.com/scopenative/scope/plugins/source"
	scopesession "github.com/scopenative/scope/session"
	sessionhost "github.com/scopenative/scope/session/host"
)

// inProcess runs the scope CLI with args (without the program name) in this process, as
// Main would, writing its output to out; hosted, when set, is told the session a `scope run`
// hosts as soon as it is up. It is how `scope serve` runs sessions and plugin commands: the
// same code as on the command line, no second copy of it.
func (a *app) inProcess(ctx context.Context, args []string, out io.Writer, hosted func(*sessionhost.Host)) error {
	sub := &app{io: IO{In: strings.NewReader(""), Out: out, Err: out, Env: a.io.Env}, hosted: hosted}
	root := sub.root()
	noSliceSplitting(root)
	return root.Run(ctx, append([]string{"scope"}, args...))
}

// globalArgs are the root flags of the serve command to hand on to in-process commands.
func globalArgs(cmd *cli.Command) []string {
	var args []string
	for _, p := range cmd.StringSlice("plugin") {
		args = append(args, "--plugin", p)
	}
	if cmd.Bool("verbose") {
		args = append(args, "--verbose")
	}
	return args
}

// runArgs turns a start request into `scope run` arguments; graphFile is where a graph
// request's description was written ("" for a chain).
func runArgs(req httpapi.StartRequest, graphFile string) []string {
	args := []string{"run", req.Chain, "--quiet"}
	if graphFile != "" {
		args = []string{"run", "--graph", graphFile, "--quiet"}
	}
	add := func(flag string, vals ...string) {
		for _, v := range vals {
			args = append(args, flag, v)
		}
	}
	add("--param", req.Params...)
	add("--load-param", req.LoadParams...)
	add("--prompt", req.Prompts...)
	if req.Input != "" {
		add("--input", req.Input)
	}
	if req.Output != "" {
		add("--output", req.Output)
	}
	if req.Frames != 0 {
		add("--frames", strconv.Itoa(req.Frames))
	}
	switch {
	case req.FPS == 0: // a served session is live: paced, never racing ahead of its viewers
		add("--fps", "30")
	case req.FPS > 0:
		add("--fps", strconv.FormatFloat(req.FPS, 'f', -1, 64))
	}
	if req.Size != "" {
		add("--size", req.Size)
	}
	if req.Mode != "" {
		add("--mode", req.Mode)
	}
	return args
}

// servedRun is one session `scope serve` hosts.
type servedRun struct {
	info   scopesession.Info
	cancel context.CancelFunc
	done   chan struct{}
	out    *syncBuffer
	err    error
}

// servedSessions are the sessions of one `scope serve`, each a `scope run` in this process.
type servedSessions struct {
	a   *app
	cmd *cli.Command

	mu   sync.Mutex
	runs map[string]*servedRun
}

func newServedSessions(a *app, cmd *cli.Command) *servedSessions {
	return &servedSessions{a: a, cmd: cmd, runs: map[string]*servedRun{}}
}

// List returns the running sessions, oldest first.
func (s *servedSessions) List() []scopesession.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []scopesession.Info
	for _, r := range s.runs {
		list = append(list, r.info)
	}
	sortInfos(list)
	return list
}

// sortInfos orders sessions by start time, then id.
func sortInfos(list []scopesession.Info) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && (list[j].Started.Before(list[j-1].Started) || list[j].Started.Equal(list[j-1].Started) && list[j].ID < list[j-1].ID); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// Start runs the chain in the background and returns once its session is up; a run that
// fails before that returns its error.
func (s *servedSessions) Start(ctx context.Context, req httpapi.StartRequest) (scopesession.Info, error) {
	what, graphFile := req.Chain, ""
	if req.Graph != "" {
		// The run reads its graph from a file of its own, private to the server's user.
		dir, err := os.MkdirTemp("", "scope-serve-graph-")
		if err != nil {
			return scopesession.Info{}, fmt.Errorf("write the graph: %w", err)
		}
		graphFile, what = filepath.Join(dir, "graph.toml"), "a graph"
		if err := os.WriteFile(graphFile, []byte(req.Graph), 0o600); err != nil {
			os.RemoveAll(dir)
			return scopesession.Info{}, fmt.Errorf("write the graph: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r := &servedRun{cancel: cancel, done: make(chan struct{}), out: &syncBuffer{}}
	up := make(chan scopesession.Info, 1)
	go func() {
		defer close(r.done)
		defer cancel()
		if graphFile != "" {
			defer os.RemoveAll(filepath.Dir(graphFile))
		}
		r.err = s.a.inProcess(runCtx, append(globalArgs(s.cmd), runArgs(req, graphFile)...), r.out, func(h *sessionhost.Host) {
			info := h.Info()
			s.mu.Lock()
			r.info = info
			s.runs[info.ID] = r
			s.mu.Unlock()
			up <- info
		})
		s.mu.Lock()
		delete(s.runs, r.info.ID)
		s.mu.Unlock()
		if r.info.ID != "" {
			msg := "ended"
			if r.err != nil {
				msg = "failed: " + r.err.Error()
			}
			fmt.Fprintf(s.a.io.Err, "session %s (%s) %s\n", r.info.ID, what, msg)
		}
	}()
	select {
	case info := <-up:
		fmt.Fprintf(s.a.io.Err, "session %s started: %s\n", info.ID, what)
		return info, nil
	case <-r.done:
		if r.err == nil {
			r.err = errors.New("the run ended before its session was up")
		}
		return scopesession.Info{}, errors.New(strings.TrimSpace(strings.TrimPrefix(r.err.Error(), "error: ")))
	case <-ctx.Done():
		cancel()
		<-r.done
		return scopesession.Info{}, ctx.Err()
	}
}

// stopAll stops every session and waits for each to finish its output.
func (s *servedSessions) stopAll() error {
	s.mu.Lock()
	runs := make([]*servedRun, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	var errs []error
	for _, r := range runs {
		r.cancel()
	}
	for _, r := range runs {
		<-r.done
		if r.err != nil {
			errs = append(errs, fmt.Errorf("session %s: %w", r.info.ID, r.err))
		}
	}
	return errors.Join(errs...)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 { // keep the last output only
		b.b.Reset()
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// servedPlugins runs `scope plugin ...` in this process for the plugin routes.
type servedPlugins struct {
	a   *app
	cmd *cli.Command
}

// plugin runs one plugin subcommand; step gets each line it prints.
func (p *servedPlugins) plugin(ctx context.Context, step func(string), args ...string) (string, error) {
	var out syncBuffer
	w := io.Writer(&out)
	if step != nil {
		w = io.MultiWriter(&out, &lineWriter{fn: step})
	}
	full := append(globalArgs(p.cmd), append([]string{"plugin"}, args...)...)
	err := p.a.inProcess(ctx, full, w, nil)
	return out.String(), err
}

// List is `scope plugin list --json`.
func (p *servedPlugins) List(ctx context.Context, refresh bool) ([]httpapi.Plugin, error) {
	args := []string{"list", "--json"}
	if refresh {
		args = append(args, "--refresh")
	}
	out, err := p.plugin(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Plugins []pluginListEntry `json:"plugins"`
	}
	// Warnings may precede the JSON document on the shared output.
	if i := strings.Index(out, "{"); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("plugin list: %w", err)
	}
	var list []httpapi.Plugin
	for _, e := range doc.Plugins {
		pl := httpapi.Plugin{Name: e.Name, Version: e.Version, Source: describeSource(&e.Plugin), Pipelines: e.Pipelines, Linked: e.Linked}
		if e.Update != nil {
			pl.Update, pl.Latest = e.Update.State, e.Update.Latest
			pl.UpdateAvailable = e.Update.State == "available"
		}
		list = append(list, pl)
	}
	return list, nil
}

// find returns the installed plugin called name.
func (p *servedPlugins) find(ctx context.Context, name string) (httpapi.Plugin, error) {
	list, err := p.List(ctx, false)
	if err != nil {
		return httpapi.Plugin{}, err
	}
	for _, pl := range list {
		if pl.Name == name {
			return pl, nil
		}
	}
	return httpapi.Plugin{}, fmt.Errorf("plugin %s is not installed", name)
}

// Install is `scope plugin install SPEC`.
func (p *servedPlugins) Install(ctx context.Context, spec string, replace bool, step func(string)) (httpapi.Plugin, error) {
	args := []string{"install", spec}
	if replace {
		args = append(args, "--force")
	}
	if p.cmd.Bool("no-sandbox") {
		args = append(args, "--no-sandbox")
	}
	out, err := p.plugin(ctx, step, args...)
	if err != nil {
		return httpapi.Plugin{}, err
	}
	return p.find(ctx, installedName(out))
}

// installedName reads NAME from the "installed NAME VERSION from ..." line of an install (the
// last line that starts so: warnings and notes may mention installed plugins too).
func installedName(out string) string {
	name := ""
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "installed "); ok {
			name, _, _ = strings.Cut(rest, " ")
		}
	}
	return strings.TrimSpace(name)
}

// Uninstall is `scope plugin uninstall NAME`.
func (p *servedPlugins) Uninstall(ctx context.Context, name string, force bool) error {
	args := []string{"uninstall", name}
	if force {
		args = append(args, "--force")
	}
	_, err := p.plugin(ctx, nil, args...)
	return err
}

// Reload is `scope plugin reload NAME`.
func (p *servedPlugins) Reload(ctx context.Context, name string, step func(string)) (httpapi.Plugin, error) {
	if _, err := p.plugin(ctx, step, "reload", name); err != nil {
		return httpapi.Plugin{}, err
	}
	return p.find(ctx, name)
}

// Local is the folder a spec reads from, parsed exactly as install parses it.
func (p *servedPlugins) Local(spec string) (string, error) {
	cwd, _ := os.Getwd() // as `scope plugin install` resolves it
	sp, err := source.Parse(spec, cwd)
	if err != nil {
		return "", err
	}
	switch {
	case sp.Kind == source.KindLocal:
		return sp.Path, nil
	case sp.Kind == source.KindGit && strings.HasPrefix(sp.URL, "file://"):
		return strings.TrimPrefix(sp.URL, "file://"), nil
	}
	return "", nil
}
