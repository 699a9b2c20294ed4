package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/loader"
)

// CUDAOptions tune NewCUDA.
type CUDAOptions struct {
	// Serial waits for every upload and download before returning (no overlap of consecutive
	// frames): for benchmarks that compare against the overlapped default.
	Serial bool
}

// CUDA is the engine's Device on a real GPU: three non-blocking streams (upload, compute,
// download) ordered by events, pitched device frames, pinned host frames and the runtime
// kernels for conversions. Create it with NewCUDA; Close frees what it still holds.
type CUDA struct {
	dev              *gpu.Device
	opts             CUDAOptions
	up, comp, down   *gpu.Stream
	upDone, compDone *gpu.Event
	downDone         [fenceRing]*gpu.Event
	seq              Fence // fences issued

	mu     sync.Mutex
	frames map[uintptr]*gpu.Buffer
	hosts  map[*byte]*gpu.HostBuffer
}

// fenceRing is how many downloads can be waited for individually; waiting for an older one
// waits for the whole download stream.
const fenceRing = 4

// devicePitch is the row alignment of device frames.
const devicePitch = 256

// NewCUDA creates the streams and events on dev. The calling goroutine must hold dev.Bind.
func NewCUDA(dev *gpu.Device, opts CUDAOptions) (*CUDA, error) {
	c := &CUDA{dev: dev, opts: opts, frames: map[uintptr]*gpu.Buffer{}, hosts: map[*byte]*gpu.HostBuffer{}}
	var err error
	for _, s := range []**gpu.Stream{&c.up, &c.comp, &c.down} {
		if *s, err = dev.NewStream(); err != nil {
			c.Close()
			return nil, fmt.Errorf("create CUDA streams: %w", err)
		}
	}
	evs := []**gpu.Event{&c.upDone, &c.compDone}
	for i := range c.downDone {
		evs = append(evs, &c.downDone[i])
	}
	for _, e := range evs {
		if *e, err = dev.NewEvent(false); err != nil {
			c.Close()
			return nil, fmt.Errorf("create CUDA events: %w", err)
		}
	}
	return c, nil
}

// Ordinal implements Device.
func (c *CUDA) Ordinal() int { return c.dev.Ordinal() }

// Bind implements Device.
func (c *CUDA) Bind() (func(), error) { return c.dev.Bind() }

// Stream returns the compute stream (the one pipelines enqueue on).
func (c *CUDA) Stream() *gpu.Stream { return c.comp }

// NewFrame implements Device: rows are aligned to 256 bytes.
func (c *CUDA) NewFrame(f frame.Format) (*loader.DeviceFrame, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	pitch := (f.RowBytes() + devicePitch - 1) / devicePitch * devicePitch
	b, err := c.dev.Alloc(pitch * f.Height)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.frames[uintptr(b.Ptr())] = b
	c.mu.Unlock()
	return &loader.DeviceFrame{Format: f, Pitch: pitch, Ptr: uintptr(b.Ptr()), Stream: c.comp.Handle(), Device: c.dev.Ordinal()}, nil
}

// FreeFrame implements Device.
func (c *CUDA) FreeFrame(f *loader.DeviceFrame) {
	c.mu.Lock()
	b := c.frames[f.Ptr]
	delete(c.frames, f.Ptr)
	c.mu.Unlock()
	b.Free()
}

// NewHostFrame implements Device: packed rows in pinned memory.
func (c *CUDA) NewHostFrame(f frame.Format) (*frame.Frame, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	h, err := c.dev.AllocHost(f.RowBytes() * f.Height)
	if err != nil {
		return nil, err
	}
	fr := &frame.Frame{Format: f, Pitch: f.RowBytes(), Data: h.Bytes()}
	c.mu.Lock()
	c.hosts[&fr.Data[0]] = h
	c.mu.Unlock()
	return fr, nil
}

// FreeHostFrame implements Device.
func (c *CUDA) FreeHostFrame(f *frame.Frame) {
	c.mu.Lock()
	h := c.hosts[&f.Data[0]]
	delete(c.hosts, &f.Data[0])
	c.mu.Unlock()
	h.Free()
}

func image(f *loader.DeviceFrame) gpu.Image {
	return gpu.Image{Device: gpu.DevicePtr(f.Ptr), Pitch: f.Pitch}
}

// Upload implements Device: a pitched copy on the upload stream; the compute stream waits
// for it.
func (c *CUDA) Upload(dst *loader.DeviceFrame, src *frame.Frame) error {
	if dst.Format != src.Format {
		return fmt.Errorf("upload %v into a %v frame", src.Format, dst.Format)
	}
	if err := c.dev.Copy2D(image(dst), gpu.Image{Host: src.Data, Pitch: src.Pitch}, src.RowBytes(), src.Height, c.up); err != nil {
		return err
	}
	if err := c.upDone.Record(c.up); err != nil {
		return err
	}
	if err := c.comp.Wait(c.upDone); err != nil {
		return err
	}
	if c.opts.Serial {
		return c.up.Synchronize()
	}
	return nil
}

