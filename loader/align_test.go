package loader_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// misaligned returns a frame of format f whose data starts 1 byte past a 64-byte boundary and
// whose pitch is row bytes + 3: it keeps none of the ABI 1.1 guarantees.
func misaligned(f frame.Format) *frame.Frame {
	pitch := f.RowBytes() + 3
	buf := make([]byte, pitch*f.Height+128)
	off := 1
	for !isOffset(buf, off) {
		off++
	}
	return &frame.Frame{Format: f, Pitch: pitch, Data: buf[off : off+pitch*f.Height]}
}

// isOffset reports whether &buf[off] is 1 byte past a multiple of 64.
func isOffset(buf []byte, off int) bool {
	return loader.FrameAligned(&frame.Frame{Pitch: 64, Data: buf[off-1:]})
}

// callOnce prepares and calls the pipeline once.
func callOnce(t *testing.T, inst *loader.Instance, in, out *frame.Frame) {
	t.Helper()
	if _, err := inst.Prepare([]frame.Format{in.Format}); err != nil {
		t.Fatal(err)
	}
	if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out}); err != nil {
		t.Fatal(err)
	}
}

// TestHostKeepsFrameGuarantees gives the loader frames that miss every ABI 1.1 guarantee
// (misaligned data and pitch, an output that is the input) and checks that the plugin sees
// aligned, non-overlapping frames and the caller still gets the right pixels, with its
// output's padding untouched.
func TestHostKeepsFrameGuarantees(t *testing.T) {
	lib, err := loader.Open(plugintest.BuildC(t, filepath.Join(t.TempDir(), "poolplugin.so"), []string{filepath.Join("testdata", "poolplugin.c")}), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	f := frame.Format{Width: 37, Height: 5, Channels: 3, Elem: frame.U8}

	probe, err := lib.Pipeline("aligned").NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	in := misaligned(f)
	out := misaligned(f)
	callOnce(t, probe, in, out)
	if out.Data[0] != 7 {
		t.Fatalf("plugin saw guarantees %03b for misaligned frames, want 111 (input aligned, output aligned, no overlap)", out.Data[0])
	}
	callOnce(t, probe, in, in) // output == input: the plugin must still see two frames
	if in.Data[0] != 7 {
		t.Fatalf("plugin saw guarantees %03b when the output was the input, want 111", in.Data[0])
	}

	rows, err := lib.Pipeline("rows").NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	src := misaligned(f)
	for i := range src.Data {
		src.Data[i] = byte(i * 13)
	}
	aligned := loader.NewAlignedFrame(f)
	for y := 0; y < f.Height; y++ {
		copy(aligned.Data[y*aligned.Pitch:], src.Data[y*src.Pitch:y*src.Pitch+f.RowBytes()])
	}
	want := loader.NewAlignedFrame(f)
	callOnce(t, rows, aligned, want)
	got := misaligned(f)
	for i := range got.Data {
		got.Data[i] = 0xEE
	}
	callOnce(t, rows, src, got)
	for y := 0; y < f.Height; y++ {
		g, w := got.Data[y*got.Pitch:y*got.Pitch+f.RowBytes()], want.Data[y*want.Pitch:y*want.Pitch+f.RowBytes()]
		if !bytes.Equal(g, w) {
			t.Fatalf("row %d through staged frames differs from the aligned run", y)
		}
		if y < f.Height-1 && !bytes.Equal(got.Data[y*got.Pitch+f.RowBytes():(y+1)*got.Pitch], []byte{0xEE, 0xEE, 0xEE}) {
			t.Fatalf("row %d: the caller's padding was written", y)
		}
	}
}

// TestNewAlignedFrame checks the helper keeps the guarantee at odd widths.
func TestNewAlignedFrame(t *testing.T) {
	for _, w := range []int{1, 7, 21, 64, 1921} {
		f := loader.NewAlignedFrame(frame.Format{Width: w, Height: 3, Channels: 3, Elem: frame.U8})
		if !loader.FrameAligned(f) || f.Pitch < f.RowBytes() || f.Pitch-f.RowBytes() >= 64 || len(f.Data) != f.Pitch*3 {
			t.Errorf("width %d: pitch %d, len %d, aligned %v", w, f.Pitch, len(f.Data), loader.FrameAligned(f))
		}
	}
}

// TestCallNeedsPrepare checks the host's side of the tick order: Call refuses before any
// Prepare and after a failed one, and CallUnprepared (the validator's) still reaches the plugin.
func TestCallNeedsPrepare(t *testing.T) {
	lib, err := loader.Open(testPlugin(t, ""), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	p := lib.Pipeline("copy")
	in, err := p.NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f := loader.NewAlignedFrame(frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8})
	out := loader.NewAlignedFrame(f.Format)
	args := &loader.CallArgs{Inputs: [][]*frame.Frame{{f}}, Output: out}
	if err := in.Call(args); !errors.Is(err, loader.ErrNotPrepared) {
		t.Fatalf("Call before Prepare: %v, want ErrNotPrepared", err)
	}
	var pe *loader.PluginError
	if err := in.CallUnprepared(args); !errors.As(err, &pe) {
		t.Fatalf("CallUnprepared: %v, want the plugin's own refusal", err)
	}
	if _, err := in.Prepare([]frame.Format{f.Format}); err != nil {
		t.Fatal(err)
	}
	if err := in.Call(args); err != nil {
		t.Fatalf("Call after Prepare: %v", err)
	}
	vals := p.Defaults()
	if err := vals.Set(p, "label", "fail-prepare"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetParams(vals); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Prepare([]frame.Format{f.Format}); err == nil {
		t.Fatal("prepare with label fail-prepare succeeded")
	}
	if err := in.Call(args); !errors.Is(err, loader.ErrNotPrepared) {
		t.Fatalf("Call after a failed Prepare: %v, want ErrNotPrepared", err)
	}
}
