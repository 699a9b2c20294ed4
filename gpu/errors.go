package gpu

import (
	"errors"
	"fmt"
)

// Error is a failed CUDA driver call.
type Error struct {
	Func string // driver function, e.g. "cuMemAlloc_v2"
	Code Result // the CUresult it returned
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY" (from cuGetErrorName, or the package's table)
	Text string // e.g. "out of memory" (from cuGetErrorString, or the package's table)
}

// Error returns "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
func (e *Error) Error() string {
	name, text := e.Name, e.Text
	if name == "" || text == "" {
		n, t := describe(e.Code)
		if name == "" {
			name = n
		}
		if text == "" {
			text = t
		}
	}
	return fmt.Sprintf("cuda: %s: %s (%s)", e.Func, name, text)
}

// describe returns the name and text of well-known CUresults, for errors built without a
// driver that could say (and drivers older than the code).
func describe(r Result) (name, text string) {
	if k, ok := knownResults[r]; ok {
		return k[0], k[1]
	}
	return fmt.Sprintf("CUresult %d", uint32(r)), "unknown error"
}

// knownResults are names and texts from cuda.h for the codes scope is likeliest to meet.
var knownResults = map[Result][2]string{
	0:   {"CUDA_SUCCESS", "no error"},
	1:   {"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
	2:   {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
	3:   {"CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
	4:   {"CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
	35:  {"CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
	100: {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
	101: {"CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
	200: {"CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
	201: {"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
	209: {"CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
	218: {"CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
	222: {"CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."},
	400: {"CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
	500: {"CUDA_ERROR_NOT_FOUND", "named symbol not found"},
	600: {"CUDA_ERROR_NOT_READY", "device not ready"},
	700: {"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
	701: {"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
	702: {"CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
	719: {"CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
	804: {"CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", "forward compatibility was attempted on non supported HW"},
	999: {"CUDA_ERROR_UNKNOWN", "unknown error"},
}

// ErrUnavailable is matched (errors.Is) by every error Open returns because CUDA cannot be
// used on this machine: no driver library, no device, a driver or device too old.
var ErrUnavailable = errors.New("CUDA unavailable")

// UnavailableError says in one line why CUDA cannot be used; Error() is that line.
type UnavailableError struct {
	Reason string // e.g. "no NVIDIA driver: libcuda.so.1 not found"
	Err    error  // the underlying error, if any
}

func (e *UnavailableError) Error() string { return e.Reason }

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(reason string, err error) error { return &UnavailableError{Reason: reason, Err: err} }
