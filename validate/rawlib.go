package validate

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/loader"
)

// rawLib is a plugin library opened without the loader, for what the loader does not let a
// caller do on purpose: register twice, look at the entry table before validation, read a
// descriptor again after an instance ran, destroy NULL. It talks to the plugin through the
// abi mirror and purego, like the loader, and never validates anything itself.
type rawLib struct {
	handle    uintptr
	entryFn   uintptr
	table     uintptr    // what scope_plugin_entry returned
	plugin    abi.Plugin // copy of *table (after readTable)
	host      *rawHost
	pathC     []byte
	goRuntime bool
	eb        *abi.ErrorBuffer
}

// rawHost is the scope_host given to a raw library. host must stay the first field: the
// log callback turns the host pointer back into the rawHost.
type rawHost struct {
	host    abi.Host
	name    []byte
	version []byte
	logf    func(string)
}

// rawCallbacks are the host's log and get_extension functions. purego callbacks are never
// freed (about 2000 per process), so they are made once per process and shared; they find
// their rawHost through the host pointer they receive.
var rawCallbacks = sync.OnceValue(func() [2]uintptr {
	logFn := purego.NewCallback(func(host, level, msg uintptr) {
		h := (*rawHost)(abi.Ptr(host))
		text, _ := abi.GoString(msg)
		if h.logf != nil {
			h.logf(text)
		}
	})
	extFn := purego.NewCallback(func(host, id uintptr) uintptr { return 0 })
	return [2]uintptr{logFn, extFn}
})

// openRaw dlopens a private copy of the library (loader.DlopenCopy: unique, out of other
// users' reach) and finds the entry symbol. logf receives the plugin's log lines.
func openRaw(path string, logf func(string)) (*rawLib, error) {
	h, err := loader.DlopenCopy(path, "")
	if errors.Is(err, loader.ErrUnsafeCopyFolder) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("dlopen with RTLD_NOW|RTLD_LOCAL failed: %w", err)
	}
	l := &rawLib{handle: h, goRuntime: loader.EmbedsGoRuntime(path), eb: abi.NewErrorBuffer()}
	l.entryFn, err = purego.Dlsym(h, abi.EntrySymbol)
	if err != nil || l.entryFn == 0 {
		l.close()
		return nil, fmt.Errorf("no exported %s symbol (export it with SCOPE_EXPORT, and only it)", abi.EntrySymbol)
	}
	cb := rawCallbacks()
	l.host = &rawHost{name: abi.CString("scope-validate"), version: abi.CString("0.1.0"), logf: logf}
	l.host.host = abi.Host{
		StructSize: uint32(unsafe.Sizeof(abi.Host{})), ABIMajor: abi.VersionMajor, ABIMinor: abi.VersionMinor,
		Name: uintptr(unsafe.Pointer(&l.host.name[0])), Version: uintptr(unsafe.Pointer(&l.host.version[0])),
		Log: cb[0], GetExtension: cb[1],
	}
	l.pathC = abi.CString(path)
	return l, nil
}

// entry calls scope_plugin_entry.
func (l *rawLib) entry() uintptr {
	t, _, _ := purego.SyscallN(l.entryFn)
	return t
}

// readTable calls the entry and copies the table; it fails when the entry returns NULL.
func (l *rawLib) readTable() (size uint32, err error) {
	l.table = l.entry()
	if l.table == 0 {
		return 0, fmt.Errorf("%s() returned NULL", abi.EntrySymbol)
	}
	return abi.ReadSized(l.table, &l.plugin), nil
}

// register calls register_pipelines and returns its status, message and duration.
func (l *rawLib) register() (abi.Status, string, time.Duration) {
	start := time.Now()
	st, _, _ := purego.SyscallN(l.plugin.RegisterPipelines, uintptr(unsafe.Pointer(&l.host.host)), uintptr(unsafe.Pointer(&l.pathC[0])), l.eb.Ptr())
	d := time.Since(start)
	runtime.KeepAlive(l)
	return abi.Status(int32(st)), l.eb.Message("(no message)"), d
}

// unregister calls unregister_pipelines when the plugin has one.
func (l *rawLib) unregister() {
	if l.plugin.UnregisterPipelines != 0 {
		purego.SyscallN(l.plugin.UnregisterPipelines)
	}
}

// rawPipeline is one descriptor as get_pipeline returned it.
type rawPipeline struct {
	ptr uintptr
	id  string
}

// pipelines lists pipeline_count() descriptors with their ids ("" for a NULL descriptor).
func (l *rawLib) pipelines() []rawPipeline {
	out := make([]rawPipeline, l.count())
	for i := range out {
		out[i] = l.pipelineAt(i)
	}
	return out
}

// maxRawPipelines bounds the pipeline count the validator believes (a garbage count must not
// make it loop for hours); real libraries, bridges included, stay far below it.
const maxRawPipelines = 1 << 20

// count returns pipeline_count(), at most maxRawPipelines.
func (l *rawLib) count() int {
	n, _, _ := purego.SyscallN(l.plugin.PipelineCount)
	return min(int(uint32(n)), maxRawPipelines)
}

// pipelineAt returns get_pipeline(i) with its id.
func (l *rawLib) pipelineAt(i int) rawPipeline {
	p, _, _ := purego.SyscallN(l.plugin.GetPipeline, uintptr(i))
	out := rawPipeline{ptr: p}
	if p != 0 {
		var d abi.PipelineDesc
		abi.ReadSized(p, &d)
		out.id, _ = abi.GoString(d.ID)
	}
	return out
}

// pipeline returns the descriptor with this id, or 0.
func (l *rawLib) pipeline(id string) uintptr {
	for i, n := 0, l.count(); i < n; i++ {
		if p := l.pipelineAt(i); p.id == id {
			return p.ptr
		}
	}
	return 0
}

// extension calls the plugin's get_extension with id.
func (l *rawLib) extension(id string) uintptr {
	c := abi.CString(id)
	r, _, _ := purego.SyscallN(l.plugin.GetExtension, uintptr(unsafe.Pointer(&c[0])))
	runtime.KeepAlive(c)
	return r
}

// close unloads the library (never one that embeds a Go runtime: those cannot unload).
func (l *rawLib) close() {
	if l.handle != 0 && !l.goRuntime {
		purego.Dlclose(l.handle)
	}
	l.handle = 0
	runtime.KeepAlive(l.host)
}
