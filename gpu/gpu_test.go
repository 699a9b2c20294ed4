package gpu

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/scopenative/scope/gpu/kernels"
)

func TestOpenWithoutDriver(t *testing.T) {
	_, err := OpenWith(0, Options{Library: "libcuda-scope-test-missing.so.1"})
	if err == nil {
		t.Fatal("opened a library that does not exist")
	}
	if got, want := err.Error(), "no NVIDIA driver: libcuda-scope-test-missing.so.1 not found"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("errors.Is(%v, ErrUnavailable) = false", err)
	}
	// The result is cached: the second attempt says the same.
	if _, err2 := Probe(0, Options{Library: "libcuda-scope-test-missing.so.1"}); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second open: %v", err2)
	}
}

func TestMissingLibraryMessage(t *testing.T) {
	if got := missingLibrary("libx.so", errors.New("libx.so: wrong ELF class: ELFCLASS32")); got != "no NVIDIA driver: cannot load libx.so: libx.so: wrong ELF class: ELFCLASS32" {
		t.Errorf("got %q", got)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Func: "cuMemAlloc_v2", Code: 2}, "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)"},
		{&Error{Func: "cuInit", Code: 100}, "cuda: cuInit: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"},
		{&Error{Func: "cuLaunchKernel", Code: 719, Name: "CUDA_ERROR_LAUNCH_FAILED", Text: "unspecified launch failure"}, "cuda: cuLaunchKernel: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)"},
		{&Error{Func: "cuFoo", Code: 12345}, "cuda: cuFoo: CUresult 12345 (unknown error)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	// Without a driver to ask, errorFor falls back to the table.
	var d *driver
	if got := d.errorFor("cuMemAlloc_v2", 2).Error(); got != "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)" {
		t.Errorf("errorFor = %q", got)
	}
	if (&driver{}).check("cuInit", resultSuccess) != nil {
		t.Error("CUDA_SUCCESS is an error")
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[int]string{12040: "12.4", 13000: "13.0", 9000: "9.0", 11080: "11.8"} {
		if got := versionString(v); got != want {
			t.Errorf("versionString(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestMemcpy2DLayout checks the Go mirror against CUDA_MEMCPY2D's layout in cuda.h
// (x86-64 and aarch64: size_t and pointers are 8 bytes, CUmemorytype 4 plus 4 of padding).
func TestMemcpy2DLayout(t *testing.T) {
	var c Memcpy2D
	if s := unsafe.Sizeof(c); s != 128 {
		t.Fatalf("sizeof = %d, want 128", s)
	}
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"srcXInBytes", unsafe.Offsetof(c.SrcXInBytes), 0}, {"srcY", unsafe.Offsetof(c.SrcY), 8},
		{"srcMemoryType", unsafe.Offsetof(c.SrcMemoryType), 16}, {"srcHost", unsafe.Offsetof(c.SrcHost), 24},
		{"srcDevice", unsafe.Offsetof(c.SrcDevice), 32}, {"srcArray", unsafe.Offsetof(c.SrcArray), 40},
		{"srcPitch", unsafe.Offsetof(c.SrcPitch), 48}, {"dstXInBytes", unsafe.Offsetof(c.DstXInBytes), 56},
		{"dstY", unsafe.Offsetof(c.DstY), 64}, {"dstMemoryType", unsafe.Offsetof(c.DstMemoryType), 72},
		{"dstHost", unsafe.Offsetof(c.DstHost), 80}, {"dstDevice", unsafe.Offsetof(c.DstDevice), 88},
		{"dstArray", unsafe.Offsetof(c.DstArray), 96}, {"dstPitch", unsafe.Offsetof(c.DstPitch), 104},
		{"WidthInBytes", unsafe.Offsetof(c.WidthInBytes), 112}, {"Height", unsafe.Offsetof(c.Height), 120},
	} {
		if f.got != f.want {
			t.Errorf("offset of %s = %d, want %d", f.name, f.got, f.want)
		}
	}
}

func TestNewMemcpy2D(t *testing.T) {
	host := make([]byte, 100)
	up := NewMemcpy2D(Image{Device: 0x1000, Pitch: 64}, Image{Host: host, Pitch: 10}, 9, 10)
	if up.SrcMemoryType != memoryTypeHost || up.SrcHost != uintptr(unsafe.Pointer(&host[0])) || up.SrcPitch != 10 ||
		up.DstMemoryType != memoryTypeDevice || up.DstDevice != 0x1000 || up.DstPitch != 64 || up.WidthInBytes != 9 || up.Height != 10 {
		t.Errorf("upload: %+v", up)
	}
	down := NewMemcpy2D(Image{Host: host, Pitch: 10}, Image{Device: 0x2000, Pitch: 32}, 10, 10)
	if down.SrcMemoryType != memoryTypeDevice || down.SrcDevice != 0x2000 || down.DstMemoryType != memoryTypeHost {
		t.Errorf("download: %+v", down)
	}
	// The checks Copy2D runs before calling the driver.
	if err := (Image{Host: host, Pitch: 10}).check("source", 10, 11); err == nil || !strings.Contains(err.Error(), "need 110") {
		t.Errorf("short host memory: %v", err)
	}
	if err := (Image{Device: 1, Pitch: 8}).check("destination", 9, 1); err == nil {
		t.Error("pitch < row bytes accepted")
	}
	if err := (Image{Pitch: 8}).check("destination", 8, 1); err == nil {
		t.Error("image without memory accepted")
	}
}

func TestArgsPacking(t *testing.T) {
	a := NewArgs()
	a.Ptr(0xdeadbeef00).I64(-2).U32(7).I32(-1).F32(1.5).U64(1 << 40)
	if a.Len() != 6 {
		t.Fatalf("Len = %d", a.Len())
	}
	want := []uint64{0xdeadbeef00, math.MaxUint64 - 1, 7, 0xffffffff, uint64(math.Float32bits(1.5)), 1 << 40}
	for i, w := range want {
		if a.Slot(i) != w {
			t.Errorf("slot %d = %#x, want %#x", i, a.Slot(i), w)
		}
	}
	// kernelParams: a pointer to an array of pointers, one per slot; a 4-byte parameter is
	// read from the first 4 bytes of its slot.
	kp := a.params()
	ptrs := unsafe.Slice((*uintptr)(ptr(kp)), a.Len())
	for i := range want {
		if ptrs[i] != uintptr(unsafe.Pointer(&a.slots[i])) {
			t.Errorf("kernelParams[%d] does not point at slot %d", i, i)
		}
	}
	if v := *(*uint32)(unsafe.Pointer(&a.slots[3])); v != 0xffffffff {
		t.Errorf("int32 -1 reads as %#x", v)
	}
	if v := *(*float32)(unsafe.Pointer(&a.slots[4])); v != 1.5 {
		t.Errorf("float reads as %v", v)
	}
	a.Reset()
	if a.Len() != 0 || a.params() != 0 {
		t.Error("Reset left arguments")
	}
	for i := 0; i <= MaxArgs; i++ {
		a.U32(uint32(i))
	}
	if a.err == nil || a.Len() != MaxArgs {
		t.Errorf("overflow: len %d err %v", a.Len(), a.err)
	}
}

func TestGridFor(t *testing.T) {
	if g := GridFor(1921, 1081, Dim3{32, 8, 1}); g != (Dim3{61, 136, 1}) {
		t.Errorf("GridFor = %+v", g)
	}
	if g := GridFor(1, 1, Dim3{32, 8, 1}); g != (Dim3{1, 1, 1}) {
		t.Errorf("GridFor(1,1) = %+v", g)
	}
}

func TestKernelsEmbedded(t *testing.T) {
	if !kernels.Built() {
		t.Fatal("gpu/kernels/kernels.ptx is not generated PTX: run go generate ./gpu/kernels")
	}
	if !strings.Contains(kernels.PTX, ".target sm_70") {
		t.Error("PTX does not target sm_70")
	}
}

func TestInfoString(t *testing.T) {
	i := Info{Ordinal: 0, Name: "NVIDIA H100 80GB HBM3", DriverVersion: 12040, ComputeMajor: 9, TotalMemory: 80 << 30}
	if got := i.String(); got != "NVIDIA H100 80GB HBM3 (device 0): compute 9.0, 80.0 GiB, driver CUDA 12.4" {
		t.Errorf("String = %q", got)
	}
}