// Download implements Device: the download stream waits for the compute work so far, then
// copies.
func (c *CUDA) Download(dst *frame.Frame, src *loader.DeviceFrame) (Fence, error) {
	if dst.Format != src.Format {
		return 0, fmt.Errorf("download %v into a %v frame", src.Format, dst.Format)
	}
	if err := c.compDone.Record(c.comp); err != nil {
		return 0, err
	}
	if err := c.down.Wait(c.compDone); err != nil {
		return 0, err
	}
	if err := c.dev.Copy2D(gpu.Image{Host: dst.Data, Pitch: dst.Pitch}, image(src), src.RowBytes(), src.Height, c.down); err != nil {
		return 0, err
	}
	c.seq++
	if err := c.downDone[c.seq%fenceRing].Record(c.down); err != nil {
		return 0, err
	}
	if c.opts.Serial {
		return c.seq, c.down.Synchronize()
	}
	return c.seq, nil
}

// Wait implements Device.
func (c *CUDA) Wait(f Fence) error {
	if f == 0 || f > c.seq {
		return fmt.Errorf("wait for download %d: never issued", f)
	}
	if c.seq-f >= fenceRing {
		return c.down.Synchronize()
	}
	return c.downDone[f%fenceRing].Synchronize()
}

// errNoConversion is returned for conversions the runtime kernels lack.
var errNoConversion = errors.New("no device conversion")

// Convert implements Device: a device-to-device copy for equal formats, else one of the
// runtime kernels (u8 <-> f32 with the same channels, u8 RGB <-> RGBA).
func (c *CUDA) Convert(dst, src *loader.DeviceFrame) error {
	if dst.Width != src.Width || dst.Height != src.Height {
		return fmt.Errorf("convert %v to %v: sizes differ", src.Format, dst.Format)
	}
	if dst.Format == src.Format {
		return c.dev.Copy2D(image(dst), image(src), src.RowBytes(), src.Height, c.comp)
	}
	k, err := c.dev.Kernels()
	if err != nil {
		return err
	}
	d, s := gpu.Pitched{Ptr: gpu.DevicePtr(dst.Ptr), Pitch: dst.Pitch}, gpu.Pitched{Ptr: gpu.DevicePtr(src.Ptr), Pitch: src.Pitch}
	switch {
	case src.Channels == dst.Channels && src.Elem == frame.U8 && dst.Elem == frame.F32:
		return k.U8ToF32(d, s, src.Width*src.Channels, src.Height, c.comp)
	case src.Channels == dst.Channels && src.Elem == frame.F32 && dst.Elem == frame.U8:
		return k.F32ToU8(d, s, src.Width*src.Channels, src.Height, c.comp)
	case src.Elem == frame.U8 && dst.Elem == frame.U8 && src.Channels == 3 && dst.Channels == 4:
		return k.RGBToRGBA(d, s, src.Width, src.Height, c.comp)
	case src.Elem == frame.U8 && dst.Elem == frame.U8 && src.Channels == 4 && dst.Channels == 3:
		return k.RGBAToRGB(d, s, src.Width, src.Height, c.comp)
	}
	return fmt.Errorf("%w from %v to %v (the runtime kernels convert u8<->f32 and u8 rgb<->rgba)", errNoConversion, src.Format, dst.Format)
}

// Sync implements Device.
func (c *CUDA) Sync() error {
	for _, s := range []*gpu.Stream{c.up, c.comp, c.down} {
		if err := s.Synchronize(); err != nil {
			return err
		}
	}
	return nil
}

// Close waits for the streams and frees every frame still allocated, the events and the
// streams. The calling goroutine must hold a Bind of the device.
func (c *CUDA) Close() error {
	var errs []error
	for _, s := range []*gpu.Stream{c.up, c.comp, c.down} {
		if s != nil {
			errs = append(errs, s.Synchronize())
		}
	}
	c.mu.Lock()
	for p, b := range c.frames {
		errs = append(errs, b.Free())
		delete(c.frames, p)
	}
	for p, h := range c.hosts {
		errs = append(errs, h.Free())
		delete(c.hosts, p)
	}
	c.mu.Unlock()
	for _, e := range append([]*gpu.Event{c.upDone, c.compDone}, c.downDone[:]...) {
		if e != nil {
			errs = append(errs, e.Destroy())
		}
	}
	for _, s := range []*gpu.Stream{c.up, c.comp, c.down} {
		if s != nil {
			errs = append(errs, s.Destroy())
		}
	}
	return errors.Join(errs...)
}
