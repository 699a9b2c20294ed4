package validate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
	"unsafe"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// env is what one check works with, in a child process or in process.
type env struct {
	ctx  context.Context
	path string
	u    unit
	tr   tracer
	lib  *loader.Library // opened by open (or the descriptor check); runUnit closes it
	p    *loader.Pipeline
	mode loader.Mode
}

// open loads the library with the loader and finds the unit's pipeline and mode.
func (e *env) open() error {
	e.tr.step("load with the scope loader")
	lib, err := loader.Open(e.path, loader.Options{Logger: slog.New(traceHandler{e.tr})})
	if err != nil {
		return err
	}
	e.lib = lib
	if e.p = lib.Pipeline(e.u.Pipeline); e.p == nil {
		return fmt.Errorf("no pipeline %q when the library is loaded again", e.u.Pipeline)
	}
	e.mode = e.p.DefaultMode().Mode
	if e.u.Mode != "" {
		if e.mode, err = loader.ParseMode(e.u.Mode); err != nil {
			return err
		}
	}
	return nil
}

// create makes an instance with these values (nil = the defaults); what describes them for
// the progress line.
func (e *env) create(values loader.Values, what string) (*loader.Instance, error) {
	if what != "" {
		e.tr.step("create (%s)", what)
	} else {
		e.tr.step("create")
	}
	return e.p.NewInstance(e.mode, values)
}

// destroy closes an instance.
func (e *env) destroy(in *loader.Instance) {
	e.tr.step("destroy")
	in.Close()
}

// video reports whether the unit runs in video mode.
func (e *env) video() bool { return e.mode == loader.ModeVideo }

// shape is the input format the harness feeds a video pipeline (or, with w == 0, a text
// pipeline's own output size) and how its rows are padded.
type shape struct {
	w, h     int
	channels int
	elem     frame.Elem
	// pad: how rows are laid out, always within the ABI 1.1 guarantees (data and pitch
	// multiples of SCOPE_FRAME_ALIGNMENT) and no further: 0: the least aligned pitch, data
	// 64- but not 128-byte aligned; 1: that pitch plus 64; 2: plus 192; 3: the least aligned
	// pitch with page-aligned data (the alignment check compares it with 0).
	pad int
}

func rgb(w, h int) shape { return shape{w: w, h: h, channels: 3, elem: frame.U8} }

func (s shape) padded(p int) shape { s.pad = p; return s }

func (s shape) String() string {
	str := "default size"
	if s.w > 0 {
		str = frame.Format{Width: s.w, Height: s.h, Channels: s.channels, Elem: s.elem}.String()
	}
	switch s.pad {
	case 1:
		str += ", rows padded by 64 bytes"
	case 2:
		str += ", rows padded by 192 bytes"
	case 3:
		str += ", page-aligned rows"
	}
	return str
}

// pitchFor returns the row pitch of a frame of format f with padding p (see shape.pad).
func pitchFor(f frame.Format, p int) int {
	pitch := loader.AlignedPitch(f.RowBytes())
	switch p {
	case 1:
		return pitch + 64
	case 2:
		return pitch + 192
	}
	return pitch
}

// exactAlign is the data alignment the harness gives frames: SCOPE_FRAME_ALIGNMENT and no
// more (the address is an odd multiple of it), so a plugin that assumes more fails.
const exactAlign = abi.FrameAlignment

// guardByte is the pattern written around and between the rows of every buffer.
func guardByte(i int) byte { return byte(0xA5 ^ i*29 ^ i>>7) }

// buffer is memory with guard bytes before and after the data.
type buffer struct {
	mem    []byte
	lo, hi int // the data is mem[lo:hi]
}

