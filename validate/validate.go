package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ebitengine/purego"
)

// DefaultTimeout bounds one check when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultSample is how many pipelines get their per-pipeline checks when Options.Sample is
// zero and a library has more: a bridge library may register thousands, and every pipeline
// costs a dozen child processes.
const DefaultSample = 32

// DefaultBudget bounds the per-pipeline checks of one Run when Options.Budget is zero.
const DefaultBudget = 2 * time.Minute

// Progress is what Options.Progress is told after each per-pipeline check.
type Progress struct {
	Done, Total int           // checks finished (or left out) and checks planned
	Pipelines   int           // pipelines the planned checks cover
	Elapsed     time.Duration // since the per-pipeline checks started
}

// DefaultChildArgs returns the arguments that follow os.Executable() in the default
// Options.ChildCommand: the scope binary's hidden command that calls ServeChild.
func DefaultChildArgs() []string { return []string{"plugin", "validate", "--child"} }

// Options configure Run. The zero value validates everything with the defaults below.
type Options struct {
	// Only, when set, reports only the checks whose id it matches (their prerequisites still
	// run, unreported). The zero value (nil) reports every check.
	Only *regexp.Regexp
	// Pipelines, when set, limits the per-pipeline checks to the pipelines whose id it
	// matches (a bridge library may register hundreds). The zero value (nil) checks every
	// pipeline.
	Pipelines *regexp.Regexp
	// Timeout bounds each check; a check still running then is killed and fails as hung.
	// The zero value means DefaultTimeout.
	Timeout time.Duration
	// InProcess runs the checks in the calling process instead of child processes: faster,
	// but a plugin that crashes kills the caller, and a hung check keeps running in the
	// background after it is reported. The zero value (false) uses child processes.
	InProcess bool
	// Threads, when > 0, adds the parallel check: that many independent instances run at
	// once and must give the output they give one at a time. The zero value leaves it out.
	Threads int
	// Jobs is how many checks run at once (each in its own process). The zero value means
	// runtime.NumCPU(). InProcess runs one at a time whatever it says.
	Jobs int
	// ChildCommand is the program and leading arguments that run one check in a child
	// process; Run appends the check's description and the plugin path, and the program
	// must pass those two arguments to ServeChild. The zero value means os.Executable()
	// followed by DefaultChildArgs, which is right for the scope binary only: other programs
	// (tests) set it.
	ChildCommand []string
	// Seed makes the random parameter values reproducible; the zero value means 1.
	Seed uint64
	// Sample, when more pipelines are selected than this, limits the per-pipeline checks to
	// an evenly spaced sample of this many (the first and the last included), which
	// Report.Notes states. The zero value means DefaultSample; a negative value checks every
	// pipeline.
	Sample int
	// Budget bounds the time of the per-pipeline checks: none starts after it, and
	// Report.Notes counts the ones left out (one already running still ends by Timeout). The
	// zero value means DefaultBudget; a negative value sets no bound.
	Budget time.Duration
	// Progress, when set, is called after each per-pipeline check, one call at a time (a
	// terminal's progress line). The zero value reports nothing.
	Progress func(Progress)
}

// Errors returned (wrapped) by Run.
var (
	// ErrNoChild means no child process could be started (see Options.ChildCommand).
	ErrNoChild = errors.New("cannot start a validation child process")
	// ErrOptions means an option is out of range.
	ErrOptions = errors.New("invalid validate options")
)

// withDefaults fills the zero values and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("%w: timeout %v must be positive", ErrOptions, o.Timeout)
	}
	if o.Threads < 0 || o.Threads > 256 {
		return o, fmt.Errorf("%w: threads %d (0..256)", ErrOptions, o.Threads)
	}
	if o.Jobs < 0 {
		return o, fmt.Errorf("%w: jobs %d must be positive", ErrOptions, o.Jobs)
	}
	if o.Jobs == 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.InProcess {
		o.Jobs = 1 // checks in one process would disturb each other's memory measurements
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Sample == 0 {
		o.Sample = DefaultSample
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if !o.InProcess && len(o.ChildCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("%w: %v (set Options.ChildCommand or InProcess)", ErrNoChild, err)
		}
		o.ChildCommand = append([]string{exe}, DefaultChildArgs()...)
	}
	return o, nil
}

