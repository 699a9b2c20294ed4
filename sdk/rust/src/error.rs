//! [`Error`] and [`Status`]: what a pipeline returns when it fails.

use crate::sys;
use core::fmt;

/// The status code an [`Error`] maps to (`SCOPE_ERROR_*` in plugin.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `SCOPE_ERROR`: failure; the message says why.
    Error,
    /// `SCOPE_ERROR_INVALID_ARGUMENT`: a value the plugin cannot use (size, format, param).
    InvalidArgument,
    /// `SCOPE_ERROR_UNSUPPORTED`: a mode, memory kind or format the pipeline lacks.
    Unsupported,
    /// `SCOPE_ERROR_OUT_OF_MEMORY`: an allocation failed.
    OutOfMemory,
    /// `SCOPE_ERROR_BAD_STATE`: called in the wrong order.
    BadState,
    /// `SCOPE_ERROR_CUDA`: a CUDA call failed.
    Cuda,
}

impl Status {
    /// The C status code (`SCOPE_ERROR_*`, always negative).
    pub const fn code(self) -> sys::scope_status {
        match self {
            Status::Error => sys::SCOPE_ERROR,
            Status::InvalidArgument => sys::SCOPE_ERROR_INVALID_ARGUMENT,
            Status::Unsupported => sys::SCOPE_ERROR_UNSUPPORTED,
            Status::OutOfMemory => sys::SCOPE_ERROR_OUT_OF_MEMORY,
            Status::BadState => sys::SCOPE_ERROR_BAD_STATE,
            Status::Cuda => sys::SCOPE_ERROR_CUDA,
        }
    }

    /// The status for a C code; `None` for `SCOPE_OK` and unknown codes.
    pub const fn from_code(code: sys::scope_status) -> Option<Status> {
        match code {
            sys::SCOPE_ERROR => Some(Status::Error),
            sys::SCOPE_ERROR_INVALID_ARGUMENT => Some(Status::InvalidArgument),
            sys::SCOPE_ERROR_UNSUPPORTED => Some(Status::Unsupported),
            sys::SCOPE_ERROR_OUT_OF_MEMORY => Some(Status::OutOfMemory),
            sys::SCOPE_ERROR_BAD_STATE => Some(Status::BadState),
            sys::SCOPE_ERROR_CUDA => Some(Status::Cuda),
            _ => None,
        }
    }
}

/// A failure with a status code and a one-line, human-readable message.
///
/// The SDK writes the message into the host's `scope_error` buffer (truncated to fit, newlines
/// turned into spaces) and returns the status code. The host prefixes it with the plugin and
/// pipeline name, so say what went wrong, not who you are: `"input has 2 channels; want 1, 3
/// or 4"`.
///
/// `From<String>` and `From<&str>` make a [`Status::Error`], so `Err("bad thing".into())` and
/// `.map_err(|e| e.to_string())?` work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// An error with this status and message.
    pub fn with_status(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }

    /// A generic failure (`SCOPE_ERROR`).
    pub fn new(message: impl Into<String>) -> Error {
        Error::with_status(Status::Error, message)
    }

    /// `SCOPE_ERROR_INVALID_ARGUMENT`: a value the plugin cannot use.
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::with_status(Status::InvalidArgument, message)
    }

    /// `SCOPE_ERROR_UNSUPPORTED`: a mode, memory kind or format the pipeline lacks.
    pub fn unsupported(message: impl Into<String>) -> Error {
        Error::with_status(Status::Unsupported, message)
    }

    /// `SCOPE_ERROR_OUT_OF_MEMORY`: an allocation failed.
    pub fn out_of_memory(message: impl Into<String>) -> Error {
        Error::with_status(Status::OutOfMemory, message)
    }

    /// `SCOPE_ERROR_BAD_STATE`: called in the wrong order.
    pub fn bad_state(message: impl Into<String>) -> Error {
        Error::with_status(Status::BadState, message)
    }

    /// `SCOPE_ERROR_CUDA`: a CUDA call failed.
    pub fn cuda(message: impl Into<String>) -> Error {
        Error::with_status(Status::Cuda, message)
    }

    /// The status code this error maps to.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}
