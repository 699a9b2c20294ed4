//! Raw `#[repr(C)]` mirrors of `include/scope/plugin.h` (ABI v1.0), field for field.
//!
//! Names are the C names, so the header's documentation applies unchanged. Nullable function
//! pointers are `Option<unsafe extern "C" fn ...>` (same size and ABI as a C function pointer,
//! `None` is NULL). The anonymous union of `scope_value` is named [`scope_value_as`] here; C fields named
//! after Rust keywords get a trailing underscore (`type_`, `as_`), as bindgen spells them.
//!
//! `tests/layout.rs` compiles a C program against the real header and checks every struct's size
//! and alignment, every field's offset and size, and every constant's value against this module.
//! Edit the two together.
//!
//! The header's `static inline` helpers (`scope_error_set`, `scope_params_find`, ...) have no ABI
//! of their own and are not mirrored; the safe layer of this crate replaces them.
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_void};

// ---------------------------------------------------------------------------------------------
// Versions, export, status codes
// ---------------------------------------------------------------------------------------------

/// ABI major version: a host refuses plugins of another major.
pub const SCOPE_ABI_VERSION_MAJOR: u16 = 1;
/// ABI minor version: grows when fields are appended; both sides accept a newer minor.
pub const SCOPE_ABI_VERSION_MINOR: u16 = 1;

/// `SCOPE_FRAME_ALIGNMENT`: every host frame's data pointer and row pitch are multiples of
/// this many bytes (ABI 1.1).
pub const SCOPE_FRAME_ALIGNMENT: usize = 64;

/// `SCOPE_ERROR_MIN_CAPACITY`: the least capacity of an error buffer, NUL included.
pub const SCOPE_ERROR_MIN_CAPACITY: u32 = 1024;
/// Name of the one symbol a plugin exports, NUL-terminated.
pub const SCOPE_PLUGIN_ENTRY_SYMBOL: &core::ffi::CStr = c"scope_plugin_entry";

/// Result of every fallible function. Negative values are errors.
pub type scope_status = i32;

/// Success.
pub const SCOPE_OK: scope_status = 0;
/// Failure; the message says why.
pub const SCOPE_ERROR: scope_status = -1;
/// A value the plugin cannot use (size, format, param).
pub const SCOPE_ERROR_INVALID_ARGUMENT: scope_status = -2;
/// A mode, memory kind or format the pipeline lacks.
pub const SCOPE_ERROR_UNSUPPORTED: scope_status = -3;
/// An allocation failed.
pub const SCOPE_ERROR_OUT_OF_MEMORY: scope_status = -4;
/// Called in the wrong order (call before prepare...).
pub const SCOPE_ERROR_BAD_STATE: scope_status = -5;
/// A CUDA call failed.
pub const SCOPE_ERROR_CUDA: scope_status = -6;

/// Log level: debugging detail.
pub const SCOPE_LOG_DEBUG: i32 = 0;
/// Log level: information.
pub const SCOPE_LOG_INFO: i32 = 1;
/// Log level: warning.
pub const SCOPE_LOG_WARN: i32 = 2;
/// Log level: error.
pub const SCOPE_LOG_ERROR: i32 = 3;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A message buffer owned by the host, valid during one call (see plugin.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_error {
    /// `sizeof(scope_error)` as the host knew it.
    pub struct_size: u32,
    /// Bytes available at `message`, NUL included.
    pub capacity: u32,
    /// Host-owned buffer; starts as "".
    pub message: *mut c_char,
}

// ---------------------------------------------------------------------------------------------
// Host services
// ---------------------------------------------------------------------------------------------

/// `scope_host.log`: writes one line to the host's log. `[thread-safe]`
pub type scope_host_log_fn =
    Option<unsafe extern "C" fn(host: *const scope_host, level: i32, message: *const c_char)>;

/// `scope_host.get_extension`: a host extension by id, or NULL. `[thread-safe]`
pub type scope_host_get_extension_fn =
    Option<unsafe extern "C" fn(host: *const scope_host, id: *const c_char) -> *const c_void>;

/// The range function of `scope_host.parallel_for`: processes items `[begin, end)`.
pub type scope_range_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, begin: u32, end: u32)>;

/// `scope_host.parallel_for` (ABI 1.1): the host thread pool. `[thread-safe]`
pub type scope_host_parallel_for_fn = Option<
    unsafe extern "C" fn(host: *const scope_host, count: u32, grain: u32, f: scope_range_fn, ctx: *mut c_void),