// newBuffer returns n bytes of data with at least `guard` guard bytes on each side; the data
// starts at an address that is `align` modulo 2*align (align a power of two; 0 = any).
func newBuffer(n, guard, align int) *buffer {
	mem := make([]byte, n+2*guard+2*align)
	lo := guard
	if align > 0 {
		for (uintptr(unsafe.Pointer(&mem[lo])) % uintptr(2*align)) != uintptr(align) {
			lo++
		}
	}
	b := &buffer{mem: mem, lo: lo, hi: lo + n}
	for i := 0; i < b.lo; i++ {
		b.mem[i] = guardByte(i)
	}
	for i := b.hi; i < len(b.mem); i++ {
		b.mem[i] = guardByte(i)
	}
	return b
}

func (b *buffer) data() []byte { return b.mem[b.lo:b.hi:b.hi] }

// damage counts the changed guard bytes before and after the data.
func (b *buffer) damage() (before, after int) {
	for i := 0; i < b.lo; i++ {
		if b.mem[i] != guardByte(i) {
			before++
		}
	}
	for i := b.hi; i < len(b.mem); i++ {
		if b.mem[i] != guardByte(i) {
			after++
		}
	}
	return before, after
}

// testFrame is a frame whose data sits in a guarded buffer; the row padding (pitch beyond
// the pixels, last row included) is filled with the guard pattern too.
type testFrame struct {
	f    *frame.Frame
	buf  *buffer
	name string // "the output", "input frame 2 of port video"
}

func newTestFrame(f frame.Format, pad int, name string) *testFrame {
	pitch := pitchFor(f, pad)
	align := exactAlign
	if pad == 3 {
		align = 4096 // page-aligned data
	}
	b := newBuffer(pitch*f.Height, 4096+pitch, align)
	t := &testFrame{f: &frame.Frame{Format: f, Pitch: pitch, Data: b.data()}, buf: b, name: name}
	row := f.RowBytes()
	for y := 0; y < f.Height; y++ {
		for i := y*pitch + row; i < (y+1)*pitch; i++ {
			t.f.Data[i] = guardByte(i)
		}
	}
	return t
}

