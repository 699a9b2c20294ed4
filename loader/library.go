// Package loader opens Scope Native plugin libraries and exposes their pipelines as typed Go
// values: Library -> Pipeline (the schema) -> Instance (create, prepare, call, destroy).
//
// # Loading
//
// Open copies the library to a private, uniquely named file and dlopens that copy with
// RTLD_NOW|RTLD_LOCAL through purego, so a library rebuilt at the same path always loads fresh
// (dlopen caches by path) and a loaded file is never overwritten in place. The copy lives in
// a folder created fresh for it (mode 0700, random name) under a folder no other user can
// change, so no other user can swap it between the copy and the dlopen (see DlopenCopy). The
// copy and its folder are removed right after dlopen; the mapping stays valid. Open then checks the ABI version, registers the
// pipelines and validates every descriptor; anything the host could not use safely is
// rejected with an error naming the file, the pipeline and the field.
//
// # Memory
//
// The ABI structs the host passes to a plugin live in Go memory owned by the Instance (or the
// caller's frames) and are kept alive across each call; Go's heap does not move, and none of
// those structs is retained by a plugin past the call, as the ABI requires. Descriptor memory
// is owned by the plugin and read through copies made at registration time.
//
// # Threads
//
// One Instance must not be used from two goroutines at once (the ABI's [instance] rule).
// Instances of pipelines that declare SCOPE_THREADING_SERIAL are serialized by the loader.
//
// # Hangs and crashes
//
// Each Instance records the plugin function it is inside of (Instance.InFlight: file,
// pipeline, create/prepare/call/destroy, frame), without allocating, so a watchdog on another
// goroutine can name a call that never returns. On linux/amd64 the same record is kept as a
// ready-made line that a signal trampoline prints to stderr when the process dies of a fault
// in plugin code, before the Go runtime's crash dump (see crashline_linux_amd64.go).
package loader

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/scopenative/scope/abi"
)

// Version of the host, reported to plugins in scope_host.version.
const Version = "0.1.0"

// Options configure Open. The zero value is ready to use.
type Options struct {
	// CopyDir is the folder under which each private copy gets a fresh folder of its own
	// (see DlopenCopy). The zero value means os.TempDir().
	CopyDir string
	// Logger receives the plugins' log lines (with "plugin" and "pipeline" attributes) and
	// the loader's own debug messages. The zero value discards them.
	Logger *slog.Logger
	// KeepLoaded, when true, makes Close skip dlclose for every library. Libraries that
	// embed a Go runtime are never dlclosed, whatever this says.
	KeepLoaded bool
	// Pool runs the plugins' scope_host.parallel_for. Nil means DefaultPool(), one worker per
	// CPU shared by the whole process.
	Pool *Pool
}

// Errors returned (wrapped) by Open.
var (
	// ErrNoEntry means the file has no scope_plugin_entry symbol.
	ErrNoEntry = errors.New("no " + abi.EntrySymbol + " symbol")
	// ErrABIVersion means the plugin was built for another ABI major version.
	ErrABIVersion = errors.New("incompatible plugin ABI version")
	// ErrInvalid means a descriptor failed validation (see *ValidationError).
	ErrInvalid = errors.New("invalid plugin")
)

// Library is one loaded plugin file and its registered pipelines.
type Library struct {
	path       string // as given to Open
	handle     uintptr
	entry      abi.Plugin
	host       *hostBlock
	goRuntime  bool
	keepLoaded bool
	registered bool

	// Name, Version and Description come from the plugin's scope_plugin table.
	Name, Version, Description string
	// RegisterTime is how long register_pipelines took.
	RegisterTime time.Duration

	pipelines []*Pipeline

	mu        sync.Mutex
	instances int
	closed    bool
}

// Path returns the library's path as given to Open.
func (l *Library) Path() string { return l.path }

// Pipelines returns the library's pipelines in registration order.
func (l *Library) Pipelines() []*Pipeline { return l.pipelines }

