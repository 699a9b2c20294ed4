package gpu

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Options tune Open. The zero value opens DefaultLibrary.
type Options struct {
	// Library is the driver library to load; "" means DefaultLibrary. Tests point it at a
	// name that does not exist to see the no-driver path.
	Library string
}

// Info describes an opened device.
type Info struct {
	Ordinal       int    // CUDA device ordinal
	Name          string // e.g. "NVIDIA H100 80GB HBM3"
	DriverVersion int    // cuDriverGetVersion: 1000*major + 10*minor
	ComputeMajor  int    // compute capability, major
	ComputeMinor  int    // compute capability, minor
	TotalMemory   uint64 // bytes of device memory
	CopyEngines   int    // asynchronous copy engines (2 = uploads and downloads overlap)
}

// Driver returns the driver's CUDA version, e.g. "12.4".
func (i Info) Driver() string { return versionString(i.DriverVersion) }

// String returns e.g. "NVIDIA H100 80GB HBM3 (device 0): compute 9.0, 79.1 GiB, driver CUDA 12.4".
func (i Info) String() string {
	return fmt.Sprintf("%s (device %d): compute %d.%d, %.1f GiB, driver CUDA %s", i.Name, i.Ordinal,
		i.ComputeMajor, i.ComputeMinor, float64(i.TotalMemory)/(1<<30), i.Driver())
}

// Device is one CUDA device with its retained primary context. Its methods are safe for
// concurrent use, but CUDA calls need the context current on the calling thread: see Bind.
type Device struct {
	d    *driver
	info Info
	dev  int32   // CUdevice
	ctx  uintptr // CUcontext (the primary context)

	mu     sync.Mutex
	closed bool

	kernelsOnce sync.Once
	kernels     *Kernels
	kernelsErr  error
}

// Device attributes (CUdevice_attribute) read by Open.
const (
	attrAsyncEngineCount = 40
	attrComputeMajor     = 75
	attrComputeMinor     = 76
)

// Open opens CUDA device `ordinal` with the default options. See OpenWith.
func Open(ordinal int) (*Device, error) { return OpenWith(ordinal, Options{}) }

// OpenWith loads the driver library (once per process), checks the driver version and the
// device, and retains the device's primary context. When CUDA cannot be used the error
// matches ErrUnavailable and its text is a one-line reason ("no NVIDIA driver: libcuda.so.1
// not found", "no NVIDIA GPU: ...", "NVIDIA driver too old: ..."). Close releases the context.
func OpenWith(ordinal int, opts Options) (*Device, error) {
	lib := opts.Library
	if lib == "" {
		lib = DefaultLibrary
	}
	d, err := loadDriver(lib)
	if err != nil {
		return nil, err
	}
	var n int32
	if err := d.check("cuDeviceGetCount", d.call(d.fn.cuDeviceGetCount, uintptr(unsafe.Pointer(&n)))); err != nil {
		return nil, unavailable("no NVIDIA GPU: "+err.Error(), err)
	}
	if n == 0 {
		return nil, unavailable("no NVIDIA GPU: the driver reports no CUDA device", nil)
	}
	if ordinal < 0 || ordinal >= int(n) {
		return nil, unavailable(fmt.Sprintf("no CUDA device %d: the driver reports %d (0..%d)", ordinal, n, n-1), nil)
	}
	dev := &Device{d: d, info: Info{Ordinal: ordinal}}
	if err := d.check("cuDeviceGet", d.call(d.fn.cuDeviceGet, uintptr(unsafe.Pointer(&dev.dev)), uintptr(ordinal))); err != nil {
		return nil, unavailable(fmt.Sprintf("no CUDA device %d: %v", ordinal, err), err)
	}
	var v int32
	d.call(d.fn.cuDriverGetVersion, uintptr(unsafe.Pointer(&v)))
	dev.info.DriverVersion = int(v)
	name := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.call(d.fn.cuDeviceGetName, uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), uintptr(dev.dev))); err != nil {
		return nil, fmt.Errorf("open CUDA device %d: %w", ordinal, err)
	}
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	dev.info.Name = string(name)
	for _, a := range []struct {
		attr int
		dst  *int
	}{{attrComputeMajor, &dev.info.ComputeMajor}, {attrComputeMinor, &dev.info.ComputeMinor}, {attrAsyncEngineCount, &dev.info.CopyEngines}} {
		var x int32
		if err := d.check("cuDeviceGetAttribute", d.call(d.fn.cuDeviceGetAttribute, uintptr(unsafe.Pointer(&x)), uintptr(a.attr), uintptr(dev.dev))); err != nil {
			return nil, fmt.Errorf("open CUDA device %d: %w", ordinal, err)
		}
		*a.dst = int(x)
	}
	var mem uint64
	if err := d.check("cuDeviceTotalMem_v2", d.call(d.fn.cuDeviceTotalMem, uintptr(unsafe.Pointer(&mem)), uintptr(dev.dev))); err != nil {
		return nil, fmt.Errorf("open CUDA device %d: %w", ordinal, err)
	}
	dev.info.TotalMemory = mem
	if dev.info.ComputeMajor < MinComputeMajor {
		return nil, unavailable(fmt.Sprintf("%s has compute capability %d.%d; scope needs %d.0 or newer", dev.info.Name, dev.info.ComputeMajor, dev.info.ComputeMinor, MinComputeMajor), nil)
	}
	if err := d.check("cuDevicePrimaryCtxRetain", d.call(d.fn.cuDevicePrimaryCtxRetain, uintptr(unsafe.Pointer(&dev.ctx)), uintptr(dev.dev))); err != nil {
		return nil, unavailable(fmt.Sprintf("cannot use %s: %v", dev.info.Name, err), err)
	}
	return dev, nil
}

