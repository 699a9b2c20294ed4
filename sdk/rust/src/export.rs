//! The machinery behind [`export_plugin!`](crate::export_plugin): the descriptor registry and
//! the `extern "C"` trampolines. Public only so the macro can name it; not part of the API.
//!
//! # Descriptor lifetime
//!
//! The C descriptors (`scope_pipeline_desc`, their parameter, mode and option arrays and every
//! NUL-terminated string) are built from each pipeline's [`Schema`] by the first
//! `register_pipelines` call, boxed once (so every address is stable) and published through an
//! `AtomicPtr`. Registration is reference-counted: a second register returns the same table;
//! the table is freed when the last matching `unregister_pipelines` runs (the header promises
//! every instance is destroyed by then). Nothing leaks across load/unload cycles, and the state
//! lives in one private static of this module: plugin authors never see global mutable state.
//! Instances hold an `Arc` of their pipeline's schema, not pointers into the table.
//!
//! # Panics
//!
//! Every trampoline runs the pipeline's code under `catch_unwind`. A panic becomes
//! `SCOPE_ERROR` with `"panic: <message> (<file>:<line>:<col>)"` in the error buffer. While a
//! trampoline runs, a panic hook (installed once, at the first registration) records the
//! location instead of printing to stderr; panics elsewhere (threads the plugin starts) go to
//! the previous hook unchanged.

use crate::context::{CallContext, CreateContext, Host, Level, PrepareContext};
use crate::error::Error;
use crate::frame::check_frame;
use crate::params::Params;
use crate::schema::{Mode, ParamKind, Schema};
use crate::sys::{self, SizedStruct};
use crate::Pipeline;
use core::any::{Any, TypeId};
use core::cell::Cell;
use core::ffi::{c_char, c_void, CStr};
use core::mem::{size_of, MaybeUninit};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use std::ffi::CString;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once, PoisonError};

// ---------------------------------------------------------------------------------------------
// Reading host structs
// ---------------------------------------------------------------------------------------------

/// Copies a host struct, reading `min(struct_size, size_of::<T>())` bytes and zeroing the rest
/// (the header's compatibility rule).
///
/// # Safety
/// `p` must be non-NULL and point at a `T` as a writer of any ABI v1 minor laid it out: at
/// least `struct_size` readable bytes, starting with that `u32`.
pub(crate) unsafe fn read_sized<T: SizedStruct>(p: *const T) -> T {
    // SAFETY: p points at a struct starting with a u32 (caller); read_unaligned tolerates any
    // alignment.
    let declared = unsafe { ptr::read_unaligned(p as *const u32) } as usize;
    let n = declared.min(size_of::<T>());
    let mut out = MaybeUninit::<T>::zeroed();
    // SAFETY: the source has at least `declared >= n` readable bytes (caller), the destination
    // has size_of::<T>() >= n; they cannot overlap (out is a fresh local).
    unsafe { ptr::copy_nonoverlapping(p as *const u8, out.as_mut_ptr() as *mut u8, n) };
    // SAFETY: T is valid when all-zero (SizedStruct), and the copied prefix holds the writer's
    // field values, which are valid for their types.
    unsafe { out.assume_init() }
}

/// [`read_sized`] for a pointer that may be NULL or carry a `struct_size` below ABI v1.0's
/// (which only a broken writer sets): both fail with `SCOPE_ERROR_INVALID_ARGUMENT`.
///
/// # Safety
/// As [`read_sized`], when `p` is non-NULL.
pub(crate) unsafe fn read_struct<T: SizedStruct>(p: *const T, name: &str) -> Result<T, Error> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and valid (caller).
    let declared = unsafe { ptr::read_unaligned(p as *const u32) } as usize;
    if declared < T::MIN_SIZE {
        return Err(Error::invalid_argument(format!(
            "{name}.struct_size is {declared}, smaller than ABI v1.0's {}",
            T::MIN_SIZE
        )));
    }
    // SAFETY: as above.
    Ok(unsafe { read_sized(p) })
}

