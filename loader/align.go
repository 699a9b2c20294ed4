package loader

import (
	"unsafe"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
)

// AlignedPitch returns the least row pitch of at least rowBytes bytes that is a multiple of
// abi.FrameAlignment.
func AlignedPitch(rowBytes int) int {
	return (rowBytes + abi.FrameAlignment - 1) / abi.FrameAlignment * abi.FrameAlignment
}

// NewAlignedFrame returns a zeroed frame of format f that keeps the ABI 1.1 frame guarantees:
// data and pitch multiples of abi.FrameAlignment. Frames made this way reach plugins without
// the loader's staging copy.
func NewAlignedFrame(f frame.Format) *frame.Frame {
	pitch := AlignedPitch(f.RowBytes())
	n := pitch * f.Height
	buf := make([]byte, n+abi.FrameAlignment)
	off := 0
	if len(buf) > 0 {
		off = int(-uintptr(unsafe.Pointer(&buf[0])) & (abi.FrameAlignment - 1))
	}
	return &frame.Frame{Format: f, Pitch: pitch, Data: buf[off : off+n : off+n]}
}

// FrameAligned reports whether a host frame keeps the ABI 1.1 alignment guarantee (data and
// pitch multiples of abi.FrameAlignment). An empty frame does.
func FrameAligned(f *frame.Frame) bool {
	if len(f.Data) == 0 {
		return true
	}
	return uintptr(unsafe.Pointer(&f.Data[0]))%abi.FrameAlignment == 0 && f.Pitch%abi.FrameAlignment == 0
}

// overlaps reports whether two frames share any byte of memory.
func overlaps(a, b *frame.Frame) bool {
	if len(a.Data) == 0 || len(b.Data) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a.Data[0])), uintptr(unsafe.Pointer(&b.Data[0]))
	return a0 < b0+uintptr(len(b.Data)) && b0 < a0+uintptr(len(a.Data))
}

// staging holds an instance's aligned copies of frames that miss the ABI guarantees, reused
// from call to call while the format stays the same.
type staging struct {
	inputs [][]*frame.Frame
	output *frame.Frame
}

// stagedFrame returns *slot, remade when its format is not f.
func stagedFrame(slot **frame.Frame, f frame.Format) *frame.Frame {
	if *slot == nil || (*slot).Format != f {
		*slot = NewAlignedFrame(f)
	}
	return *slot
}

// input returns f itself when it keeps the guarantees, else an aligned copy of it.
func (s *staging) input(port, i int, f *frame.Frame) *frame.Frame {
	if FrameAligned(f) {
		return f
	}
	for len(s.inputs) <= port {
		s.inputs = append(s.inputs, nil)
	}
	for len(s.inputs[port]) <= i {
		s.inputs[port] = append(s.inputs[port], nil)
	}
	st := stagedFrame(&s.inputs[port][i], f.Format)
	copyPixels(st, f)
	return st
}

// outputFor returns the frame the plugin writes: out itself when it keeps the guarantees and
// overlaps no input, else an aligned frame whose pixels the caller copies back with
// copyPixels after the call.
func (s *staging) outputFor(out *frame.Frame, inputs [][]*frame.Frame) *frame.Frame {
	clash := !FrameAligned(out)
	for _, list := range inputs {
		for _, f := range list {
			clash = clash || overlaps(out, f)
		}
	}
	if !clash {
		return out
	}
	return stagedFrame(&s.output, out.Format)
}

// copyPixels copies the width x height pixels of src into dst (same format), leaving the
// padding of dst's rows as it is.
func copyPixels(dst, src *frame.Frame) {
	n := src.RowBytes()
	for y := 0; y < src.Height; y++ {
		copy(dst.Data[y*dst.Pitch:y*dst.Pitch+n], src.Data[y*src.Pitch:y*src.Pitch+n])
	}
}
