package loader

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
)

// puregoCall calls a C function pointer with integer/pointer arguments.
func puregoCall(fn uintptr, args ...uintptr) (r1, r2, err uintptr) {
	return purego.SyscallN(fn, args...)
}

// PluginError is an error status returned by a plugin function, with the plugin's message.
type PluginError struct {
	Pipeline string     // pipeline id
	File     string     // plugin file
	Op       string     // "create", "prepare" or "call"
	Status   abi.Status // what the plugin returned
	Message  string     // what the plugin wrote into the error buffer
}

func (e *PluginError) Error() string {
	return fmt.Sprintf("%s (%s): %s failed (%v): %s", e.Pipeline, e.File, e.Op, e.Status, e.Message)
}

// Requirements is what an instance needs for its next call, with the ABI's zero defaults
// already resolved.
type Requirements struct {
	InputSize      int          // frames per input port (0 in text mode)
	Input          frame.Format // element type and channels wanted for inputs (size: as produced)
	InputMemory    uint32       // abi.MemoryHost or abi.MemoryCUDA
	Output         frame.Format // the output frame to allocate
	OutputMemory   uint32
	AudioMaxFrames int
}

// Prompt is one weighted text prompt.
type Prompt struct {
	Text   string
	Weight float32
}

// Audio is a buffer a pipeline with ProducesAudio writes interleaved float PCM into.
type Audio struct {
	Samples    []float32 // set by the caller: room for AudioMaxFrames stereo frames (2 floats each)
	SampleRate int       // set by the plugin
	Channels   int       // set by the plugin
	Frames     int       // sample frames written this call
}

// CallArgs are the inputs and outputs of one Call. The caller owns every frame.
type CallArgs struct {
	Inputs      [][]*frame.Frame // one list per input port, oldest first; nil in text mode
	Output      *frame.Frame     // allocated as the last Prepare asked
	Prompts     []Prompt
	Audio       *Audio // required for pipelines that produce audio
	TimestampUS int64

	// DeviceInputs, for a port whose list is non-nil here, replaces Inputs with frames in CUDA
	// memory (for a pipeline whose requirements asked for input_memory CUDA).
	DeviceInputs [][]*DeviceFrame
	// DeviceOutput, when set, replaces Output with a frame in CUDA memory (output_memory CUDA).
	DeviceOutput *DeviceFrame
}

// DeviceFrame is a frame in CUDA device memory as the host passes it to a pipeline: the ABI
// frame gets memory SCOPE_MEMORY_CUDA, this pointer, stream and device.
type DeviceFrame struct {
	frame.Format
	Pitch  int           // bytes between rows
	Ptr    uintptr       // CUdeviceptr of the first row
	Stream uintptr       // CUstream the pipeline enqueues its work on
	Device int           // CUDA device ordinal
	Index  uint64        // sequence number in its stream
	PTS    time.Duration // presentation time since stream start
}

// Instance is a created pipeline instance. It is not safe for concurrent use.
type Instance struct {
	p    *Pipeline
	mode Mode
	ptr  uintptr // plugin's instance pointer
	cuda int     // CUDA device ordinal passed to create, -1 for none

	values Values
	strs   [][]byte // C copies of string/enum values, indexed like values
	keys   [][]byte // C copies of the keys
	cvals  []abi.Value
	params abi.Params

	eb       *abi.ErrorBuffer
	prep     abi.PrepareArgs
	req      abi.Requirements
	formats  []abi.FrameFormat
	fmtPtrs  []uintptr // pointers to formats, as the ABI passes them
	call     abi.Call
	lists    []abi.FrameList
	frames   [][]abi.Frame
	framePtr [][]uintptr // per port: pointers to frames[port][i]
	out      abi.Frame
	audio    abi.Audio
	prompts  []abi.Prompt
	promptC  [][]byte
	lastText []string

	calls    uint64
	flight   flight  // the plugin function in progress, for watchdogs and crash lines
	stage    staging // aligned copies of frames that miss the ABI 1.1 guarantees
	prepared bool    // the last prepare succeeded: call() may follow
	changed  bool
	closed   bool
}