/// Parameter values from a `scope_params` pointer (NULL = none: every accessor gives the
/// default).
///
/// # Safety
/// `p` must be NULL or a valid `scope_params` whose values live for `'a`.
unsafe fn param_values<'a>(p: *const sys::scope_params) -> Result<&'a [sys::scope_value], Error> {
    if p.is_null() {
        return Ok(&[]);
    }
    // SAFETY: non-NULL and valid (caller).
    let params: sys::scope_params = unsafe { read_struct(p, "scope_params")? };
    if params.count == 0 {
        return Ok(&[]);
    }
    if params.values.is_null() {
        return Err(Error::invalid_argument("scope_params.values is NULL"));
    }
    // SAFETY: the host passes `count` values, valid during the call (caller).
    Ok(unsafe { core::slice::from_raw_parts(params.values, params.count as usize) })
}

/// A host array as a slice; NULL is allowed only with `count == 0`.
///
/// # Safety
/// A non-NULL `p` must point at `count` valid `T`s living for `'a`.
unsafe fn host_slice<'a, T>(p: *const T, count: u32, name: &str) -> Result<&'a [T], Error> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid_argument(format!(
            "{name} is NULL with count {count}"
        )));
    }
    // SAFETY: guaranteed by the caller.
    Ok(unsafe { core::slice::from_raw_parts(p, count as usize) })
}

// ---------------------------------------------------------------------------------------------
// Errors and panics
// ---------------------------------------------------------------------------------------------

/// Writes `message` into the host's error buffer: truncated at a UTF-8 boundary to fit,
/// NUL-terminated, line breaks and NULs turned into spaces. Safe with NULL `err` or buffer.
///
/// Like the header's `scope_error_set`, it relies on `capacity` and `message` (v1.0 fields)
/// rather than on `struct_size`, so a message gets through even from a sloppy host.
///
/// # Safety
/// `err` must be NULL or point at a `scope_error` whose buffer has `capacity` writable bytes.
pub(crate) unsafe fn write_error(err: *mut sys::scope_error, message: &str) {
    if err.is_null() {
        return;
    }
    // SAFETY: non-NULL and valid (caller).
    let e = unsafe { ptr::read_unaligned(err) };
    if e.message.is_null() || e.capacity == 0 {
        return;
    }
    let mut n = message.len().min(e.capacity as usize - 1);
    while !message.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: the buffer has `capacity` bytes and we write n + 1 <= capacity of them.
    let buf = unsafe { core::slice::from_raw_parts_mut(e.message as *mut u8, n + 1) };
    for (d, s) in buf.iter_mut().zip(message.bytes()) {
        *d = match s {
            b'\n' | b'\r' | 0 => b' ',
            s => s,
        };
    }
    buf[n] = 0;
}

const LOCATION_CAP: usize = 160;

thread_local! {
    /// Whether this thread is inside a trampoline (the panic hook stays quiet there).
    static IN_BOUNDARY: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic inside a trampoline happened, formatted. A plain byte array: no
    /// thread-local destructor that could outlive the library.
    static PANIC_LOCATION: Cell<([u8; LOCATION_CAP], usize)> =
        const { Cell::new(([0; LOCATION_CAP], 0)) };
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_BOUNDARY.with(Cell::get) {
                return previous(info);
            }
            let mut buf = ([0u8; LOCATION_CAP], 0usize);
            if let Some(l) = info.location() {
                let mut w = ArrayWriter {
                    buf: &mut buf.0,
                    len: 0,
                };
                let _ = core::fmt::write(
                    &mut w,
                    format_args!("{}:{}:{}", l.file(), l.line(), l.column()),
                );
                buf.1 = w.len;
            }
            PANIC_LOCATION.with(|c| c.set(buf));
        }));
    });
}

struct ArrayWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl core::fmt::Write for ArrayWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut tmp = [0u8; 4];
            let b = c.encode_utf8(&mut tmp).as_bytes();
            if self.len + b.len() > self.buf.len() {
                return Err(core::fmt::Error);
            }
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        }
        Ok(())
    }
}

