package validate

import (
	"fmt"
	"regexp"
	"time"

	"github.com/scopenative/scope/loader"
)

// Check describes one check for help texts and documentation.
type Check struct {
	ID string
	// Level is "library", "pipeline" (once per pipeline) or "mode" (once per pipeline, mode
	// and memory kind).
	Level string
	// Doc says in one line what the check verifies.
	Doc string
}

// Checks lists every check in the order Run runs and reports them.
func Checks() []Check {
	var out []Check
	for _, c := range checkTable() {
		out = append(out, Check{ID: c.id, Level: c.level.String(), Doc: c.doc})
	}
	return out
}

// level is what one run of a check covers.
type level int

const (
	libraryLevel  level = iota // the library as a whole
	pipelineLevel              // one pipeline
	modeLevel                  // one pipeline in one mode and memory kind
)

func (l level) String() string {
	return [...]string{"library", "pipeline", "mode"}[l]
}

// checkDef is one check: exactly one of run (in the child, or in process) and parent (in
// the validator itself; only for checks that never call into the plugin) is set.
type checkDef struct {
	id    string
	level level
	// needs is the library check that must pass (or warn) first. Pipeline and mode checks
	// all need "descriptor", which finds the pipelines.
	needs string
	// compares is set for mode checks that only compare the outputs of identical runs: they
	// are skipped for pipelines declaring SCOPE_PIPELINE_NONDETERMINISTIC. (parallel compares
	// too, but also finds crashes and errors under concurrency, so it runs without comparing.)
	compares bool
	doc      string
	run      func(e *env) outcome
	parent   func(path string, p *planPipeline) outcome
}

// checkTable returns every check in run order.
func checkTable() []checkDef {
	return []checkDef{
		{id: "dlopen", level: libraryLevel, run: checkDlopen,
			doc: "the library loads with RTLD_NOW|RTLD_LOCAL (every symbol resolved) and has scope_plugin_entry"},
		{id: "exports", level: libraryLevel, needs: "dlopen", parent: checkExports,
			doc: "the library exports no symbol besides scope_plugin_entry (warning)"},
		{id: "abi-version", level: libraryLevel, needs: "dlopen", run: checkABIVersion,
			doc: "scope_plugin_entry returns one table built for ABI major 1, with its struct_size and required functions"},
		{id: "register", level: libraryLevel, needs: "abi-version", run: checkRegister,
			doc: "register_pipelines succeeds, in under 100 ms (warning over)"},
		{id: "register-twice", level: libraryLevel, needs: "register", run: checkRegisterTwice,
			doc: "registering twice without unregistering succeeds and gives the same pipelines; unregistering is reference-counted"},
		{id: "unknown-extension", level: libraryLevel, needs: "register", run: checkUnknownExtension,
			doc: "get_extension returns NULL for an id the plugin cannot know"},
		{id: "descriptor", level: libraryLevel, needs: "register", run: checkDescriptor,
			doc: "every descriptor passes the loader's validation (ids, strings, UTF-8, modes, params, ranges) and the plugin's name and version are set"},
		{id: "enum-keys", level: pipelineLevel, parent: checkEnumKeys,
			doc: "enum option keys have no surrounding spaces or control characters (warning when not [a-z0-9_.-]+ or labels repeat)"},
		{id: "ranges", level: pipelineLevel, parent: checkRanges,
			doc: "numeric parameters have a usable range: min < max, a step that fits, a default on the step grid (warnings)"},
		{id: "defaults", level: pipelineLevel, run: checkDefaults,
			doc: "the declared parameters and their defaults stay unchanged through create, prepare, call and destroy with the defaults"},
		{id: "sizes", level: modeLevel, run: checkSizes,
			doc: "prepare and call succeed at 1x1, 7x3, 1921x1081 and the mode's default size, and for gray, RGBA and f32 input"},
		{id: "pitch", level: modeLevel, run: checkPitch, compares: true,
			doc: "padded input and output row pitches give the same pixels as the least aligned pitch (skipped for SCOPE_PIPELINE_NONDETERMINISTIC)"},
		{id: "alignment", level: modeLevel, run: checkAlignment, compares: true,
			doc: "rows aligned to exactly SCOPE_FRAME_ALIGNMENT (64) bytes give the same pixels as page-aligned rows (skipped for SCOPE_PIPELINE_NONDETERMINISTIC)"},
		{id: "input-unmodified", level: modeLevel, run: checkInputUnmodified,
			doc: "input frames are byte-for-byte unchanged after call (video mode)"},
		{id: "write-outside-output", level: modeLevel, run: checkWriteOutside,
			doc: "nothing is written outside the output's pixels: guard bytes around every buffer and in the row padding stay intact"},
		{id: "float-output", level: modeLevel, run: checkFloatOutput,
			doc: "f32 output frames and audio hold no NaN or Inf (when the pipeline produces either)"},
		{id: "deterministic", level: modeLevel, run: checkDeterministic, compares: true,
			doc: "two fresh instances given the same inputs and parameters produce identical output (skipped for SCOPE_PIPELINE_NONDETERMINISTIC)"},
		{id: "param-fuzz", level: modeLevel, run: checkParamFuzz,
			doc: "prepare and call succeed with every parameter at its bounds and at random values changed between frames, load-time ones included"},
		{id: "wrong-order", level: modeLevel, run: checkWrongOrder,
			doc: "call before prepare (which the host never makes) neither crashes nor writes out of place, and is not an error other than SCOPE_ERROR_BAD_STATE (warning); destroy after create, after prepare, and of NULL do not crash"},
		{id: "memory-growth", level: modeLevel, run: checkMemoryGrowth,
			doc: "100 create/prepare/call/destroy cycles grow the resident memory by under 1 MiB (warning) / 8 MiB (failure)"},
		{id: "parallel", level: modeLevel, run: checkParallel,
			doc: "with --threads N, N independent instances running at once give the output they give one at a time (with SCOPE_PIPELINE_NONDETERMINISTIC: run without errors)"},
	}
}