// Pipeline returns the pipeline with this id, or nil.
func (l *Library) Pipeline(id string) *Pipeline {
	for _, p := range l.pipelines {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// EmbedsGoRuntime reports whether the library is a Go c-shared library, which can never be
// unloaded: every reload of one keeps another Go runtime in the process.
func (l *Library) EmbedsGoRuntime() bool { return l.goRuntime }

// hostBlock is the scope_host given to one library. abi.Host must stay the first field: the
// log callback receives its address and turns it back into the block.
type hostBlock struct {
	host    abi.Host
	name    []byte
	version []byte
	lib     *Library
	logger  *slog.Logger
	pool    *Pool
}

// hostBlockOf turns the scope_host pointer a plugin passes back into its block.
func hostBlockOf(host uintptr) *hostBlock { return (*hostBlock)(abi.Ptr(host)) }

// callbacks holds the three C-callable host functions (log, get_extension, parallel_for). purego callbacks are a process-wide,
// never-released resource (about 2000 per process), so they are made once, on first use,
// and shared by every library; they find their library through the host pointer.
var callbacks = sync.OnceValue(func() [3]uintptr {
	logFn := purego.NewCallback(func(host uintptr, level uintptr, msg uintptr) {
		hb := hostBlockOf(host)
		text, _ := abi.GoString(msg)
		hb.log(int32(level), text)
	})
	extFn := purego.NewCallback(func(host uintptr, id uintptr) uintptr { return 0 })
	return [3]uintptr{logFn, extFn, purego.NewCallback(parallelFor)}
})

func (hb *hostBlock) log(level int32, text string) {
	if hb.logger == nil {
		return
	}
	l := slog.LevelInfo
	switch level {
	case abi.LogDebug:
		l = slog.LevelDebug
	case abi.LogWarn:
		l = slog.LevelWarn
	case abi.LogError:
		l = slog.LevelError
	}
	hb.logger.Log(context.Background(), l, text, "plugin", filepath.Base(hb.lib.path))
}

// Open loads the plugin library at path, registers its pipelines and validates them.
//
// Errors wrap ErrNoEntry, ErrABIVersion or ErrInvalid (with a *ValidationError) where those
// apply, and always name the file.
func Open(path string, opts Options) (*Library, error) {
	return open(path, opts, nil)
}

// open is Open; beforeDlopen, when not nil, runs with the private copy's path between the
// copy and the dlopen (the window an attacker would use; tests attack it).
func open(path string, opts Options, beforeDlopen func(copyPath string)) (*Library, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	lib := &Library{path: path, keepLoaded: opts.KeepLoaded, goRuntime: EmbedsGoRuntime(abs)}
	// Before any plugin's code is loaded: a Go runtime inside a plugin then puts its own
	// handlers in front of the trampoline and keeps its recoverable faults to itself.
	installCrashLines()
	lib.handle, err = dlopenCopy(abs, opts.CopyDir, beforeDlopen)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			lib.unload()
		}
	}()

	sym, err := purego.Dlsym(lib.handle, abi.EntrySymbol)
	if err != nil || sym == 0 {
		return nil, fmt.Errorf("load %s: %w: not a Scope plugin, or its entry is hidden (build it against include/scope/plugin.h and export scope_plugin_entry with SCOPE_EXPORT)", path, ErrNoEntry)
	}
	tab, _, _ := purego.SyscallN(sym)
	if tab == 0 {
		return nil, fmt.Errorf("load %s: %s returned NULL", path, abi.EntrySymbol)
	}
	if size := abi.ReadSized(tab, &lib.entry); size < uint32(unsafe.Sizeof(abi.Plugin{})) {
		return nil, fmt.Errorf("load %s: %w: scope_plugin.struct_size is %d, ABI %d.0 needs at least %d", path, ErrInvalid, size, abi.VersionMajor, unsafe.Sizeof(abi.Plugin{}))
	}
	if lib.entry.ABIMajor != abi.VersionMajor {
		return nil, fmt.Errorf("load %s: %w: built for plugin ABI %d.%d, this scope supports %d.x: rebuild the plugin against this scope's include/scope/plugin.h",
			path, ErrABIVersion, lib.entry.ABIMajor, lib.entry.ABIMinor, abi.VersionMajor)
	}
	lib.Name, _ = abi.GoString(lib.entry.Name)
	lib.Version, _ = abi.GoString(lib.entry.Version)
	lib.Description, _ = abi.GoString(lib.entry.Description)
	for _, f := range []struct {
		name string
		ptr  uintptr
	}{{"register_pipelines", lib.entry.RegisterPipelines}, {"pipeline_count", lib.entry.PipelineCount}, {"get_pipeline", lib.entry.GetPipeline}} {
		if f.ptr == 0 {
			return nil, fmt.Errorf("load %s: %w: scope_plugin.%s is NULL", path, ErrInvalid, f.name)
		}
	}

	cb := callbacks()
	pool := opts.Pool
	if pool == nil {
		pool = DefaultPool()
	}
	hb := &hostBlock{name: abi.CString("scope"), version: abi.CString(Version), lib: lib, logger: opts.Logger, pool: pool}
	hb.host = abi.Host{
		StructSize:   uint32(unsafe.Sizeof(abi.Host{})),
		ABIMajor:     abi.VersionMajor,
		ABIMinor:     abi.VersionMinor,
		Name:         uintptr(unsafe.Pointer(&hb.name[0])),
		Version:      uintptr(unsafe.Pointer(&hb.version[0])),
		Log:          cb[0],
		GetExtension: cb[1],
		ParallelFor:  cb[2],
		WorkerCount:  uint32(pool.Workers()),
	}
	lib.host = hb

	eb := abi.NewErrorBuffer()
	pathC := abi.CString(path)
	start := time.Now()
	st, _, _ := purego.SyscallN(lib.entry.RegisterPipelines, uintptr(unsafe.Pointer(&hb.host)), uintptr(unsafe.Pointer(&pathC[0])), eb.Ptr())
	lib.RegisterTime = time.Since(start)
	runtime.KeepAlive(pathC)
	if s := abi.Status(int32(st)); s.Failed() {
		return nil, fmt.Errorf("load %s: register_pipelines failed (%v): %s", path, s, eb.Message("no message"))
	}
	lib.registered = true

	if err := lib.readPipelines(); err != nil {
		return nil, err
	}
	ok = true
	return lib, nil
}

// Close unregisters the library's pipelines and unloads it (unless it embeds a Go runtime or
// Options.KeepLoaded was set). Every instance must have been closed first.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	if l.instances > 0 {
		return fmt.Errorf("close %s: %d instance(s) still open", l.path, l.instances)
	}
	l.closed = true
	l.unload()
	return nil
}

func (l *Library) unload() {
	if l.registered && l.entry.UnregisterPipelines != 0 {
		purego.SyscallN(l.entry.UnregisterPipelines)
	}
	l.registered = false
	if l.handle != 0 && !l.goRuntime && !l.keepLoaded {
		purego.Dlclose(l.handle)
	}
	l.handle = 0
	runtime.KeepAlive(l.host)
}

// EmbedsGoRuntime reports whether the ELF shared object at path carries a Go runtime (a Go
// c-shared library, which must never be dlclosed).
func EmbedsGoRuntime(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".go.buildinfo") != nil
}