// lock serializes calls into pipelines declaring SCOPE_THREADING_SERIAL; it returns the
// matching unlock.
func (p *Pipeline) lock() func() {
	if !p.Serial {
		return func() {}
	}
	p.serial.Lock()
	return p.serial.Unlock
}

// NewInstance creates an instance in the given mode (0 = the pipeline's default mode) with
// these parameter values (nil = defaults). Values are checked against the schema first; the
// load-time ones are final for this instance.
func (p *Pipeline) NewInstance(mode Mode, values Values) (*Instance, error) {
	return p.NewInstanceOn(mode, values, -1)
}

// NewInstanceOn is NewInstance for a host that runs CUDA device cudaDevice (its ordinal, -1 for
// none): create() sees it in scope_create_args.cuda_device.
func (p *Pipeline) NewInstanceOn(mode Mode, values Values, cudaDevice int) (*Instance, error) {
	if mode == 0 {
		mode = p.DefaultMode().Mode
	}
	if _, ok := p.ModeInfo(mode); !ok {
		return nil, fmt.Errorf("%s does not support %s mode", p.ID, mode)
	}
	if values == nil {
		values = p.Defaults()
	}
	if err := p.check(values); err != nil {
		return nil, err
	}
	lib := p.lib
	lib.mu.Lock()
	if lib.closed {
		lib.mu.Unlock()
		return nil, fmt.Errorf("create %s: library %s is closed", p.ID, lib.path)
	}
	lib.instances++
	lib.mu.Unlock()

	in := &Instance{p: p, mode: mode, eb: abi.NewErrorBuffer(), cuda: cudaDevice}
	in.keys = make([][]byte, len(p.Params))
	in.strs = make([][]byte, len(p.Params))
	in.cvals = make([]abi.Value, len(p.Params))
	for i, q := range p.Params {
		in.keys[i] = abi.CString(q.Key)
		in.cvals[i].Key = uintptr(unsafe.Pointer(&in.keys[i][0]))
		in.cvals[i].Type = uint32(q.Type)
	}
	in.params.StructSize = uint32(unsafe.Sizeof(in.params))
	in.params.Count = uint32(len(p.Params))
	if len(in.cvals) > 0 {
		in.params.Values = uintptr(unsafe.Pointer(&in.cvals[0]))
	}
	in.store(values)

	args := abi.CreateArgs{
		StructSize: uint32(unsafe.Sizeof(abi.CreateArgs{})),
		Mode:       uint32(mode),
		Pipeline:   p.ptr,
		Params:     uintptr(unsafe.Pointer(&in.params)),
		CUDADevice: int32(cudaDevice),
	}
	in.flight.slot.claim(lib.path, p.ID)
	unlock := p.lock()
	in.enter(opCreate, 0)
	st, _, _ := puregoCall(p.desc.Create, uintptr(unsafe.Pointer(&lib.host.host)), uintptr(unsafe.Pointer(&args)), uintptr(unsafe.Pointer(&in.ptr)), in.eb.Ptr())
	in.leave()
	unlock()
	runtime.KeepAlive(in)
	if s := abi.Status(int32(st)); s.Failed() {
		in.flight.slot.release()
		lib.release()
		return nil, in.fail("create", s)
	}
	if in.ptr == 0 {
		in.flight.slot.release()
		lib.release()
		return nil, &PluginError{Pipeline: p.ID, File: lib.path, Op: "create", Status: abi.Error, Message: "create returned SCOPE_OK but no instance"}
	}
	return in, nil
}

func (l *Library) release() {
	l.mu.Lock()
	l.instances--
	l.mu.Unlock()
}

// check validates a full set of values against the schema.
func (p *Pipeline) check(values Values) error {
	if len(values) != len(p.Params) {
		return fmt.Errorf("%s: %d values for %d parameters", p.ID, len(values), len(p.Params))
	}
	for i, q := range p.Params {
		if err := q.Check(values[i]); err != nil {
			return fmt.Errorf("%s: %w", p.ID, err)
		}
	}
	return nil
}

