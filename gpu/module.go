package gpu

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// Module is a loaded CUDA module (CUmodule).
type Module struct {
	dev *Device
	h   uintptr
}

// LoadModule loads a PTX (JIT-compiled by the driver for this device) or cubin image into the
// device's primary context.
func (dev *Device) LoadModule(image []byte) (*Module, error) {
	if len(image) == 0 {
		return nil, fmt.Errorf("cuda: load module: empty image")
	}
	if image[len(image)-1] != 0 { // PTX is read as a C string
		image = append(image[:len(image):len(image)], 0)
	}
	m := &Module{dev: dev}
	if err := dev.check("cuModuleLoadData", dev.d.call(dev.d.fn.cuModuleLoadData, uintptr(unsafe.Pointer(&m.h)), uintptr(unsafe.Pointer(&image[0])))); err != nil {
		return nil, err
	}
	runtime.KeepAlive(image)
	return m, nil
}

// Function returns the kernel `name` (an extern "C" __global__ function) of the module.
func (m *Module) Function(name string) (Function, error) {
	cname := append([]byte(name), 0)
	var f uintptr
	if err := m.dev.check("cuModuleGetFunction", m.dev.d.call(m.dev.d.fn.cuModuleGetFunction, uintptr(unsafe.Pointer(&f)), m.h, uintptr(unsafe.Pointer(&cname[0])))); err != nil {
		return Function{}, fmt.Errorf("kernel %s: %w", name, err)
	}
	return Function{dev: m.dev, h: f, name: name}, nil
}

// Unload unloads the module.
func (m *Module) Unload() error {
	if m == nil || m.h == 0 {
		return nil
	}
	h := m.h
	m.h = 0
	return m.dev.check("cuModuleUnload", m.dev.d.call(m.dev.d.fn.cuModuleUnload, h))
}

// Function is a kernel (CUfunction).
type Function struct {
	dev  *Device
	h    uintptr
	name string
}

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z uint32 }

// MaxArgs is the most kernel arguments an Args holds.
const MaxArgs = 16

// Args packs kernel arguments for cuLaunchKernel: each argument occupies an 8-byte slot and
// kernelParams points at each slot, as the driver expects (void **). Scalars are stored
// little-endian from the start of their slot, so a 4-byte parameter reads the low half.
// Create Args with NewArgs (they must live on the heap: the driver reads the pointers) and
// reuse them: Reset and refill per launch allocates nothing.
type Args struct {
	slots [MaxArgs]uint64
	ptrs  [MaxArgs]uintptr
	n     int
	err   error
}

// NewArgs returns an empty argument list on the heap.
func NewArgs() *Args { return new(Args) }

// Reset empties the list.
func (a *Args) Reset() *Args { a.n, a.err = 0, nil; return a }

// Len returns the number of arguments.
func (a *Args) Len() int { return a.n }

func (a *Args) push(v uint64) *Args {
	if a.n == MaxArgs {
		a.err = fmt.Errorf("cuda: more than %d kernel arguments", MaxArgs)
		return a
	}
	a.slots[a.n] = v
	a.n++
	return a
}

// Ptr appends a device pointer.
func (a *Args) Ptr(p DevicePtr) *Args { return a.push(uint64(p)) }

// U64 appends a 64-bit integer (size_t, long long, uint64_t).
func (a *Args) U64(v uint64) *Args { return a.push(v) }

// I64 appends a signed 64-bit integer.
func (a *Args) I64(v int64) *Args { return a.push(uint64(v)) }

// U32 appends a 32-bit unsigned integer.
func (a *Args) U32(v uint32) *Args { return a.push(uint64(v)) }

// I32 appends a 32-bit signed integer.
func (a *Args) I32(v int32) *Args { return a.push(uint64(uint32(v))) }

// F32 appends a float.
func (a *Args) F32(v float32) *Args { return a.push(uint64(math.Float32bits(v))) }

// Slot returns the 8 bytes of argument i, as the kernel would read them.
func (a *Args) Slot(i int) uint64 { return a.slots[i] }

// params fills the pointer array and returns it as the kernelParams argument (0 when empty).
func (a *Args) params() uintptr {
	if a.n == 0 {
		return 0
	}
	for i := 0; i < a.n; i++ {
		a.ptrs[i] = uintptr(unsafe.Pointer(&a.slots[i]))
	}
	return uintptr(unsafe.Pointer(&a.ptrs[0]))
}

// Launch enqueues the kernel on s with grid x block threads, sharedBytes of dynamic shared
// memory and args (nil = no arguments).
func (f Function) Launch(grid, block Dim3, sharedBytes uint32, s *Stream, args *Args) error {
	var kp uintptr
	if args != nil {
		if args.err != nil {
			return fmt.Errorf("launch %s: %w", f.name, args.err)
		}
		kp = args.params()
	}
	r := f.dev.d.call(f.dev.d.fn.cuLaunchKernel, f.h, uintptr(grid.X), uintptr(grid.Y), uintptr(grid.Z),
		uintptr(block.X), uintptr(block.Y), uintptr(block.Z), uintptr(sharedBytes), s.h, kp, 0)
	runtime.KeepAlive(args)
	if err := f.dev.check("cuLaunchKernel", r); err != nil {
		return fmt.Errorf("launch %s: %w", f.name, err)
	}
	return nil
}

// GridFor returns the grid that covers w x h threads with blocks of block.X x block.Y.
func GridFor(w, h int, block Dim3) Dim3 {
	return Dim3{X: uint32((w + int(block.X) - 1) / int(block.X)), Y: uint32((h + int(block.Y) - 1) / int(block.Y)), Z: 1}
}
