package command

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/plugins/hotswap"
	"github.com/scopenative/scope/plugins/store"
	"github.com/scopenative/scope/plugins/watch"
	scopesession "github.com/scopenative/scope/session"
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
func (a *app) startReload(ctx context.Context, cmd *cli.Command, eng *engine.Engine, host *scopesession.Host) *reloadRun {
	r := &reloadRun{swapper: hotswap.New(eng, loader.Options{Logger: a.logger(cmd)}, func(msg string) {
		fmt.Fprintf(a.io.Err, "%s\n", msg)
	})}
	if host != nil {
		r.swapper.Register(host.Server())
	}
	ctx, r.cancel = context.WithCancel(ctx)
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
	p := newProgress(a.io.Err)
	m, err := a.pluginManager(cmd, p)
	if err != nil {
		p.Done()
		fmt.Fprintf(a.io.Err, "warning: --watch: %v\n", err)
		return
	}
	st, err := m.Installed()
	var old *store.Plugin
	if err == nil {
		old = st.Find(name)
	}
	if old == nil {
		p.Done()
		fmt.Fprintf(a.io.Err, "warning: --watch: plugin %s is no longer installed\n", name)
		return
	}
	pipelines := slices.Clone(old.Pipelines)
	res, err := m.Reload(ctx, name)
	p.Done()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		_, _ = sw.Apply(ctx, hotswap.Request{Plugin: name, Pipelines: pipelines, Error: err.Error()})
		return
	}
	_, _ = sw.Apply(ctx, hotswap.Request{Plugin: name, Library: res.Library, Pipelines: pipelines, StoreDir: storeDir})
}
