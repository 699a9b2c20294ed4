//! Rust SDK for Scope Native plugins.
//!
//! A plugin is a `cdylib` that implements [`Pipeline`] for one or more types and exports them
//! with [`export_plugin!`]. The SDK produces the C ABI of `include/scope/plugin.h`: the one
//! exported symbol `scope_plugin_entry`, the descriptor tables, and `extern "C"` trampolines
//! that check what the host passes, catch panics, and map [`Error`]s to status codes.
//!
//! ```no_run
//! use scope_plugin::{CallContext, CreateContext, Error, ModeDesc, Param, Pipeline, Schema};
//!
//! /// Copies its input, scaled by `gain`.
//! struct Gain;
//!
//! impl Pipeline for Gain {
//!     fn schema() -> Schema {
//!         Schema::new("gain", "Gain")
//!             .mode(ModeDesc::video().input_size(1))
//!             .param(Param::float("gain").label("Gain").range(0.0, 2.0).default(1.0))
//!     }
//!
//!     fn create(_ctx: &CreateContext<'_>) -> Result<Self, Error> {
//!         Ok(Gain)
//!     }
//!
//!     fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error> {
//!         let gain = ctx.params().float("gain");
//!         let input = ctx.input()?;
//!         let mut output = ctx.output_mut()?;
//!         for y in 0..input.height() {
//!             for (o, i) in output.row_mut(y).iter_mut().zip(input.row(y)) {
//!                 *o = (*i as f64 * gain).round().min(255.0) as u8;
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! scope_plugin::export_plugin!(name: "gain-plugin", version: "1.0.0", pipelines: [Gain]);
//! ```
//!
//! # Layers
//! - [`sys`]: raw `#[repr(C)]` mirrors of every struct, constant and function-pointer type of
//!   the header, checked against it by `cargo test`.
//! - The safe layer (this module): [`Pipeline`], [`Schema`] and [`Param`] builders, [`Params`],
//!   frame views ([`Frame`], [`OutputFrame`]), [`Error`], [`Host`] logging.
//! - [`export_plugin!`] and the hidden `export` module: registry and trampolines.
//!
//! # What the SDK does for you
//! - Descriptors are built from [`Pipeline::schema`] at the first registration, validated
//!   ([`Schema::validate`]), and kept at stable addresses until the last unregistration
//!   (reference-counted; see the `export` module source).
//! - Panics never cross the boundary: every entry point runs under `catch_unwind`; a panic
//!   fails that one call with `SCOPE_ERROR` and `"panic: <message> (<file>:<line>:<col>)"`.
//!   Build with the default `panic = "unwind"` (`export_plugin!` refuses `panic = "abort"`).
//! - [`Pipeline::call`] is never reached before a successful [`Pipeline::prepare`]: the SDK
//!   answers `SCOPE_ERROR_BAD_STATE` itself.
//! - Frames, parameters and argument structs are checked (NULLs, `struct_size`, pitch,
//!   element type, overlap of input and output) before your code sees them; bad input fails
//!   the call with `SCOPE_ERROR_INVALID_ARGUMENT`.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod context;
mod error;
#[doc(hidden)]
pub mod export;
mod frame;
mod macros;
mod params;
mod schema;
pub mod sys;

pub use context::{
    AudioOut, CallContext, CreateContext, Host, Level, PrepareContext, Prompt, Requirements,
};
pub use error::{Error, Status};
pub use frame::{ElementType, Frame, FrameFormat, FrameList, OutputFrame};
pub use params::{Params, Value};
pub use schema::{
    BoolParam, Category, ColorParam, EnumOption, EnumParam, FloatParam, IntParam, MemoryKind, Mode,
    ModeDesc, Param, ParamType, Schema, StringParam, Threading,
};

/// A pipeline: a type whose values are instances the host creates, prepares every tick, calls,
/// and drops.
///
/// The lifecycle, for one instance:
/// 1. [`Pipeline::schema`] once per registration (not per instance): what the pipeline is.
/// 2. [`Pipeline::create`] with load-time parameters final.
/// 3. Every tick: [`Pipeline::prepare`] (runtime parameters in, [`Requirements`] out), then
///    [`Pipeline::call`] (inputs and parameters in, output frame out). The host skips the
///    tick's call when prepare fails.
/// 4. `Drop`: release everything and join every thread you started.
///
/// Threading: one instance is called by one thread at a time, but consecutive calls may come
/// from different OS threads, hence `Send`; do not keep thread-local state between calls.
/// Different instances may run concurrently unless the schema says
/// [`Threading::Serial`].
pub trait Pipeline: Sized + Send + 'static {
    /// Describes the pipeline: id, name, description, modes, parameters, flags. Called at
    /// registration; must be deterministic. An invalid schema makes registration fail.
    fn schema() -> Schema;

    /// Creates an instance. Load-time parameters are final in `ctx.params()`.
    fn create(ctx: &CreateContext<'_>) -> Result<Self, Error>;

    /// Says what the next call needs. Called before every call: keep it cheap (no allocation
    /// in steady state). Fail for parameter combinations or input formats you cannot handle;
    /// the host then skips the tick. The default asks for the defaults
    /// (`Requirements::default()`).
    fn prepare(&mut self, ctx: &PrepareContext<'_>) -> Result<Requirements, Error> {
        let _ = ctx;
        Ok(Requirements::default())
    }

    /// Processes one tick: read `ctx.input()` / `ctx.inputs(port)` and `ctx.params()`, write
    /// every pixel of `ctx.output_mut()`. An error drops this frame; the host goes on with the
    /// next one.
    fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error>;
}

/// The most used names, for `use scope_plugin::prelude::*`.
pub mod prelude {
    pub use crate::{
        CallContext, Category, CreateContext, ElementType, Error, Frame, Level, MemoryKind, Mode,
        ModeDesc, OutputFrame, Param, Pipeline, PrepareContext, Requirements, Schema,
    };
}
