//! What a pipeline sees in each entry point: [`CreateContext`], [`PrepareContext`],
//! [`CallContext`], and what it gives back from prepare(): [`Requirements`]. Plus the host's
//! services: [`Host`] and [`Level`].
//!
//! Everything borrowed from a context (`'a`) is owned by the host and valid during that one
//! call only; the borrow checker keeps it there.

use crate::error::Error;
use crate::frame::{ElementType, Frame, FrameFormat, FrameList, OutputFrame};
use crate::params::Params;
use crate::schema::{MemoryKind, Mode};
use crate::sys;
use core::ffi::{c_char, c_void, CStr};
use core::marker::PhantomData;
use std::path::Path;

/// A log level (`SCOPE_LOG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Debugging detail.
    Debug,
    /// Information.
    Info,
    /// Something looks wrong but work goes on.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    fn code(self) -> i32 {
        match self {
            Level::Debug => sys::SCOPE_LOG_DEBUG,
            Level::Info => sys::SCOPE_LOG_INFO,
            Level::Warn => sys::SCOPE_LOG_WARN,
            Level::Error => sys::SCOPE_LOG_ERROR,
        }
    }
}

/// The host's services (`scope_host`): logging and extensions.
///
/// `Host` is `Copy`, `Send` and `Sync`: keep it in your pipeline to log from its own threads.
/// It is valid until the plugin is unregistered, which happens only after every instance has
/// been destroyed; a `Host` used after that (from a thread you failed to join in `Drop`) logs
/// nothing.
#[derive(Clone, Copy)]
pub struct Host {
    raw: *const sys::scope_host,
    log: sys::scope_host_log_fn,
    get_extension: sys::scope_host_get_extension_fn,
    parallel_for: sys::scope_host_parallel_for_fn,
    workers: u32,
    abi: (u16, u16),
}

// SAFETY: the header declares `log` and `get_extension` [thread-safe] and the host struct
// valid until unregister_pipelines returns; Host never writes through `raw`.
unsafe impl Send for Host {}
// SAFETY: as above.
unsafe impl Sync for Host {}

impl core::fmt::Debug for Host {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Host")
            .field("name", &self.name())
            .field("abi", &self.abi)
            .finish()
    }
}

impl Host {
    /// Wraps the host pointer passed to register() or create(). A NULL host (which the
    /// header's own `SCOPE_DEFINE_PLUGIN` tolerates too) gives a `Host` that logs nothing.
    ///
    /// # Safety
    /// `raw` must be NULL or point at a `scope_host` valid until unregister_pipelines returns.
    pub(crate) unsafe fn from_raw(raw: *const sys::scope_host) -> Result<Host, Error> {
        if raw.is_null() {
            return Ok(Host {
                raw,
                log: None,
                get_extension: None,
                parallel_for: None,
                workers: 1,
                abi: (0, 0),
            });
        }
        // SAFETY: raw is a valid scope_host (caller).
        let h: sys::scope_host = unsafe { crate::export::read_struct(raw, "scope_host")? };
        Ok(Host {
            raw,
            log: h.log,
            get_extension: h.get_extension,
            parallel_for: h.parallel_for,
            workers: h.worker_count.max(1),
            abi: (h.abi_major, h.abi_minor),
        })
    }

    /// Writes one line to the host's log, attributed to this plugin. Interior NUL bytes become
    /// spaces. Cheap enough for per-frame warnings, but do not log every frame at
    /// [`Level::Info`] or above.
    pub fn log(&self, level: Level, message: &str) {
        let Some(log) = self.log else { return };
        if !crate::export::is_registered() {
            return;
        }
        let mut stack = [0u8; 512];
        let mut heap = Vec::new();
        let buf: &mut [u8] = if message.len() < stack.len() {
            &mut stack[..message.len() + 1]
        } else {
            heap.resize(message.len() + 1, 0);
            &mut heap
        };
        for (d, s) in buf.iter_mut().zip(message.bytes()) {
            *d = if s == 0 { b' ' } else { s };
        }
        buf[message.len()] = 0;
        // SAFETY: the host struct is valid while the plugin is registered (checked above);
        // buf is NUL-terminated and the host copies it before returning.
        unsafe { log(self.raw, level.code(), buf.as_ptr() as *const c_char) };
    }

    /// Whether the host passed a host struct (a NULL one logs nothing).
    pub(crate) fn is_present(&self) -> bool {
        !self.raw.is_null()
    }

    /// The host's ABI version `(major, minor)`; `(0, 0)` when the host passed no host struct.
    pub fn abi_version(&self) -> (u16, u16) {
        self.abi
    }

    /// The host name (e.g. "scope"), copied.
    pub fn name(&self) -> String {
        // SAFETY: raw is a valid host (from_raw) and name is NULL or NUL-terminated.
        self.text(|h| unsafe { (*h).name })
    }