// CheckRuntimeChange checks values against the schema, and that they change no load-time
// parameter from cur (a running instance's values): what SetParams accepts. An instance that
// runs elsewhere (a plugin host child) checks its changes with it before sending them.
func (p *Pipeline) CheckRuntimeChange(cur, values Values) error {
	if err := p.check(values); err != nil {
		return err
	}
	for i, q := range p.Params {
		if q.LoadTime && i < len(cur) && values[i] != cur[i] {
			return fmt.Errorf("%s: %s is a load-time parameter; it cannot change while the pipeline runs (restart with --load-param %s=%s)", p.ID, q.Key, q.Key, values[i].Text())
		}
	}
	return nil
}

// store copies values into the C-visible value array.
func (in *Instance) store(values Values) {
	in.values = values.Clone()
	for i, v := range values {
		cv := &in.cvals[i]
		switch v.Type {
		case ParamBool:
			cv.SetBool(v.Bool)
		case ParamInt:
			cv.SetInt(v.Int)
		case ParamFloat:
			cv.SetFloat(v.Float)
		case ParamColor:
			cv.SetColor(v.Color)
		case ParamString, ParamEnum:
			if in.strs[i] == nil || string(in.strs[i][:len(in.strs[i])-1]) != v.String {
				in.strs[i] = abi.CString(v.String)
			}
			cv.SetString(uintptr(unsafe.Pointer(&in.strs[i][0])))
		}
	}
}

// Pipeline returns the instance's pipeline.
func (in *Instance) Pipeline() *Pipeline { return in.p }

// File returns the plugin file of the instance's library, as given to Open.
func (in *Instance) File() string { return in.p.lib.path }

// CUDADevice returns the CUDA device ordinal the instance was created for (-1 for none); a
// replacement instance (hot reload) should be created for the same one.
func (in *Instance) CUDADevice() int { return in.cuda }

// Mode returns the mode the instance was created in.
func (in *Instance) Mode() Mode { return in.mode }

// Values returns a copy of the current parameter values.
func (in *Instance) Values() Values { return in.values.Clone() }

// SetParams replaces the runtime parameter values; they reach the plugin on the next Prepare
// and Call. Values are checked against the schema; a load-time parameter that differs from
// the instance's value is refused (it needs a new instance).
func (in *Instance) SetParams(values Values) error {
	if err := in.p.CheckRuntimeChange(in.values, values); err != nil {
		return err
	}
	for i := range values {
		if values[i] != in.values[i] {
			in.changed = true
			break
		}
	}
	in.store(values)
	return nil
}

func (in *Instance) fail(op string, s abi.Status) error {
	return &PluginError{Pipeline: in.p.ID, File: in.p.lib.path, Op: op, Status: s, Message: in.eb.Message("(no message)")}
}

// Prepare asks the instance what its next call needs, given the formats arriving on its
// input ports (nil in text mode), all in host memory.
func (in *Instance) Prepare(inputs []frame.Format) (Requirements, error) {
	return in.PrepareOn(inputs, abi.MemoryHost)
}

// PrepareOn is Prepare for inputs that arrive in `memory` (abi.MemoryHost or
// abi.MemoryCUDA): prepare() sees it in each input format's memory field.
func (in *Instance) PrepareOn(inputs []frame.Format, memory uint32) (Requirements, error) {
	if in.closed {
		return Requirements{}, fmt.Errorf("%s: prepare on a closed instance", in.p.ID)
	}
	if cap(in.formats) < len(inputs) {
		in.formats = make([]abi.FrameFormat, len(inputs))
		in.fmtPtrs = make([]uintptr, len(inputs))
	}
	in.formats = in.formats[:len(inputs)]
	in.fmtPtrs = in.fmtPtrs[:len(inputs)]
	for i, f := range inputs {
		in.formats[i] = abi.FrameFormat{StructSize: uint32(unsafe.Sizeof(abi.FrameFormat{})), Width: uint32(f.Width), Height: uint32(f.Height), Channels: uint32(f.Channels), ElementType: uint32(f.Elem), Memory: memory}
		in.fmtPtrs[i] = uintptr(unsafe.Pointer(&in.formats[i]))
	}
	in.prep = abi.PrepareArgs{StructSize: uint32(unsafe.Sizeof(in.prep)), Mode: uint32(in.mode), Params: uintptr(unsafe.Pointer(&in.params)), InputPortCount: uint32(len(inputs))}
	if len(inputs) > 0 {
		in.prep.InputFormats = uintptr(unsafe.Pointer(&in.fmtPtrs[0]))
	}
	in.req = abi.Requirements{StructSize: uint32(unsafe.Sizeof(in.req))}
	in.prepared = false
	unlock := in.p.lock()
	in.enter(opPrepare, in.calls)
	st, _, _ := puregoCall(in.p.desc.Prepare, in.ptr, uintptr(unsafe.Pointer(&in.prep)), uintptr(unsafe.Pointer(&in.req)), in.eb.Ptr())
	in.leave()
	unlock()
	runtime.KeepAlive(in)
	if s := abi.Status(int32(st)); s.Failed() {
		return Requirements{}, in.fail("prepare", s)
	}
	return in.resolve(inputs)
}

