// Package gpu binds the CUDA driver API at run time with purego: no cgo, no CUDA toolkit at
// build time, and a binary that starts on machines without the NVIDIA driver (see
// ARCHITECTURE.md, "CUDA").
//
// Open finds libcuda.so.1, checks the driver and the device, and retains the device's primary
// context, which plugins using the CUDA runtime API share. A Device then hands out streams,
// events, device buffers, pinned host buffers, modules and kernel launches. Every failed
// CUresult becomes an *Error that names the driver function, the error's name and its text.
//
// CUDA calls act on the context current on the calling OS thread: a goroutine that uses a
// Device calls Bind first (it locks the goroutine to its thread and makes the primary context
// current) and the returned function when it is done.
package gpu

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// DefaultLibrary is the file name of the CUDA driver library that Open loads.
const DefaultLibrary = "libcuda.so.1"

// MinDriverVersion is the oldest driver Open accepts, as cuDriverGetVersion reports it
// (1000*major + 10*minor): CUDA 9.0, the first driver that JIT-compiles PTX ISA 6.0, the
// version of the embedded runtime kernels (gpu/kernels). Every function bound here is older.
const MinDriverVersion = 9000

// MinComputeMajor is the oldest compute capability (major) Open accepts: the runtime kernels
// are PTX for sm_70 (Volta), which the driver JIT-compiles for newer GPUs but not older ones.
const MinComputeMajor = 7

// Result is a CUresult, the status every driver function returns.
type Result uint32

// Results the package tests for by value.
const (
	resultSuccess  Result = 0
	resultNoDevice Result = 100
	resultNotReady Result = 600
)

// driver holds the bound driver functions of one loaded library.
type driver struct {
	lib string
	fn  struct {
		cuInit, cuDriverGetVersion, cuDeviceGet, cuDeviceGetCount, cuDeviceGetName,
		cuDeviceGetAttribute, cuDeviceTotalMem, cuMemGetInfo, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease,
		cuCtxSetCurrent, cuStreamCreate, cuStreamDestroy, cuStreamSynchronize, cuStreamWaitEvent,
		cuMemAlloc, cuMemFree, cuMemAllocHost, cuMemFreeHost, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync,
		cuMemcpy2DAsync, cuEventCreate, cuEventDestroy, cuEventRecord, cuEventSynchronize,
		cuEventQuery, cuEventElapsedTime, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction,
		cuLaunchKernel, cuGetErrorName, cuGetErrorString uintptr
	}
}

// symbols maps each field of driver.fn to the exported name it binds (versioned _v2 names
// where the driver has them).
func (d *driver) symbols() []struct {
	name string
	dst  *uintptr
} {
	f := &d.fn
	return []struct {
		name string
		dst  *uintptr
	}{
		{"cuInit", &f.cuInit}, {"cuDriverGetVersion", &f.cuDriverGetVersion},
		{"cuDeviceGet", &f.cuDeviceGet}, {"cuDeviceGetCount", &f.cuDeviceGetCount},
		{"cuDeviceGetName", &f.cuDeviceGetName}, {"cuDeviceGetAttribute", &f.cuDeviceGetAttribute},
		{"cuDeviceTotalMem_v2", &f.cuDeviceTotalMem}, {"cuMemGetInfo_v2", &f.cuMemGetInfo},
		{"cuDevicePrimaryCtxRetain", &f.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &f.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &f.cuCtxSetCurrent},
		{"cuStreamCreate", &f.cuStreamCreate}, {"cuStreamDestroy_v2", &f.cuStreamDestroy},
		{"cuStreamSynchronize", &f.cuStreamSynchronize}, {"cuStreamWaitEvent", &f.cuStreamWaitEvent},
		{"cuMemAlloc_v2", &f.cuMemAlloc}, {"cuMemFree_v2", &f.cuMemFree},
		{"cuMemAllocHost_v2", &f.cuMemAllocHost}, {"cuMemFreeHost", &f.cuMemFreeHost},
		{"cuMemcpyHtoDAsync_v2", &f.cuMemcpyHtoDAsync}, {"cuMemcpyDtoHAsync_v2", &f.cuMemcpyDtoHAsync},
		{"cuMemcpy2DAsync_v2", &f.cuMemcpy2DAsync},
		{"cuEventCreate", &f.cuEventCreate}, {"cuEventDestroy_v2", &f.cuEventDestroy},
		{"cuEventRecord", &f.cuEventRecord}, {"cuEventSynchronize", &f.cuEventSynchronize},
		{"cuEventQuery", &f.cuEventQuery}, {"cuEventElapsedTime", &f.cuEventElapsedTime},
		{"cuModuleLoadData", &f.cuModuleLoadData}, {"cuModuleUnload", &f.cuModuleUnload},
		{"cuModuleGetFunction", &f.cuModuleGetFunction}, {"cuLaunchKernel", &f.cuLaunchKernel},
		{"cuGetErrorName", &f.cuGetErrorName}, {"cuGetErrorString", &f.cuGetErrorString},
	}
}

