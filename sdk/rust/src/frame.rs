//! Frame views: [`Frame`] (a read-only input), [`OutputFrame`] (the frame to fill),
//! [`FrameFormat`] (a frame's shape without data) and [`FrameList`] (the frames of one port).
//!
//! Rows honour the frame's pitch: [`Frame::row`] returns exactly the `width * channels *
//! element size` bytes of row `y`, never the padding after it. The SDK checks every frame the
//! host passes (known element type, pitch large enough, data present, input and output not
//! overlapping) before the pipeline sees it, and fails the call with
//! `SCOPE_ERROR_INVALID_ARGUMENT` otherwise, so the views can be safe.
//!
//! Rows are only readable in host memory. A frame in CUDA memory gives its device pointer
//! ([`Frame::data_ptr`]) and stream instead; [`Frame::row`] panics on it (and the SDK turns the
//! panic into an error).

use crate::error::Error;
use crate::schema::MemoryKind;
use crate::sys;
use core::ffi::c_void;
use core::marker::PhantomData;

/// Element type of a frame's samples (`SCOPE_ELEMENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// 8-bit unsigned, 0..255.
    U8,
    /// 32-bit float, 0.0..1.0.
    F32,
}

impl ElementType {
    /// Bytes per sample.
    pub const fn size(self) -> usize {
        match self {
            ElementType::U8 => 1,
            ElementType::F32 => 4,
        }
    }

    /// The `SCOPE_ELEMENT_*` value.
    pub const fn code(self) -> u32 {
        match self {
            ElementType::U8 => sys::SCOPE_ELEMENT_U8,
            ElementType::F32 => sys::SCOPE_ELEMENT_F32,
        }
    }

    /// The element type for a `SCOPE_ELEMENT_*` value; `None` for anything else.
    pub const fn from_code(code: u32) -> Option<ElementType> {
        match code {
            sys::SCOPE_ELEMENT_U8 => Some(ElementType::U8),
            sys::SCOPE_ELEMENT_F32 => Some(ElementType::F32),
            _ => None,
        }
    }
}

/// The shape of a frame without its data (`scope_frame_format`): what prepare() sees of its
/// inputs. Unknown element types or memory kinds are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameFormat {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// 1 (gray), 3 (RGB) or 4 (RGBA), interleaved.
    pub channels: u32,
    /// The element type, `None` if the host sent a code this SDK does not know.
    pub element_type: Option<ElementType>,
    /// Where the data lives, `None` if the host sent a code this SDK does not know.
    pub memory: Option<MemoryKind>,
}

impl FrameFormat {
    pub(crate) fn from_raw(f: &sys::scope_frame_format) -> FrameFormat {
        FrameFormat {
            width: f.width,
            height: f.height,
            channels: f.channels,
            element_type: ElementType::from_code(f.element_type),
            memory: MemoryKind::from_bits(f.memory),
        }
    }
}

/// Checks a frame from the host so the views over it can be safe. Returns the byte span
/// `(start address, length)` its rows cover in host memory (length 0 for CUDA or empty frames).
pub(crate) fn check_frame(f: &sys::scope_frame, what: &str) -> Result<(usize, usize), Error> {
    let bad = |m: String| Err(Error::invalid_argument(format!("{what}: {m}")));
    let Some(et) = ElementType::from_code(f.element_type) else {
        return bad(format!("unknown element type {}", f.element_type));
    };
    let Some(memory) = MemoryKind::from_bits(f.memory) else {
        return bad(format!("unknown memory kind {}", f.memory));
    };
    if f.width > 0 && f.height > 0 && f.channels == 0 {
        return bad("0 channels".into());
    }
    let row_bytes = (f.width as usize)
        .checked_mul(f.channels as usize)
        .and_then(|n| n.checked_mul(et.size()))
        .filter(|&n| n <= isize::MAX as usize);
    let Some(row_bytes) = row_bytes else {
        return bad("row size overflows".into());
    };
    if memory != MemoryKind::Host || row_bytes == 0 || f.height == 0 {
        return Ok((0, 0));
    }
    if f.data.is_null() {
        return bad("data is NULL".into());
    }
    if f.pitch < 0 || (f.pitch as u64) < row_bytes as u64 {
        return bad(format!(
            "pitch {} is smaller than a row ({row_bytes} bytes)",
            f.pitch
        ));
    }
    let span = (f.pitch as u64)
        .checked_mul(f.height as u64 - 1)
        .and_then(|n| n.checked_add(row_bytes as u64))
        .filter(|&n| n <= isize::MAX as u64);
    let Some(span) = span else {
        return bad("frame size overflows".into());
    };
    let start = f.data as usize;
    if start.checked_add(span as usize).is_none() {
        return bad("frame wraps around the address space".into());
    }
    if et == ElementType::F32 && (start % 4 != 0 || f.pitch % 4 != 0) {
        return bad("F32 data or pitch is not 4-byte aligned".into());
    }
    Ok((start, span as usize))
}