// findCheck returns the check with this id.
func findCheck(id string) (checkDef, bool) {
	for _, c := range checkTable() {
		if c.id == id {
			return c, true
		}
	}
	return checkDef{}, false
}

// notApplicable is the status of a check that does not apply to a subject (input checks in
// text mode, float checks for u8 output); Run leaves such results out of the report.
const notApplicable Status = "n/a"

// outcome is what one run of a check found. It travels from the child as JSON.
type outcome struct {
	Status Status `json:"status"`
	Reason string `json:"reason"`
	// Plan is set by the descriptor check: what the per-pipeline checks run on.
	Plan *plan `json:"plan,omitempty"`
	// fatal aborts Run (no child could start); never set in a child.
	fatal error
}

// result makes an outcome with a formatted reason; pass, warn, fail and skip are shorthands.
func result(s Status, format string, args ...any) outcome {
	return outcome{Status: s, Reason: sprintf(format, args...)}
}

func pass(format string, args ...any) outcome { return result(Pass, format, args...) }
func warn(format string, args ...any) outcome { return result(Warn, format, args...) }
func fail(format string, args ...any) outcome { return result(Fail, format, args...) }
func skip(format string, args ...any) outcome { return result(Skip, format, args...) }

// na is the outcome of a check that does not apply.
func na() outcome { return outcome{Status: notApplicable} }

// sprintf is fmt.Sprintf, except that a lone format is returned as it is.
func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// unit is one run of one check: what the parent sends a child.
type unit struct {
	Check    string `json:"check"`
	Pipeline string `json:"pipeline,omitempty"`
	Mode     string `json:"mode,omitempty"`
	Memory   string `json:"memory,omitempty"`
	Threads  int    `json:"threads,omitempty"`
	Seed     uint64 `json:"seed"`
	// Timeout is the parent's; a child exits on its own a little after it.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// plan is what the descriptor check found: the pipelines the other checks run on.
type plan struct {
	Name      string         `json:"name"`
	Version   string         `json:"version"`
	Pipelines []planPipeline `json:"pipelines"`
	// Notes are the info, warning and error lines the plugin logged while it registered
	// (a bridge saying what it left out), for the report's notes.
	Notes []string `json:"notes,omitempty"`
}

// planPipeline is one pipeline of the plan.
type planPipeline struct {
	ID     string          `json:"id"`
	Modes  []string        `json:"modes"`  // "text", "video"
	Memory []string        `json:"memory"` // "host", "cuda"
	Params []*loader.Param `json:"params"`
	// Nondeterministic: the pipeline declares SCOPE_PIPELINE_NONDETERMINISTIC.
	Nondeterministic bool `json:"nondeterministic,omitempty"`
}

// pipeline returns the plan's pipeline with this id, or nil.
func (p *plan) pipeline(id string) *planPipeline {
	for i := range p.Pipelines {
		if p.Pipelines[i].ID == id {
			return &p.Pipelines[i]
		}
	}
	return nil
}

// quickIDs are the checks QuickOnly selects.
const quickIDs = "dlopen|exports|abi-version|register|descriptor|defaults|sizes|input-unmodified|write-outside-output"

// QuickOnly selects (as Options.Only) the quick checks `scope run --watch` runs before it
// swaps a rebuilt plugin in: the library loads, exports only the entry point, speaks this
// ABI and registers sound descriptors; each pipeline's defaults are valid; and every mode
// survives odd frame sizes without touching its input or writing outside its output. The
// other checks (pitch, determinism, parameter fuzzing, wrong call order, memory growth,
// registering twice, unknown extensions, float output, enum keys, ranges) run right after the
// swap, while the new build already runs.
func QuickOnly() *regexp.Regexp { return regexp.MustCompile(`^(` + quickIDs + `)$`) }
