// Package manager installs, updates, reloads and uninstalls plugins as transactions over
// the plugin store: fetch the package into a staging folder (or use a linked folder in
// place), show what will be built and how, build it (in a sandbox where one is given),
// validate the built library in a child process, check its pipeline ids against the
// installed plugins, then commit the library and the new state atomically. Any failure
// before the commit leaves the store and plugins.json exactly as they were.
package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/plugins/build"
	"github.com/scopenative/scope/plugins/index"
	"github.com/scopenative/scope/plugins/manifest"
	"github.com/scopenative/scope/plugins/source"
	"github.com/scopenative/scope/plugins/store"
)

// Validated is what validation learned about a built library.
type Validated struct {
	// Pipelines are the ids the library registers.
	Pipelines []string
	// Version is the library's version as the plugin reports it (may be empty).
	Version string
}

// ValidateFunc validates the library at path, out of process, and returns its pipelines.
type ValidateFunc func(ctx context.Context, path string) (*Validated, error)

// Options configure a Manager.
type Options struct {
	// Store is the plugin store.
	Store *store.Store
	// SDK finds the Scope SDK handed to builds (called once per build).
	SDK func() (build.SDK, error)
	// Validate checks a built library in a child process. Required.
	Validate ValidateFunc
	// Index is the plugin index location (URL or path); empty means none configured.
	Index string
	// Cwd resolves relative folders in specs.
	Cwd string
	// BuildEnv is the environment of build tools (os.Environ() when nil).
	BuildEnv []string
	// Step, when set, is told each step ("fetch https://...", "build: compile (cmake --build)").
	Step func(string)
	// Log, when set, receives the build tools' full output as it comes (--verbose).
	Log io.Writer
	// Plan, when set, is shown what a transaction is about to build (source, commit, the
	// build's commands, the sandbox) before anything of the package runs.
	Plan func(Plan)
	// Sandbox runs builds confined (see build.Sandbox); nil runs them unsandboxed, for the
	// reason in Unsandboxed.
	Sandbox *build.Sandbox
	// Unsandboxed says why Sandbox is nil ("turned off with --no-sandbox", "bwrap is not
	// installed ..."), for the plan.
	Unsandboxed string
	// CheckTimeout bounds each update check (default 5 s).
	CheckTimeout time.Duration
	// CacheTTL is how long update checks are cached (default 10 minutes; negative: never).
	CacheTTL time.Duration
	// Now returns the time (time.Now when nil).
	Now func() time.Time

	quickBuilds bool // set by WithQuickBuilds
}

// Manager runs plugin transactions.
type Manager struct {
	o Options
}

