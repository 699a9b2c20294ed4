// Package abi is the Go mirror of include/scope/plugin.h, the Scope Native plugin ABI v1.1.
//
// Every struct here has the same size, field order and field offsets as its C counterpart on
// the platforms the host supports (64-bit Linux); layout_test.go compiles a C program against
// the header and compares sizeof/offsetof for every field. Pointers into plugin or host C
// memory are uintptr: the Go garbage collector must never follow them, and the loader reads
// them through the helpers in this package (GoString, ...).
//
// The package holds types and constants only; opening libraries and calling into them is the
// loader package's job.
package abi

import "strconv"

// ABI version implemented by this host.
const (
	VersionMajor = 1 // SCOPE_ABI_VERSION_MAJOR
	VersionMinor = 1 // SCOPE_ABI_VERSION_MINOR
)

// FrameAlignment is SCOPE_FRAME_ALIGNMENT: the host aligns every host frame's data pointer
// and row pitch to this many bytes (ABI 1.1).
const FrameAlignment = 64

// ErrorMinCapacity is SCOPE_ERROR_MIN_CAPACITY: the least capacity of an error buffer.
const ErrorMinCapacity = 1024

// EntrySymbol is the one symbol a plugin exports: a function returning *Plugin.
const EntrySymbol = "scope_plugin_entry"

// Status is the result of every fallible ABI function (scope_status): negative is an error,
// zero (OK) and positive values are success (a positive one may come with a note in the
// error buffer, which the host ignores).
type Status int32

// Failed reports whether the status is an error: negative. This is the one rule the host and
// the validator apply to every status a plugin returns.
func (s Status) Failed() bool { return s < 0 }

// Status codes (SCOPE_OK, SCOPE_ERROR_*).
const (
	OK                   Status = 0
	Error                Status = -1
	ErrorInvalidArgument Status = -2
	ErrorUnsupported     Status = -3
	ErrorOutOfMemory     Status = -4
	ErrorBadState        Status = -5
	ErrorCUDA            Status = -6
)

// String names the status as the header does.
func (s Status) String() string {
	switch s {
	case OK:
		return "SCOPE_OK"
	case Error:
		return "SCOPE_ERROR"
	case ErrorInvalidArgument:
		return "SCOPE_ERROR_INVALID_ARGUMENT"
	case ErrorUnsupported:
		return "SCOPE_ERROR_UNSUPPORTED"
	case ErrorOutOfMemory:
		return "SCOPE_ERROR_OUT_OF_MEMORY"
	case ErrorBadState:
		return "SCOPE_ERROR_BAD_STATE"
	case ErrorCUDA:
		return "SCOPE_ERROR_CUDA"
	}
	return "status " + strconv.Itoa(int(s))
}

// Log levels (SCOPE_LOG_*).
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)

// Element types (SCOPE_ELEMENT_*).
const (
	ElementU8  uint32 = 1
	ElementF32 uint32 = 2
)

// Memory kinds, also a mask (SCOPE_MEMORY_*).
const (
	MemoryHost uint32 = 1 << 0
	MemoryCUDA uint32 = 1 << 1
)

// Modes, also a mask (SCOPE_MODE_*).
const (
	ModeText  uint32 = 1 << 0
	ModeVideo uint32 = 1 << 1
)

// Parameter types (SCOPE_PARAM_*).
const (
	ParamBool   uint32 = 1
	ParamInt    uint32 = 2
	ParamFloat  uint32 = 3
	ParamString uint32 = 4
	ParamEnum   uint32 = 5
	ParamColor  uint32 = 6
)

// Parameter categories (SCOPE_CATEGORY_*).
const (
	CategoryConfiguration uint32 = 0
	CategoryInput         uint32 = 1
)

// Parameter flags (SCOPE_PARAM_LOAD_TIME, SCOPE_PARAM_HIDDEN).
const (
	ParamLoadTime uint32 = 1 << 0
	ParamHidden   uint32 = 1 << 1
)

// Pipeline flags (SCOPE_PIPELINE_*).
const (
	PipelineSupportsPrompts uint32 = 1 << 0
	PipelineProducesAudio   uint32 = 1 << 1
	PipelineNoVideo         uint32 = 1 << 2
	// PipelineNondeterministic: the output depends on randomness or wall time, not only on
	// inputs and parameters, so identical input need not give identical output.
	PipelineNondeterministic uint32 = 1 << 3
)

// Threading levels (SCOPE_THREADING_*).
const (
	ThreadingInstance uint32 = 0
	ThreadingSerial   uint32 = 1
)

// Call flags (SCOPE_CALL_*).
const (
	CallFirst         uint32 = 1 << 0
	CallParamsChanged uint32 = 1 << 1
)

// ErrorBuf mirrors scope_error: a host-owned message buffer.
type ErrorBuf struct {
	StructSize uint32
	Capacity   uint32
	Message    uintptr
}

// Host mirrors scope_host.
type Host struct {
	StructSize   uint32
	ABIMajor     uint16
	ABIMinor     uint16
	Name         uintptr
	Version      uintptr
	HostData     uintptr
	Log          uintptr // void (*)(const scope_host *, int32_t, const char *)
	GetExtension uintptr // const void *(*)(const scope_host *, const char *)
	// ABI 1.1: the host thread pool.
	ParallelFor uintptr // void (*)(const scope_host *, uint32_t count, uint32_t grain, fn, void *ctx)
	WorkerCount uint32
	Reserved    uint32
}

