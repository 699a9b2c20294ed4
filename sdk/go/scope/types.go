package scope

/*
// The ABI header comes from the scope installation this SDK is part of (<root>/include, with
// this package at <root>/sdk/go/scope), never from a copy: plugins build against the SDK
// through a replace directive pointing at that installation.
#cgo CFLAGS: -I${SRCDIR}/../../../include
#include "sdk.h"
*/
import "C"

import "fmt"

// Status is the result code of an entry point (scope_status). Negative values are errors.
// Return an *Error to choose one; any other error means StatusError.
type Status int32

// Status codes, as in plugin.h.
const (
	StatusOK              Status = C.SCOPE_OK                     // success
	StatusError           Status = C.SCOPE_ERROR                  // failure; the message says why
	StatusInvalidArgument Status = C.SCOPE_ERROR_INVALID_ARGUMENT // a value the plugin cannot use
	StatusUnsupported     Status = C.SCOPE_ERROR_UNSUPPORTED      // a mode, memory kind or format the pipeline lacks
	StatusOutOfMemory     Status = C.SCOPE_ERROR_OUT_OF_MEMORY    // an allocation failed
	StatusBadState        Status = C.SCOPE_ERROR_BAD_STATE        // called in the wrong order
	StatusCUDA            Status = C.SCOPE_ERROR_CUDA             // a CUDA call failed
)

// String returns a short name for the status.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	case StatusInvalidArgument:
		return "invalid argument"
	case StatusUnsupported:
		return "unsupported"
	case StatusOutOfMemory:
		return "out of memory"
	case StatusBadState:
		return "bad state"
	case StatusCUDA:
		return "CUDA error"
	}
	return fmt.Sprintf("status %d", int32(s))
}

// LogLevel is the level of a line written with Host.Log.
type LogLevel int32

// Log levels, as in plugin.h.
const (
	LogDebug LogLevel = C.SCOPE_LOG_DEBUG // debugging detail
	LogInfo  LogLevel = C.SCOPE_LOG_INFO  // normal operation; not every frame
	LogWarn  LogLevel = C.SCOPE_LOG_WARN  // something the user may want to fix
	LogError LogLevel = C.SCOPE_LOG_ERROR // something failed
)

// ElementType is the type of a frame's samples.
type ElementType uint32

// Element types, as in plugin.h.
const (
	ElementU8  ElementType = C.SCOPE_ELEMENT_U8  // 8-bit unsigned, 0..255
	ElementF32 ElementType = C.SCOPE_ELEMENT_F32 // 32-bit float, 0.0..1.0
)

// Size returns the bytes per sample (1 or 4), or 0 for an unknown type.
func (e ElementType) Size() int {
	switch e {
	case ElementU8:
		return 1
	case ElementF32:
		return 4
	}
	return 0
}

// Memory is a memory kind; Pipeline.Memory uses it as a bit mask.
type Memory uint32

// Memory kinds, as in plugin.h.
const (
	MemoryHost Memory = C.SCOPE_MEMORY_HOST // ordinary CPU memory
	MemoryCUDA Memory = C.SCOPE_MEMORY_CUDA // CUDA device memory in the device's primary context
)

// ModeKind is a pipeline mode; Param.Modes uses it as a bit mask.
type ModeKind uint32

// Modes, as in plugin.h.
const (
	ModeText  ModeKind = C.SCOPE_MODE_TEXT  // no video input: the pipeline generates frames
	ModeVideo ModeKind = C.SCOPE_MODE_VIDEO // input frames are transformed
)

// ParamType is the type of a parameter.
type ParamType uint32

// Parameter types, as in plugin.h.
const (
	ParamBool   ParamType = C.SCOPE_PARAM_BOOL   // Params.Bool
	ParamInt    ParamType = C.SCOPE_PARAM_INT    // Params.Int
	ParamFloat  ParamType = C.SCOPE_PARAM_FLOAT  // Params.Float
	ParamString ParamType = C.SCOPE_PARAM_STRING // Params.String
	ParamEnum   ParamType = C.SCOPE_PARAM_ENUM   // Params.String: the option key
	ParamColor  ParamType = C.SCOPE_PARAM_COLOR  // Params.Color
)

// Parameter flags (scope_param_desc.flags), set with Param.LoadTime and Param.Hidden.
const (
	flagLoadTime = C.SCOPE_PARAM_LOAD_TIME
	flagHidden   = C.SCOPE_PARAM_HIDDEN
)

// Category says where a parameter's control appears.
type Category uint32

// Categories, as in plugin.h.
const (
	CategoryConfiguration Category = C.SCOPE_CATEGORY_CONFIGURATION // the settings panel (default)
	CategoryInput         Category = C.SCOPE_CATEGORY_INPUT         // the input & controls panel
)

// PipelineFlags are the SCOPE_PIPELINE_* flags of a pipeline.
type PipelineFlags uint32

// Pipeline flags, as in plugin.h.
const (
	SupportsPrompts PipelineFlags = C.SCOPE_PIPELINE_SUPPORTS_PROMPTS // takes weighted text prompts
	ProducesAudio   PipelineFlags = C.SCOPE_PIPELINE_PRODUCES_AUDIO   // writes CallContext.Audio
	NoVideo         PipelineFlags = C.SCOPE_PIPELINE_NO_VIDEO         // produces no video output
	// Nondeterministic: the output depends on randomness or wall time, not only on inputs and
	// parameters; hosts and validators do not expect identical output for identical input.
	Nondeterministic PipelineFlags = C.SCOPE_PIPELINE_NONDETERMINISTIC
)

// Threading says how the host may call instances of a pipeline from several threads.
type Threading uint32

// Threading levels, as in plugin.h.
const (
	// ThreadingInstance (the default): different instances may run concurrently; one instance
	// is never called concurrently.
	ThreadingInstance Threading = C.SCOPE_THREADING_INSTANCE
	// ThreadingSerial: instances share state; the host never calls two at once.
	ThreadingSerial Threading = C.SCOPE_THREADING_SERIAL
)

// CallFlags are the SCOPE_CALL_* flags of a call.
type CallFlags uint32

// Call flags, as in plugin.h.
const (
	CallFirst         CallFlags = C.SCOPE_CALL_FIRST          // first call of this instance: reset temporal state
	CallParamsChanged CallFlags = C.SCOPE_CALL_PARAMS_CHANGED // some parameter differs from the previous call
)

// ABI version the SDK implements (plugin.h's SCOPE_ABI_VERSION_MAJOR and _MINOR).
const (
	ABIVersionMajor = C.SCOPE_ABI_VERSION_MAJOR
	ABIVersionMinor = C.SCOPE_ABI_VERSION_MINOR
)