/// Runs `f` with panics caught: `Ok` is `SCOPE_OK`, `Err(error)` its status and message, a
/// panic `SCOPE_ERROR` with `"panic: <message> (<location>)"`.
fn guarded(f: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
    let was_inside = IN_BOUNDARY.with(|c| c.replace(true));
    PANIC_LOCATION.with(|c| c.set(([0; LOCATION_CAP], 0)));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_BOUNDARY.with(|c| c.set(was_inside));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let mut message = format!("panic: {}", panic_message(&*payload));
            let (loc, len) = PANIC_LOCATION.with(Cell::get);
            if len > 0 {
                message.push_str(&format!(" ({})", String::from_utf8_lossy(&loc[..len])));
            }
            // Dropping the payload runs its destructor, which could panic in turn.
            if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                core::mem::forget(again);
            }
            Err(Error::new(message))
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(a panic payload that is not a string)"
    }
}

/// [`guarded`], reporting to the host: the status code, and the message in `err`.
///
/// # Safety
/// `err` as in [`write_error`].
unsafe fn boundary(
    err: *mut sys::scope_error,
    f: impl FnOnce() -> Result<(), Error>,
) -> sys::scope_status {
    match guarded(f) {
        Ok(()) => sys::SCOPE_OK,
        Err(e) => {
            // SAFETY: err is valid or NULL (caller).
            unsafe { write_error(err, e.message()) };
            e.status().code()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/// What instances keep of their pipeline.
pub(crate) struct PipelineInfo {
    pub(crate) schema: Schema,
    pub(crate) plugin_path: Option<PathBuf>,
}

/// One registered pipeline: its C descriptor and everything the descriptor points into.
struct Entry {
    desc: sys::scope_pipeline_desc,
    type_id: TypeId,
    info: Arc<PipelineInfo>,
    _strings: Vec<CString>,
    _modes: Vec<sys::scope_mode_desc>,
    _params: Vec<sys::scope_param_desc>,
    _options: Vec<Vec<sys::scope_enum_option>>,
    _ports: Vec<*const c_char>,
}

struct Table {
    entries: Vec<Entry>,
}

// SAFETY: a Table is immutable once published; its raw pointers point into heap buffers it
// owns (CString, Vec), which do not move when the Table does.
unsafe impl Send for Table {}
// SAFETY: as above.
unsafe impl Sync for Table {}

struct Registry {
    /// Number of successful register calls not yet matched by unregister.
    count: Mutex<u32>,
    /// The table while `count > 0`, else NULL.
    table: AtomicPtr<Table>,
    /// The plugin `scope_plugin_entry` returned.
    plugin: AtomicPtr<Plugin>,
}

static REGISTRY: Registry = Registry {
    count: Mutex::new(0),
    table: AtomicPtr::new(ptr::null_mut()),
    plugin: AtomicPtr::new(ptr::null_mut()),
};

/// The registered table, if any.
fn table() -> Option<&'static Table> {
    let p = REGISTRY.table.load(Ordering::Acquire);
    // SAFETY: a non-NULL pointer is a published Box<Table> that stays alive until the last
    // unregister, after which the host makes no call that reaches here (header contract).
    unsafe { p.as_ref() }
}

/// Whether the plugin is registered (the host struct is valid).
pub(crate) fn is_registered() -> bool {
    !REGISTRY.table.load(Ordering::Acquire).is_null()
}

/// Builds the descriptor of one pipeline from its schema.
fn build_entry(t: &PipelineType, plugin_path: Option<PathBuf>) -> Result<Entry, Error> {
    let schema = (t.schema)().resolve()?;
    let mut strings: Vec<CString> = Vec::new();
    let mut text = |s: Option<&str>| -> *const c_char {
        match s {
            None => ptr::null(),
            Some(s) => {
                // Schema::resolve rejected interior NULs, so this cannot fail.
                let c = CString::new(s).unwrap_or_default();
                let p = c.as_ptr();
                strings.push(c);
                p
            }
        }
    };

    let modes: Vec<sys::scope_mode_desc> = schema
        .modes()
        .iter()
        .map(|m| sys::scope_mode_desc {
            struct_size: size_of::<sys::scope_mode_desc>() as u32,
            mode: m.mode().bits(),
            is_default: m.is_default() as u32,
            width: m.width(),
            height: m.height(),
            input_size: m.frames_per_call(),
        })
        .collect();

    let mut options: Vec<Vec<sys::scope_enum_option>> = Vec::new();
    let mut params: Vec<sys::scope_param_desc> = Vec::new();
    for p in schema.params() {
        let mut d = sys::scope_param_desc {
            struct_size: size_of::<sys::scope_param_desc>() as u32,
            type_: p.param_type().code(),
            key: text(Some(p.key())),
            label: text(p.label_text()),
            description: text(p.description_text()),
            flags: p.flags,
            category: p.category_bits(),
            order: p.order,
            modes: p.modes,
            min_value: 0.0,
            max_value: 0.0,
            step: 0.0,
            default_number: 0.0,
            default_string: ptr::null(),
            options: ptr::null(),
            option_count: 0,
            default_color: [0.0; 4],
            reserved: 0,
        };
        match &p.kind {
            ParamKind::Bool { default } => {
                d.max_value = 1.0;
                d.default_number = if *default { 1.0 } else { 0.0 };
            }
            ParamKind::Int {
                min,
                max,
                step,
                default,
            } => {
                d.min_value = *min as f64;
                d.max_value = *max as f64;
                d.step = *step as f64;
                d.default_number = default.unwrap_or(0) as f64;
            }
            ParamKind::Float {
                min,
                max,
                step,
                default,
            } => {
                d.min_value = *min;
                d.max_value = *max;
                d.step = *step;
                d.default_number = default.unwrap_or(0.0);
            }
            ParamKind::String { default } => d.default_string = text(Some(default)),
            ParamKind::Enum {
                options: opts,
                default,
            } => {
                let list: Vec<sys::scope_enum_option> = opts
                    .iter()
                    .map(|o| sys::scope_enum_option {
                        struct_size: size_of::<sys::scope_enum_option>() as u32,
                        reserved: 0,
                        key: text(Some(&o.key)),
                        label: text(o.label.as_deref()),
                    })
                    .collect();
                d.default_string = text(default.as_deref());
                d.options = list.as_ptr();
                d.option_count = list.len() as u32;
                // Moving the Vec into `options` keeps its heap buffer (and d.options) in place.
                options.push(list);
            }
            ParamKind::Color { default } => d.default_color = *default,
        }
        params.push(d);
    }

    let ports: Vec<*const c_char> = schema.input_ports.iter().map(|p| text(Some(p))).collect();
    let desc = sys::scope_pipeline_desc {
        struct_size: size_of::<sys::scope_pipeline_desc>() as u32,
        flags: schema.flags(),
        id: text(Some(schema.id())),
        name: text(Some(schema.name())),
        description: text(schema.description.as_deref()),
        version: text(schema.version.as_deref()),
        author: text(schema.author.as_deref()),
        docs_url: text(schema.docs_url.as_deref()),
        modes: modes.as_ptr(),
        mode_count: modes.len() as u32,
        memory: schema.memory,
        params: if params.is_empty() {
            ptr::null()
        } else {
            params.as_ptr()
        },
        param_count: params.len() as u32,
        threading: match schema.threading {
            crate::Threading::Instance => sys::SCOPE_THREADING_INSTANCE,
            crate::Threading::Serial => sys::SCOPE_THREADING_SERIAL,
        },
        input_ports: if ports.is_empty() {
            ptr::null()
        } else {
            ports.as_ptr()
        },
        input_port_count: ports.len() as u32,
        reserved: 0,
        create: Some(t.create),
        destroy: Some(t.destroy),
        prepare: Some(t.prepare),
        call: Some(t.call),
    };
    Ok(Entry {
        desc,
        type_id: (t.type_id)(),
        info: Arc::new(PipelineInfo {
            schema,
            plugin_path,
        }),
        _strings: strings,
        _modes: modes,
        _params: params,
        _options: options,
        _ports: ports,
    })
}

/// `scope_plugin.register_pipelines`.
///
/// # Safety
/// Called by the host under the header's contract: `host` valid until unregister,
/// `plugin_path` NULL or NUL-terminated, `err` NULL or valid.
unsafe extern "C" fn register_pipelines(
    host: *const sys::scope_host,
    plugin_path: *const c_char,
    err: *mut sys::scope_error,
) -> sys::scope_status {
    let run = || -> Result<(), Error> {
        install_panic_hook();
        let mut count = REGISTRY
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *count > 0 {
            *count = count
                .checked_add(1)
                .ok_or_else(|| Error::bad_state("registered too often"))?;
            return Ok(());
        }
        // SAFETY: the plugin pointer was set by scope_plugin_entry from a &'static Plugin.
        let Some(plugin) = (unsafe { REGISTRY.plugin.load(Ordering::Acquire).as_ref() }) else {
            return Err(Error::bad_state(
                "register_pipelines before scope_plugin_entry",
            ));
        };
        // SAFETY: host is NULL or valid (caller).
        let host = unsafe { Host::from_raw(host)? };
        if host.is_present() && host.abi_version().0 != sys::SCOPE_ABI_VERSION_MAJOR {
            return Err(Error::unsupported(format!(
                "host ABI {}.{}; this plugin needs major {}",
                host.abi_version().0,
                host.abi_version().1,
                sys::SCOPE_ABI_VERSION_MAJOR
            )));
        }
        let path = if plugin_path.is_null() {
            None
        } else {
            // SAFETY: non-NULL paths are NUL-terminated (caller).
            Some(path_from_c(unsafe { CStr::from_ptr(plugin_path) }))
        };
        let mut entries: Vec<Entry> = Vec::with_capacity(plugin.pipelines.len());
        for t in plugin.pipelines {
            if entries.iter().any(|e| e.type_id == (t.type_id)()) {
                return Err(Error::invalid_argument(format!(
                    "pipeline type {} is listed twice in export_plugin!",
                    (t.type_name)()
                )));
            }
            let e = build_entry(t, path.clone())?;
            let id = e.info.schema.id();
            if entries.iter().any(|o| o.info.schema.id() == id) {
                return Err(Error::invalid_argument(format!(
                    "two pipelines have the id {id:?}"
                )));
            }
            entries.push(e);
        }
        let table = Box::into_raw(Box::new(Table { entries }));
        REGISTRY.table.store(table, Ordering::Release);
        *count = 1;
        Ok(())
    };
    // SAFETY: err is NULL or valid (caller).
    unsafe { boundary(err, run) }
}

#[cfg(unix)]
fn path_from_c(p: &CStr) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(p.to_bytes()))
}