>;

/// What the host offers a plugin; valid until `unregister_pipelines` returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_host {
    /// `sizeof(scope_host)` as the host knew it.
    pub struct_size: u32,
    /// `SCOPE_ABI_VERSION_MAJOR` of the host.
    pub abi_major: u16,
    /// `SCOPE_ABI_VERSION_MINOR` of the host.
    pub abi_minor: u16,
    /// Host name, e.g. "scope".
    pub name: *const c_char,
    /// Host version, e.g. "0.1.0".
    pub version: *const c_char,
    /// Reserved for the host; plugins must not touch it.
    pub host_data: *mut c_void,
    /// Writes one line to the host's log. `[thread-safe]`
    pub log: scope_host_log_fn,
    /// Returns the host extension with this id, or NULL. `[thread-safe]`
    pub get_extension: scope_host_get_extension_fn,
    /// ABI 1.1: runs a range function over `[0, count)` on the host's thread pool; NULL (zero)
    /// from a 1.0 host. `[thread-safe]`
    pub parallel_for: scope_host_parallel_for_fn,
    /// ABI 1.1: threads `parallel_for` may use at once, the caller's included.
    pub worker_count: u32,
    /// 0.
    pub reserved: u32,
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

/// Element type: 8-bit unsigned, 0..255.
pub const SCOPE_ELEMENT_U8: u32 = 1;
/// Element type: 32-bit float, 0.0..1.0.
pub const SCOPE_ELEMENT_F32: u32 = 2;

/// Memory kind: ordinary CPU memory.
pub const SCOPE_MEMORY_HOST: u32 = 1 << 0;
/// Memory kind: CUDA device memory in the device's primary context.
pub const SCOPE_MEMORY_CUDA: u32 = 1 << 1;

/// Mode: no video input, the pipeline generates frames.
pub const SCOPE_MODE_TEXT: u32 = 1 << 0;
/// Mode: input frames are transformed.
pub const SCOPE_MODE_VIDEO: u32 = 1 << 1;

/// The shape of a frame without its data: what prepare() sees of its inputs.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_frame_format {
    /// `sizeof(scope_frame_format)`.
    pub struct_size: u32,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// 1 (gray), 3 (RGB) or 4 (RGBA), interleaved.
    pub channels: u32,
    /// `SCOPE_ELEMENT_*`.
    pub element_type: u32,
    /// `SCOPE_MEMORY_HOST` or `SCOPE_MEMORY_CUDA`.
    pub memory: u32,
}

/// One image, owned by the host; `data` is valid during the call that receives it only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_frame {
    /// `sizeof(scope_frame)`.
    pub struct_size: u32,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// 1, 3 or 4 interleaved channels (RGB order).
    pub channels: u32,
    /// `SCOPE_ELEMENT_*`.
    pub element_type: u32,
    /// `SCOPE_MEMORY_HOST` or `SCOPE_MEMORY_CUDA`.
    pub memory: u32,
    /// Bytes from the start of one row to the next, >= width*channels*size.
    pub pitch: i64,
    /// First row; host or device pointer as `memory` says.
    pub data: *mut c_void,
    /// CUstream to enqueue work on when memory is `SCOPE_MEMORY_CUDA`, else NULL.
    pub cuda_stream: *mut c_void,
    /// CUDA device ordinal when memory is `SCOPE_MEMORY_CUDA`, else -1.
    pub cuda_device: i32,
    /// Reserved, 0.
    pub flags: u32,
    /// Presentation time in microseconds since the session started.
    pub timestamp_us: i64,
    /// Sequence number of the frame in its stream.
    pub index: u64,
}

/// The frames of one input port, oldest first. Frozen: no `struct_size`, never grows.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_frame_list {
    /// `count` frame pointers, read-only, oldest first (an array of pointers, so it is indexed
    /// plainly whatever size the host's `scope_frame` has).
    pub frames: *const *const scope_frame,
    /// Equals the input_size the pipeline asked for.
    pub count: u32,
    /// 0.
    pub reserved: u32,
}