// drivers is the package's only mutable global state: the driver library, loaded, bound and
// initialized (cuInit) at most once per library name on first use, and kept for the life of
// the process (the driver is never unloaded). Guarded by driversMu.
var (
	driversMu sync.Mutex
	drivers   = map[string]*loadResult{}
)

type loadResult struct {
	d   *driver
	err error
}

// loadDriver returns the bound driver for lib, loading it on first use.
func loadDriver(lib string) (*driver, error) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if r, ok := drivers[lib]; ok {
		return r.d, r.err
	}
	d, err := bind(lib)
	drivers[lib] = &loadResult{d, err}
	return d, err
}

// bind dlopens lib, resolves every symbol and calls cuInit.
func bind(lib string) (*driver, error) {
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, unavailable(missingLibrary(lib, err), err)
	}
	d := &driver{lib: lib}
	for _, s := range d.symbols() {
		p, err := purego.Dlsym(h, s.name)
		if err != nil || p == 0 {
			return nil, unavailable(fmt.Sprintf("NVIDIA driver too old: %s has no %s (need CUDA %s or newer)", lib, s.name, versionString(MinDriverVersion)), err)
		}
		*s.dst = p
	}
	if err := d.check("cuInit", d.call(d.fn.cuInit, 0)); err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.Code == resultNoDevice {
			return nil, unavailable("no NVIDIA GPU: "+err.Error(), err)
		}
		return nil, unavailable("the NVIDIA driver failed to start: "+err.Error(), err)
	}
	var v int32
	if err := d.check("cuDriverGetVersion", d.call(d.fn.cuDriverGetVersion, uintptr(unsafe.Pointer(&v)))); err != nil {
		return nil, unavailable("the NVIDIA driver failed to start: "+err.Error(), err)
	}
	if int(v) < MinDriverVersion {
		return nil, unavailable(fmt.Sprintf("NVIDIA driver too old: it supports CUDA %s, scope needs CUDA %s or newer", versionString(int(v)), versionString(MinDriverVersion)), nil)
	}
	return d, nil
}

// missingLibrary is the one-line reason for a failed dlopen of lib.
func missingLibrary(lib string, err error) string {
	if err != nil && (strings.Contains(err.Error(), "No such file") || strings.Contains(err.Error(), "cannot open shared object")) {
		return fmt.Sprintf("no NVIDIA driver: %s not found", lib)
	}
	return fmt.Sprintf("no NVIDIA driver: cannot load %s: %v", lib, err)
}

// call invokes a bound driver function and returns its CUresult.
func (d *driver) call(fn uintptr, args ...uintptr) Result {
	r, _, _ := purego.SyscallN(fn, args...)
	return Result(uint32(r))
}

// check turns a CUresult into nil or an *Error naming fn.
func (d *driver) check(fn string, r Result) error {
	if r == resultSuccess {
		return nil
	}
	return d.errorFor(fn, r)
}

// errorFor builds the *Error for r, asking the driver for its name and text (falling back to
// the package's table for drivers that do not know the code).
func (d *driver) errorFor(fn string, r Result) *Error {
	e := &Error{Func: fn, Code: r}
	if d != nil && d.fn.cuGetErrorName != 0 {
		var p uintptr
		if d.call(d.fn.cuGetErrorName, uintptr(r), uintptr(unsafe.Pointer(&p))) == resultSuccess {
			e.Name = cString(p)
		}
		p = 0
		if d.call(d.fn.cuGetErrorString, uintptr(r), uintptr(unsafe.Pointer(&p))) == resultSuccess {
			e.Text = cString(p)
		}
	}
	return e
}

// cString copies a NUL-terminated string owned by the driver (static storage).
func cString(p uintptr) string {
	if p == 0 {
		return ""
	}
	const max = 1 << 12
	b := unsafe.Slice((*byte)(ptr(p)), max)
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ptr turns an address of driver-owned (non-Go) memory into an unsafe.Pointer.
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// versionString formats a cuDriverGetVersion number: 12040 -> "12.4".
func versionString(v int) string { return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10) }