#[cfg(not(unix))]
fn path_from_c(p: &CStr) -> PathBuf {
    PathBuf::from(p.to_string_lossy().into_owned())
}

/// `scope_plugin.unregister_pipelines`.
unsafe extern "C" fn unregister_pipelines() {
    let _ = guarded(|| {
        let mut count = REGISTRY
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *count == 0 {
            return Ok(());
        }
        *count -= 1;
        if *count == 0 {
            let p = REGISTRY.table.swap(ptr::null_mut(), Ordering::AcqRel);
            if !p.is_null() {
                // SAFETY: p came from Box::into_raw in register_pipelines and was unpublished
                // just above; the host has destroyed every instance and makes no more calls
                // that read the table.
                drop(unsafe { Box::from_raw(p) });
            }
        }
        Ok(())
    });
}

/// `scope_plugin.pipeline_count`.
unsafe extern "C" fn pipeline_count() -> u32 {
    table().map_or(0, |t| t.entries.len() as u32)
}

/// `scope_plugin.get_pipeline`.
unsafe extern "C" fn get_pipeline(index: u32) -> *const sys::scope_pipeline_desc {
    table()
        .and_then(|t| t.entries.get(index as usize))
        .map_or(ptr::null(), |e| &e.desc as *const sys::scope_pipeline_desc)
}