/// Interleaved float PCM that a pipeline with `SCOPE_PIPELINE_PRODUCES_AUDIO` may write. The host
/// allocates `samples` with room for `capacity_frames` stereo frames (`capacity_frames * 2`
/// floats), whatever `channels` the plugin then chooses.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_audio {
    /// `sizeof(scope_audio)`.
    pub struct_size: u32,
    /// Plugin sets: Hz, e.g. 48000.
    pub sample_rate: u32,
    /// Plugin sets: 1 or 2 (interleaved).
    pub channels: u32,
    /// Host sets: room in samples, in sample frames (`capacity_frames * 2` floats).
    pub capacity_frames: u32,
    /// Plugin sets: sample frames written this call (0 = none).
    pub frames: u32,
    /// 0.
    pub reserved: u32,
    /// Host-owned buffer, valid during the call.
    pub samples: *mut f32,
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// Parameter type: `value.b`, 0 or 1.
pub const SCOPE_PARAM_BOOL: u32 = 1;
/// Parameter type: `value.i`; min/max/step as doubles.
pub const SCOPE_PARAM_INT: u32 = 2;
/// Parameter type: `value.f`.
pub const SCOPE_PARAM_FLOAT: u32 = 3;
/// Parameter type: `value.s`, UTF-8 text.
pub const SCOPE_PARAM_STRING: u32 = 4;
/// Parameter type: `value.s`, the key of one option.
pub const SCOPE_PARAM_ENUM: u32 = 5;
/// Parameter type: `value.color`, RGBA each 0..1.
pub const SCOPE_PARAM_COLOR: u32 = 6;

/// Category: the settings panel (default).
pub const SCOPE_CATEGORY_CONFIGURATION: u32 = 0;
/// Category: the input & controls panel.
pub const SCOPE_CATEGORY_INPUT: u32 = 1;

/// Parameter flag: passed to create() only; changing it means a new instance.
pub const SCOPE_PARAM_LOAD_TIME: u32 = 1 << 0;
/// Parameter flag: not shown in user interfaces.
pub const SCOPE_PARAM_HIDDEN: u32 = 1 << 1;

/// One option of an enum parameter.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_enum_option {
    /// `sizeof(scope_enum_option)`.
    pub struct_size: u32,
    /// 0.
    pub reserved: u32,
    /// Stable key stored in settings and passed as the value.
    pub key: *const c_char,
    /// Text for the UI; NULL = key.
    pub label: *const c_char,
}

/// Describes one parameter.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_param_desc {
    /// `sizeof(scope_param_desc)`.
    pub struct_size: u32,
    /// `SCOPE_PARAM_*`.
    pub type_: u32,
    /// Stable id: `[a-z0-9_.-]+`, unique within the pipeline.
    pub key: *const c_char,
    /// Short UI label; NULL = key.
    pub label: *const c_char,
    /// Tooltip / help text; NULL = none.
    pub description: *const c_char,
    /// `SCOPE_PARAM_LOAD_TIME | SCOPE_PARAM_HIDDEN`.
    pub flags: u32,
    /// `SCOPE_CATEGORY_*`.
    pub category: u32,
    /// Display order; lower first.
    pub order: i32,
    /// `SCOPE_MODE_*` mask where it applies; 0 = every mode.
    pub modes: u32,
    /// INT/FLOAT: lowest allowed value (finite).
    pub min_value: f64,
    /// INT/FLOAT: highest allowed value (finite, >= min).
    pub max_value: f64,
    /// INT/FLOAT: UI step; 0 = 1 for INT, continuous for FLOAT.
    pub step: f64,
    /// BOOL (0/1), INT, FLOAT: default value.
    pub default_number: f64,
    /// STRING: default text; ENUM: key of the default option.
    pub default_string: *const c_char,
    /// ENUM: the options.
    pub options: *const scope_enum_option,
    /// ENUM: number of options (>= 1).
    pub option_count: u32,
    /// COLOR: default RGBA, each 0..1.
    pub default_color: [f32; 4],
    /// 0; makes the v1 tail explicit so appended fields never land in padding.
    pub reserved: u32,
}

/// The anonymous union `as` of `scope_value`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union scope_value_as {
    /// INT.
    pub i: i64,
    /// FLOAT.
    pub f: f64,
    /// BOOL: 0 or 1.
    pub b: i32,
    /// STRING, ENUM (never NULL; "" for empty).
    pub s: *const c_char,
    /// COLOR: RGBA 0..1.
    pub color: [f32; 4],
}

impl core::fmt::Debug for scope_value_as {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("scope_value_as { .. }")
    }
}

