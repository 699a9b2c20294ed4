package validate

import (
	"debug/elf"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/internal/crashscan"
	"github.com/scopenative/scope/loader"
)

// maxRegisterTime is how long register_pipelines may take before the register check warns:
// scope registers every installed plugin when it starts.
const maxRegisterTime = 100 * time.Millisecond

func checkDlopen(e *env) outcome {
	e.tr.step("dlopen with RTLD_NOW|RTLD_LOCAL")
	l, err := openRaw(e.path, e.tr.log)
	if err != nil {
		return fail("%v", err)
	}
	defer l.close()
	note := ""
	if l.goRuntime {
		note = " (it embeds a Go runtime, so it can never be unloaded)"
	}
	return pass("loads with RTLD_NOW|RTLD_LOCAL and exports %s%s", abi.EntrySymbol, note)
}

// linkerSymbols are defined by the linker in every shared object on some toolchains.
var linkerSymbols = map[string]bool{"_init": true, "_fini": true, "_edata": true, "_end": true, "__bss_start": true}

// checkExports reads the ELF dynamic symbol table (no code runs) and warns about every
// defined global symbol besides the entry.
func checkExports(path string, _ *planPipeline) outcome {
	f, err := elf.Open(path)
	if err != nil {
		return fail("cannot read the ELF symbol table: %v", err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fail("cannot read the ELF dynamic symbol table: %v", err)
	}
	goRuntime := f.Section(".go.buildinfo") != nil
	var extra []string
	seen := map[string]bool{}
	toolchain, sdk := 0, 0
	for _, s := range syms {
		bind, typ := elf.ST_BIND(s.Info), elf.ST_TYPE(s.Info)
		if s.Section == elf.SHN_UNDEF || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) ||
			typ == elf.STT_SECTION || typ == elf.STT_FILE || s.Name == abi.EntrySymbol || linkerSymbols[s.Name] || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		if goRuntime && goToolchainSymbol(s.Name) {
			toolchain++
			continue
		}
		if goRuntime && strings.HasPrefix(s.Name, goSDKPrefix) {
			sdk++ // the Go SDK's //export functions, which entry.c calls
			continue
		}
		extra = append(extra, crashscan.Clip(s.Name, 48))
	}
	note := ""
	if toolchain > 0 || sdk > 0 {
		note = fmt.Sprintf(" (and %d symbols of the Go toolchain's cgo glue and %d of the Go SDK's, which every Go c-shared library exports)", toolchain, sdk)
	}
	if len(extra) == 0 {
		return pass("exports only %s%s", abi.EntrySymbol, note)
	}
	slices.Sort(extra)
	list := strings.Join(extra, ", ")
	if len(extra) > 5 {
		list = strings.Join(extra[:5], ", ") + fmt.Sprintf(" and %d more", len(extra)-5)
	}
	advice := "build with -fvisibility=hidden and SCOPE_EXPORT on the entry only, or a linker version script"
	if goRuntime {
		advice = "in Go, every function with an //export comment is exported: remove the //export lines from your own functions (the SDK's are not counted)"
	}
	return warn("%d symbol%s exported besides %s: %s (%s)%s",
		len(extra), plural(len(extra)), abi.EntrySymbol, list, advice, note)
}

// goSDKPrefix starts the names of the Go SDK's exported functions (sdk/go/scope/export.go).
const goSDKPrefix = "scopeSDK"