    /// The host version (e.g. "0.1.0"), copied.
    pub fn version(&self) -> String {
        // SAFETY: as in name().
        self.text(|h| unsafe { (*h).version })
    }

    fn text(&self, field: impl Fn(*const sys::scope_host) -> *const c_char) -> String {
        if self.raw.is_null() || !crate::export::is_registered() {
            return String::new();
        }
        let p = field(self.raw);
        if p.is_null() {
            return String::new();
        }
        // SAFETY: host strings are NUL-terminated and live as long as the host struct.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// Threads the host's pool runs at once, the caller's included (1 without a pool, as on a
    /// 1.0 host).
    pub fn workers(&self) -> u32 {
        if self.parallel_for.is_some() { self.workers } else { 1 }
    }

    /// Runs `f(begin, end)` over disjoint ranges covering `[0, count)`, each at least `grain`
    /// items (0 = 1), on the host's thread pool (`scope_host.parallel_for` has the contract:
    /// ranges run concurrently on other threads; a nested call runs inline), or as
    /// `f(0, count)` on this thread without a pool. Returns when every range has finished. A
    /// panic in `f` never crosses the C boundary: it is caught in its range and raised again
    /// here, after every range has ended.
    ///
    /// ```ignore
    /// ctx.host().parallel_for(out.height(), 8, |y0, y1| { /* rows y0..y1 */ });
    /// ```
    pub fn parallel_for<F: Fn(u32, u32) + Sync>(&self, count: u32, grain: u32, f: F) {
        struct Job<F> {
            f: F,
            panicked: core::sync::atomic::AtomicBool,
        }
        unsafe extern "C" fn range<F: Fn(u32, u32) + Sync>(ctx: *mut c_void, begin: u32, end: u32) {
            // SAFETY: ctx is the Job below, alive until parallel_for returns.
            let job = unsafe { &*(ctx as *const Job<F>) };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.f)(begin, end))).is_err() {
                job.panicked.store(true, core::sync::atomic::Ordering::SeqCst);
            }
        }
        if count == 0 {
            return;
        }
        let pool = match self.parallel_for {
            Some(p) if crate::export::is_registered() => p,
            _ => return f(0, count),
        };
        let job = Job { f, panicked: core::sync::atomic::AtomicBool::new(false) };
        // SAFETY: the function is [thread-safe]; job outlives the call, which returns only
        // after every range has finished; F is Sync, so sharing &job across threads is sound.
        unsafe { pool(self.raw, count, grain, Some(range::<F>), &job as *const Job<F> as *mut c_void) };
        if job.panicked.load(core::sync::atomic::Ordering::SeqCst) {
            panic!("a parallel_for range panicked");
        }
    }

    /// The host extension with this id (`"vendor.name/1"`), or NULL if the host lacks it.
    /// What the pointer points at is defined by the extension.
    pub fn extension(&self, id: &CStr) -> *const c_void {
        match self.get_extension {
            // SAFETY: the function is [thread-safe]; id is NUL-terminated.
            Some(f) if crate::export::is_registered() => unsafe { f(self.raw, id.as_ptr()) },
            _ => core::ptr::null(),
        }
    }
}

/// What create() sees: the mode, the parameters (load-time values final), the host.
#[derive(Debug)]
pub struct CreateContext<'a> {
    pub(crate) host: Host,
    pub(crate) mode: Mode,
    pub(crate) params: Params<'a>,
    pub(crate) cuda_device: i32,
    pub(crate) plugin_path: Option<&'a Path>,
}

impl<'a> CreateContext<'a> {
    /// The mode of the new instance.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Every parameter; load-time values are final for this instance.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The CUDA device ordinal the host uses, or `None` (no CUDA).
    pub fn cuda_device(&self) -> Option<u32> {
        u32::try_from(self.cuda_device).ok()
    }

    /// The library's path as the user installed it (use it to find files shipped beside the
    /// library; never load it).
    pub fn plugin_path(&self) -> Option<&'a Path> {
        self.plugin_path
    }

    /// The host's services; keep a copy to log later.
    pub fn host(&self) -> Host {
        self.host
    }

    /// Logs one line through the host.
    pub fn log(&self, level: Level, message: &str) {
        self.host.log(level, message)
    }
}

/// What prepare() sees: the mode, the current parameters, the formats of the incoming frames.
#[derive(Debug)]
pub struct PrepareContext<'a> {
    pub(crate) host: Host,
    pub(crate) mode: Mode,
    pub(crate) params: Params<'a>,
    /// One pointer per input port, each checked by the trampoline (non-NULL, v1 size).
    pub(crate) formats: &'a [*const sys::scope_frame_format],
}

