package scope

/*
#include "sdk.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Error is an error with a Status. Return one from New, Prepare or Call to fail with a status
// other than StatusError:
//
//	return scope.Errorf(scope.StatusUnsupported, "only 8-bit frames, got %d-byte samples", n)
//
// Wrapped errors are found with errors.As.
type Error struct {
	Status  Status // a negative Status; anything else is reported as StatusError
	Message string // one line; the host prefixes the plugin and pipeline name
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with this status and a formatted message.
func Errorf(status Status, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// statusOf returns the status to report for err.
func statusOf(err error) Status {
	var e *Error
	if errors.As(err, &e) && e.Status < 0 {
		return e.Status
	}
	return StatusError
}

// fail writes err's message into the host's buffer and returns its status.
func fail(cerr *C.scope_error, err error) C.scope_status {
	return setError(cerr, statusOf(err), err.Error())
}

// setError writes msg into the host's error buffer, truncated to its capacity at a UTF-8
// boundary, line breaks turned into spaces, NUL-terminated; it returns status.
func setError(cerr *C.scope_error, status Status, msg string) C.scope_status {
	if cerr == nil || cerr.message == nil || cerr.capacity == 0 {
		return C.scope_status(status)
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(cerr.message)), int(cerr.capacity))
	n := len(msg)
	if n > len(buf)-1 {
		n = len(buf) - 1
		for n > 0 && msg[n]&0xC0 == 0x80 { // do not cut a multi-byte character
			n--
		}
	}
	for i := 0; i < n; i++ {
		c := msg[i]
		if c == '\n' || c == '\r' {
			c = ' '
		}
		buf[i] = c
	}
	buf[n] = 0
	return C.scope_status(status)
}

// recoverStatus, deferred by every export that returns a status, turns a panic into
// StatusError with the message "panic: <value>".
func recoverStatus(cerr *C.scope_error, status *C.scope_status) {
	if r := recover(); r != nil {
		*status = setError(cerr, StatusError, fmt.Sprintf("panic: %v", r))
	}
}