/// A read-only view of an input frame, valid during the call that received it.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    raw: sys::scope_frame,
    _data: PhantomData<&'a [u8]>,
}

// SAFETY: a Frame is a read-only view of host-owned memory that nobody writes while the call
// runs (the ABI promises inputs are never written during a call and never overlap the
// output), so shared references to it may be used from the host pool's threads.
unsafe impl Sync for Frame<'_> {}

impl core::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        describe(&self.raw, "Frame", f)
    }
}

fn describe(
    raw: &sys::scope_frame,
    name: &str,
    f: &mut core::fmt::Formatter<'_>,
) -> core::fmt::Result {
    f.debug_struct(name)
        .field("width", &raw.width)
        .field("height", &raw.height)
        .field("channels", &raw.channels)
        .field("element_type", &ElementType::from_code(raw.element_type))
        .field("memory", &MemoryKind::from_bits(raw.memory))
        .field("pitch", &raw.pitch)
        .field("index", &raw.index)
        .finish()
}

/// What [`Frame`] and [`OutputFrame`] share, over a frame that passed [`check_frame`].
macro_rules! frame_getters {
    () => {
        /// Pixels.
        pub fn width(&self) -> u32 {
            self.raw.width
        }

        /// Pixels.
        pub fn height(&self) -> u32 {
            self.raw.height
        }

        /// Interleaved channels: 1 (gray), 3 (RGB) or 4 (RGBA).
        pub fn channels(&self) -> u32 {
            self.raw.channels
        }

        /// The element type of the samples.
        pub fn element_type(&self) -> ElementType {
            // The SDK checked the code before building the view.
            ElementType::from_code(self.raw.element_type).unwrap_or(ElementType::U8)
        }

        /// Where the data lives.
        pub fn memory(&self) -> MemoryKind {
            MemoryKind::from_bits(self.raw.memory).unwrap_or(MemoryKind::Host)
        }

        /// Bytes from the start of one row to the next (>= [`Self::row_bytes`]).
        pub fn pitch(&self) -> usize {
            self.raw.pitch as usize
        }

        /// Bytes of pixel data in one row: `width * channels * element size`.
        pub fn row_bytes(&self) -> usize {
            self.raw.width as usize * self.raw.channels as usize * self.element_type().size()
        }

        /// The shape of the frame.
        pub fn format(&self) -> FrameFormat {
            FrameFormat {
                width: self.raw.width,
                height: self.raw.height,
                channels: self.raw.channels,
                element_type: Some(self.element_type()),
                memory: Some(self.memory()),
            }
        }

        /// Presentation time in microseconds since the session started.
        pub fn timestamp_us(&self) -> i64 {
            self.raw.timestamp_us
        }

        /// Sequence number of the frame in its stream.
        pub fn index(&self) -> u64 {
            self.raw.index
        }

        /// The CUstream to enqueue work on, for frames in CUDA memory (else NULL). Enqueue on
        /// it; never synchronize the device or use the default stream.
        pub fn cuda_stream(&self) -> *mut c_void {
            self.raw.cuda_stream
        }

        /// The CUDA device ordinal, for frames in CUDA memory.
        pub fn cuda_device(&self) -> Option<u32> {
            u32::try_from(self.raw.cuda_device)
                .ok()
                .filter(|_| self.memory() == MemoryKind::Cuda)
        }

        /// Address of the first row in whatever memory [`Self::memory`] says. For CUDA frames
        /// this is a device pointer for your kernels.
        pub fn data_ptr(&self) -> *const c_void {
            self.raw.data
        }

        /// Row `y` as bytes (exactly [`Self::row_bytes`] long; any element type).
        ///
        /// # Panics
        /// If `y >= height` or the frame is not in host memory.
        pub fn row(&self, y: u32) -> &[u8] {
            let (p, n) = self.row_span(y);
            // SAFETY: check_frame verified that host-memory frames have non-NULL data and a
            // pitch >= row_bytes, so row y (y < height) lies inside the host's buffer, which
            // stays valid and unmodified for the call ('a, which outlives &self). Empty rows
            // never touch the pointer.
            unsafe { raw_slice(p, n) }
        }

        /// Row `y` as floats (`width * channels` of them).
        ///
        /// # Panics
        /// If `y >= height`, the frame is not in host memory, or its element type is not
        /// [`ElementType::F32`].
        pub fn row_f32(&self, y: u32) -> &[f32] {
            assert!(
                self.element_type() == ElementType::F32,
                "row_f32 on a frame of {:?} elements",
                self.element_type()
            );
            let (p, n) = self.row_span(y);
            // SAFETY: as in row(); check_frame verified that F32 data and pitch are 4-byte
            // aligned, so the row start is aligned for f32, and n is a multiple of 4.
            unsafe { raw_slice(p as *const f32, n / 4) }
        }

        fn row_span(&self, y: u32) -> (*const u8, usize) {
            assert!(
                self.memory() == MemoryKind::Host,
                "row access on a frame in {:?} memory; use data_ptr()",
                self.memory()
            );
            assert!(
                y < self.raw.height,
                "row {y} is out of range (height {})",
                self.raw.height
            );
            let n = self.row_bytes();
            if n == 0 {
                return (core::ptr::NonNull::<u8>::dangling().as_ptr(), 0);
            }
            // `wrapping_add` keeps this safe to compute; the offset is inside the buffer.
            let p = (self.raw.data as *const u8).wrapping_add(y as usize * self.raw.pitch as usize);
            (p, n)
        }
    };
}

