// Package frame holds host-side frame buffers: the shape of a frame (Format), an image in host
// memory (Frame) and conversions between element types and channel layouts (Convert).
//
// The values mirror the C ABI in include/scope/plugin.h: samples are interleaved, 1 (gray),
// 3 (RGB) or 4 (RGBA) channels, of 8-bit unsigned (0..255) or 32-bit float (0.0..1.0) elements.
package frame

import (
	"bytes"
	"fmt"
	"time"
	"unsafe"
)

// Elem is the element type of samples; values equal the ABI's SCOPE_ELEMENT_* constants.
type Elem uint32

const (
	// U8 is an 8-bit unsigned sample, 0..255 (SCOPE_ELEMENT_U8).
	U8 Elem = 1
	// F32 is a 32-bit float sample, nominally 0.0..1.0 (SCOPE_ELEMENT_F32).
	F32 Elem = 2
)

// Size returns the size of one sample in bytes: 1 for U8, 4 for F32, 0 for an unknown Elem.
func (e Elem) Size() int {
	switch e {
	case U8:
		return 1
	case F32:
		return 4
	}
	return 0
}

// String returns "u8", "f32", or "elem(N)" for an unknown value.
func (e Elem) String() string {
	switch e {
	case U8:
		return "u8"
	case F32:
		return "f32"
	}
	return fmt.Sprintf("elem(%d)", uint32(e))
}

// Format is the shape of a frame without its data.
type Format struct {
	Width, Height int  // pixels, >= 1
	Channels      int  // 1 (gray), 3 (RGB) or 4 (RGBA), interleaved
	Elem          Elem // sample type
}

// RowBytes returns the number of meaningful bytes in one row: Width*Channels*Elem.Size().
func (f Format) RowBytes() int { return f.Width * f.Channels * f.Elem.Size() }

// Validate reports whether f describes a frame the host can hold: width and height >= 1,
// channels 1, 3 or 4, and a known element type. The error names the bad field.
func (f Format) Validate() error {
	switch {
	case f.Width < 1:
		return fmt.Errorf("invalid frame format: width %d, want >= 1", f.Width)
	case f.Height < 1:
		return fmt.Errorf("invalid frame format: height %d, want >= 1", f.Height)
	case f.Channels != 1 && f.Channels != 3 && f.Channels != 4:
		return fmt.Errorf("invalid frame format: channels %d, want 1, 3 or 4", f.Channels)
	case f.Elem != U8 && f.Elem != F32:
		return fmt.Errorf("invalid frame format: element type %d, want %d (u8) or %d (f32)", uint32(f.Elem), uint32(U8), uint32(F32))
	}
	return nil
}

// String returns e.g. "1920x1080 rgb u8"; channels print as gray, rgb or rgba.
func (f Format) String() string {
	var ch string
	switch f.Channels {
	case 1:
		ch = "gray"
	case 3:
		ch = "rgb"
	case 4:
		ch = "rgba"
	default:
		ch = fmt.Sprintf("%dch", f.Channels)
	}
	return fmt.Sprintf("%dx%d %s %s", f.Width, f.Height, ch, f.Elem)
}

// minLen returns the smallest Data length a frame of format f with this pitch needs.
func (f Format) minLen(pitch int) int {
	if f.Height < 1 {
		return 0
	}
	return pitch*(f.Height-1) + f.RowBytes()
}

// Frame is an image in host memory. Pitch is bytes between rows (>= RowBytes).
type Frame struct {
	Format
	Pitch int           // bytes from the start of one row to the next, >= RowBytes
	Data  []byte        // len >= Pitch*(Height-1)+RowBytes
	Index uint64        // sequence number in its stream
	PTS   time.Duration // presentation time since stream start
}

// New returns a zeroed frame of format f with packed rows (Pitch == RowBytes).
// It panics if f is invalid.
func New(f Format) *Frame {
	return NewWithPitch(f, f.RowBytes())
}

// NewWithPitch returns a zeroed frame of format f whose rows are pitch bytes apart.
// It panics if f is invalid or pitch < f.RowBytes().
func NewWithPitch(f Format, pitch int) *Frame {
	if err := f.Validate(); err != nil {
		panic("frame.NewWithPitch: " + err.Error())
	}
	if pitch < f.RowBytes() {
		panic(fmt.Sprintf("frame.NewWithPitch: pitch %d < row bytes %d for %v", pitch, f.RowBytes(), f))
	}
	return &Frame{Format: f, Pitch: pitch, Data: make([]byte, pitch*f.Height)}
}

// Row returns the RowBytes bytes of row y (without padding). It panics if y is out of range.
func (fr *Frame) Row(y int) []byte {
	if uint(y) >= uint(fr.Height) {
		panic(fmt.Sprintf("frame.Row: row %d out of range [0,%d)", y, fr.Height))
	}
	off := y * fr.Pitch
	n := fr.RowBytes()
	return fr.Data[off : off+n : off+n]
}

// Float32Row returns row y as Width*Channels float32 values sharing the frame's memory (no copy).
// It panics if the frame's Elem is not F32 or y is out of range.
func (fr *Frame) Float32Row(y int) []float32 {
	if fr.Elem != F32 {
		panic(fmt.Sprintf("frame.Float32Row: element type is %v, want f32", fr.Elem))
	}
	return asFloat32(fr.Row(y))
}

// asFloat32 reinterprets b as float32 values (len(b)/4 of them) without copying.
func asFloat32(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// check reports whether fr is usable: a valid format, a pitch >= RowBytes and enough Data.
func (fr *Frame) check(what string) error {
	if fr == nil {
		return fmt.Errorf("%s frame is nil", what)
	}
	if err := fr.Format.Validate(); err != nil {
		return fmt.Errorf("%s frame: %w", what, err)
	}
	if fr.Pitch < fr.RowBytes() {
		return fmt.Errorf("%s frame: pitch %d < row bytes %d", what, fr.Pitch, fr.RowBytes())
	}
	if need := fr.minLen(fr.Pitch); len(fr.Data) < need {
		return fmt.Errorf("%s frame: data has %d bytes, %v with pitch %d needs %d", what, len(fr.Data), fr.Format, fr.Pitch, need)
	}
	return nil
}

// Equal reports whether a and b have the same format and the same pixels. Padding bytes between
// rows are ignored; samples are compared bit for bit (so for F32, -0 != +0 and NaN == NaN only
// when the bits match). Index and PTS are not compared.
func Equal(a, b *Frame) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Format != b.Format || a.check("a") != nil || b.check("b") != nil {
		return false
	}
	for y := 0; y < a.Height; y++ {
		if !bytes.Equal(a.Row(y), b.Row(y)) {
			return false
		}
	}
	return true
}