// ---------------------------------------------------------------------------------------------
// What export_plugin! builds
// ---------------------------------------------------------------------------------------------

/// One pipeline type as `export_plugin!` lists it: its schema function and monomorphized
/// trampolines.
#[doc(hidden)]
pub struct PipelineType {
    type_id: fn() -> TypeId,
    type_name: fn() -> &'static str,
    schema: fn() -> Schema,
    create: unsafe extern "C" fn(
        *const sys::scope_host,
        *const sys::scope_create_args,
        *mut *mut c_void,
        *mut sys::scope_error,
    ) -> sys::scope_status,
    destroy: unsafe extern "C" fn(*mut c_void),
    prepare: unsafe extern "C" fn(
        *mut c_void,
        *const sys::scope_prepare_args,
        *mut sys::scope_requirements,
        *mut sys::scope_error,
    ) -> sys::scope_status,
    call: unsafe extern "C" fn(
        *mut c_void,
        *const sys::scope_call,
        *mut sys::scope_error,
    ) -> sys::scope_status,
}

impl PipelineType {
    /// The entry for pipeline type `T`.
    pub const fn of<T: Pipeline>() -> PipelineType {
        PipelineType {
            type_id: TypeId::of::<T>,
            type_name: core::any::type_name::<T>,
            schema: T::schema,
            create: create::<T>,
            destroy: destroy::<T>,
            prepare: prepare::<T>,
            call: call::<T>,
        }
    }
}