/// Builds a slice of `n` `T`s at `p`, or an empty slice for `n == 0` (any `p`).
///
/// # Safety
/// For `n > 0`, `p` must be aligned and point at `n` initialized `T`s that stay valid and
/// unmutated (except through the returned slice) for `'b`.
unsafe fn raw_slice<'b, T>(p: *const T, n: usize) -> &'b [T] {
    if n == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { core::slice::from_raw_parts(p, n) }
}

impl<'a> Frame<'a> {
    /// A view over a frame that passed [`check_frame`].
    ///
    /// # Safety
    /// `raw` must have passed `check_frame`, and its data must stay valid and unmodified for
    /// `'a`.
    pub(crate) unsafe fn new(raw: sys::scope_frame) -> Frame<'a> {
        Frame {
            raw,
            _data: PhantomData,
        }
    }

    frame_getters!();

    /// Iterates over the rows, top to bottom (see [`Frame::row`]).
    pub fn rows(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.raw.height).map(move |y| self.row(y))
    }
}

/// The frame to fill, valid during the call. Write every pixel of width x height; the row
/// slices cover exactly that and nothing outside it.
pub struct OutputFrame<'a> {
    raw: sys::scope_frame,
    _data: PhantomData<&'a mut [u8]>,
}

impl core::fmt::Debug for OutputFrame<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        describe(&self.raw, "OutputFrame", f)
    }
}