// Probe opens device ordinal with opts and closes it again: nil when CUDA is usable, else the
// reason (matching ErrUnavailable when it is the machine's fault).
func Probe(ordinal int, opts Options) (Info, error) {
	dev, err := OpenWith(ordinal, opts)
	if err != nil {
		return Info{}, err
	}
	defer dev.Close()
	return dev.Info(), nil
}

// Info describes the device.
func (dev *Device) Info() Info { return dev.info }

// Memory reports the device's free and total memory in bytes, as the driver sees it now (every
// process's allocations count). It binds the device on the calling goroutine for the call.
func (dev *Device) Memory() (free, total uint64, err error) {
	unbind, err := dev.Bind()
	if err != nil {
		return 0, 0, err
	}
	defer unbind()
	if err := dev.d.check("cuMemGetInfo_v2", dev.d.call(dev.d.fn.cuMemGetInfo, uintptr(unsafe.Pointer(&free)), uintptr(unsafe.Pointer(&total)))); err != nil {
		return 0, 0, err
	}
	return free, total, nil
}

// Ordinal is the device's CUDA ordinal.
func (dev *Device) Ordinal() int { return dev.info.Ordinal }

// Context returns the CUcontext handle of the device's primary context.
func (dev *Device) Context() uintptr { return dev.ctx }

// Bind locks the calling goroutine to its OS thread and makes the device's primary context
// current there; call the returned function (once) to unlock. Every goroutine that makes CUDA
// calls through the device (and every goroutine that calls plugins working on its memory)
// must hold a Bind while it does.
func (dev *Device) Bind() (unbind func(), err error) {
	runtime.LockOSThread()
	if err := dev.d.check("cuCtxSetCurrent", dev.d.call(dev.d.fn.cuCtxSetCurrent, dev.ctx)); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return runtime.UnlockOSThread, nil
}

// Close releases the primary context. Everything allocated through the device must be freed
// first. Calling Close again does nothing.
func (dev *Device) Close() error {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	if dev.closed {
		return nil
	}
	dev.closed = true
	if dev.kernels != nil {
		dev.kernels.mod.Unload()
	}
	return dev.d.check("cuDevicePrimaryCtxRelease_v2", dev.d.call(dev.d.fn.cuDevicePrimaryCtxRelease, uintptr(dev.dev)))
}

