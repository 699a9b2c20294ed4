package abi

import "unsafe"

// Ptr turns an address of foreign (C) memory into an unsafe.Pointer. Such memory is never
// managed by the Go garbage collector, so the conversion is sound; routing it through one
// function keeps every such conversion in one reviewed place.
func Ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// MaxCString bounds GoString's scan so that a string without a terminator in plugin memory
// cannot make the host read forever.
const MaxCString = 1 << 16

// GoString copies the NUL-terminated C string at p into a Go string. It returns "" for a NULL
// pointer, and ok=false when p is NULL or no terminator was found within MaxCString bytes.
//
// p must point into memory that stays mapped while GoString runs (plugin-owned descriptor
// strings are, until unregister_pipelines).
func GoString(p uintptr) (s string, ok bool) {
	if p == 0 {
		return "", false
	}
	for n := 0; n < MaxCString; n++ {
		if *(*byte)(unsafe.Add(Ptr(p), n)) == 0 {
			return string(unsafe.Slice((*byte)(Ptr(p)), n)), true
		}
	}
	return string(unsafe.Slice((*byte)(Ptr(p)), MaxCString)), false
}

// CString returns s as a NUL-terminated byte slice; pass &b[0] to C and keep b alive.
func CString(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// ReadSized copies a sized ABI struct that starts with a uint32 struct_size from foreign
// memory at p into dst (a zeroed Go mirror), copying min(struct_size, sizeof(*dst)) bytes so
// that older (smaller) and newer (larger) writers both work. It returns the writer's
// struct_size.
func ReadSized[T any](p uintptr, dst *T) uint32 {
	size := *(*uint32)(Ptr(p))
	n := uintptr(size)
	if n > unsafe.Sizeof(*dst) {
		n = unsafe.Sizeof(*dst)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n), unsafe.Slice((*byte)(Ptr(p)), n))
	return size
}

// ErrorBuffer is a host-owned scope_error with its message storage, for passing to plugin
// functions. Keep it alive (and unmoved: allocate it with NewErrorBuffer) during the call.
type ErrorBuffer struct {
	e   ErrorBuf
	buf [ErrorMinCapacity]byte
}

// NewErrorBuffer returns an empty error buffer.
func NewErrorBuffer() *ErrorBuffer {
	b := &ErrorBuffer{}
	b.e = ErrorBuf{StructSize: uint32(unsafe.Sizeof(ErrorBuf{})), Capacity: uint32(len(b.buf)), Message: uintptr(unsafe.Pointer(&b.buf[0]))}
	return b
}

// Ptr clears the message and returns the scope_error address to pass to the plugin.
func (b *ErrorBuffer) Ptr() uintptr {
	b.buf[0] = 0
	b.buf[len(b.buf)-1] = 0
	return uintptr(unsafe.Pointer(&b.e))
}

// Message returns what the plugin wrote, or fallback when it wrote nothing.
func (b *ErrorBuffer) Message(fallback string) string {
	b.buf[len(b.buf)-1] = 0
	n := 0
	for n < len(b.buf) && b.buf[n] != 0 {
		n++
	}
	if n == 0 {
		return fallback
	}
	return string(b.buf[:n])
}