// New returns a manager.
func New(o Options) *Manager {
	if o.CheckTimeout == 0 {
		o.CheckTimeout = 5 * time.Second
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{o: o}
}

// WithValidate returns a manager like m that validates built libraries with v instead (the
// quick checks of `scope run --watch`).
func (m *Manager) WithValidate(v ValidateFunc) *Manager {
	o := m.o
	o.Validate = v
	return &Manager{o: o}
}

// WithQuickBuilds returns a manager like m whose builds are quick to compile rather than
// quickest to run (build.Request.Quick): the edit-reload loop of `scope run --watch`.
func (m *Manager) WithQuickBuilds() *Manager {
	o := m.o
	o.quickBuilds = true
	return &Manager{o: o}
}

// Store returns the manager's store.
func (m *Manager) Store() *store.Store { return m.o.Store }

func (m *Manager) step(format string, args ...any) {
	if m.o.Step != nil {
		m.o.Step(fmt.Sprintf(format, args...))
	}
}

// Plan is what a transaction is about to build, shown before the build runs.
type Plan struct {
	// Name is the package's name (from its manifest).
	Name string
	// Source is where the package comes from; for git sources Commit is the commit
	// checked out.
	Source store.Source
	// Commands are the build's command lines, in order.
	Commands []build.Command
	// Sandboxed is true when the build runs in the sandbox; Sandbox describes it, or says
	// why the build runs unsandboxed.
	Sandboxed bool
	Sandbox   string
}

// Result is what a transaction changed.
type Result struct {
	// Plugin is the plugin as committed (nil when nothing changed).
	Plugin *store.Plugin
	// Previous is the plugin it replaced or removed (nil for a fresh install).
	Previous *store.Plugin
	// Changed is false when an update found nothing newer.
	Changed bool
	// Library is the absolute path of the committed library.
	Library string
	// Notes are things the user should know about what was done (a bare name that is also
	// a folder here, a pin that stays where it is).
	Notes []string
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Replace allows installing over an installed plugin of the same name.
	Replace bool
}

// ErrAlreadyInstalled is wrapped when Install meets an installed plugin of the same name.
var ErrAlreadyInstalled = errors.New("already installed")

// ErrNotInstalled is wrapped when a name is not installed.
var ErrNotInstalled = errors.New("not installed")

// Install fetches, builds, validates and commits the plugin package named by spec.
func (m *Manager) Install(ctx context.Context, spec string, opts InstallOptions) (*Result, error) {
	sp, err := source.Parse(spec, m.o.Cwd)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = m.transact(func(st *store.State, stage string) error {
		r, err := m.install(ctx, st, stage, sp, func(name string) error {
			if old := st.Find(name); old != nil && !opts.Replace {
				return fmt.Errorf("plugin %s is %w (version %s from %s); use 'scope plugin update %s', or --force to replace it with %s",
					name, ErrAlreadyInstalled, old.Version, old.Source.Spec, name, sp)
			}
			return nil
		})
		res = r
		return err
	})
	if sp.Note != "" {
		if err != nil {
			return res, fmt.Errorf("%w\nnote: %s", err, sp.Note)
		}
		res.Notes = append(res.Notes, sp.Note)
	}
	return res, err
}

// transact runs fn with the lock held, the committed state and a fresh staging folder,
// after removing what killed transactions left behind.
func (m *Manager) transact(fn func(st *store.State, stage string) error) error {
	lock, err := m.o.Store.TryLock()
	if err != nil {
		return err
	}
	defer lock.Unlock()
	st, err := m.o.Store.Load()
	if err != nil {
		return err
	}
	m.o.Store.Collect(st)
	stage, err := m.o.Store.Stage()
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	return fn(st, stage)
}

// install is one install/update/reload inside a transaction. check vets the package name
// before anything is built.
func (m *Manager) install(ctx context.Context, st *store.State, stage string, sp source.Spec, check func(name string) error) (*Result, error) {
	src, srcInfo, err := m.fetch(ctx, sp, stage)
	if err != nil {
		return nil, err
	}
	man, err := manifest.Load(src, sp.RepoName())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sp, err)
	}
	if sp.Kind == source.KindIndex && man.Name != sp.Name {
		return nil, fmt.Errorf("plugin index %s: entry %q points at %s, whose %s names the package %q: refusing it, an index entry must point at the package of its own name",
			srcInfo.Index, sp.Name, describeGit(srcInfo), manifest.FileName, man.Name)
	}
	if err := check(man.Name); err != nil {
		return nil, err
	}
	if major, _ := man.ABIMajor(); major != 0 && major != abi.VersionMajor {
		return nil, fmt.Errorf("%s targets plugin ABI %d; this scope runs ABI %d", man.Name, major, abi.VersionMajor)
	}
	sdk, err := m.o.SDK()
	if err != nil {
		return nil, err
	}
	work := filepath.Join(stage, "work")
	linked := sp.Kind == source.KindLocal
	if linked { // an editable plugin keeps its build tree: reloads build incrementally
		work = filepath.Join(m.o.Store.Dir, store.CacheDir, "build", man.Name)
	}
	out := filepath.Join(stage, man.Name+".so")
	plan, err := build.NewPlan(build.Request{
		Src: src, Work: work, Out: out, Manifest: man, SDK: sdk, Env: m.o.BuildEnv, Log: m.o.Log,
		Step: func(s string) { m.step("build %s: %s", man.Name, s) }, Sandbox: m.o.Sandbox,
		Quick: m.o.quickBuilds,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", man.Name, err)
	}
	if m.o.Plan != nil {
		shown := Plan{Name: man.Name, Source: srcInfo, Commands: plan.Commands, Sandboxed: m.o.Sandbox != nil, Sandbox: m.o.Unsandboxed}
		if m.o.Sandbox != nil {
			shown.Sandbox = m.o.Sandbox.Describe(plan.Writable())
		}
		m.o.Plan(shown)
	}
	m.step("build %s with %s", man.Name, man.Build.System)
	if err := plan.Run(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", man.Name, err)
	}
	m.step("validate %s", man.Name)
	val, err := m.o.Validate(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("%s: the built library failed validation, nothing was installed: %w", man.Name, err)
	}
	if len(val.Pipelines) == 0 {
		return nil, fmt.Errorf("%s: the built library registers no pipelines, nothing was installed", man.Name)
	}
	for _, id := range val.Pipelines {
		if owner := st.Owner(id); owner != nil && owner.Name != man.Name {
			return nil, fmt.Errorf("%s (%s) provides pipeline %q, which installed plugin %s (%s) already provides; uninstall %s or rename the pipeline",
				man.Name, sp, id, owner.Name, owner.Source.Spec, owner.Name)
		}
	}
	sum, err := fileSHA256(out)
	if err != nil {
		return nil, err
	}
	version := man.Version
	if version == "" {
		version = val.Version
	}
	p := store.Plugin{
		Name: man.Name, Version: version, Description: man.Description, ABI: abi.VersionMajor,
		Source: srcInfo, Linked: linked, Build: man.Build.System, SHA256: sum,
		Pipelines: val.Pipelines, InstalledAt: m.o.Now().UTC().Truncate(time.Second),
	}
	tag := srcInfo.Commit
	if tag == "" {
		tag = sum
	}
	p.Library = store.UniqueName(man.Name, tag)
	m.step("commit %s: library", man.Name)
	if err := m.o.Store.AddLibrary(out, p.Library); err != nil {
		return nil, err
	}
	next := st.Clone()
	var prev *store.Plugin
	if old := st.Find(man.Name); old != nil {
		o := *old
		prev = &o
	}
	next.Put(p)
	m.step("commit %s: state", man.Name)
	if err := m.o.Store.Commit(next); err != nil {
		_ = os.Remove(m.o.Store.LibPath(p.Library))
		return nil, err
	}
	m.o.Store.Collect(next)
	return &Result{Plugin: &p, Previous: prev, Changed: true, Library: m.o.Store.LibPath(p.Library)}, nil
}