// goToolchainSymbol reports whether name is one the Go toolchain exports from every c-shared
// library (cgo's glue), which its author cannot hide.
func goToolchainSymbol(name string) bool {
	for _, p := range []string{"_cgo_", "x_cgo_", "_cgoexp_", "crosscall", "x_crosscall"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "fatalf"
}

// openTable opens the library raw and reads its entry table.
func openTable(e *env) (*rawLib, outcome, bool) {
	e.tr.step("dlopen")
	l, err := openRaw(e.path, e.tr.log)
	if err != nil {
		return nil, fail("%v", err), false
	}
	e.tr.step("%s()", abi.EntrySymbol)
	if _, err := l.readTable(); err != nil {
		l.close()
		return nil, fail("%v", err), false
	}
	return l, outcome{}, true
}

// openRegistered opens the library raw and registers it once.
func openRegistered(e *env) (*rawLib, outcome, bool) {
	l, o, ok := openTable(e)
	if !ok {
		return nil, o, false
	}
	e.tr.step("register_pipelines")
	if st, msg, _ := l.register(); st.Failed() {
		l.close()
		return nil, fail("register_pipelines failed (%v): %s", st, msg), false
	}
	return l, outcome{}, true
}

func checkABIVersion(e *env) outcome {
	e.tr.step("dlopen")
	l, err := openRaw(e.path, e.tr.log)
	if err != nil {
		return fail("%v", err)
	}
	defer l.close()
	e.tr.step("%s()", abi.EntrySymbol)
	size, err := l.readTable()
	if err != nil {
		return fail("%v", err)
	}
	p := &l.plugin
	if need := uint32(unsafe.Sizeof(abi.Plugin{})); size < need {
		return fail("scope_plugin.struct_size is %d; ABI %d.0 needs at least %d (set it to sizeof(scope_plugin))", size, abi.VersionMajor, need)
	}
	if p.ABIMajor != abi.VersionMajor {
		return fail("built for plugin ABI %d.%d; this scope supports %d.x: rebuild it against this scope's include/scope/plugin.h",
			p.ABIMajor, p.ABIMinor, abi.VersionMajor)
	}
	e.tr.step("%s() a second time", abi.EntrySymbol)
	if again := l.entry(); again != l.table {
		return fail("%s returned %#x, then %#x: it must return the same table every time", abi.EntrySymbol, l.table, again)
	}
	for _, f := range []struct {
		name string
		fn   uintptr
	}{{"register_pipelines", p.RegisterPipelines}, {"pipeline_count", p.PipelineCount}, {"get_pipeline", p.GetPipeline}} {
		if f.fn == 0 {
			return fail("scope_plugin.%s is NULL; it is required", f.name)
		}
	}
	if p.ABIMinor > abi.VersionMinor {
		return pass("ABI %d.%d, a newer minor than this host's %d.%d (accepted: its new fields are ignored)", p.ABIMajor, p.ABIMinor, abi.VersionMajor, abi.VersionMinor)
	}
	return pass("ABI %d.%d, struct_size %d", p.ABIMajor, p.ABIMinor, size)
}

func checkRegister(e *env) outcome {
	l, o, ok := openTable(e)
	if !ok {
		return o
	}
	defer l.close()
	e.tr.step("register_pipelines")
	st, msg, d := l.register()
	if st.Failed() {
		return fail("register_pipelines failed (%v): %s", st, msg)
	}
	e.tr.step("pipeline_count and get_pipeline")
	n := len(l.pipelines())
	e.tr.step("unregister_pipelines")
	l.unregister()
	if d > maxRegisterTime {
		return warn("register_pipelines took %s (over %s; scope registers every installed plugin when it starts)", ms(d), ms(maxRegisterTime))
	}
	return pass("registered %d pipeline%s in %s", n, plural(n), ms(d))
}

// ids lists the pipeline ids of a registered raw library.
func ids(l *rawLib) []string {
	var out []string
	for _, p := range l.pipelines() {
		out = append(out, p.id)
	}
	return out
}

func checkRegisterTwice(e *env) outcome {
	l, o, ok := openRegistered(e)
	if !ok {
		return o
	}
	defer l.close()
	first := ids(l)
	e.tr.step("register_pipelines again, without unregister_pipelines")
	if st, msg, _ := l.register(); st.Failed() {
		l.unregister()
		return fail("a second register_pipelines without unregister_pipelines failed (%v): %s (registration must be reference-counted: the second call succeeds and changes nothing)", st, msg)
	}
	if second := ids(l); !slices.Equal(first, second) {
		l.unregister()
		l.unregister()
		return fail("the second register_pipelines gives pipelines %q; the first gave %q", second, first)
	}
	if l.plugin.UnregisterPipelines != 0 {
		e.tr.step("unregister_pipelines (one of two registrations)")
		l.unregister()
		if still := ids(l); !slices.Equal(first, still) {
			l.unregister()
			return fail("after unregister_pipelines undid one of two registrations, the pipelines are %q, not %q (unregister must be reference-counted)", still, first)
		}
		e.tr.step("unregister_pipelines (the last registration)")
		l.unregister()
	}
	e.tr.step("register_pipelines after unregistering everything")
	if st, msg, _ := l.register(); st.Failed() {
		return fail("register_pipelines after unregistering everything failed (%v): %s", st, msg)
	}
	again := ids(l)
	e.tr.step("unregister_pipelines")
	l.unregister()
	if !slices.Equal(first, again) {
		return fail("registering again after unregistering gives pipelines %q, not %q", again, first)
	}
	return pass("registering twice, unregistering twice and registering again gives the same %d pipeline%s each time", len(first), plural(len(first)))
}

func checkUnknownExtension(e *env) outcome {
	l, o, ok := openRegistered(e)
	if !ok {
		return o
	}
	defer l.close()
	defer l.unregister()
	if l.plugin.GetExtension == 0 {
		return pass("get_extension is NULL (no extensions)")
	}
	for _, id := range []string{"scope.validate.no-such-extension/1", ""} {
		e.tr.step("get_extension(%q)", id)
		if r := l.extension(id); r != 0 {
			return fail("get_extension(%q) returned %#x; an id the plugin does not know must give NULL", id, r)
		}
	}
	return pass("get_extension returns NULL for unknown ids")
}

// checkDescriptor loads the library with the loader, which validates every descriptor, then
// checks what the loader takes as it is, and returns the plan for the per-pipeline checks.
func checkDescriptor(e *env) outcome {
	e.tr.step("load with the scope loader")
	notes := &noteTracer{tracer: e.tr}
	lib, err := loader.Open(e.path, loader.Options{Logger: slog.New(traceHandler{notes})})
	if err != nil {
		return fail("%v", err)
	}
	e.lib = lib
	for _, f := range []struct {
		field, value string
		required     bool
	}{{"name", lib.Name, true}, {"version", lib.Version, true}, {"description", lib.Description, false}} {
		if f.required && f.value == "" {
			return fail("scope_plugin.%s is NULL or empty; it is required", f.field)
		}
		if !utf8.ValidString(f.value) {
			return fail("scope_plugin.%s is not valid UTF-8: %q", f.field, f.value)
		}
	}
	pl := &plan{Name: lib.Name, Version: lib.Version, Notes: notes.lines}
	params := 0
	for _, p := range lib.Pipelines() {
		seen := map[string]bool{}
		for _, port := range p.InputPorts {
			if seen[port] {
				return fail("pipeline %q: input port %q is declared twice", p.ID, port)
			}
			seen[port] = true
		}
		pp := planPipeline{ID: p.ID, Params: p.Params, Nondeterministic: p.Nondeterministic}
		for _, m := range p.Modes {
			pp.Modes = append(pp.Modes, m.Mode.String())
		}
		if p.Memory&abi.MemoryHost != 0 {
			pp.Memory = append(pp.Memory, "host")
		}
		if p.Memory&abi.MemoryCUDA != 0 {
			pp.Memory = append(pp.Memory, "cuda")
		}
		params += len(p.Params)
		pl.Pipelines = append(pl.Pipelines, pp)
	}
	n := len(pl.Pipelines)
	if n == 0 {
		return outcome{Status: Warn, Reason: "the library registers no pipelines", Plan: pl}
	}
	return outcome{Status: Pass, Reason: fmt.Sprintf("%d pipeline%s with %d parameter%s pass the loader's validation", n, plural(n), params, plural(params)), Plan: pl}
}

// ms formats a duration for a message: "153 ms", "2.5 ms", "41 µs".
func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// noteTracer passes a tracer's lines on and keeps the plugin's info, warning and error log
// lines ("INFO frei0r: skipped ...") as "plugin log: ..." notes.
type noteTracer struct {
	tracer
	lines []string
}

func (t *noteTracer) log(line string) {
	t.tracer.log(line)
	for _, level := range []string{"INFO ", "WARN ", "ERROR "} {
		if msg, ok := strings.CutPrefix(line, level); ok {
			t.lines = append(t.lines, "plugin log: "+msg)
		}
	}
}