impl<'a> PrepareContext<'a> {
    /// The mode of this instance.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The current value of every parameter.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// Number of input ports with a format (0 in text mode).
    pub fn input_port_count(&self) -> usize {
        self.formats.len()
    }

    /// The format of the frames arriving on input port `port`.
    pub fn input_format(&self, port: usize) -> Option<FrameFormat> {
        let p = *self.formats.get(port)?;
        // SAFETY: the trampoline checked every format pointer (non-NULL, at least v1.0's
        // size); they are valid during the call, which outlives self.
        let raw = unsafe { crate::export::read_sized(p) };
        Some(FrameFormat::from_raw(&raw))
    }

    /// The format of input port 0, if any: the common case of one video input.
    pub fn input(&self) -> Option<FrameFormat> {
        self.input_format(0)
    }

    /// The host's services.
    pub fn host(&self) -> Host {
        self.host
    }

    /// Logs one line through the host.
    pub fn log(&self, level: Level, message: &str) {
        self.host.log(level, message)
    }
}

/// What the next call() needs; returned by prepare(). Zero / `None` means "the default"
/// everywhere, so `Requirements::default()` asks for nothing special: the mode's input size,
/// output the size, channels and memory of the input, u8 samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirements {
    /// Frames per input port per call; 0 = the mode default.
    pub input_size: u32,
    /// Output width; 0 = input width (video) or mode default (text).
    pub output_width: u32,
    /// Output height; 0 = input height (video) or mode default (text).
    pub output_height: u32,
    /// Output channels; 0 = input channels (video) or 3 (text).
    pub output_channels: u32,
    /// Output element type; `None` = u8. F32 output is clamped to 0..1.
    pub output_element_type: Option<ElementType>,
    /// Output memory; `None` = host.
    pub output_memory: Option<MemoryKind>,
    /// Input element type; `None` = u8. The host converts if needed.
    pub input_element_type: Option<ElementType>,
    /// Input memory; `None` = host. The host uploads if needed.
    pub input_memory: Option<MemoryKind>,
    /// Input channels; 0 = as produced upstream, 3 or 4 to have it converted.
    pub input_channels: u32,
    /// Room needed in the call's audio buffer (sample frames).
    pub audio_max_frames: u32,
}

impl Requirements {
    pub(crate) fn to_raw(self, struct_size: u32) -> sys::scope_requirements {
        sys::scope_requirements {
            struct_size,
            input_size: self.input_size,
            output_width: self.output_width,
            output_height: self.output_height,
            output_channels: self.output_channels,
            output_element_type: self.output_element_type.map_or(0, ElementType::code),
            output_memory: self.output_memory.map_or(0, MemoryKind::bits),
            input_element_type: self.input_element_type.map_or(0, ElementType::code),
            input_memory: self.input_memory.map_or(0, MemoryKind::bits),
            input_channels: self.input_channels,
            audio_max_frames: self.audio_max_frames,
            reserved: 0,
        }
    }
}

/// One weighted prompt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prompt<'a> {
    /// The text (invalid UTF-8 from the host becomes "").
    pub text: &'a str,
    /// Relative weight, >= 0.
    pub weight: f32,
}

/// What call() sees: inputs, output, parameters, prompts, audio, timing.
#[derive(Debug)]
pub struct CallContext<'a> {
    pub(crate) host: Host,
    pub(crate) raw: sys::scope_call,
    pub(crate) params: Params<'a>,
    pub(crate) inputs: &'a [sys::scope_frame_list],
    pub(crate) prompts: &'a [sys::scope_prompt],
}

impl<'a> CallContext<'a> {
    /// The current value of every parameter.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// Whether this is the first call of the instance (reset temporal state).
    pub fn is_first(&self) -> bool {
        self.raw.flags & sys::SCOPE_CALL_FIRST != 0
    }

    /// Whether some parameter value differs from the previous call.
    pub fn params_changed(&self) -> bool {
        self.raw.flags & sys::SCOPE_CALL_PARAMS_CHANGED != 0
    }

    /// 0 for the first call of this instance, then +1.
    pub fn call_index(&self) -> u64 {
        self.raw.call_index
    }

    /// Session time of this tick in microseconds.
    pub fn timestamp_us(&self) -> i64 {
        self.raw.timestamp_us
    }

    /// Number of input ports (0 in text mode).
    pub fn input_port_count(&self) -> usize {
        self.inputs.len()
    }