/// One parameter value as the host passes it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_value {
    /// The parameter's key.
    pub key: *const c_char,
    /// `SCOPE_PARAM_*`.
    pub type_: u32,
    /// Reserved.
    pub reserved: u32,
    /// The value; which member is valid depends on `type_`.
    pub as_: scope_value_as,
}

/// The values of every parameter of a pipeline, in the order of `scope_pipeline_desc.params`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_params {
    /// `sizeof(scope_params)`.
    pub struct_size: u32,
    /// Equals the pipeline's param_count.
    pub count: u32,
    /// Host-owned; valid during the call.
    pub values: *const scope_value,
}

/// One weighted prompt (pipelines with `SCOPE_PIPELINE_SUPPORTS_PROMPTS`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_prompt {
    /// UTF-8.
    pub text: *const c_char,
    /// Relative weight, >= 0.
    pub weight: f32,
    /// Reserved.
    pub reserved: u32,
}

// ---------------------------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------------------------

/// Defaults for one mode a pipeline supports (Scope's ModeDefaults).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_mode_desc {
    /// `sizeof(scope_mode_desc)`.
    pub struct_size: u32,
    /// `SCOPE_MODE_TEXT` or `SCOPE_MODE_VIDEO`.
    pub mode: u32,
    /// 1 for the mode used when the user names none.
    pub is_default: u32,
    /// Default output width in this mode; 0 = follow the input.
    pub width: u32,
    /// Default output height in this mode; 0 = follow the input.
    pub height: u32,
    /// Default frames per call in this mode (0 in text mode).
    pub input_size: u32,
}

/// Pipeline flag: takes weighted text prompts.
pub const SCOPE_PIPELINE_SUPPORTS_PROMPTS: u32 = 1 << 0;
/// Pipeline flag: writes `scope_call.audio`.
pub const SCOPE_PIPELINE_PRODUCES_AUDIO: u32 = 1 << 1;
/// Pipeline flag: produces no video output (audio only).
pub const SCOPE_PIPELINE_NO_VIDEO: u32 = 1 << 2;
/// Pipeline flag: output depends on randomness or wall time, not only on inputs and parameters;
/// hosts and validators must not expect identical output for identical input.
pub const SCOPE_PIPELINE_NONDETERMINISTIC: u32 = 1 << 3;

/// Threading: different instances may run concurrently; one instance is never called
/// concurrently.
pub const SCOPE_THREADING_INSTANCE: u32 = 0;
/// Threading: all instances share state; the host never calls two at once.
pub const SCOPE_THREADING_SERIAL: u32 = 1;

/// Arguments of create().
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_create_args {
    /// `sizeof(scope_create_args)`.
    pub struct_size: u32,
    /// `SCOPE_MODE_TEXT` or `SCOPE_MODE_VIDEO`.
    pub mode: u32,
    /// The descriptor create() was found in.
    pub pipeline: *const scope_pipeline_desc,
    /// Every parameter, load-time values final.
    pub params: *const scope_params,
    /// Device ordinal the host uses, or -1 (no CUDA).
    pub cuda_device: i32,
    /// 0.
    pub reserved: u32,
}

/// Arguments of prepare().
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_prepare_args {
    /// `sizeof(scope_prepare_args)`.
    pub struct_size: u32,
    /// The mode of this instance.
    pub mode: u32,
    /// Current values of every parameter.
    pub params: *const scope_params,
    /// Format of the frames arriving on each input port: `input_port_count` pointers, or NULL
    /// in text mode.
    pub input_formats: *const *const scope_frame_format,
    /// Entries in input_formats; 0 in text mode.
    pub input_port_count: u32,
    /// 0.
    pub reserved: u32,
}

/// What an instance needs for its next call; zero means "the default" everywhere.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_requirements {
    /// `sizeof(scope_requirements)` as the host knew it.
    pub struct_size: u32,
    /// Frames per input port per call; 0 = the mode default.
    pub input_size: u32,
    /// 0 = input width (video) or mode default (text).
    pub output_width: u32,
    /// 0 = input height (video) or mode default (text).
    pub output_height: u32,
    /// 0 = input channels (video) or 3 (text).
    pub output_channels: u32,
    /// 0 = `SCOPE_ELEMENT_U8`; F32 output is clamped to 0..1.
    pub output_element_type: u32,
    /// 0 = `SCOPE_MEMORY_HOST`.
    pub output_memory: u32,
    /// 0 = `SCOPE_ELEMENT_U8`; the host converts if needed.
    pub input_element_type: u32,
    /// 0 = `SCOPE_MEMORY_HOST`; the host uploads if needed.
    pub input_memory: u32,
    /// 0 = as produced upstream; 3 or 4 to have it converted.
    pub input_channels: u32,
    /// Room needed in `scope_call.audio` (sample frames).
    pub audio_max_frames: u32,
    /// 0.
    pub reserved: u32,
}