// resolve fills the ABI's zero defaults and checks what the plugin asked for.
func (in *Instance) resolve(inputs []frame.Format) (Requirements, error) {
	r := in.req
	mi, _ := in.p.ModeInfo(in.mode)
	out := Requirements{InputSize: int(r.InputSize), InputMemory: r.InputMemory, OutputMemory: r.OutputMemory, AudioMaxFrames: int(r.AudioMaxFrames)}
	bad := func(format string, args ...any) (Requirements, error) {
		return Requirements{}, &PluginError{Pipeline: in.p.ID, File: in.p.lib.path, Op: "prepare", Status: abi.ErrorInvalidArgument, Message: "returned bad requirements: " + fmt.Sprintf(format, args...)}
	}
	if in.mode == ModeVideo {
		if out.InputSize == 0 {
			out.InputSize = mi.InputSize
		}
		if out.InputSize < 1 || out.InputSize > 1024 {
			return bad("input_size %d (1..1024)", out.InputSize)
		}
	} else {
		out.InputSize = 0
	}
	var first frame.Format
	if len(inputs) > 0 {
		first = inputs[0]
	}
	out.Output = frame.Format{Width: int(r.OutputWidth), Height: int(r.OutputHeight), Channels: int(r.OutputChannels), Elem: frame.Elem(r.OutputElementType)}
	if out.Output.Width == 0 {
		out.Output.Width = first.Width
		if in.mode == ModeText {
			out.Output.Width = mi.Width
		}
	}
	if out.Output.Height == 0 {
		out.Output.Height = first.Height
		if in.mode == ModeText {
			out.Output.Height = mi.Height
		}
	}
	if out.Output.Channels == 0 {
		out.Output.Channels = 3
		if len(inputs) > 0 {
			out.Output.Channels = first.Channels
			if r.InputChannels != 0 {
				out.Output.Channels = int(r.InputChannels)
			}
		}
	}
	if out.Output.Elem == 0 {
		out.Output.Elem = frame.U8
	}
	out.Input = frame.Format{Width: first.Width, Height: first.Height, Channels: first.Channels, Elem: frame.Elem(r.InputElementType)}
	if r.InputChannels != 0 {
		out.Input.Channels = int(r.InputChannels)
	}
	if out.Input.Elem == 0 {
		out.Input.Elem = frame.U8
	}
	if out.InputMemory == 0 {
		out.InputMemory = abi.MemoryHost
	}
	if out.OutputMemory == 0 {
		out.OutputMemory = abi.MemoryHost
	}
	if in.p.ProducesVideo {
		if out.Output.Width > 1<<15 || out.Output.Height > 1<<15 {
			return bad("output %dx%d is larger than 32768x32768", out.Output.Width, out.Output.Height)
		}
		if err := out.Output.Validate(); err != nil {
			return bad("output %v", err)
		}
	}
	if len(inputs) > 0 {
		if c := out.Input.Channels; c != 1 && c != 3 && c != 4 {
			return bad("input_channels %d (1, 3 or 4)", c)
		}
		if e := out.Input.Elem; e != frame.U8 && e != frame.F32 {
			return bad("input_element_type %d", e)
		}
	}
	for _, m := range []uint32{out.InputMemory, out.OutputMemory} {
		if m != abi.MemoryHost && m != abi.MemoryCUDA {
			return bad("memory kind %d", m)
		}
		if m&in.p.Memory == 0 {
			return bad("memory kind %d that the pipeline does not declare", m)
		}
	}
	if in.p.ProducesAudio && (out.AudioMaxFrames < 0 || out.AudioMaxFrames > 10*48000) {
		return bad("audio_max_frames %d (at most 480000)", out.AudioMaxFrames)
	}
	in.prepared = true
	return out, nil
}

