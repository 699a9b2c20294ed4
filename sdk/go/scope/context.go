package scope

/*
#include "sdk.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime/cgo"
	"strings"
	"unsafe"
)

// CreateContext is what Pipeline.New receives. It is valid during New only: copy the
// parameter values you keep (Host may be kept).
type CreateContext struct {
	Pipeline   string   // the pipeline's id
	Mode       ModeKind // the mode of the new instance
	Params     Params   // every parameter; load-time values are final
	CUDADevice int      // the CUDA device the host uses, or -1 (no CUDA)
	Host       Host     // the host's services; valid as long as the plugin is registered
}

// PrepareContext is what Instance.Prepare receives. It is valid during Prepare only.
type PrepareContext struct {
	Mode   ModeKind      // the mode of this instance
	Params Params        // current values of every parameter
	Inputs []FrameFormat // the format arriving on each input port; empty in text mode
}

// FrameFormat is the shape of a frame without its data.
type FrameFormat struct {
	Width, Height int         // pixels
	Channels      int         // 1 (gray), 3 (RGB) or 4 (RGBA), interleaved
	Element       ElementType // ElementU8 or ElementF32
	Memory        Memory      // MemoryHost or MemoryCUDA
}

// Requirements is what an instance needs for its next call. Zero means "the default"
// everywhere: the mode's input size, output shaped like the input (video) or the mode's size
// (text), 8-bit frames in host memory.
type Requirements struct {
	InputSize      int         // frames per input port per call; 0 = the mode default
	OutputWidth    int         // 0 = input width (video) or mode default (text)
	OutputHeight   int         // 0 = input height (video) or mode default (text)
	OutputChannels int         // 0 = input channels (video) or 3 (text)
	OutputElement  ElementType // 0 = ElementU8; F32 output is clamped to 0..1
	OutputMemory   Memory      // 0 = MemoryHost
	InputElement   ElementType // 0 = ElementU8; the host converts if needed
	InputMemory    Memory      // 0 = MemoryHost; the host uploads if needed
	InputChannels  int         // 0 = as produced upstream; 3 or 4 to have it converted
	AudioMaxFrames int         // room needed in CallContext.Audio, in sample frames
}

// CallContext is what Instance.Call receives. It and everything it holds (frames, their
// Data slices, Params) are valid during Call only: the SDK reuses it for the next call and
// the host reuses the frame memory. Copy what you keep.
type CallContext struct {
	Flags       CallFlags // CallFirst, CallParamsChanged
	Index       uint64    // 0 for the first call of this instance, then +1
	TimestampUS int64     // session time of this tick in microseconds
	Params      Params    // current values of every parameter
	// Inputs holds the frames of each input port, oldest first: Inputs[port][i]. Input
	// frames are read-only: never write to their Data.
	Inputs [][]Frame
	// Output is the frame to fill: write every pixel of Width x Height and nothing else.
	// nil for pipelines with NoVideo.
	Output  *Frame
	Prompts []Prompt // weighted prompts (SupportsPrompts pipelines), else empty
	Audio   *Audio   // the audio buffer (ProducesAudio pipelines), else nil

	output  Frame
	audio   Audio
	strings []string // cache of string parameter values, by position
	texts   []string // cache of prompt texts, by position
}

// First reports whether this is the first call of the instance (reset temporal state).
func (c *CallContext) First() bool { return c.Flags&CallFirst != 0 }

// ParamsChanged reports whether some parameter differs from the previous call.
func (c *CallContext) ParamsChanged() bool { return c.Flags&CallParamsChanged != 0 }

// Input returns frame i (oldest first) of the first input port, or nil if there is none.
func (c *CallContext) Input(i int) *Frame {
	if len(c.Inputs) == 0 || i < 0 || i >= len(c.Inputs[0]) {
		return nil
	}
	return &c.Inputs[0][i]
}

// Prompt is one weighted text prompt.
type Prompt struct {
	Text   string  // UTF-8
	Weight float32 // relative weight, >= 0
}

// Frame is one image. Its pixels belong to the host and are valid during the call only.
//
// For host memory, Data covers the whole image: pixel (x, y) channel c is at
// Data[y*Pitch + (x*Channels+c)*Element.Size()]. Rows may be padded: step rows by Pitch (or use
// Row), never by Width*Channels. For CUDA memory, Data is nil and Addr is the device address
// of the first row; enqueue work on CUDAStream.
type Frame struct {
	Width, Height int         // pixels
	Channels      int         // 1, 3 or 4 interleaved channels (RGB order)
	Element       ElementType // ElementU8 or ElementF32
	Memory        Memory      // MemoryHost or MemoryCUDA
	Pitch         int         // bytes from the start of one row to the next
	Data          []byte      // the pixels (host memory only), Pitch*(Height-1)+RowBytes() bytes
	Addr          uintptr     // address of the first row (a device address for CUDA)
	CUDAStream    uintptr     // the CUstream to enqueue on (CUDA), else 0
	CUDADevice    int         // the CUDA device ordinal (CUDA), else -1
	TimestampUS   int64       // presentation time in microseconds since the session started
	Index         uint64      // sequence number of the frame in its stream
}

// RowBytes returns the bytes of pixels in one row: Width * Channels * Element.Size().
func (f *Frame) RowBytes() int { return f.Width * f.Channels * f.Element.Size() }

// Row returns row y of a host-memory frame as bytes (RowBytes long).
func (f *Frame) Row(y int) []byte {
	off := y * f.Pitch
	return f.Data[off : off+f.RowBytes() : off+f.RowBytes()]
}

// RowF32 returns row y of a host-memory ElementF32 frame as Width*Channels floats.
func (f *Frame) RowF32(y int) []float32 {
	row := f.Row(y)
	if len(row) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&row[0])), len(row)/4)
}

// Format returns the frame's shape.
func (f *Frame) Format() FrameFormat {
	return FrameFormat{Width: f.Width, Height: f.Height, Channels: f.Channels, Element: f.Element, Memory: f.Memory}
}

// load fills f from a host frame and checks that its memory can be sliced.
func (f *Frame) load(p *C.scope_frame) error {
	c := readSized[C.scope_frame](unsafe.Pointer(p))
	*f = Frame{
		Width: int(c.width), Height: int(c.height), Channels: int(c.channels),
		Element: ElementType(c.element_type), Memory: Memory(c.memory), Pitch: int(c.pitch),
		Addr: uintptr(c.data), CUDAStream: uintptr(c.cuda_stream), CUDADevice: int(c.cuda_device),
		TimestampUS: int64(c.timestamp_us), Index: uint64(c.index),
	}
	if f.Memory != MemoryHost || f.Width == 0 || f.Height == 0 {
		return nil
	}
	rb := f.RowBytes()
	switch {
	case rb == 0:
		return fmt.Errorf("unknown element type %d or zero channels", f.Element)
	case f.Pitch < rb:
		return fmt.Errorf("pitch %d is smaller than a row (%d bytes)", f.Pitch, rb)
	case c.data == nil:
		return fmt.Errorf("no data")
	}
	f.Data = unsafe.Slice((*byte)(c.data), f.Pitch*(f.Height-1)+rb)
	return nil
}

// Audio is the buffer a ProducesAudio pipeline writes interleaved float PCM into.
type Audio struct {
	c *C.scope_audio
}

// CapacityFrames returns the room in the buffer, in sample frames. The host always allocates
// room for that many stereo frames (CapacityFrames()*2 floats), whatever the channel count the
// plugin then picks.
func (a *Audio) CapacityFrames() int { return int(a.c.capacity_frames) }

// Samples returns the buffer as CapacityFrames()*channels floats; channels is 1 or 2 (any
// other count returns nil: the host allocates room for stereo only). Valid during the call only.
func (a *Audio) Samples(channels int) []float32 {
	if a.c.samples == nil || channels < 1 || channels > 2 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(a.c.samples)), a.CapacityFrames()*channels)
}

// Set reports what this call wrote: the sample rate in Hz, the channel count and the number
// of sample frames (0 = none).
func (a *Audio) Set(sampleRate, channels, frames int) {
	a.c.sample_rate = C.uint32_t(sampleRate)
	a.c.channels = C.uint32_t(channels)
	a.c.frames = C.uint32_t(frames)
}

// Host is the host's services. It stays valid as long as the plugin is registered, so an
// instance may keep it.
type Host struct {
	c *C.scope_host
}

// Log writes one line to the host's log, attributed to this plugin. Cheap enough for
// per-frame warnings, but do not log every frame at LogInfo or above. Safe from any goroutine.
func (h Host) Log(level LogLevel, msg string) {
	if h.c == nil {
		return
	}
	cs := C.CString(msg)
	C.scope_sdk_log(h.c, C.int32_t(level), cs)
	C.free(unsafe.Pointer(cs))
}

// Workers returns how many ranges the host's thread pool runs at once, the caller's included
// (1 without a pool, as on a 1.0 host).
func (h Host) Workers() int { return int(C.scope_worker_count(h.c)) }

// ParallelFor runs f(begin, end) over disjoint ranges covering [0, count), each at least grain
// items long, on the host's thread pool (scope_host.parallel_for has the contract: ranges run
// concurrently; a nested call runs inline), or as f(0, count) here without a pool. It returns
// when every range has finished. A panic in f is recovered in its range and raised again here,
// after every range has ended. The host's threads enter this library's Go runtime as cgo
// callbacks, which costs microseconds per range: give ranges tens of kilobytes of work.
func (h Host) ParallelFor(count, grain int, f func(begin, end int)) {
	if count <= 0 {
		return
	}
	if h.c == nil || count > math.MaxUint32 {
		f(0, count)
		return
	}
	j := &rangeJob{f: f}
	hd := cgo.NewHandle(j)
	defer hd.Delete()
	C.scope_sdk_parallel_for(h.c, C.uint32_t(count), C.uint32_t(max(grain, 0)), C.uintptr_t(hd))
	if p := j.panic.Load(); p != nil {
		panic(*p)
	}
}

// Logf is Log with fmt.Sprintf formatting.
func (h Host) Logf(level LogLevel, format string, args ...any) {
	h.Log(level, fmt.Sprintf(format, args...))
}

// Name returns the host's name (e.g. "scope"), or "" without a host.
func (h Host) Name() string {
	if h.c == nil || h.c.name == nil {
		return ""
	}
	return C.GoString(h.c.name)
}

// Version returns the host's version, or "" without a host.
func (h Host) Version() string {
	if h.c == nil || h.c.version == nil {
		return ""
	}
	return C.GoString(h.c.version)
}

// Params is a read-only view of the parameter values the host passes, valid during the call
// that received it. Each getter returns def when the key is absent or has another type; the
// host has validated every value against the descriptor, so no range checks are needed.
// Lookups do not allocate; String allocates only when a value changes.
type Params struct {
	values []C.scope_value
	pipe   *pipeline
	cache  []string // last Go copy of each string value, by position; nil = no cache
}

// newParams views the host's values for pipeline p; cache may be nil.
func newParams(cp *C.scope_params, p *pipeline, cache []string) Params {
	if cp == nil || cp.values == nil {
		return Params{pipe: p}
	}
	return Params{values: unsafe.Slice(cp.values, int(cp.count)), pipe: p, cache: cache}
}

// Len returns the number of values (the pipeline's parameter count).
func (p Params) Len() int { return len(p.values) }

// Has reports whether a value with this key is present.
func (p Params) Has(key string) bool {
	_, i := p.find(key)
	return i >= 0
}

// Float returns a FLOAT (or INT) value, or def.
func (p Params) Float(key string, def float64) float64 {
	v, i := p.find(key)
	switch {
	case i < 0:
	case ParamType(v._type) == ParamFloat:
		return *(*float64)(unsafe.Pointer(&v.as))
	case ParamType(v._type) == ParamInt:
		return float64(*(*int64)(unsafe.Pointer(&v.as)))
	}
	return def
}

// Int returns an INT (or BOOL) value, or def.
func (p Params) Int(key string, def int64) int64 {
	v, i := p.find(key)
	switch {
	case i < 0:
	case ParamType(v._type) == ParamInt:
		return *(*int64)(unsafe.Pointer(&v.as))
	case ParamType(v._type) == ParamBool:
		return int64(*(*int32)(unsafe.Pointer(&v.as)))
	}
	return def
}

// Bool returns a BOOL value, or def.
func (p Params) Bool(key string, def bool) bool {
	if v, i := p.find(key); i >= 0 && ParamType(v._type) == ParamBool {
		return *(*int32)(unsafe.Pointer(&v.as)) != 0
	}
	return def
}

// String returns a STRING value, or an ENUM value (the option key), or def.
func (p Params) String(key, def string) string {
	v, i := p.find(key)
	if i < 0 || ParamType(v._type) != ParamString && ParamType(v._type) != ParamEnum {
		return def
	}
	s := *(**C.char)(unsafe.Pointer(&v.as))
	if s == nil {
		return def
	}
	view := cstringView(s) // valid during the call only: never returned
	if i < len(p.cache) {
		if p.cache[i] != view {
			p.cache[i] = strings.Clone(view)
		}
		return p.cache[i]
	}
	return strings.Clone(view)
}

// Color returns a COLOR value, or def.
func (p Params) Color(key string, def RGBA) RGBA {
	if v, i := p.find(key); i >= 0 && ParamType(v._type) == ParamColor {
		c := *(*[4]float32)(unsafe.Pointer(&v.as))
		return RGBA{R: c[0], G: c[1], B: c[2], A: c[3]}
	}
	return def
}

// find returns the value with this key and its position, or -1. values[i] belongs to
// parameter i (plugin.h), so the registered position is tried first.
func (p Params) find(key string) (*C.scope_value, int) {
	if p.pipe != nil {
		if i, ok := p.pipe.index[key]; ok && i < len(p.values) && cstringEqual(p.values[i].key, key) {
			return &p.values[i], i
		}
	}
	for i := range p.values {
		if cstringEqual(p.values[i].key, key) {
			return &p.values[i], i
		}
	}
	return nil, -1
}

// cstringEqual reports whether the C string p equals s, without a cgo call.
func cstringEqual(p *C.char, s string) bool {
	if p == nil {
		return false
	}
	for i := 0; i < len(s); i++ { // byte by byte: never read past the C string's NUL
		if *(*byte)(unsafe.Add(unsafe.Pointer(p), i)) != s[i] {
			return false
		}
	}
	return *(*byte)(unsafe.Add(unsafe.Pointer(p), len(s))) == 0
}

// cstringView returns the C string p as a Go string sharing its memory: valid only while p is.
func cstringView(p *C.char) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return unsafe.String((*byte)(unsafe.Pointer(p)), n)
}

// readSized reads a sized ABI struct (one starting with uint32_t struct_size) the ABI way:
// the first min(struct_size, size of T) bytes, the rest zero. A nil p reads as all zero.
func readSized[T any](p unsafe.Pointer) T {
	var v T
	if p == nil {
		return v
	}
	n := uintptr(*(*uint32)(p))
	if size := unsafe.Sizeof(v); n > size {
		n = size
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&v)), n), unsafe.Slice((*byte)(p), n))
	return v
}

// write copies r into the C requirements, checking that every field fits.
func (r Requirements) write(out *C.scope_requirements) error {
	fields := [...]struct {
		name string
		v    int
		dst  *C.uint32_t
	}{
		{"InputSize", r.InputSize, &out.input_size},
		{"OutputWidth", r.OutputWidth, &out.output_width},
		{"OutputHeight", r.OutputHeight, &out.output_height},
		{"OutputChannels", r.OutputChannels, &out.output_channels},
		{"InputChannels", r.InputChannels, &out.input_channels},
		{"AudioMaxFrames", r.AudioMaxFrames, &out.audio_max_frames},
	}
	for _, f := range fields {
		if f.v < 0 || f.v > math.MaxUint32 {
			return Errorf(StatusInvalidArgument, "requirements: %s %d is out of range", f.name, f.v)
		}
		*f.dst = C.uint32_t(f.v)
	}
	out.output_element_type = C.uint32_t(r.OutputElement)
	out.output_memory = C.uint32_t(r.OutputMemory)
	out.input_element_type = C.uint32_t(r.InputElement)
	out.input_memory = C.uint32_t(r.InputMemory)
	return nil
}

// load fills ctx from the host's prepare arguments. input_formats is an array of
// input_port_count pointers (plugin.h: arrays the host writes hold pointers), indexed plainly;
// a NULL entry is an error.
func (ctx *PrepareContext) load(a *C.scope_prepare_args, p *pipeline, cache []string) error {
	ctx.Mode = ModeKind(a.mode)
	ctx.Params = newParams(a.params, p, cache)
	n := 0
	if a.input_formats != nil {
		n = int(a.input_port_count)
	}
	if cap(ctx.Inputs) < n {
		ctx.Inputs = make([]FrameFormat, n)
	}
	ctx.Inputs = ctx.Inputs[:n]
	for i, fp := range unsafe.Slice(a.input_formats, n) {
		if fp == nil {
			ctx.Inputs = ctx.Inputs[:0]
			return Errorf(StatusInvalidArgument, "input format %d is NULL", i)
		}
		f := readSized[C.scope_frame_format](unsafe.Pointer(fp))
		ctx.Inputs[i] = FrameFormat{Width: int(f.width), Height: int(f.height), Channels: int(f.channels),
			Element: ElementType(f.element_type), Memory: Memory(f.memory)}
	}
	return nil
}

// load fills ctx from the host's call arguments, reusing its slices. Each frame list is an
// array of frame pointers (plugin.h), indexed plainly; a NULL entry is an error.
func (ctx *CallContext) load(c *C.scope_call, p *pipeline) error {
	ctx.Flags = CallFlags(c.flags)
	ctx.Index = uint64(c.call_index)
	ctx.TimestampUS = int64(c.timestamp_us)
	ctx.Params = newParams(c.params, p, ctx.strings)

	ports := 0
	if c.inputs != nil {
		ports = int(c.input_port_count)
	}
	if cap(ctx.Inputs) < ports {
		ctx.Inputs = make([][]Frame, ports)
	}
	ctx.Inputs = ctx.Inputs[:ports]
	for port, list := range unsafe.Slice(c.inputs, ports) {
		n := 0
		if list.frames != nil {
			n = int(list.count)
		}
		if cap(ctx.Inputs[port]) < n {
			ctx.Inputs[port] = make([]Frame, n)
		}
		ctx.Inputs[port] = ctx.Inputs[port][:n]
		for i, fp := range unsafe.Slice(list.frames, n) {
			if fp == nil {
				return Errorf(StatusInvalidArgument, "input port %d frame %d is NULL", port, i)
			}
			if err := ctx.Inputs[port][i].load(fp); err != nil {
				return Errorf(StatusInvalidArgument, "input port %d frame %d: %v", port, i, err)
			}
		}
	}

	ctx.Output = nil
	if c.output != nil {
		if err := ctx.output.load(c.output); err != nil {
			return Errorf(StatusInvalidArgument, "output frame: %v", err)
		}
		ctx.Output = &ctx.output
	}

	n := 0
	if c.prompts != nil {
		n = int(c.prompt_count)
	}
	if cap(ctx.Prompts) < n {
		ctx.Prompts = make([]Prompt, n)
		ctx.texts = make([]string, n)
	}
	ctx.Prompts = ctx.Prompts[:n]
	for i, cp := range unsafe.Slice(c.prompts, n) {
		text := ""
		if cp.text != nil {
			if view := cstringView(cp.text); view != ctx.texts[i] {
				ctx.texts[i] = strings.Clone(view)
			}
			text = ctx.texts[i]
		}
		ctx.Prompts[i] = Prompt{Text: text, Weight: float32(cp.weight)}
	}

	ctx.Audio = nil
	if c.audio != nil && c.audio.struct_size >= C.uint32_t(unsafe.Offsetof(c.audio.samples)+unsafe.Sizeof(c.audio.samples)) {
		ctx.audio = Audio{c: c.audio}
		ctx.Audio = &ctx.audio
	}
	return nil
}

// forget drops the references into host memory after a call, so that a frame kept by mistake
// fails loudly (nil Data) instead of reading memory the host has reused.
func (ctx *CallContext) forget() {
	for _, frames := range ctx.Inputs {
		for i := range frames {
			frames[i].Data = nil
		}
	}
	ctx.output.Data = nil
	ctx.Output = nil
	ctx.Audio = nil
	ctx.audio = Audio{}
	ctx.Params = Params{}
}