/// Call flag: first call of this instance (Scope's init_cache): reset temporal state.
pub const SCOPE_CALL_FIRST: u32 = 1 << 0;
/// Call flag: some parameter value differs from the previous call.
pub const SCOPE_CALL_PARAMS_CHANGED: u32 = 1 << 1;

/// Arguments of call().
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_call {
    /// `sizeof(scope_call)`.
    pub struct_size: u32,
    /// `SCOPE_CALL_*`.
    pub flags: u32,
    /// One list per input port; NULL in text mode.
    pub inputs: *const scope_frame_list,
    /// 0 in text mode.
    pub input_port_count: u32,
    /// 0.
    pub reserved: u32,
    /// The frame to fill; NULL with `SCOPE_PIPELINE_NO_VIDEO`.
    pub output: *mut scope_frame,
    /// Current values of every parameter.
    pub params: *const scope_params,
    /// Weighted prompts, or NULL.
    pub prompts: *const scope_prompt,
    /// Entries in prompts.
    pub prompt_count: u32,
    /// 0.
    pub reserved2: u32,
    /// With `SCOPE_PIPELINE_PRODUCES_AUDIO`, else NULL.
    pub audio: *mut scope_audio,
    /// 0 for the first call of this instance, then +1.
    pub call_index: u64,
    /// Session time of this tick in microseconds.
    pub timestamp_us: i64,
}

/// Creates an instance. `[instance]`
pub type scope_create_fn = Option<
    unsafe extern "C" fn(
        host: *const scope_host,
        args: *const scope_create_args,
        out_instance: *mut *mut c_void,
        err: *mut scope_error,
    ) -> scope_status,
>;

/// Destroys an instance created by create(). NULL is ignored. `[instance]`
pub type scope_destroy_fn = Option<unsafe extern "C" fn(instance: *mut c_void)>;

/// Tells the host what the next call() needs. `[instance]`
pub type scope_prepare_fn = Option<
    unsafe extern "C" fn(
        instance: *mut c_void,
        args: *const scope_prepare_args,
        out: *mut scope_requirements,
        err: *mut scope_error,
    ) -> scope_status,
>;

/// Processes one tick. `[instance]`
pub type scope_call_fn = Option<
    unsafe extern "C" fn(
        instance: *mut c_void,
        call: *const scope_call,
        err: *mut scope_error,
    ) -> scope_status,
>;

/// Describes one pipeline: identity, modes, parameters and entry points.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_pipeline_desc {
    /// `sizeof(scope_pipeline_desc)`.
    pub struct_size: u32,
    /// `SCOPE_PIPELINE_*`.
    pub flags: u32,
    /// Stable, unique across plugins: `[a-z0-9][a-z0-9_.-]*`.
    pub id: *const c_char,
    /// Human name, e.g. "Invert Colors".
    pub name: *const c_char,
    /// One sentence; NULL = none.
    pub description: *const c_char,
    /// Pipeline version; NULL = plugin version.
    pub version: *const c_char,
    /// NULL = none.
    pub author: *const c_char,
    /// NULL = none.
    pub docs_url: *const c_char,
    /// Supported modes, >= 1, exactly one is_default.
    pub modes: *const scope_mode_desc,
    /// Entries in modes.
    pub mode_count: u32,
    /// `SCOPE_MEMORY_*` mask the pipeline accepts (0 = HOST).
    pub memory: u32,
    /// Parameters, may be NULL when param_count is 0.
    pub params: *const scope_param_desc,
    /// Entries in params.
    pub param_count: u32,
    /// `SCOPE_THREADING_*`.
    pub threading: u32,
    /// Names of the video input ports; NULL with input_port_count 0 means one port "video".
    pub input_ports: *const *const c_char,
    /// Entries in input_ports.
    pub input_port_count: u32,
    /// 0.
    pub reserved: u32,
    /// Required.
    pub create: scope_create_fn,
    /// Required.
    pub destroy: scope_destroy_fn,
    /// Required.
    pub prepare: scope_prepare_fn,
    /// Required.
    pub call: scope_call_fn,
}

