package engine

import (
	"fmt"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// Device is a CUDA device as the engine uses it: frames in device memory, pinned host
// frames, transfers, and conversions on the device. NewCUDA implements it on a real GPU
// (package gpu); tests implement it in host memory.
//
// Work runs on three streams: uploads, compute (the stream every pipeline gets in its frames)
// and downloads. Upload and Convert are ordered before later compute work; Download is ordered
// after the compute work enqueued so far and returns a Fence to Wait on. The engine calls
// every method from the goroutine running Run, between Bind and its unbind.
type Device interface {
	// Ordinal is the CUDA device ordinal pipelines see in cuda_device.
	Ordinal() int
	// Bind makes the device usable from the calling goroutine (locks it to its thread and makes
	// the device's context current) until the returned function is called.
	Bind() (unbind func(), err error)
	// NewFrame allocates a frame in device memory (any pitch >= its row bytes) whose Stream is
	// the compute stream.
	NewFrame(f frame.Format) (*loader.DeviceFrame, error)
	// FreeFrame releases a frame from NewFrame.
	FreeFrame(f *loader.DeviceFrame)
	// NewHostFrame allocates a host frame in pinned memory.
	NewHostFrame(f frame.Format) (*frame.Frame, error)
	// FreeHostFrame releases a frame from NewHostFrame.
	FreeHostFrame(f *frame.Frame)
	// Upload enqueues the copy of src (same format as dst) into dst; src must stay unchanged
	// until compute work enqueued after the upload has run.
	Upload(dst *loader.DeviceFrame, src *frame.Frame) error
	// Download enqueues the copy of src into dst (same format) after all compute work enqueued
	// so far; dst is valid once Wait on the returned fence returns.
	Download(dst *frame.Frame, src *loader.DeviceFrame) (Fence, error)
	// Wait blocks until the download behind f has finished.
	Wait(f Fence) error
	// Convert enqueues on the compute stream the conversion of src into dst as frame.Convert
	// would do it (a plain copy when the formats are equal). It fails for conversions the
	// device cannot do.
	Convert(dst, src *loader.DeviceFrame) error
	// Sync waits for all work enqueued on the device's streams.
	Sync() error
}

// Fence identifies one Download.
type Fence uint64

// Transfers counts the frames the engine moved across PCIe.
type Transfers struct {
	Uploads, Downloads         int   // frames copied host -> device and device -> host
	UploadBytes, DownloadBytes int64 // their meaningful bytes (rows without padding)
}

// onDevice reports whether a memory kind is CUDA memory.
func onDevice(mem uint32) bool { return mem == abi.MemoryCUDA }

// dwindow is a stage's sliding window of input frames in device memory: as window, a ring of
// size+1 frames.
type dwindow struct {
	format frame.Format
	size   int
	ring   []*loader.DeviceFrame
	head   int
	count  int
}

// resize makes the window hold `size` frames of format f; a format change drops the frames.
func (w *dwindow) resize(dev Device, f frame.Format, size int) error {
	if f == w.format && size == w.size && w.ring != nil {
		return nil
	}
	var kept []*loader.DeviceFrame
	if f == w.format && w.count > 0 {
		kept = w.frames(nil)
		if len(kept) > size {
			kept = kept[len(kept)-size:]
		}
	}
	keep := map[*loader.DeviceFrame]bool{}
	for _, k := range kept {
		keep[k] = true
	}
	var spare []*loader.DeviceFrame
	for _, fr := range w.ring {
		if !keep[fr] {
			if fr.Format == f {
				spare = append(spare, fr)
			} else {
				dev.FreeFrame(fr)
			}
		}
	}
	ring := make([]*loader.DeviceFrame, size+1)
	copy(ring, kept)
	for i := len(kept); i < len(ring); i++ {
		if len(spare) > 0 {
			ring[i], spare = spare[len(spare)-1], spare[:len(spare)-1]
			continue
		}
		fr, err := dev.NewFrame(f)
		if err != nil {
			for _, r := range ring[len(kept):i] {
				dev.FreeFrame(r)
			}
			w.ring, w.count, w.head, w.format, w.size = nil, 0, 0, frame.Format{}, 0
			return fmt.Errorf("allocate %v device window: %w", f, err)
		}
		ring[i] = fr
	}
	for _, fr := range spare {
		dev.FreeFrame(fr)
	}
	w.format, w.size, w.ring, w.count, w.head = f, size, ring, len(kept), len(kept)%len(ring)
	return nil
}

func (w *dwindow) slot() *loader.DeviceFrame { return w.ring[w.head] }

// commit adds the frame written into slot() as the newest. The first frame fills the whole
// window on the device (as window does on the host): N frames in give N out.
func (w *dwindow) commit(dev Device) error {
	if w.count == 0 && w.size > 1 {
		first := w.ring[w.head]
		for i := 1; i < w.size; i++ {
			if err := dev.Convert(w.ring[(w.head+i)%len(w.ring)], first); err != nil {
				return fmt.Errorf("fill the device window: %w", err)
			}
		}
		w.head = (w.head + w.size) % len(w.ring)
		w.count = w.size
		return nil
	}
	w.head = (w.head + 1) % len(w.ring)
	if w.count < w.size {
		w.count++
	}
	return nil
}

func (w *dwindow) full() bool { return w.size > 0 && w.count == w.size }

func (w *dwindow) frames(dst []*loader.DeviceFrame) []*loader.DeviceFrame {
	dst = dst[:0]
	n := len(w.ring)
	for i := w.count; i > 0; i-- {
		dst = append(dst, w.ring[(w.head-i+n)%n])
	}
	return dst
}

// free releases every frame.
func (w *dwindow) free(dev Device) {
	for _, fr := range w.ring {
		dev.FreeFrame(fr)
	}
	*w = dwindow{}
}

// parityBufs are the buffers of one stage that a frame in flight may still use while the next
// frame is processed; a stage has two sets and alternates between them tick by tick.
type parityBufs struct {
	src       *frame.Frame        // pinned: the source reads stage 0's input here (device input)
	hostOut   *frame.Frame        // pinned: a host output that is uploaded next
	devOut    *loader.DeviceFrame // device output that is downloaded or converted next
	upStage   *loader.DeviceFrame // the upload of a host frame whose format the device converts
	downStage *loader.DeviceFrame // the device conversion of a frame before its download
	sink      *frame.Frame        // pinned: the last stage's output downloaded for the sink
}

// devFrame returns *p if it has format f, else frees it and allocates a new device frame.
func devFrame(dev Device, p **loader.DeviceFrame, f frame.Format) (*loader.DeviceFrame, error) {
	if *p != nil && (*p).Format == f {
		return *p, nil
	}
	if *p != nil {
		dev.FreeFrame(*p)
		*p = nil
	}
	fr, err := dev.NewFrame(f)
	if err != nil {
		return nil, fmt.Errorf("allocate %v device frame: %w", f, err)
	}
	*p = fr
	return fr, nil
}

// hostFrame returns *p if it has format f, else frees it and allocates a new pinned frame.
func hostFrame(dev Device, p **frame.Frame, f frame.Format) (*frame.Frame, error) {
	if *p != nil && (*p).Format == f {
		return *p, nil
	}
	if *p != nil {
		dev.FreeHostFrame(*p)
		*p = nil
	}
	fr, err := dev.NewHostFrame(f)
	if err != nil {
		return nil, fmt.Errorf("allocate %v pinned frame: %w", f, err)
	}
	*p = fr
	return fr, nil
}

// free releases every buffer of the set.
func (b *parityBufs) free(dev Device) {
	for _, f := range []*frame.Frame{b.src, b.hostOut, b.sink} {
		if f != nil {
			dev.FreeHostFrame(f)
		}
	}
	for _, f := range []*loader.DeviceFrame{b.devOut, b.upStage, b.downStage} {
		if f != nil {
			dev.FreeFrame(f)
		}
	}
	*b = parityBufs{}
}

// upload moves the host frame src into the device frame dst, converting on the device when the
// formats differ (the frame crosses PCIe in the source's form).
func (e *Engine) upload(dst *loader.DeviceFrame, src *frame.Frame, bufs *parityBufs) error {
	dev := e.cfg.Device
	target := dst
	if dst.Format != src.Format {
		st, err := devFrame(dev, &bufs.upStage, src.Format)
		if err != nil {
			return err
		}
		target = st
	}
	if err := dev.Upload(target, src); err != nil {
		return fmt.Errorf("upload %v: %w", src.Format, err)
	}
	e.transfers.Uploads++
	e.transfers.UploadBytes += int64(src.RowBytes() * src.Height)
	if target != dst {
		if err := dev.Convert(dst, target); err != nil {
			return fmt.Errorf("convert %v to %v on the device: %w", src.Format, dst.Format, err)
		}
	}
	return nil
}

// download enqueues the move of the device frame src into the host frame dst, converting on
// the device first when the formats differ.
func (e *Engine) download(dst *frame.Frame, src *loader.DeviceFrame, bufs *parityBufs) (Fence, error) {
	dev := e.cfg.Device
	if dst.Format != src.Format {
		st, err := devFrame(dev, &bufs.downStage, dst.Format)
		if err != nil {
			return 0, err
		}
		if err := dev.Convert(st, src); err != nil {
			return 0, fmt.Errorf("convert %v to %v on the device: %w", src.Format, dst.Format, err)
		}
		src = st
	}
	f, err := dev.Download(dst, src)
	if err != nil {
		return 0, fmt.Errorf("download %v: %w", src.Format, err)
	}
	e.transfers.Downloads++
	e.transfers.DownloadBytes += int64(dst.RowBytes() * dst.Height)
	return f, nil
}