impl<'a> OutputFrame<'a> {
    /// A view over a frame that passed [`check_frame`].
    ///
    /// # Safety
    /// `raw` must have passed `check_frame`, its data must stay valid for `'a`, not overlap any
    /// other frame view, and be reachable through this view only.
    pub(crate) unsafe fn new(raw: sys::scope_frame) -> OutputFrame<'a> {
        OutputFrame {
            raw,
            _data: PhantomData,
        }
    }

    frame_getters!();

    /// Row `y` as mutable bytes (exactly [`OutputFrame::row_bytes`] long).
    ///
    /// # Panics
    /// If `y >= height` or the frame is not in host memory.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let (p, n) = self.row_span(y);
        // SAFETY: as in row(); the output buffer is reachable only through this view (the SDK
        // checked it overlaps no input), and &mut self makes the returned slice unique.
        unsafe { raw_slice_mut(p as *mut u8, n) }
    }

    /// Row `y` as mutable floats.
    ///
    /// # Panics
    /// If `y >= height`, the frame is not in host memory, or its element type is not
    /// [`ElementType::F32`].
    pub fn row_f32_mut(&mut self, y: u32) -> &mut [f32] {
        assert!(
            self.element_type() == ElementType::F32,
            "row_f32_mut on a frame of {:?} elements",
            self.element_type()
        );
        let (p, n) = self.row_span(y);
        // SAFETY: as in row_mut(); alignment as in row_f32().
        unsafe { raw_slice_mut(p as *mut f32, n / 4) }
    }

    /// Calls `f(y, row)` for every row `y` as mutable bytes, the rows split across the host's
    /// thread pool ([`Host::parallel_for`](crate::Host::parallel_for), ranges of at least
    /// `grain` rows). Each row is handed to exactly one call, so writing it is race-free; the
    /// closure reads inputs through shared references.
    ///
    /// # Panics
    /// If the frame is not in host memory, or if `f` panicked in some range (raised again here).
    pub fn par_rows_mut<F: Fn(u32, &mut [u8]) + Sync>(&mut self, host: &crate::Host, grain: u32, f: F) {
        let height = self.raw.height;
        if height == 0 {
            return;
        }
        let (p0, n) = self.row_span(0);
        let pitch = self.raw.pitch as usize;
        let base = p0 as usize; // a plain address, so the closure is Sync
        host.parallel_for(height, grain, |y0, y1| {
            for y in y0..y1 {
                // SAFETY: y < height; rows are disjoint (pitch >= row size) and parallel_for
                // hands every y to one range only, so no two slices alias; &mut self keeps the
                // output reachable through this call only until it returns.
                let row = unsafe { raw_slice_mut((base + y as usize * pitch) as *mut u8, n) };
                f(y, row);
            }
        });
    }

    /// Iterates over the rows as mutable bytes, top to bottom. The rows are disjoint (pitch >=
    /// row size), so they can be held at the same time (e.g. to split work across threads).
    ///
    /// # Panics
    /// If the frame is not in host memory.
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u8]> + '_ {
        let height = self.raw.height;
        let pitch = self.raw.pitch as usize;
        let (p0, n) = if height > 0 {
            self.row_span(0)
        } else {
            assert!(
                self.memory() == MemoryKind::Host,
                "row access on a frame in CUDA memory"
            );
            (core::ptr::null(), 0)
        };
        (0..height).map(move |y| {
            let p = p0.wrapping_add(if n == 0 { 0 } else { y as usize * pitch });
            // SAFETY: each row y < height lies inside the checked buffer; rows do not overlap
            // because pitch >= row_bytes; the iterator holds the mutable borrow of self, so
            // nothing else reaches the buffer while the rows live.
            unsafe { raw_slice_mut(p as *mut u8, n) }
        })
    }

    /// A read-only view of what has been written so far.
    pub fn as_frame(&self) -> Frame<'_> {
        // SAFETY: the same checked frame; the shared borrow of self prevents writes while the
        // view lives.
        unsafe { Frame::new(self.raw) }
    }
}

/// Builds a mutable slice of `n` `T`s at `p`, or an empty slice for `n == 0` (any `p`).
///
/// # Safety
/// For `n > 0`, `p` must be aligned and point at `n` initialized `T`s that nothing else reads or
/// writes during `'b`.
unsafe fn raw_slice_mut<'b, T>(p: *mut T, n: usize) -> &'b mut [T] {
    if n == 0 {
        return &mut [];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { core::slice::from_raw_parts_mut(p, n) }
}

/// The frames of one input port, oldest first (`scope_frame_list`).
#[derive(Clone, Copy)]
pub struct FrameList<'a> {
    frames: *const *const sys::scope_frame,
    count: u32,
    _data: PhantomData<&'a sys::scope_frame>,
}

impl core::fmt::Debug for FrameList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> FrameList<'a> {
    /// A list whose frames all passed [`check_frame`].
    ///
    /// # Safety
    /// `frames` must point at `count` frame pointers (the header's pointer array, oldest
    /// first), each frame checked, all valid and unmodified for `'a`.
    pub(crate) unsafe fn new(frames: *const *const sys::scope_frame, count: u32) -> FrameList<'a> {
        FrameList {
            frames,
            count,
            _data: PhantomData,
        }
    }

    /// Number of frames (the input size the pipeline asked for).
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the list has no frames.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Frame `i` (0 = oldest).
    pub fn get(&self, i: usize) -> Option<Frame<'a>> {
        if i >= self.count as usize {
            return None;
        }
        // SAFETY: i < count, so this is pointer i of the array (see new()).
        let p = unsafe { *self.frames.add(i) };
        // SAFETY: p is a checked frame (see new()); read_sized reads only the bytes its
        // struct_size covers.
        let raw = unsafe { crate::export::read_sized(p) };
        // SAFETY: the frame was checked and lives for 'a (see new()).
        Some(unsafe { Frame::new(raw) })
    }

    /// The newest frame.
    pub fn latest(&self) -> Option<Frame<'a>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Iterates over the frames, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Frame<'a>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}
