package validate

import (
	"testing"
	"unsafe"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// TestTestFramesKeepExactlyTheGuarantee checks the harness's frames: every layout keeps the
// ABI 1.1 alignment, the default ones no more than that (an odd multiple of 64), and layout 3
// is page-aligned, so the alignment check really compares the two.
func TestTestFramesKeepExactlyTheGuarantee(t *testing.T) {
	for _, w := range []int{1, 7, 21, 1921} {
		f := frame.Format{Width: w, Height: 3, Channels: 3, Elem: frame.U8}
		for pad := 0; pad <= 3; pad++ {
			tf := newTestFrame(f, pad, "frame")
			if !loader.FrameAligned(tf.f) {
				t.Fatalf("width %d pad %d: pitch %d / data not %d-aligned", w, pad, tf.f.Pitch, abi.FrameAlignment)
			}
			addr := uintptr(unsafe.Pointer(&tf.f.Data[0]))
			if pad == 3 && addr%4096 != 0 {
				t.Errorf("width %d pad 3: data at %#x is not page-aligned", w, addr)
			}
			if pad != 3 && addr%(2*abi.FrameAlignment) != abi.FrameAlignment {
				t.Errorf("width %d pad %d: data at %#x is aligned to more than %d", w, pad, addr, abi.FrameAlignment)
			}
			if pad == 0 && tf.f.Pitch != loader.AlignedPitch(f.RowBytes()) {
				t.Errorf("width %d pad 0: pitch %d, want the least aligned one %d", w, tf.f.Pitch, loader.AlignedPitch(f.RowBytes()))
			}
		}
	}
}