// check is driver.check for the device's driver.
func (dev *Device) check(fn string, r Result) error { return dev.d.check(fn, r) }

// ---- streams and events ----

// Stream is a CUDA stream (CUstream).
type Stream struct {
	dev *Device
	h   uintptr
}

// streamNonBlocking is CU_STREAM_NON_BLOCKING: no implicit ordering with the legacy default
// stream, which plugins must not use anyway.
const streamNonBlocking = 1

// NewStream creates a non-blocking stream.
func (dev *Device) NewStream() (*Stream, error) {
	s := &Stream{dev: dev}
	if err := dev.check("cuStreamCreate", dev.d.call(dev.d.fn.cuStreamCreate, uintptr(unsafe.Pointer(&s.h)), streamNonBlocking)); err != nil {
		return nil, err
	}
	return s, nil
}

// Handle returns the CUstream, as plugins receive it in scope_frame.cuda_stream.
func (s *Stream) Handle() uintptr { return s.h }

// Synchronize waits until every operation enqueued on the stream has finished.
func (s *Stream) Synchronize() error {
	return s.dev.check("cuStreamSynchronize", s.dev.d.call(s.dev.d.fn.cuStreamSynchronize, s.h))
}

// Wait makes work enqueued on s after this call wait until e has completed.
func (s *Stream) Wait(e *Event) error {
	return s.dev.check("cuStreamWaitEvent", s.dev.d.call(s.dev.d.fn.cuStreamWaitEvent, s.h, e.h, 0))
}

// Destroy destroys the stream (after its pending work completes).
func (s *Stream) Destroy() error {
	if s == nil || s.h == 0 {
		return nil
	}
	h := s.h
	s.h = 0
	return s.dev.check("cuStreamDestroy_v2", s.dev.d.call(s.dev.d.fn.cuStreamDestroy, h))
}

// Event is a CUDA event (CUevent).
type Event struct {
	dev *Device
	h   uintptr
}

// Event flags (CUevent_flags).
const (
	eventDefault       = 0
	eventDisableTiming = 2
)

// NewEvent creates an event; with timing it can measure ElapsedMS, without it is cheaper to
// record and wait for.
func (dev *Device) NewEvent(timing bool) (*Event, error) {
	e := &Event{dev: dev}
	flags := uintptr(eventDisableTiming)
	if timing {
		flags = eventDefault
	}
	if err := dev.check("cuEventCreate", dev.d.call(dev.d.fn.cuEventCreate, uintptr(unsafe.Pointer(&e.h)), flags)); err != nil {
		return nil, err
	}
	return e, nil
}

// Record enqueues the event on s.
func (e *Event) Record(s *Stream) error {
	return e.dev.check("cuEventRecord", e.dev.d.call(e.dev.d.fn.cuEventRecord, e.h, s.h))
}

// Synchronize waits until the work recorded before the event has finished.
func (e *Event) Synchronize() error {
	return e.dev.check("cuEventSynchronize", e.dev.d.call(e.dev.d.fn.cuEventSynchronize, e.h))
}

// Done reports whether the work recorded before the event has finished, without waiting.
func (e *Event) Done() (bool, error) {
	r := e.dev.d.call(e.dev.d.fn.cuEventQuery, e.h)
	if r == resultNotReady {
		return false, nil
	}
	return r == resultSuccess, e.dev.check("cuEventQuery", r)
}

// ElapsedMS returns the milliseconds between two completed timing events.
func ElapsedMS(start, end *Event) (float32, error) {
	var ms float32
	err := start.dev.check("cuEventElapsedTime", start.dev.d.call(start.dev.d.fn.cuEventElapsedTime, uintptr(unsafe.Pointer(&ms)), start.h, end.h))
	return ms, err
}

// Destroy destroys the event.
func (e *Event) Destroy() error {
	if e == nil || e.h == 0 {
		return nil
	}
	h := e.h
	e.h = 0
	return e.dev.check("cuEventDestroy_v2", e.dev.d.call(e.dev.d.fn.cuEventDestroy, h))
}