// FrameFormat mirrors scope_frame_format.
type FrameFormat struct {
	StructSize  uint32
	Width       uint32
	Height      uint32
	Channels    uint32
	ElementType uint32
	Memory      uint32
}

// Frame mirrors scope_frame.
type Frame struct {
	StructSize  uint32
	Width       uint32
	Height      uint32
	Channels    uint32
	ElementType uint32
	Memory      uint32
	Pitch       int64
	Data        uintptr
	CUDAStream  uintptr
	CUDADevice  int32
	Flags       uint32
	TimestampUS int64
	Index       uint64
}

// FrameList mirrors scope_frame_list.
type FrameList struct {
	Frames   uintptr // const scope_frame *const *: an array of Count frame pointers
	Count    uint32
	Reserved uint32
}

// Audio mirrors scope_audio.
type Audio struct {
	StructSize     uint32
	SampleRate     uint32
	Channels       uint32
	CapacityFrames uint32
	Frames         uint32
	Reserved       uint32
	Samples        uintptr // *float
}

// EnumOption mirrors scope_enum_option.
type EnumOption struct {
	StructSize uint32
	Reserved   uint32
	Key        uintptr
	Label      uintptr
}

// ParamDesc mirrors scope_param_desc.
type ParamDesc struct {
	StructSize    uint32
	Type          uint32
	Key           uintptr
	Label         uintptr
	Description   uintptr
	Flags         uint32
	Category      uint32
	Order         int32
	Modes         uint32
	MinValue      float64
	MaxValue      float64
	Step          float64
	DefaultNumber float64
	DefaultString uintptr
	Options       uintptr // *EnumOption
	OptionCount   uint32
	DefaultColor  [4]float32
	Reserved      uint32
}

// Value mirrors scope_value. The union is As: read it with the typed accessors.
type Value struct {
	Key      uintptr
	Type     uint32
	Reserved uint32
	As       [2]uint64 // union { int64_t i; double f; int32_t b; const char *s; float color[4]; }
}

// Params mirrors scope_params.
type Params struct {
	StructSize uint32
	Count      uint32
	Values     uintptr // *Value
}

// Prompt mirrors scope_prompt.
type Prompt struct {
	Text     uintptr
	Weight   float32
	Reserved uint32
}

// ModeDesc mirrors scope_mode_desc.
type ModeDesc struct {
	StructSize uint32
	Mode       uint32
	IsDefault  uint32
	Width      uint32
	Height     uint32
	InputSize  uint32
}

// CreateArgs mirrors scope_create_args.
type CreateArgs struct {
	StructSize uint32
	Mode       uint32
	Pipeline   uintptr // *PipelineDesc
	Params     uintptr // *Params
	CUDADevice int32
	Reserved   uint32
}

// PrepareArgs mirrors scope_prepare_args.
type PrepareArgs struct {
	StructSize     uint32
	Mode           uint32
	Params         uintptr // *Params
	InputFormats   uintptr // const scope_frame_format *const *: InputPortCount pointers
	InputPortCount uint32
	Reserved       uint32
}

// Requirements mirrors scope_requirements.
type Requirements struct {
	StructSize        uint32
	InputSize         uint32
	OutputWidth       uint32
	OutputHeight      uint32
	OutputChannels    uint32
	OutputElementType uint32
	OutputMemory      uint32
	InputElementType  uint32
	InputMemory       uint32
	InputChannels     uint32
	AudioMaxFrames    uint32
	Reserved          uint32
}

// Call mirrors scope_call.
type Call struct {
	StructSize     uint32
	Flags          uint32
	Inputs         uintptr // *FrameList
	InputPortCount uint32
	Reserved       uint32
	Output         uintptr // *Frame
	Params         uintptr // *Params
	Prompts        uintptr // *Prompt
	PromptCount    uint32
	Reserved2      uint32
	Audio          uintptr // *Audio
	CallIndex      uint64
	TimestampUS    int64
}

// PipelineDesc mirrors scope_pipeline_desc.
type PipelineDesc struct {
	StructSize     uint32
	Flags          uint32
	ID             uintptr
	Name           uintptr
	Description    uintptr
	Version        uintptr
	Author         uintptr
	DocsURL        uintptr
	Modes          uintptr // *ModeDesc
	ModeCount      uint32
	Memory         uint32
	Params         uintptr // *ParamDesc
	ParamCount     uint32
	Threading      uint32
	InputPorts     uintptr // const char *const *
	InputPortCount uint32
	Reserved       uint32
	Create         uintptr // scope_create_fn
	Destroy        uintptr // scope_destroy_fn
	Prepare        uintptr // scope_prepare_fn
	CallFn         uintptr // scope_call_fn
}

// Plugin mirrors scope_plugin, the table returned by the entry symbol.
type Plugin struct {
	StructSize          uint32
	ABIMajor            uint16
	ABIMinor            uint16
	Name                uintptr
	Version             uintptr
	Description         uintptr
	RegisterPipelines   uintptr
	UnregisterPipelines uintptr
	PipelineCount       uintptr
	GetPipeline         uintptr
	GetExtension        uintptr
}