/// The plugin's constant table plus its pipeline list; `export_plugin!` puts one in a static.
#[doc(hidden)]
pub struct Plugin {
    table: sys::scope_plugin,
    pipelines: &'static [PipelineType],
}

// SAFETY: the table's pointers are to 'static, immutable, NUL-terminated string literals and to
// functions; nothing in a Plugin is ever written.
unsafe impl Sync for Plugin {}

/// Panics (at compile time, in a const) unless `s` ends with its only NUL byte.
const fn check_c_str(s: &str) {
    let b = s.as_bytes();
    assert!(
        !b.is_empty() && b[b.len() - 1] == 0,
        "string must end with NUL"
    );
    let mut i = 0;
    while i + 1 < b.len() {
        assert!(b[i] != 0, "string contains a NUL byte");
        i += 1;
    }
}

impl Plugin {
    /// The plugin table. `name`, `version` and `description` must end with `"\0"`
    /// (`export_plugin!` appends it); a mistake is a compile-time error.
    pub const fn new(
        name: &'static str,
        version: &'static str,
        description: Option<&'static str>,
        pipelines: &'static [PipelineType],
    ) -> Plugin {
        check_c_str(name);
        check_c_str(version);
        let description = match description {
            Some(d) => {
                check_c_str(d);
                d.as_ptr() as *const c_char
            }
            None => ptr::null(),
        };
        Plugin {
            table: sys::scope_plugin {
                struct_size: size_of::<sys::scope_plugin>() as u32,
                abi_major: sys::SCOPE_ABI_VERSION_MAJOR,
                abi_minor: sys::SCOPE_ABI_VERSION_MINOR,
                name: name.as_ptr() as *const c_char,
                version: version.as_ptr() as *const c_char,
                description,
                register_pipelines: Some(register_pipelines),
                unregister_pipelines: Some(unregister_pipelines),
                pipeline_count: Some(pipeline_count),
                get_pipeline: Some(get_pipeline),
                get_extension: None,
            },
            pipelines,
        }
    }
}

/// The body of `scope_plugin_entry`: remembers the plugin and returns its table. Cheap, and
/// returns the same pointer every time.
pub fn entry(plugin: &'static Plugin) -> *const sys::scope_plugin {
    REGISTRY
        .plugin
        .store(plugin as *const Plugin as *mut Plugin, Ordering::Release);
    &plugin.table
}

// ---------------------------------------------------------------------------------------------
// Instance trampolines
// ---------------------------------------------------------------------------------------------

/// What the C `void *instance` points at.
struct Instance<T> {
    pipeline: T,
    info: Arc<PipelineInfo>,
    host: Host,
    mode: Mode,
    /// Whether the last prepare() succeeded (call() needs one).
    prepared: bool,
}

/// The instance behind a C pointer.
///
/// # Safety
/// `p` must be NULL or come from `create::<T>` and not be destroyed, with no other reference
/// to it alive (the header's [instance] rule).
unsafe fn instance_mut<'i, T>(p: *mut c_void) -> Result<&'i mut Instance<T>, Error> {
    // SAFETY: guaranteed by the caller.
    unsafe { (p as *mut Instance<T>).as_mut() }
        .ok_or_else(|| Error::invalid_argument("instance is NULL"))
}