// fetch makes the package's sources available: a clone in the staging folder, or the
// linked folder itself.
func (m *Manager) fetch(ctx context.Context, sp source.Spec, stage string) (string, store.Source, error) {
	info := store.Source{Kind: sp.Kind, Spec: sp.String()}
	url, ref := sp.URL, sp.Ref
	switch sp.Kind {
	case source.KindLocal:
		info.Path = sp.Path
		return sp.Path, info, nil
	case source.KindIndex:
		m.step("resolve %s in the plugin index", sp)
		ix, err := index.Load(ctx, m.o.Index)
		if err != nil {
			return "", info, err
		}
		v, err := ix.Resolve(sp.Name, sp.Version)
		if err != nil {
			return "", info, err
		}
		url, ref, info.Index = v.Git, v.Ref, ix.Location
		if info.Spec = sp.Name; sp.Version != "" {
			info.Spec = sp.Name + "==" + v.Version
		}
	}
	m.step("fetch %s", source.Spec{Kind: source.KindGit, URL: url, Ref: ref})
	co, err := source.Clone(ctx, url, ref, filepath.Join(stage, "src"), nil)
	if err != nil {
		return "", info, err
	}
	info.URL, info.RefKind, info.Ref, info.Commit = url, co.RefKind, co.Ref, co.Commit
	return co.Dir, info, nil
}

// describeGit is a git source as url@ref, or its URL alone.
func describeGit(s store.Source) string {
	if s.Ref != "" {
		return s.URL + "@" + s.Ref
	}
	return s.URL
}

