package session

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/scopenative/scope/frame"
)

// Shared-memory layout (native byte order; both sides run on the same machine):
//
//	[0, 4096)                 ringHeader, then slotMeta[MaxSlots] at offset 256
//	[4096, 4096+audioBytes)   audio ring: AudioCapacity stereo float32 frames at 48 kHz
//	[slotsOff, ...)           Slots frame slots of SlotSize bytes each (packed u8 pixels)
//
// The writer never waits for readers. Each slot carries a seqlock sequence number: odd while
// the writer fills it, even when complete. A reader copies the newest frame and keeps it only
// if the sequence number and the generation are unchanged afterwards (otherwise the writer
// lapped it and it retries). A format change bumps the generation; a frame larger than
// SlotSize also grows the file (it never shrinks, so an old mapping stays valid) and readers
// remap.
const (
	ringMagic   = 0x3152465343504f53 // "SOPCSFR1" little-endian: SCOPE frame ring v1
	ringVersion = 1
	headerSize  = 4096
	metaOffset  = 256
	// MaxSlots is the largest ring a file can describe.
	MaxSlots = 8
	// DefaultSlots is the ring size sessions use: the writer fills one slot while readers
	// copy the newest complete one, with a spare so a slow reader is rarely lapped.
	DefaultSlots = 3
	// AudioRate and AudioChannels are the format of the audio ring (what the preview plays).
	AudioRate     = 48000
	AudioChannels = 2
	// audioCapacity is the audio ring's size in frames: 2 s.
	audioCapacity = 2 * AudioRate
)

type ringHeader struct {
	Magic         uint64
	Version       uint32
	Slots         uint32
	Generation    uint64 // atomic: bumped on every format change
	SlotSize      uint64 // atomic: bytes of pixel data per slot
	Latest        uint64 // atomic: number of the newest complete frame, 0 = none yet
	Closed        uint32 // atomic: 1 once the session ended
	WriterPID     uint32
	AudioCapacity uint64 // frames in the audio ring
	AudioWritten  uint64 // atomic: stereo frames written since the start
	AudioRate     uint32
	AudioChannels uint32
	Dropped       uint64 // atomic: frames dropped before reaching the pipeline (source side)
}

type slotMeta struct {
	Seq        uint64 // atomic seqlock: odd while being written
	Number     uint64 // frame number (1, 2, ...)
	Generation uint64
	PTS        int64 // nanoseconds since the session started
	Width      uint32
	Height     uint32
	Channels   uint32
	_          uint32
	_          [16]byte
}

func audioBytes() int { return roundPage(audioCapacity * AudioChannels * 4) }

func slotsOffset() int { return headerSize + audioBytes() }

func roundPage(n int) int { return (n + 4095) &^ 4095 }

// Frame is one frame copied out of the ring: packed 8-bit pixels, Channels per pixel.
type Frame struct {
	Number        uint64        // 1 for the first frame the session published, then +1
	Width, Height int           // pixels
	Channels      int           // 1 (gray), 3 (RGB) or 4 (RGBA)
	PTS           time.Duration // presentation time since the session started
	Pix           []byte        // Width*Height*Channels bytes, rows packed
}

// Writer publishes frames and audio into a shared-memory file. It is used by one goroutine
// (the engine's); Close and SetDropped may be called from any.
//
// Any process of the same user can write to the file, so the writer never reads back what it
// stored there: it keeps its own copy of the slot count, slot size, generation, frame number,
// sequence numbers and audio position, and only ever stores them.
type Writer struct {
	path     string
	f        *os.File
	mem      []byte
	slots    int
	slotSize uint64           // bytes of pixel data per slot (what the header says)
	gen      uint64           // current generation
	latest   uint64           // number of the newest complete frame
	seq      [MaxSlots]uint64 // each slot's seqlock number
	audioPos uint64           // stereo frames written since the start
	last     frame.Format
	conv     *frame.Frame // f32 -> u8 scratch
}