fn check_mode(schema: &Schema, bits: u32) -> Result<Mode, Error> {
    Mode::from_bits(bits)
        .filter(|m| schema.modes().iter().any(|d| d.mode() == *m))
        .ok_or_else(|| {
            Error::unsupported(format!(
                "mode {bits} is not a mode of pipeline {:?}",
                schema.id()
            ))
        })
}

unsafe extern "C" fn create<T: Pipeline>(
    host: *const sys::scope_host,
    args: *const sys::scope_create_args,
    out_instance: *mut *mut c_void,
    err: *mut sys::scope_error,
) -> sys::scope_status {
    let run = || -> Result<(), Error> {
        if out_instance.is_null() {
            return Err(Error::invalid_argument("out_instance is NULL"));
        }
        // SAFETY: non-NULL and writable (header contract).
        unsafe { *out_instance = ptr::null_mut() };
        let info = table()
            .ok_or_else(|| Error::bad_state("create() before register_pipelines"))?
            .entries
            .iter()
            .find(|e| e.type_id == TypeId::of::<T>())
            .map(|e| Arc::clone(&e.info))
            .ok_or_else(|| Error::bad_state("pipeline is not registered"))?;
        // SAFETY: host and args come from the host under the header's contract.
        let host = unsafe { Host::from_raw(host)? };
        // SAFETY: as above.
        let a: sys::scope_create_args = unsafe { read_struct(args, "scope_create_args")? };
        let mode = check_mode(&info.schema, a.mode)?;
        // SAFETY: the params pointer is valid during this call.
        let values = unsafe { param_values(a.params)? };
        let ctx = CreateContext {
            host,
            mode,
            // SAFETY: host values are valid for this call, which outlives ctx.
            params: unsafe { Params::new(values, &info.schema) },
            cuda_device: a.cuda_device,
            plugin_path: info.plugin_path.as_deref(),
        };
        let pipeline = T::create(&ctx)?;
        let instance = Box::new(Instance {
            pipeline,
            info,
            host,
            mode,
            prepared: false,
        });
        // SAFETY: checked non-NULL above.
        unsafe { *out_instance = Box::into_raw(instance) as *mut c_void };
        Ok(())
    };
    // SAFETY: err is NULL or valid (header contract).
    unsafe { boundary(err, run) }
}

unsafe extern "C" fn destroy<T: Pipeline>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    // SAFETY: a non-NULL pointer came from create::<T> and is destroyed once (header contract).
    let instance = unsafe { Box::from_raw(instance as *mut Instance<T>) };
    let host = instance.host;
    if let Err(e) = guarded(move || {
        drop(instance);
        Ok(())
    }) {
        host.log(
            Level::Error,
            &format!("while destroying an instance: {}", e.message()),
        );
    }
}

unsafe extern "C" fn prepare<T: Pipeline>(
    instance: *mut c_void,
    args: *const sys::scope_prepare_args,
    out: *mut sys::scope_requirements,
    err: *mut sys::scope_error,
) -> sys::scope_status {
    let run = || -> Result<(), Error> {
        // SAFETY: the pointer came from create::<T> (header contract).
        let inst: &mut Instance<T> = unsafe { instance_mut(instance)? };
        inst.prepared = false;
        if out.is_null() {
            return Err(Error::invalid_argument("requirements pointer is NULL"));
        }
        // SAFETY: args from the host, valid during the call.
        let a: sys::scope_prepare_args = unsafe { read_struct(args, "scope_prepare_args")? };
        // input_formats is an array of input_port_count pointers (plugin.h: arrays the host
        // writes hold pointers). Check each one here so that PrepareContext can read them.
        // SAFETY: the host passes input_port_count pointers (header contract); host_slice
        // rejects a NULL array with a non-zero count.
        let formats = unsafe { host_slice(a.input_formats, a.input_port_count, "input_formats")? };
        for (port, &f) in formats.iter().enumerate() {
            // SAFETY: a format pointer from the host, valid during the call; read_struct
            // rejects NULL and a struct_size below v1.0's.
            unsafe { read_struct(f, &format!("input_formats[{port}]"))? };
        }
        // SAFETY: the params pointer is valid during this call.
        let values = unsafe { param_values(a.params)? };
        let ctx = PrepareContext {
            host: inst.host,
            mode: Mode::from_bits(a.mode).unwrap_or(inst.mode),
            // SAFETY: host values are valid for this call, which outlives ctx.
            params: unsafe { Params::new(values, &inst.info.schema) },
            formats,
        };
        let req = inst.pipeline.prepare(&ctx)?;
        // SAFETY: out is non-NULL; the host zero-filled it and set struct_size (header).
        let size = unsafe { ptr::read_unaligned(out as *const u32) };
        if (size as usize) < sys::scope_requirements::MIN_SIZE {
            return Err(Error::invalid_argument(format!(
                "scope_requirements.struct_size is {size}, smaller than ABI v1.0's {}",
                sys::scope_requirements::MIN_SIZE
            )));
        }
        let raw = req.to_raw(size);
        let n = (size as usize).min(size_of::<sys::scope_requirements>());
        // SAFETY: the host's struct has `size` >= n writable bytes; raw is a local.
        unsafe { ptr::copy_nonoverlapping(&raw as *const _ as *const u8, out as *mut u8, n) };
        inst.prepared = true;
        Ok(())
    };
    // SAFETY: err is NULL or valid (header contract).
    unsafe { boundary(err, run) }
}