// Update brings a plugin to the newest build its source allows, as CheckUpdates sees it (see
// the update states for what each kind of source follows): it installs only when the
// check says an update is available (or could not tell); a pinned, linked or up-to-date
// plugin is left as it is, with Changed false and a note saying why.
func (m *Manager) Update(ctx context.Context, name string) (*Result, error) {
	var res *Result
	err := m.transact(func(st *store.State, stage string) error {
		old := st.Find(name)
		if old == nil {
			return notInstalled(name, st)
		}
		sp, err := respec(old)
		if err != nil {
			return err
		}
		if !old.Linked {
			m.step("check %s", old.Source.Spec)
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		status := m.check(cctx, *old, func(ctx context.Context) (*index.Index, error) { return index.Load(ctx, m.o.Index) })
		cancel()
		if status.State != UpdateAvailable && status.State != UpdateUnknown {
			o := *old
			res = &Result{Plugin: &o, Previous: &o, Library: m.o.Store.LibPath(o.Library), Notes: []string{status.Describe()}}
			return nil
		}
		if status.State == UpdateAvailable && sp.Kind == source.KindIndex {
			sp.Version = "" // the newest, as checked (a pin is never UpdateAvailable)
		}
		r, err := m.install(ctx, st, stage, sp, func(got string) error {
			if got != name {
				return fmt.Errorf("the package at %s is now named %s, not %s; uninstall %s and install it again", sp, got, name, name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if r.Previous != nil && r.Previous.Source.Commit == r.Plugin.Source.Commit && r.Previous.Version == r.Plugin.Version {
			r.Changed = false
			r.Notes = append(r.Notes, UpdateStatus{State: UpToDate}.Describe())
		}
		res = r
		return nil
	})
	return res, err
}

// respec turns an installed plugin's source back into a spec to fetch it again.
func respec(p *store.Plugin) (source.Spec, error) {
	switch p.Source.Kind {
	case source.KindLocal:
		return source.Spec{Kind: source.KindLocal, Path: p.Source.Path}, nil
	case source.KindIndex:
		name, version, _ := strings.Cut(p.Source.Spec, "==")
		return source.Spec{Kind: source.KindIndex, Name: name, Version: version}, nil
	case source.KindGit:
		ref := p.Source.Ref
		if p.Source.RefKind == source.RefDefault {
			ref = ""
		}
		return source.Spec{Kind: source.KindGit, URL: p.Source.URL, Ref: ref}, nil
	}
	return source.Spec{}, fmt.Errorf("plugin %s: unknown source kind %q in %s", p.Name, p.Source.Kind, store.StateFile)
}

// Reload rebuilds a linked plugin from its folder, validates it and commits it. It refuses
// plugins that are not linked.
func (m *Manager) Reload(ctx context.Context, name string) (*Result, error) {
	var res *Result
	err := m.transact(func(st *store.State, stage string) error {
		old := st.Find(name)
		if old == nil {
			return notInstalled(name, st)
		}
		if !old.Linked {
			return fmt.Errorf("plugin %s is installed from %s, not linked to a folder: use 'scope plugin update %s' (reload rebuilds linked plugins)", name, old.Source.Spec, name)
		}
		r, err := m.install(ctx, st, stage, source.Spec{Kind: source.KindLocal, Path: old.Source.Path}, func(got string) error {
			if got != name {
				return fmt.Errorf("the package in %s is now named %s, not %s; uninstall %s and install it again", old.Source.Path, got, name, name)
			}
			return nil
		})
		res = r
		return err
	})
	return res, err
}

// Uninstall removes the plugin from the state, then its library file.
func (m *Manager) Uninstall(ctx context.Context, name string) (*Result, error) {
	var res *Result
	err := m.transact(func(st *store.State, stage string) error {
		old := st.Find(name)
		if old == nil {
			return notInstalled(name, st)
		}
		o := *old
		next := st.Clone()
		next.Remove(name)
		m.step("commit: remove %s", name)
		if err := m.o.Store.Commit(next); err != nil {
			return err
		}
		m.o.Store.Collect(next)
		if o.Linked {
			_ = os.RemoveAll(filepath.Join(m.o.Store.Dir, store.CacheDir, "build", name))
		}
		res = &Result{Previous: &o, Changed: true}
		return nil
	})
	return res, err
}

// Installed returns the committed state (no lock needed: commits are atomic renames).
func (m *Manager) Installed() (*store.State, error) { return m.o.Store.Load() }

func notInstalled(name string, st *store.State) error {
	if len(st.Plugins) == 0 {
		return fmt.Errorf("plugin %s is %w (no plugins are installed)", name, ErrNotInstalled)
	}
	return fmt.Errorf("plugin %s is %w (installed: %s)", name, ErrNotInstalled, strings.Join(st.Names(), ", "))
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
