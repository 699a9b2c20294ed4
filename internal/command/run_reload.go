package command

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/plugins/hotswap"
	"github.com/scopenative/scope/plugins/manager"
	"github.com/scopenative/scope/plugins/store"
	"github.com/scopenative/scope/plugins/watch"
	sessionhost "github.com/scopenative/scope/session/host"
)

// watchFlag is `scope run --watch`.
func watchFlag() cli.Flag {
	return &cli.BoolFlag{Name: "watch", Usage: "rebuild the linked plugins of the chain when their sources change, and hot-swap them"}
}

// reloadRun is the plugin manager's part of `scope run`: the session's reload operation
// (what `scope plugin reload` calls) and, with --watch, the rebuild-on-save loop.
type reloadRun struct {
	swapper *hotswap.Swapper
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startReload registers the reload operation on the session (host may be nil when the run
// has no session) and starts watching with --watch.
func (a *app) startReload(ctx context.Context, cmd *cli.Command, eng *engine.Engine, host *sessionhost.Host) *reloadRun {
	r := &reloadRun{swapper: hotswap.New(eng, loader.Options{Logger: a.logger(cmd)}, func(msg string) {
		fmt.Fprintf(a.io.Err, "%s\n", msg)
	})}
	r.swapper.SetRebuilder(a.stageRebuilder(cmd, eng))
	if host != nil {
		r.swapper.Register(host.Server())
	}
	ctx, r.cancel = context.WithCancel(ctx)
	a.warnHidden(cmd, eng)
	if cmd.Bool("watch") {
		a.startWatch(ctx, cmd, eng, r)
	}
	return r
}

// Close stops watching and releases what hot swaps loaded. Call it after the engine's Run.
func (r *reloadRun) Close() {
	r.cancel()
	r.wg.Wait()
	r.swapper.Close()
}

// startWatch watches the folders of the linked plugins that the chain runs from the store.
func (a *app) startWatch(ctx context.Context, cmd *cli.Command, eng *engine.Engine, r *reloadRun) {
	dir := a.dataDir()
	st, err := store.New(dir).Load()
	if err != nil {
		fmt.Fprintf(a.io.Err, "warning: --watch: %v\n", err)
		return
	}
	storeDir := filepath.Join(dir, store.LibDir)
	byDir := map[string]string{} // source folder -> plugin name
	var dirs []string
	for _, in := range eng.Instances() {
		id := in.Pipeline().ID
		pl := st.Owner(id)
		if pl == nil || filepath.Dir(in.File()) != storeDir {
			continue
		}
		if !pl.Linked {
			fmt.Fprintf(a.io.Err, "--watch: %s comes from %s, not a linked folder; it is not watched\n", id, pl.Source.Spec)
			continue
		}
		if _, ok := byDir[pl.Source.Path]; !ok {
			byDir[pl.Source.Path] = pl.Name
			dirs = append(dirs, pl.Source.Path)
		}
	}
	if len(dirs) == 0 {
		fmt.Fprintln(a.io.Err, "--watch: no pipeline of the chain comes from a linked plugin (install a folder with 'scope plugin install ./folder'); nothing to watch")
		return
	}
	for _, d := range dirs {
		fmt.Fprintf(a.io.Err, "watching %s (plugin %s)\n", d, byDir[d])
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		watch.Watch(ctx, dirs, watch.Options{}, func(d string) {
			a.watchRebuild(ctx, cmd, r.swapper, byDir[d], storeDir)
		})
	}()
}

// watchRebuild rebuilds one linked plugin and swaps it into this run.
func (a *app) watchRebuild(ctx context.Context, cmd *cli.Command, sw *hotswap.Swapper, name, storeDir string) {
	fmt.Fprintf(a.io.Err, "change in %s: rebuilding\n", name)
	req, err := a.rebuildRequest(ctx, cmd, name, storeDir, validateQuick(false), true)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		fmt.Fprintf(a.io.Err, "warning: --watch: %v\n", err)
		return
	}
	res, err := sw.Apply(ctx, req)
	if err != nil || len(res.Swapped) == 0 || req.Library == "" {
		return
	}
	// The quick checks passed and the new build runs: now the rest of the validation, which
	// `scope plugin install` and `reload` run before they swap.
	if _, err := validateForInstall(false)(ctx, req.Library); err != nil && ctx.Err() == nil {
		fmt.Fprintf(a.io.Err, "warning: --watch: the new build of %s, now running, fails the full validation (the quick checks before the swap passed); fix it and save again:\n%v\n", name, err)
	}
}

// rebuildRequest rebuilds the linked plugin name as `scope plugin reload` does (validating
// the build with validate; quick: a build quick to compile, for --watch, see
// build.Request.Quick) and returns the request that swaps it in (with Error set when the
// build or validation failed). err is set only when there is nothing to rebuild (the manager
// is unusable, the plugin is gone).
func (a *app) rebuildRequest(ctx context.Context, cmd *cli.Command, name, storeDir string, validate manager.ValidateFunc, quick bool) (hotswap.Request, error) {
	p := newProgress(a.io.Err)
	defer p.Done()
	m, err := a.pluginManager(cmd, p)
	if err != nil {
		return hotswap.Request{}, err
	}
	m = m.WithValidate(validate)
	if quick {
		m = m.WithQuickBuilds()
	}
	st, err := m.Installed()
	var old *store.Plugin
	if err == nil {
		old = st.Find(name)
	}
	if old == nil {
		return hotswap.Request{}, fmt.Errorf("plugin %s is no longer installed", name)
	}
	pipelines := slices.Clone(old.Pipelines)
	res, err := m.Reload(ctx, name)
	if err != nil {
		return hotswap.Request{Plugin: name, Pipelines: pipelines, Error: err.Error()}, nil
	}
	return hotswap.Request{Plugin: name, Library: res.Library, Pipelines: pipelines, StoreDir: storeDir}, nil
}

// stageRebuilder is the session's hotswap.Rebuilder: a stage that runs a linked plugin from
// the store is rebuilt from its folder (the preview's R key then does what `scope plugin
// reload` does); any other library is left to be reloaded as it is.
func (a *app) stageRebuilder(cmd *cli.Command, eng *engine.Engine) hotswap.Rebuilder {
	return func(ctx context.Context, stage int, lib string) (hotswap.Request, bool, error) {
		dir := a.dataDir()
		if dir == "" {
			return hotswap.Request{}, false, nil
		}
		storeDir := filepath.Join(dir, store.LibDir)
		if filepath.Dir(lib) != storeDir {
			return hotswap.Request{}, false, nil
		}
		st, err := store.New(dir).Load()
		if err != nil {
			return hotswap.Request{}, false, nil
		}
		owner := st.Owner(eng.Instances()[stage].Pipeline().ID)
		if owner == nil || !owner.Linked {
			return hotswap.Request{}, false, nil
		}
		fmt.Fprintf(a.io.Err, "reload of stage %d requested: rebuilding %s\n", stage, owner.Name)
		req, err := a.rebuildRequest(ctx, cmd, owner.Name, storeDir, validateForInstall(false), false)
		if err == nil && req.Error != "" {
			err = errors.New(req.Error)
		}
		req.Plugin = owner.Name
		return req, true, err
	}
}

// warnHidden says, for each stage whose pipeline an installed plugin provides but which runs
// from another library found first on the search path, which file runs and why.
func (a *app) warnHidden(cmd *cli.Command, eng *engine.Engine) {
	dir := a.dataDir()
	if dir == "" {
		return
	}
	st, err := store.New(dir).Load()
	if err != nil {
		return
	}
	storeDir := filepath.Join(dir, store.LibDir)
	for _, in := range eng.Instances() {
		p := in.Pipeline()
		// in.File, not p.Library(): an isolated instance's library is loaded in its child.
		if pl := st.Owner(p.ID); pl != nil && filepath.Dir(in.File()) != storeDir {
			fmt.Fprintf(a.io.Err, "warning: %s\n", a.hiddenNote(cmd, *pl, p.ID, in.File()))
		}
	}
}