// Run validates the plugin library at path and returns the report. The error is non-nil
// only when validation itself could not happen (the file is missing, options are invalid,
// no child process starts, ctx was cancelled); a plugin that fails to load or misbehaves
// gives a report with failures and a nil error.
func Run(ctx context.Context, path string, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("validate %s: is a folder; give the plugin's .so file", path)
	}
	r := &runner{opts: opts, path: path, abs: abs, base: filepath.Base(path)}
	rep := &Report{Plugin: path, Pipelines: []string{}, Results: []Result{}}
	want := func(id string) bool { return opts.Only == nil || opts.Only.MatchString(id) }

	// Library checks, in order; each needs the one before it in its chain.
	done := map[string]outcome{}
	needed := r.needed(want)
	for _, c := range checkTable() {
		if c.level != libraryLevel || !needed[c.id] {
			continue
		}
		start := time.Now()
		o, ok := r.prerequisite(c, done, want)
		if ok {
			o = r.exec(ctx, c, unit{Check: c.id, Seed: opts.Seed})
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("validate %s: %w", path, err)
		}
		if o.fatal != nil {
			return nil, o.fatal
		}
		done[c.id] = o
		if want(c.id) && o.Status != notApplicable {
			rep.Results = append(rep.Results, Result{Check: c.id, Subject: r.base, Status: o.Status, Reason: o.Reason, Duration: time.Since(start)})
		}
	}

	pl := done["descriptor"].Plan
	if pl == nil {
		// Nothing per pipeline can run; say so once per selected check.
		why := r.blocked(done, want)
		for _, c := range checkTable() {
			if c.level != libraryLevel && want(c.id) && (c.id != "parallel" || opts.Threads > 0) {
				rep.Results = append(rep.Results, Result{Check: c.id, Subject: r.base, Status: Skip, Reason: why})
			}
		}
		return rep, nil
	}
	rep.Name, rep.Version = pl.Name, pl.Version
	rep.Notes = append(rep.Notes, pl.Notes...)
	for _, p := range pl.Pipelines {
		rep.Pipelines = append(rep.Pipelines, p.ID)
	}
	if err := r.pipelineChecks(ctx, pl, want, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// runner carries one Run's settings.
type runner struct {
	opts Options
	path string // as given
	abs  string
	base string // file name, the subject of library checks
}

// needed returns the library checks that must run: the selected ones and every
// prerequisite of a selected check (per-pipeline checks need the descriptor chain).
func (r *runner) needed(want func(string) bool) map[string]bool {
	byID := map[string]checkDef{}
	for _, c := range checkTable() {
		byID[c.id] = c
	}
	need := map[string]bool{}
	var add func(id string)
	add = func(id string) {
		if id == "" || need[id] {
			return
		}
		need[id] = true
		add(byID[id].needs)
	}
	for _, c := range checkTable() {
		if !want(c.id) {
			continue
		}
		if c.level == libraryLevel {
			add(c.id)
		} else {
			add("descriptor")
		}
	}
	return need
}

// prerequisite returns ok when c's prerequisite passed (or warned); otherwise a skip
// outcome naming the check that stopped it.
func (r *runner) prerequisite(c checkDef, done map[string]outcome, want func(string) bool) (outcome, bool) {
	if c.needs == "" {
		return outcome{}, true
	}
	o := done[c.needs]
	if o.Status == Pass || o.Status == Warn {
		return outcome{}, true
	}
	return outcome{Status: Skip, Reason: r.because(c.needs, o, want)}, false
}

// because explains a skip caused by check id's outcome o.
func (r *runner) because(id string, o outcome, want func(string) bool) string {
	if o.Status == Skip {
		return o.Reason
	}
	if want(id) {
		return fmt.Sprintf("not run: %s failed", id)
	}
	return fmt.Sprintf("not run: %s failed: %s", id, o.Reason)
}

// blocked explains why no pipeline check could run.
func (r *runner) blocked(done map[string]outcome, want func(string) bool) string {
	o, ok := done["descriptor"]
	if !ok {
		return "not run: the library does not load"
	}
	why := r.because("descriptor", o, want)
	if o.Status == Skip {
		return why
	}
	return why + " (the library does not load)"
}

// cudaState says why the checks on CUDA memory are skipped on this machine.
func cudaState() string {
	h, err := purego.Dlopen("libcuda.so.1", purego.RTLD_LAZY|purego.RTLD_LOCAL)
	if err != nil {
		return "no CUDA driver on this machine (libcuda.so.1 not found)"
	}
	purego.Dlclose(h)
	return "CUDA frames are not validated yet (the loader passes host frames only)"
}

// declaredNondeterministic is the reason checks that compare identical runs are skipped for a
// pipeline whose output depends on randomness or wall time by design.
const declaredNondeterministic = "declared SCOPE_PIPELINE_NONDETERMINISTIC"

// samplePipelines picks n evenly spaced pipelines of ps, the first and the last included;
// all of them when n is negative or not smaller.
func samplePipelines(ps []planPipeline, n int) []planPipeline {
	if n < 0 || n >= len(ps) {
		return ps
	}
	if n == 1 {
		return ps[:1]
	}
	out := make([]planPipeline, n)
	for i := range out {
		out[i] = ps[i*(len(ps)-1)/(n-1)]
	}
	return out
}

// pipelineChecks runs every per-pipeline check for every selected pipeline (a sample of them
// beyond Options.Sample), mode and memory kind of the plan, opts.Jobs at a time in plan order
// until Options.Budget runs out, and adds the results (in plan order) and notes to rep.
func (r *runner) pipelineChecks(ctx context.Context, pl *plan, want func(string) bool, rep *Report) error {
	type job struct {
		c      checkDef
		u      unit
		res    Result
		notRun bool // the budget ran out before it started
	}
	var selected []planPipeline
	for _, p := range pl.Pipelines {
		if r.opts.Pipelines == nil || r.opts.Pipelines.MatchString(p.ID) {
			selected = append(selected, p)
		}
	}
	sample := samplePipelines(selected, r.opts.Sample)
	if len(sample) < len(selected) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("checked a sample of %d of %d pipelines, evenly spaced (--sample 0 checks every one, --pipeline picks which)", len(sample), len(selected)))
	}
	var jobs []*job
	cuda := ""
	for _, p := range sample {
		for _, c := range checkTable() {
			if !want(c.id) || (c.id == "parallel" && r.opts.Threads == 0) {
				continue
			}
			switch c.level {
			case pipelineLevel:
				u := unit{Check: c.id, Pipeline: p.ID, Seed: r.opts.Seed}
				jobs = append(jobs, &job{c: c, u: u, res: Result{Check: c.id, Subject: p.ID, Pipeline: p.ID}})
			case modeLevel:
				for _, m := range p.Modes {
					for _, mem := range p.Memory {
						u := unit{Check: c.id, Pipeline: p.ID, Mode: m, Memory: mem, Threads: r.opts.Threads, Seed: r.opts.Seed}
						j := &job{c: c, u: u, res: Result{Check: c.id, Subject: p.subject(m, mem), Pipeline: p.ID, Mode: m, Memory: mem}}
						if mem == "cuda" {
							if cuda == "" {
								cuda = cudaState()
							}
							j.res.Status, j.res.Reason = Skip, cuda
						} else if c.compares && p.Nondeterministic {
							j.res.Status, j.res.Reason = Skip, declaredNondeterministic
						}
						jobs = append(jobs, j)
					}
				}
			}
		}
	}
	var todo []*job
	for _, j := range jobs {
		if j.res.Status == "" {
			todo = append(todo, j)
		}
	}
	outer := ctx
	ctx, cancel := context.WithCancel(ctx) // a fatal error stops the other jobs
	defer cancel()
	start := time.Now()
	var deadline time.Time
	if r.opts.Budget > 0 {
		deadline = start.Add(r.opts.Budget)
	}
	queue := make(chan *job)
	go func() {
		defer close(queue)
		for _, j := range todo {
			queue <- j
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fatal error
	done := 0
	for w := 0; w < r.opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				if ctx.Err() != nil {
					continue
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					j.notRun = true
				} else {
					t0 := time.Now()
					var o outcome
					if j.c.parent != nil {
						o = runParent(j.c, r.abs, pl.pipeline(j.u.Pipeline))
					} else {
						o = r.exec(ctx, j.c, j.u)
					}
					if o.fatal != nil {
						mu.Lock()
						fatal = o.fatal
						mu.Unlock()
						cancel()
					}
					j.res.Status, j.res.Reason, j.res.Duration = o.Status, o.Reason, time.Since(t0)
				}
				mu.Lock()
				done++
				if r.opts.Progress != nil {
					r.opts.Progress(Progress{Done: done, Total: len(todo), Pipelines: len(sample), Elapsed: time.Since(start)})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fatal != nil {
		return fatal
	}
	if err := outer.Err(); err != nil {
		return fmt.Errorf("validate %s: %w", r.path, err)
	}
	notRun, short := 0, map[string]bool{}
	checked := map[string]bool{}
	for _, j := range jobs {
		switch {
		case j.notRun:
			notRun++
			short[j.u.Pipeline] = true
		case j.res.Status != notApplicable:
			rep.Results = append(rep.Results, j.res)
			checked[j.u.Pipeline] = true
		}
	}
	rep.Checked = len(checked)
	if notRun > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the time budget of %v ran out: %d of %d checks did not run, on %d pipelines (--budget raises it, --pipeline or --only narrows the run)", r.opts.Budget, notRun, len(todo), len(short)))
	}
	return nil
}

// exec runs one child-side check: in a child process, or here with InProcess.
func (r *runner) exec(ctx context.Context, c checkDef, u unit) outcome {
	if c.parent != nil {
		return runParent(c, r.abs, nil)
	}
	if r.opts.InProcess {
		return r.inProcess(ctx, u)
	}
	return r.spawn(ctx, u)
}

// runParent runs a check that reads files or descriptors only, turning a panic (a malformed
// ELF file...) into a failure that says so.
func runParent(c checkDef, path string, p *planPipeline) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = fail("validator error: panic: %v", v)
		}
	}()
	return c.parent(path, p)
}