// ---------------------------------------------------------------------------------------------
// The plugin entry
// ---------------------------------------------------------------------------------------------

/// `scope_plugin.register_pipelines`. `[load]`
pub type scope_register_pipelines_fn = Option<
    unsafe extern "C" fn(
        host: *const scope_host,
        plugin_path: *const c_char,
        err: *mut scope_error,
    ) -> scope_status,
>;
/// `scope_plugin.unregister_pipelines`. `[load]`
pub type scope_unregister_pipelines_fn = Option<unsafe extern "C" fn()>;
/// `scope_plugin.pipeline_count`. `[thread-safe]` after register_pipelines.
pub type scope_pipeline_count_fn = Option<unsafe extern "C" fn() -> u32>;
/// `scope_plugin.get_pipeline`. `[thread-safe]` after register_pipelines.
pub type scope_get_pipeline_fn =
    Option<unsafe extern "C" fn(index: u32) -> *const scope_pipeline_desc>;
/// `scope_plugin.get_extension`. `[thread-safe]`
pub type scope_plugin_get_extension_fn =
    Option<unsafe extern "C" fn(id: *const c_char) -> *const c_void>;

/// The library's table, returned by `scope_plugin_entry`. Constant and owned by the plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct scope_plugin {
    /// `sizeof(scope_plugin)`.
    pub struct_size: u32,
    /// `SCOPE_ABI_VERSION_MAJOR` the plugin was built against.
    pub abi_major: u16,
    /// `SCOPE_ABI_VERSION_MINOR` the plugin was built against.
    pub abi_minor: u16,
    /// Library name, e.g. "scope-examples-c".
    pub name: *const c_char,
    /// Library version, e.g. "1.0.0".
    pub version: *const c_char,
    /// NULL = none.
    pub description: *const c_char,
    /// Builds the pipeline table; reference-counted. `[load]`
    pub register_pipelines: scope_register_pipelines_fn,
    /// Releases what register_pipelines built, once per successful register call. `[load]`
    pub unregister_pipelines: scope_unregister_pipelines_fn,
    /// Number of pipelines registered.
    pub pipeline_count: scope_pipeline_count_fn,
    /// Pipeline `index`, or NULL if out of range.
    pub get_pipeline: scope_get_pipeline_fn,
    /// The plugin extension with this id, or NULL. NULL function = no extensions.
    pub get_extension: scope_plugin_get_extension_fn,
}

/// Type of the exported entry function. `[thread-safe]`
pub type scope_plugin_entry_fn = Option<unsafe extern "C" fn() -> *const scope_plugin>;

/// Marks the `sys` structs that start with `uint32_t struct_size` and may grow by appending
/// fields (the header's compatibility rule). The safe layer reads such structs with
/// `min(struct_size, size_of::<Self>())` bytes and treats the missing tail as zero.
/// `scope_value`, `scope_prompt` and `scope_frame_list` have no `struct_size` and cannot grow.
///
/// # Safety
/// The implementor must be `#[repr(C)]`, start with a `u32` `struct_size` field, and be valid
/// when all-zero (integers, raw pointers and `Option` of function pointers only).
pub unsafe trait SizedStruct: Copy {
    /// The smallest `struct_size` a valid writer can set: the size in ABI v1.0. (When fields are
    /// appended in a later minor, this stays the v1.0 size and the SDK zeroes the new tail.)
    const MIN_SIZE: usize = core::mem::size_of::<Self>();
}

// SAFETY: each of these is #[repr(C)], starts with `struct_size: u32` and holds only integers,
// floats, raw pointers and Option<fn>, all of which are valid when zero.
unsafe impl SizedStruct for scope_error {}
// SAFETY: as above. A 1.0 host's struct ends after get_extension (48 bytes on 64-bit).
unsafe impl SizedStruct for scope_host {
    const MIN_SIZE: usize = core::mem::offset_of!(scope_host, parallel_for);
}
// SAFETY: as above.
unsafe impl SizedStruct for scope_frame_format {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_frame {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_audio {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_enum_option {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_param_desc {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_params {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_mode_desc {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_create_args {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_prepare_args {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_requirements {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_call {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_pipeline_desc {}
// SAFETY: as above.
unsafe impl SizedStruct for scope_plugin {}