    /// The frames of input port `port`, oldest first.
    pub fn inputs(&self, port: usize) -> Option<FrameList<'a>> {
        let list = self.inputs.get(port)?;
        // SAFETY: the trampoline checked every list (frames non-NULL when count > 0) and every
        // frame pointer in it.
        Some(unsafe { FrameList::new(list.frames, list.count) })
    }

    /// The newest frame of input port 0: the common case of one video input.
    ///
    /// Fails with `SCOPE_ERROR_INVALID_ARGUMENT` when there is none (text mode, or a host that
    /// sent an empty list).
    pub fn input(&self) -> Result<Frame<'a>, Error> {
        self.inputs(0)
            .and_then(|l| l.latest())
            .ok_or_else(|| Error::invalid_argument("no input frame on port 0"))
    }

    /// The frame to fill. Write every pixel of its width x height.
    ///
    /// Fails with `SCOPE_ERROR_INVALID_ARGUMENT` when the call has none (pipelines with
    /// [`Schema::no_video`](crate::Schema::no_video)).
    pub fn output_mut(&mut self) -> Result<OutputFrame<'_>, Error> {
        if self.raw.output.is_null() {
            return Err(Error::invalid_argument("this call has no output frame"));
        }
        // SAFETY: non-NULL output was checked by the trampoline (read_sized reads only what
        // its struct_size covers).
        let raw = unsafe { crate::export::read_sized(self.raw.output as *const sys::scope_frame) };
        // SAFETY: the frame was checked, overlaps no input, and &mut self makes this the only
        // view of it.
        Ok(unsafe { OutputFrame::new(raw) })
    }

    /// The weighted prompts (empty unless the pipeline supports prompts).
    pub fn prompts(&self) -> impl Iterator<Item = Prompt<'a>> + 'a {
        self.prompts.iter().map(|p| Prompt {
            text: if p.text.is_null() {
                ""
            } else {
                // SAFETY: prompt texts are NUL-terminated and valid during the call.
                unsafe { CStr::from_ptr(p.text) }.to_str().unwrap_or("")
            },
            weight: p.weight,
        })
    }

    /// The audio buffer to fill, for pipelines that [produce
    /// audio](crate::Schema::produces_audio); `None` otherwise.
    pub fn audio_mut(&mut self) -> Option<AudioOut<'_>> {
        if self.raw.audio.is_null() {
            return None;
        }
        Some(AudioOut {
            raw: self.raw.audio,
            _buf: PhantomData,
        })
    }

    /// The host's services.
    pub fn host(&self) -> Host {
        self.host
    }

    /// Logs one line through the host.
    pub fn log(&self, level: Level, message: &str) {
        self.host.log(level, message)
    }
}

/// The audio buffer of one call (`scope_audio`): interleaved float PCM beside the video.
#[derive(Debug)]
pub struct AudioOut<'a> {
    raw: *mut sys::scope_audio,
    _buf: PhantomData<&'a mut [f32]>,
}

impl AudioOut<'_> {
    /// Room in the buffer, in sample frames. The host always allocates room for that many
    /// stereo frames (`capacity_frames * 2` floats), so mono and stereo fit the same count.
    pub fn capacity_frames(&self) -> u32 {
        // SAFETY: the trampoline checked the audio struct (non-NULL, full v1 size).
        unsafe { (*self.raw).capacity_frames }
    }

    /// Writes `samples` (interleaved, `channels` of 1 or 2) at `sample_rate` Hz and sets the
    /// frame count. Fails with `SCOPE_ERROR_INVALID_ARGUMENT` if the channel count is not 1
    /// or 2, the samples are not whole frames, or they exceed the capacity.
    pub fn write(&mut self, sample_rate: u32, channels: u32, samples: &[f32]) -> Result<(), Error> {
        if channels != 1 && channels != 2 {
            return Err(Error::invalid_argument(format!(
                "audio channels {channels}; want 1 or 2"
            )));
        }
        if samples.len() % channels as usize != 0 {
            return Err(Error::invalid_argument(
                "audio samples are not whole frames",
            ));
        }
        let frames = samples.len() / channels as usize;
        if frames > self.capacity_frames() as usize {
            return Err(Error::invalid_argument(format!(
                "{frames} audio frames exceed the capacity of {}",
                self.capacity_frames()
            )));
        }
        // SAFETY: the trampoline checked the audio struct (non-NULL, full v1 size); it is the
        // host's, valid during the call, and reachable only through this &mut AudioOut.
        let a = unsafe { &mut *self.raw };
        if frames > 0 {
            if a.samples.is_null() {
                return Err(Error::invalid_argument("audio buffer is NULL"));
            }
            // SAFETY: the host allocated room for capacity_frames * 2 floats at `samples`
            // whatever the channel count (plugin.h), and we write frames * channels <=
            // capacity_frames * 2 of them (frames <= capacity_frames, channels <= 2, both
            // checked above); nothing else touches the buffer during the call.
            unsafe { core::ptr::copy_nonoverlapping(samples.as_ptr(), a.samples, samples.len()) };
        }
        a.sample_rate = sample_rate;
        a.channels = channels;
        a.frames = frames as u32;
        Ok(())
    }
}