// outsideDamage describes writes outside the frame's pixels: before, after, and (when
// padding counts, as for the output) between the rows. "" when there are none.
func (t *testFrame) outsideDamage(padding bool) []string {
	var out []string
	before, after := t.buf.damage()
	if before > 0 {
		out = append(out, fmt.Sprintf("%d guard byte%s changed before %s's first row", before, plural(before), t.name))
	}
	if after > 0 {
		out = append(out, fmt.Sprintf("%d guard byte%s changed after %s's last row", after, plural(after), t.name))
	}
	if padding {
		row, n, first := t.f.RowBytes(), 0, -1
		for y := 0; y < t.f.Height; y++ {
			for i := y*t.f.Pitch + row; i < (y+1)*t.f.Pitch; i++ {
				if t.f.Data[i] != guardByte(i) {
					n++
					if first < 0 {
						first = y
					}
				}
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%d byte%s changed in the padding after %s's rows (pitch %d, %d bytes of pixels; first in row %d)", n, plural(n), t.name, t.f.Pitch, row, first))
		}
	}
	return out
}

// fillFrame writes reproducible pseudo-random samples (f32 ones in 0..1) into the pixels.
func fillFrame(f *frame.Frame, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 | 1
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	var tmp []byte
	for y := 0; y < f.Height; y++ {
		row := f.Row(y)
		if f.Elem == frame.F32 {
			if tmp == nil {
				tmp = make([]byte, len(row)/4)
			}
			randomBytes(tmp, next)
			fr := f.Float32Row(y)
			for i, b := range tmp {
				fr[i] = float32(b) / 255
			}
			continue
		}
		randomBytes(row, next)
	}
}

func randomBytes(dst []byte, next func() uint64) {
	var w [8]byte
	for i := 0; i < len(dst); i += 8 {
		binary.LittleEndian.PutUint64(w[:], next())
		copy(dst[i:], w[:])
	}
}

// packedCopy returns the pixels of f in a new frame with packed rows.
func packedCopy(f *frame.Frame) *frame.Frame {
	c := frame.New(f.Format)
	if f.Pitch == f.RowBytes() {
		copy(c.Data, f.Data)
		return c
	}
	for y := 0; y < f.Height; y++ {
		copy(c.Row(y), f.Row(y))
	}
	return c
}

// diffFrames describes how two outputs differ, or "" when they are equal.
func diffFrames(a, b *frame.Frame) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return "one of them has no output"
	}
	if a.Format != b.Format {
		return fmt.Sprintf("the formats differ (%v, %v)", a.Format, b.Format)
	}
	n, fy, fx := 0, -1, -1
	for y := 0; y < a.Height; y++ {
		ra, rb := a.Row(y), b.Row(y)
		if bytes.Equal(ra, rb) {
			continue
		}
		for i := range ra {
			if ra[i] != rb[i] {
				if n == 0 {
					fy, fx = y, i/(a.Channels*a.Elem.Size())
				}
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d byte%s differ, the first at pixel (%d,%d)", n, plural(n), fx, fy)
}

// tickResult is what one prepare + call did.
type tickResult struct {
	what      string // the shape, for messages
	req       loader.Requirements
	op        string // "create", "prepare" or "call" when err is set
	err       error
	out       *frame.Frame // packed copy of the output (nil without video, or on error)
	audio     []float32    // the samples written
	guards    []string     // writes outside any buffer
	inputs    []string     // changes to the input frames
	nonFinite []string     // NaN or Inf in f32 output or audio
	floats    bool         // the output is f32 or there is audio: float-output applies
}

// errNeedsCUDA means a pipeline asked for CUDA frames, which the harness cannot give.
var errNeedsCUDA = errors.New("the pipeline asks for CUDA frames")

// maxFrameBytes bounds one frame the harness allocates.
const maxFrameBytes = 512 << 20

// prompts go to every pipeline that supports them.
var testPrompts = []loader.Prompt{{Text: "a red car", Weight: 1}, {Text: "blue sky at dusk", Weight: 0.5}}

// msg formats a plugin error without the file name the loader puts in it.
func msg(err error) string {
	var pe *loader.PluginError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%v: %s", pe.Status, pe.Message)
	}
	return err.Error()
}

// unsupported reports whether err is a plugin's SCOPE_ERROR_UNSUPPORTED.
func unsupported(err error) bool {
	var pe *loader.PluginError
	return errors.As(err, &pe) && pe.Status == abi.ErrorUnsupported
}

// tick prepares and calls in once with inputs of shape s (video) whose newest frame is
// number index, filled from seed; note is added to the progress lines. Every buffer is
// guarded and checked afterwards, whatever the call returned. The error is errNeedsCUDA or
// nil; plugin errors are in the result.
func (e *env) tick(in *loader.Instance, s shape, index, seed uint64, note string) (*tickResult, error) {
	r := &tickResult{what: s.String()}
	where := r.what
	if note != "" {
		where += "; " + note
	}
	var formats []frame.Format
	ports := e.p.InputPorts
	if e.video() {
		for range ports {
			formats = append(formats, frame.Format{Width: s.w, Height: s.h, Channels: s.channels, Elem: s.elem})
		}
	}
	e.tr.step("prepare (%s)", where)
	req, err := in.Prepare(formats)
	if err != nil {
		r.op, r.err = "prepare", err
		return r, nil
	}
	r.req = req
	if (len(formats) > 0 && req.InputMemory == abi.MemoryCUDA) || (e.p.ProducesVideo && req.OutputMemory == abi.MemoryCUDA) {
		return nil, errNeedsCUDA
	}
	if e.p.ProducesVideo && pitchFor(req.Output, s.pad)*req.Output.Height > maxFrameBytes {
		r.op, r.err = "prepare", fmt.Errorf("asked for a %v output frame, over the validator's %d MiB", req.Output, maxFrameBytes>>20)
		return r, nil
	}

	var inputs [][]*frame.Frame
	var frames []*testFrame
	var before [][]byte
	for pi := range formats {
		list := make([]*frame.Frame, req.InputSize)
		for k := range list {
			idx := index + uint64(k) - uint64(req.InputSize-1)
			t := newTestFrame(req.Input, s.pad, fmt.Sprintf("input frame %d of port %s", k, ports[pi]))
			fillFrame(t.f, seed^uint64(pi)<<32^idx)
			t.f.Index, t.f.PTS = idx, time.Duration(idx)*time.Second/30
			list[k] = t.f
			frames = append(frames, t)
			before = append(before, append([]byte(nil), t.f.Data...))
		}
		inputs = append(inputs, list)
	}
	var out *testFrame
	args := &loader.CallArgs{Inputs: inputs, TimestampUS: int64(index) * 1e6 / 30}
	if e.p.ProducesVideo {
		out = newTestFrame(req.Output, s.pad, "the output")
		blank := bytes.Repeat([]byte{0xCD}, out.f.RowBytes())
		for y := 0; y < out.f.Height; y++ {
			copy(out.f.Row(y), blank)
		}
		args.Output = out.f
		r.floats = req.Output.Elem == frame.F32
	}
	var abuf *buffer
	if e.p.ProducesAudio {
		abuf = newBuffer(req.AudioMaxFrames*2*4, 4096, 0)
		var samples []float32
		if d := abuf.data(); len(d) > 0 {
			samples = unsafe.Slice((*float32)(unsafe.Pointer(&d[0])), len(d)/4)
		}
		args.Audio = &loader.Audio{Samples: samples}
		r.floats = true
	}
	if e.p.SupportsPrompts {
		args.Prompts = testPrompts
	}
	e.tr.step("call (%s)", where)
	err = in.Call(args)

	for i, t := range frames {
		r.guards = append(r.guards, t.outsideDamage(false)...)
		if d := changed(before[i], t.f); d != "" {
			r.inputs = append(r.inputs, fmt.Sprintf("%s was modified: %s", t.name, d))
		}
	}
	if out != nil {
		r.guards = append(r.guards, out.outsideDamage(true)...)
	}
	if abuf != nil {
		b, a := abuf.damage()
		if b+a > 0 {
			r.guards = append(r.guards, fmt.Sprintf("%d guard bytes changed around the audio buffer (room for %d frames)", b+a, req.AudioMaxFrames))
		}
	}
	if err != nil {
		r.op, r.err = "call", err
		return r, nil
	}
	if out != nil {
		r.out = packedCopy(out.f)
		if out.f.Elem == frame.F32 {
			if d := nonFinite(out.f); d != "" {
				r.nonFinite = append(r.nonFinite, "the output has "+d)
			}
		}
	}
	if args.Audio != nil {
		a := args.Audio
		r.audio = append([]float32(nil), a.Samples[:a.Frames*a.Channels]...)
		for i, v := range r.audio {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				r.nonFinite = append(r.nonFinite, fmt.Sprintf("audio sample %d is %v", i, v))
				break
			}
		}
	}
	return r, nil
}

// changed describes how f's bytes (row padding included) differ from before, or "".
func changed(before []byte, f *frame.Frame) string {
	if bytes.Equal(before, f.Data) {
		return ""
	}
	n, first := 0, -1
	for i := range before {
		if before[i] != f.Data[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	y, col := first/f.Pitch, first%f.Pitch
	if col >= f.RowBytes() {
		return fmt.Sprintf("%d byte%s changed, the first in the padding after row %d", n, plural(n), y)
	}
	return fmt.Sprintf("%d byte%s changed, the first at pixel (%d,%d)", n, plural(n), col/(f.Channels*f.Elem.Size()), y)
}

// nonFinite describes the NaN and Inf samples of an f32 frame, or "".
func nonFinite(f *frame.Frame) string {
	n, fx, fy, fc := 0, 0, 0, 0
	for y := 0; y < f.Height; y++ {
		for i, v := range f.Float32Row(y) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				if n == 0 {
					fx, fy, fc = i/f.Channels, y, i%f.Channels
				}
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d NaN/Inf sample%s, the first at pixel (%d,%d) channel %d", n, plural(n), fx, fy, fc)
}