// setFrame describes a host frame to the plugin.
func setFrame(dst *abi.Frame, f *frame.Frame) {
	*dst = abi.Frame{
		StructSize:  uint32(unsafe.Sizeof(abi.Frame{})),
		Width:       uint32(f.Width),
		Height:      uint32(f.Height),
		Channels:    uint32(f.Channels),
		ElementType: uint32(f.Elem),
		Memory:      abi.MemoryHost,
		Pitch:       int64(f.Pitch),
		Data:        uintptr(unsafe.Pointer(unsafe.SliceData(f.Data))),
		CUDADevice:  -1,
		TimestampUS: f.PTS.Microseconds(),
		Index:       f.Index,
	}
}

// setDeviceFrame describes a frame in CUDA memory to the plugin.
func setDeviceFrame(dst *abi.Frame, f *DeviceFrame) {
	*dst = abi.Frame{
		StructSize:  uint32(unsafe.Sizeof(abi.Frame{})),
		Width:       uint32(f.Width),
		Height:      uint32(f.Height),
		Channels:    uint32(f.Channels),
		ElementType: uint32(f.Elem),
		Memory:      abi.MemoryCUDA,
		Pitch:       int64(f.Pitch),
		Data:        f.Ptr,
		CUDAStream:  f.Stream,
		CUDADevice:  int32(f.Device),
		TimestampUS: f.PTS.Microseconds(),
		Index:       f.Index,
	}
}

// ErrNotPrepared is returned (wrapped) by Call when no successful Prepare came before it:
// the ABI promises plugins that call() only follows a prepare() that succeeded.
var ErrNotPrepared = errors.New("call before a successful prepare")

// Call runs one tick. On an error status the returned *PluginError carries the plugin's
// message; the instance stays usable for the next tick. It refuses (ErrNotPrepared) unless
// the last Prepare succeeded. Host frames that miss the ABI 1.1 guarantees (data and pitch
// multiples of abi.FrameAlignment, an output that overlaps no input) reach the plugin as
// aligned copies, and the output's pixels are copied back; frames made by NewAlignedFrame
// never need it.
func (in *Instance) Call(a *CallArgs) error {
	if !in.prepared && !in.closed {
		return fmt.Errorf("%s: %w (the host prepares every tick before it calls)", in.p.ID, ErrNotPrepared)
	}
	return in.doCall(a)
}

// CallUnprepared is Call without the prepare-first rule, for `scope plugin validate` only: it
// breaks the ABI's promise on purpose to check that a plugin refuses a call that comes first.
func (in *Instance) CallUnprepared(a *CallArgs) error { return in.doCall(a) }