// CreateWriter creates the ring file at path, which must not exist, with the given number of
// slots. Rings live in /dev/shm, which every user can write to: a file or symbolic link
// already at path (planted by someone else, perhaps) is refused, never followed or truncated.
func CreateWriter(path string, slots int) (*Writer, error) {
	if slots < 2 || slots > MaxSlots {
		return nil, fmt.Errorf("create frame ring %s: %d slots (2..%d)", path, slots, MaxSlots)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create frame ring: %w", err)
	}
	size := slotsOffset()
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("create frame ring %s: %w", path, err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map frame ring %s: %w", path, err)
	}
	w := &Writer{path: path, f: f, mem: mem, slots: slots, gen: 1}
	w.storeHeader()
	return w, nil
}

// storeHeader writes the writer's own copy of the header's fields into the file. Publish
// does it on every frame, so a header another process scribbled on heals with the next frame.
func (w *Writer) storeHeader() {
	h := w.header()
	h.Version = ringVersion
	h.Slots = uint32(w.slots)
	h.WriterPID = uint32(os.Getpid())
	h.AudioCapacity = audioCapacity
	h.AudioRate = AudioRate
	h.AudioChannels = AudioChannels
	atomic.StoreUint64(&h.AudioWritten, w.audioPos)
	atomic.StoreUint64(&h.Latest, w.latest)
	// SlotSize before Generation: a reader that sees the new generation sees the new size.
	atomic.StoreUint64(&h.SlotSize, w.slotSize)
	atomic.StoreUint64(&h.Generation, w.gen)
	atomic.StoreUint64(&h.Magic, ringMagic) // last: a reader that sees the magic sees the rest
}

// Path returns the ring file's path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) header() *ringHeader { return (*ringHeader)(unsafe.Pointer(&w.mem[0])) }

func metaAt(mem []byte, i int) *slotMeta {
	return (*slotMeta)(unsafe.Pointer(&mem[metaOffset+i*int(unsafe.Sizeof(slotMeta{}))]))
}

// Publish copies f into the next slot. F32 frames are converted to 8 bits first. It never
// waits for readers; it allocates only when the format changes.
func (w *Writer) Publish(f *frame.Frame) error {
	src := f
	if f.Elem != frame.U8 {
		want := frame.Format{Width: f.Width, Height: f.Height, Channels: f.Channels, Elem: frame.U8}
		if w.conv == nil || w.conv.Format != want {
			w.conv = frame.New(want)
		}
		if err := frame.Convert(w.conv, f); err != nil {
			return fmt.Errorf("publish frame: %w", err)
		}
		src = w.conv
	}
	row := src.Width * src.Channels
	need := uint64(row * src.Height)
	if src.Format != w.last {
		if need > w.slotSize {
			if err := w.grow(need); err != nil {
				return err
			}
		}
		w.gen++
		w.last = src.Format
	}
	w.storeHeader()
	h := w.header()
	n := w.latest + 1
	slot := int(n % uint64(w.slots))
	m := metaAt(w.mem, slot)
	seq := w.seq[slot]
	atomic.StoreUint64(&m.Seq, seq+1) // odd: being written
	off := slotsOffset() + slot*int(w.slotSize)
	dst := w.mem[off : off+int(need)]
	if src.Pitch == row {
		copy(dst, src.Data[:int(need)])
	} else {
		for y := 0; y < src.Height; y++ {
			copy(dst[y*row:(y+1)*row], src.Data[y*src.Pitch:y*src.Pitch+row])
		}
	}
	m.Number = n
	m.Generation = w.gen
	m.PTS = int64(f.PTS)
	m.Width, m.Height, m.Channels = uint32(src.Width), uint32(src.Height), uint32(src.Channels)
	atomic.StoreUint64(&m.Seq, seq+2) // even: complete
	w.seq[slot] = seq + 2
	w.latest = n
	atomic.StoreUint64(&h.Latest, n)
	return nil
}

// grow makes every slot hold at least need bytes: the file grows, the writer remaps.
func (w *Writer) grow(need uint64) error {
	size := uint64(roundPage(int(need)))
	total := slotsOffset() + w.slots*int(size)
	if err := w.f.Truncate(int64(total)); err != nil {
		return fmt.Errorf("grow frame ring %s to %d bytes: %w", w.path, total, err)
	}
	mem, err := syscall.Mmap(int(w.f.Fd()), 0, total, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("remap frame ring %s: %w", w.path, err)
	}
	old := w.mem
	w.mem = mem
	syscall.Munmap(old)
	w.slotSize = size // Publish stores it, before the new generation
	return nil
}

