package abi

import (
	"math"
	"unsafe"
)

// Int reads the union as int64 (SCOPE_PARAM_INT).
func (v *Value) Int() int64 { return int64(v.As[0]) }

// Float reads the union as double (SCOPE_PARAM_FLOAT).
func (v *Value) Float() float64 { return math.Float64frombits(v.As[0]) }

// Bool reads the union as int32 0/1 (SCOPE_PARAM_BOOL).
func (v *Value) Bool() bool { return int32(uint32(v.As[0])) != 0 }

// String reads the union as a C string pointer (SCOPE_PARAM_STRING, SCOPE_PARAM_ENUM).
func (v *Value) String() uintptr { return uintptr(v.As[0]) }

// Color reads the union as RGBA floats (SCOPE_PARAM_COLOR).
func (v *Value) Color() [4]float32 { return *(*[4]float32)(unsafe.Pointer(&v.As)) }

// SetInt stores an int64 in the union.
func (v *Value) SetInt(i int64) { v.As = [2]uint64{uint64(i), 0} }

// SetFloat stores a double in the union.
func (v *Value) SetFloat(f float64) { v.As = [2]uint64{math.Float64bits(f), 0} }

// SetBool stores 0 or 1 as int32 in the union.
func (v *Value) SetBool(b bool) {
	v.As = [2]uint64{}
	if b {
		v.As[0] = 1
	}
}

// SetString stores a C string pointer in the union. The caller keeps the bytes alive and
// NUL-terminated for as long as the value is visible to a plugin.
func (v *Value) SetString(p uintptr) { v.As = [2]uint64{uint64(p), 0} }

// SetColor stores RGBA floats in the union.
func (v *Value) SetColor(c [4]float32) { *(*[4]float32)(unsafe.Pointer(&v.As)) = c }