/// Whether two byte spans `(start, len)` overlap (empty spans never do).
fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.1 > 0 && b.1 > 0 && a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

unsafe extern "C" fn call<T: Pipeline>(
    instance: *mut c_void,
    call: *const sys::scope_call,
    err: *mut sys::scope_error,
) -> sys::scope_status {
    let run = || -> Result<(), Error> {
        // SAFETY: the pointer came from create::<T> (header contract).
        let inst: &mut Instance<T> = unsafe { instance_mut(instance)? };
        if !inst.prepared {
            return Err(Error::bad_state("call() before a successful prepare()"));
        }
        // SAFETY: call from the host, valid during the call.
        let c: sys::scope_call = unsafe { read_struct(call, "scope_call")? };

        let mut out_span = (0, 0);
        if !c.output.is_null() {
            // SAFETY: non-NULL output frame from the host.
            let out: sys::scope_frame = unsafe { read_struct(c.output, "output frame")? };
            out_span = check_frame(&out, "output frame")?;
        }
        // SAFETY: inputs holds input_port_count lists (header contract).
        let inputs = unsafe { host_slice(c.inputs, c.input_port_count, "inputs")? };
        for (port, list) in inputs.iter().enumerate() {
            if list.count == 0 {
                continue;
            }
            if list.frames.is_null() {
                return Err(Error::invalid_argument(format!(
                    "input port {port}: frames is NULL"
                )));
            }
            // SAFETY: frames holds count > 0 frame pointers (header contract), non-NULL.
            let frames = unsafe { core::slice::from_raw_parts(list.frames, list.count as usize) };
            for (i, &p) in frames.iter().enumerate() {
                let what = format!("input port {port} frame {i}");
                // SAFETY: a frame pointer from the host, valid during the call; read_struct
                // rejects NULL.
                let f: sys::scope_frame = unsafe { read_struct(p, &what)? };
                let span = check_frame(&f, &what)?;
                if overlaps(span, out_span) {
                    return Err(Error::invalid_argument(format!(
                        "{what} overlaps the output frame"
                    )));
                }
            }
        }
        // SAFETY: prompts holds prompt_count entries (header contract).
        let prompts = unsafe { host_slice(c.prompts, c.prompt_count, "prompts")? };
        if !c.audio.is_null() {
            // SAFETY: non-NULL audio struct from the host.
            unsafe { read_struct(c.audio as *const sys::scope_audio, "scope_audio")? };
        }
        // SAFETY: the params pointer is valid during this call.
        let values = unsafe { param_values(c.params)? };
        let mut ctx = CallContext {
            host: inst.host,
            raw: c,
            // SAFETY: host values are valid for this call, which outlives ctx.
            params: unsafe { Params::new(values, &inst.info.schema) },
            inputs,
            prompts,
        };
        inst.pipeline.call(&mut ctx)
    };
    // SAFETY: err is NULL or valid (header contract).
    unsafe { boundary(err, run) }
}