// PublishAudio appends interleaved stereo float32 samples at AudioRate to the audio ring.
// Readers that fall more than the ring's capacity behind skip ahead.
func (w *Writer) PublishAudio(samples []float32) {
	h := w.header()
	frames := len(samples) / AudioChannels
	if frames == 0 {
		return
	}
	ring := unsafe.Slice((*float32)(unsafe.Pointer(&w.mem[headerSize])), audioCapacity*AudioChannels)
	pos := w.audioPos
	if frames > audioCapacity {
		samples = samples[(frames-audioCapacity)*AudioChannels:]
		pos += uint64(frames - audioCapacity)
		frames = audioCapacity
	}
	for i := 0; i < frames; i++ {
		j := int((pos+uint64(i))%audioCapacity) * AudioChannels
		ring[j] = samples[i*AudioChannels]
		ring[j+1] = samples[i*AudioChannels+1]
	}
	w.audioPos = pos + uint64(frames)
	atomic.StoreUint64(&h.AudioWritten, w.audioPos)
}

// SetDropped records how many frames were dropped before the pipeline so far (readers show it).
func (w *Writer) SetDropped(n uint64) { atomic.StoreUint64(&w.header().Dropped, n) }

// Close marks the ring closed (readers show that the session ended), unmaps it and removes
// the file. Readers that have it mapped keep their mapping.
func (w *Writer) Close() error {
	if w.mem == nil {
		return nil
	}
	atomic.StoreUint32(&w.header().Closed, 1)
	syscall.Munmap(w.mem)
	w.mem = nil
	err := w.f.Close()
	if rerr := os.Remove(w.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// Reader maps a ring file read-only and copies frames and audio out of it. It is used by one
// goroutine. It trusts nothing it reads from the file (any process of the same user can
// write there): the slot count is read once and checked, and every frame's size, format and
// place are checked against the mapping before anything is copied.
type Reader struct {
	f        *os.File
	mem      []byte
	slots    int // from the header, checked once at open
	gen      uint64
	last     uint64 // number of the last frame returned
	audioPos uint64
	retries  uint64
}

// ErrNotRing is returned when a file is not a frame ring (or of another version).
var ErrNotRing = errors.New("not a scope frame ring")

// OpenReader maps the ring file at path. Audio reading starts at the newest sample.
func OpenReader(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open frame ring: %w", err)
	}
	r := &Reader{f: f}
	if err := r.remap(); err != nil {
		f.Close()
		return nil, err
	}
	h := r.header()
	if atomic.LoadUint64(&h.Magic) != ringMagic || h.Version != ringVersion || h.Slots < 2 || h.Slots > MaxSlots {
		r.Close()
		return nil, fmt.Errorf("open frame ring %s: %w", path, ErrNotRing)
	}
	r.slots = int(h.Slots)
	r.audioPos = atomic.LoadUint64(&h.AudioWritten)
	return r, nil
}

func (r *Reader) header() *ringHeader { return (*ringHeader)(unsafe.Pointer(&r.mem[0])) }

// remap maps the whole file as it is now.
func (r *Reader) remap() error {
	st, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("stat frame ring: %w", err)
	}
	size := int(st.Size())
	if size < slotsOffset() {
		return fmt.Errorf("frame ring %s is %d bytes: %w", r.f.Name(), size, ErrNotRing)
	}
	if size == len(r.mem) {
		return nil
	}
	mem, err := syscall.Mmap(int(r.f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map frame ring %s: %w", r.f.Name(), err)
	}
	if r.mem != nil {
		syscall.Munmap(r.mem)
	}
	r.mem = mem
	return nil
}

// Rewind makes the next Next return the newest frame even if this reader returned it before.
func (r *Reader) Rewind() { r.last = 0 }

// Next copies the newest complete frame into dst if it is newer than the last one returned,
// and reports whether it did. It never waits for the writer: a frame the writer is
// overwriting is retried a few times, then left for the next call.
func (r *Reader) Next(dst *Frame) (bool, error) {
	for try := 0; try < 8; try++ {
		h := r.header()
		gen := atomic.LoadUint64(&h.Generation)
		if gen != r.gen {
			if err := r.remap(); err != nil {
				return false, err
			}
			r.gen = gen
			h = r.header()
		}
		n := atomic.LoadUint64(&h.Latest)
		if n == 0 || n == r.last {
			return false, nil
		}
		size := atomic.LoadUint64(&h.SlotSize)
		if size == 0 || size > uint64(len(r.mem)-slotsOffset())/uint64(r.slots) {
			r.retries++ // grown past our mapping (the next try remaps), or garbage
			continue
		}
		slot := int(n % uint64(r.slots))
		m := metaAt(r.mem, slot)
		seq := atomic.LoadUint64(&m.Seq)
		if seq&1 != 0 {
			r.retries++
			continue
		}
		number, mgen := m.Number, m.Generation
		w, ht, c, pts := m.Width, m.Height, m.Channels, m.PTS
		// Each factor is below 2^32 and c at most 4, so checking w*h first keeps the product
		// from overflowing; size was checked to fit the mapping above.
		if number != n || mgen != gen || (c != 1 && c != 3 && c != 4) || uint64(w)*uint64(ht) > size || uint64(w)*uint64(ht)*uint64(c) > size {
			r.retries++
			continue
		}
		bytes := int(w) * int(ht) * int(c)
		off := slotsOffset() + slot*int(size)
		if cap(dst.Pix) < bytes {
			dst.Pix = make([]byte, bytes)
		}
		dst.Pix = dst.Pix[:bytes]
		copy(dst.Pix, r.mem[off:off+bytes])
		if atomic.LoadUint64(&m.Seq) != seq || atomic.LoadUint64(&h.Generation) != gen {
			r.retries++ // torn: the writer lapped us while we copied
			continue
		}
		dst.Number, dst.Width, dst.Height, dst.Channels, dst.PTS = n, int(w), int(ht), int(c), time.Duration(pts)
		r.last = n
		return true, nil
	}
	return false, nil
}

// Retries counts reads that were discarded because the writer was writing the same slot.
func (r *Reader) Retries() uint64 { return r.retries }

// Latest returns the number of the newest frame published so far (0 = none).
func (r *Reader) Latest() uint64 { return atomic.LoadUint64(&r.header().Latest) }

// Closed reports whether the writer has ended the session.
func (r *Reader) Closed() bool { return atomic.LoadUint32(&r.header().Closed) != 0 }

// Dropped returns the writer's count of frames dropped before the pipeline.
func (r *Reader) Dropped() uint64 { return atomic.LoadUint64(&r.header().Dropped) }

// ReadAudio copies up to len(dst)/2 stereo frames of new audio into dst and returns how many
// it copied and how many it skipped because the reader fell more than the ring's capacity
// behind.
func (r *Reader) ReadAudio(dst []float32) (n int, skipped int) {
	h := r.header()
	written := atomic.LoadUint64(&h.AudioWritten)
	if r.audioPos > written { // a new writer: start over
		r.audioPos = written
	}
	// Stay at least a quarter of the ring behind the writer's lap, so what we copy cannot
	// be overwritten while we copy it.
	if lag := written - r.audioPos; lag > audioCapacity*3/4 {
		skip := lag - audioCapacity/4
		r.audioPos += skip
		skipped = int(skip)
	}
	avail := int(written - r.audioPos)
	n = min(avail, len(dst)/AudioChannels)
	ring := unsafe.Slice((*float32)(unsafe.Pointer(&r.mem[headerSize])), audioCapacity*AudioChannels)
	for i := 0; i < n; i++ {
		j := int((r.audioPos+uint64(i))%audioCapacity) * AudioChannels
		dst[i*2] = ring[j]
		dst[i*2+1] = ring[j+1]
	}
	r.audioPos += uint64(n)
	return n, skipped
}

// Close unmaps the ring.
func (r *Reader) Close() error {
	if r.mem != nil {
		syscall.Munmap(r.mem)
		r.mem = nil
	}
	return r.f.Close()
}