// inProcess runs the check on a goroutine of this process and gives up waiting after the
// timeout (the goroutine may stay blocked in the plugin for good).
func (r *runner) inProcess(ctx context.Context, u unit) outcome {
	tr := &memTracer{}
	done := make(chan outcome, 1)
	go func() { done <- runUnit(ctx, u, r.abs, tr) }()
	timer := time.NewTimer(r.opts.Timeout)
	defer timer.Stop()
	select {
	case o := <-done:
		return o
	case <-timer.C:
		step, log := tr.last()
		return outcome{Status: Fail, Reason: fmt.Sprintf("hung for %v in %s%s (the call is still running: --in-process cannot stop it)", r.opts.Timeout, step, logSuffix(log, ""))}
	case <-ctx.Done():
		return outcome{Status: Skip, Reason: "cancelled"}
	}
}

// subject names a pipeline in one mode and memory kind for the report; the mode and memory
// appear only where the pipeline has a choice (or the memory is not host).
func (p planPipeline) subject(mode, memory string) string {
	var parts []string
	if len(p.Modes) > 1 {
		parts = append(parts, mode)
	}
	if len(p.Memory) > 1 || memory != "host" {
		parts = append(parts, memory)
	}
	if len(parts) == 0 {
		return p.ID
	}
	return p.ID + " (" + strings.Join(parts, ", ") + ")"
}