func (in *Instance) doCall(a *CallArgs) error {
	if in.closed {
		return fmt.Errorf("%s: call on a closed instance", in.p.ID)
	}
	ports := max(len(a.Inputs), len(a.DeviceInputs))
	if cap(in.lists) < ports {
		in.lists = make([]abi.FrameList, ports)
		in.frames = make([][]abi.Frame, ports)
		in.framePtr = make([][]uintptr, ports)
	}
	in.lists = in.lists[:ports]
	in.frames = in.frames[:ports]
	in.framePtr = in.framePtr[:ports]
	for i := 0; i < ports; i++ {
		var list []*frame.Frame
		var dlist []*DeviceFrame
		if i < len(a.DeviceInputs) {
			dlist = a.DeviceInputs[i]
		}
		if dlist == nil && i < len(a.Inputs) {
			list = a.Inputs[i]
		}
		n := max(len(list), len(dlist))
		if cap(in.frames[i]) < n {
			in.frames[i] = make([]abi.Frame, n)
			in.framePtr[i] = make([]uintptr, n)
		}
		fs := in.frames[i][:n]
		ptrs := in.framePtr[i][:n]
		for j, f := range list {
			setFrame(&fs[j], in.stage.input(i, j, f))
			ptrs[j] = uintptr(unsafe.Pointer(&fs[j]))
		}
		for j, f := range dlist {
			setDeviceFrame(&fs[j], f)
			ptrs[j] = uintptr(unsafe.Pointer(&fs[j]))
		}
		in.lists[i] = abi.FrameList{Count: uint32(n)}
		if len(fs) > 0 {
			in.lists[i].Frames = uintptr(unsafe.Pointer(&ptrs[0]))
		}
	}
	c := &in.call
	*c = abi.Call{StructSize: uint32(unsafe.Sizeof(*c)), InputPortCount: uint32(ports), Params: uintptr(unsafe.Pointer(&in.params)), CallIndex: in.calls, TimestampUS: a.TimestampUS}
	if ports > 0 {
		c.Inputs = uintptr(unsafe.Pointer(&in.lists[0]))
	}
	if in.calls == 0 {
		c.Flags |= abi.CallFirst
	}
	if in.changed {
		c.Flags |= abi.CallParamsChanged
	}
	if a.DeviceOutput != nil {
		setDeviceFrame(&in.out, a.DeviceOutput)
		c.Output = uintptr(unsafe.Pointer(&in.out))
	}
	var out *frame.Frame
	if a.DeviceOutput == nil && a.Output != nil {
		out = in.stage.outputFor(a.Output, a.Inputs)
		setFrame(&in.out, out)
		c.Output = uintptr(unsafe.Pointer(&in.out))
	}
	if len(a.Prompts) > 0 {
		in.setPrompts(a.Prompts)
		c.Prompts = uintptr(unsafe.Pointer(&in.prompts[0]))
		c.PromptCount = uint32(len(a.Prompts))
	}
	if a.Audio != nil {
		in.audio = abi.Audio{StructSize: uint32(unsafe.Sizeof(in.audio)), CapacityFrames: uint32(len(a.Audio.Samples) / 2)}
		if len(a.Audio.Samples) > 0 {
			in.audio.Samples = uintptr(unsafe.Pointer(&a.Audio.Samples[0]))
		}
		c.Audio = uintptr(unsafe.Pointer(&in.audio))
	}
	unlock := in.p.lock()
	in.enter(opCall, in.calls)
	st, _, _ := purego.SyscallN(in.p.desc.CallFn, in.ptr, uintptr(unsafe.Pointer(c)), in.eb.Ptr())
	in.leave()
	unlock()
	runtime.KeepAlive(a)
	runtime.KeepAlive(in)
	in.calls++
	in.changed = false
	if out != nil && out != a.Output {
		copyPixels(a.Output, out)
	}
	if a.Audio != nil {
		a.Audio.SampleRate = int(in.audio.SampleRate)
		a.Audio.Channels = int(in.audio.Channels)
		a.Audio.Frames = int(in.audio.Frames)
		if a.Audio.Channels < 1 || a.Audio.Channels > 2 || a.Audio.Frames*a.Audio.Channels > len(a.Audio.Samples) {
			a.Audio.Frames = 0
		}
	}
	if s := abi.Status(int32(st)); s.Failed() {
		return in.fail("call", s)
	}
	return nil
}

// setPrompts refreshes the C copies of the prompts only when their text changed.
func (in *Instance) setPrompts(ps []Prompt) {
	if cap(in.prompts) < len(ps) {
		in.prompts = make([]abi.Prompt, len(ps))
		in.promptC = make([][]byte, len(ps))
		in.lastText = make([]string, len(ps))
	}
	in.prompts = in.prompts[:len(ps)]
	in.promptC = in.promptC[:len(ps)]
	in.lastText = in.lastText[:len(ps)]
	for i, p := range ps {
		if in.promptC[i] == nil || in.lastText[i] != p.Text {
			in.promptC[i] = abi.CString(p.Text)
			in.lastText[i] = p.Text
		}
		in.prompts[i] = abi.Prompt{Text: uintptr(unsafe.Pointer(&in.promptC[i][0])), Weight: p.Weight}
	}
}

// Close destroys the instance. It is safe to call more than once.
func (in *Instance) Close() {
	if in.closed {
		return
	}
	in.closed = true
	unlock := in.p.lock()
	in.enter(opDestroy, in.calls)
	puregoCall(in.p.desc.Destroy, in.ptr)
	in.leave()
	unlock()
	in.flight.slot.release()
	in.p.lib.release()
}
