package gpu

import (
	"fmt"
	"unsafe"
)

// DevicePtr is a CUdeviceptr: an address in device memory.
type DevicePtr uintptr

// Buffer is device memory from cuMemAlloc_v2.
type Buffer struct {
	dev  *Device
	ptr  DevicePtr
	size int
}

// Alloc allocates size bytes of device memory.
func (dev *Device) Alloc(size int) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("cuda: allocate %d bytes of device memory: size must be > 0", size)
	}
	b := &Buffer{dev: dev, size: size}
	if err := dev.check("cuMemAlloc_v2", dev.d.call(dev.d.fn.cuMemAlloc, uintptr(unsafe.Pointer(&b.ptr)), uintptr(size))); err != nil {
		return nil, fmt.Errorf("allocate %d bytes on %s: %w", size, dev.info.Name, err)
	}
	return b, nil
}

// Ptr returns the buffer's device address.
func (b *Buffer) Ptr() DevicePtr { return b.ptr }

// Size returns the buffer's size in bytes.
func (b *Buffer) Size() int { return b.size }

// Free releases the buffer; it is safe to call more than once.
func (b *Buffer) Free() error {
	if b == nil || b.ptr == 0 {
		return nil
	}
	p := b.ptr
	b.ptr = 0
	return b.dev.check("cuMemFree_v2", b.dev.d.call(b.dev.d.fn.cuMemFree, uintptr(p)))
}

// HostBuffer is page-locked ("pinned") host memory from cuMemAllocHost_v2: copies from and to
// it run at full PCIe speed and truly asynchronously.
type HostBuffer struct {
	dev  *Device
	ptr  uintptr
	size int
}

// AllocHost allocates size bytes of pinned host memory.
func (dev *Device) AllocHost(size int) (*HostBuffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("cuda: allocate %d bytes of pinned memory: size must be > 0", size)
	}
	h := &HostBuffer{dev: dev, size: size}
	if err := dev.check("cuMemAllocHost_v2", dev.d.call(dev.d.fn.cuMemAllocHost, uintptr(unsafe.Pointer(&h.ptr)), uintptr(size))); err != nil {
		return nil, fmt.Errorf("allocate %d bytes of pinned host memory: %w", size, err)
	}
	return h, nil
}

// Bytes returns the buffer as a byte slice (valid until Free).
func (h *HostBuffer) Bytes() []byte {
	if h.ptr == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(ptr(h.ptr)), h.size)
}

// Free releases the buffer; it is safe to call more than once.
func (h *HostBuffer) Free() error {
	if h == nil || h.ptr == 0 {
		return nil
	}
	p := h.ptr
	h.ptr = 0
	return h.dev.check("cuMemFreeHost", h.dev.d.call(h.dev.d.fn.cuMemFreeHost, p))
}

// hostAddr returns the address of b's first byte (0 for an empty slice).
func hostAddr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// CopyToDevice enqueues a copy of src to dst on s. src must stay unchanged until the copy has
// run; from pinned memory (HostBuffer.Bytes) the copy is truly asynchronous.
func (dev *Device) CopyToDevice(dst DevicePtr, src []byte, s *Stream) error {
	if len(src) == 0 {
		return nil
	}
	return dev.check("cuMemcpyHtoDAsync_v2", dev.d.call(dev.d.fn.cuMemcpyHtoDAsync, uintptr(dst), hostAddr(src), uintptr(len(src)), s.h))
}

// CopyToHost enqueues a copy of len(dst) bytes from src into dst on s. dst must stay alive and
// untouched until the stream has passed the copy.
func (dev *Device) CopyToHost(dst []byte, src DevicePtr, s *Stream) error {
	if len(dst) == 0 {
		return nil
	}
	return dev.check("cuMemcpyDtoHAsync_v2", dev.d.call(dev.d.fn.cuMemcpyDtoHAsync, hostAddr(dst), uintptr(src), uintptr(len(dst)), s.h))
}

// Memory types of CUDA_MEMCPY2D (CUmemorytype).
const (
	memoryTypeHost   = 1
	memoryTypeDevice = 2
)

// Memcpy2D mirrors CUDA_MEMCPY2D (cuda.h, the _v2 layout: 128 bytes on 64-bit platforms),
// a copy of Height rows of WidthInBytes bytes between two pitched images.
type Memcpy2D struct {
	SrcXInBytes, SrcY uint64
	SrcMemoryType     uint32
	_                 uint32
	SrcHost           uintptr
	SrcDevice         DevicePtr
	SrcArray          uintptr
	SrcPitch          uint64

	DstXInBytes, DstY uint64
	DstMemoryType     uint32
	_                 uint32
	DstHost           uintptr
	DstDevice         DevicePtr
	DstArray          uintptr
	DstPitch          uint64

	WidthInBytes, Height uint64
}

// Image is one side of a pitched copy: device memory (Device set) or host memory (Host set).
type Image struct {
	Device DevicePtr // device address of the first row, or 0 for host memory
	Host   []byte    // host memory from the first row on, or nil for device memory
	Pitch  int       // bytes between rows
}

// NewMemcpy2D describes a copy of height rows of widthBytes bytes from src to dst.
func NewMemcpy2D(dst, src Image, widthBytes, height int) Memcpy2D {
	c := Memcpy2D{WidthInBytes: uint64(widthBytes), Height: uint64(height), SrcPitch: uint64(src.Pitch), DstPitch: uint64(dst.Pitch)}
	if src.Host != nil {
		c.SrcMemoryType, c.SrcHost = memoryTypeHost, hostAddr(src.Host)
	} else {
		c.SrcMemoryType, c.SrcDevice = memoryTypeDevice, src.Device
	}
	if dst.Host != nil {
		c.DstMemoryType, c.DstHost = memoryTypeHost, hostAddr(dst.Host)
	} else {
		c.DstMemoryType, c.DstDevice = memoryTypeDevice, dst.Device
	}
	return c
}

// check validates a copy against the host slices it names.
func (img Image) check(what string, widthBytes, height int) error {
	if img.Pitch < widthBytes {
		return fmt.Errorf("cuda: 2D copy: %s pitch %d < row bytes %d", what, img.Pitch, widthBytes)
	}
	if img.Host != nil && height > 0 && len(img.Host) < img.Pitch*(height-1)+widthBytes {
		return fmt.Errorf("cuda: 2D copy: %s host memory has %d bytes, %d rows of %d with pitch %d need %d", what, len(img.Host), height, widthBytes, img.Pitch, img.Pitch*(height-1)+widthBytes)
	}
	if img.Host == nil && img.Device == 0 {
		return fmt.Errorf("cuda: 2D copy: %s has no memory", what)
	}
	return nil
}

// Copy2D enqueues a pitched copy of height rows of widthBytes bytes from src to dst on s
// (host to device, device to host or device to device). Host memory must stay alive and
// unchanged until the stream has passed the copy.
func (dev *Device) Copy2D(dst, src Image, widthBytes, height int, s *Stream) error {
	if widthBytes == 0 || height == 0 {
		return nil
	}
	if err := src.check("source", widthBytes, height); err != nil {
		return err
	}
	if err := dst.check("destination", widthBytes, height); err != nil {
		return err
	}
	c := NewMemcpy2D(dst, src, widthBytes, height)
	return dev.check("cuMemcpy2DAsync_v2", dev.d.call(dev.d.fn.cuMemcpy2DAsync, uintptr(unsafe.Pointer(&c)), s.h))
}
