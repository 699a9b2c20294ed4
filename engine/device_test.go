package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// fakeDevice is an engine.Device whose "device memory" is host memory: the fake-cuda test
// plugin reads it directly. It counts transfers and live allocations.
type fakeDevice struct {
	frames    map[uintptr][]byte // device frame memory by address
	hosts     map[*byte]bool     // pinned frames handed out
	uploads   int
	downloads int
	converts  int
	waits     int
	bound     int
	fence     engine.Fence
	waited    engine.Fence
	order     []string // "up", "down", "wait" in call order (for the overlap test)
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{frames: map[uintptr][]byte{}, hosts: map[*byte]bool{}}
}

const fakeStream = 0x57ea

func (d *fakeDevice) Ordinal() int { return 0 }
func (d *fakeDevice) Bind() (func(), error) {
	d.bound++
	return func() { d.bound-- }, nil
}

func (d *fakeDevice) NewFrame(f frame.Format) (*loader.DeviceFrame, error) {
	pitch := f.RowBytes() + 24 // padded, unlike host frames
	buf := make([]byte, pitch*f.Height)
	p := uintptr(unsafe.Pointer(&buf[0]))
	d.frames[p] = buf
	return &loader.DeviceFrame{Format: f, Pitch: pitch, Ptr: p, Stream: fakeStream, Device: 0}, nil
}

func (d *fakeDevice) FreeFrame(f *loader.DeviceFrame) {
	if _, ok := d.frames[f.Ptr]; !ok {
		panic("fakeDevice: free of an unknown frame")
	}
	delete(d.frames, f.Ptr)
}

func (d *fakeDevice) NewHostFrame(f frame.Format) (*frame.Frame, error) {
	fr := frame.New(f)
	d.hosts[&fr.Data[0]] = true
	return fr, nil
}

func (d *fakeDevice) FreeHostFrame(f *frame.Frame) {
	if !d.hosts[&f.Data[0]] {
		panic("fakeDevice: free of an unknown host frame")
	}
	delete(d.hosts, &f.Data[0])
}

// view is the device frame as a host frame over the same memory.
func (d *fakeDevice) view(f *loader.DeviceFrame) *frame.Frame {
	buf, ok := d.frames[f.Ptr]
	if !ok {
		panic(fmt.Sprintf("fakeDevice: unknown device frame %#x", f.Ptr))
	}
	return &frame.Frame{Format: f.Format, Pitch: f.Pitch, Data: buf}
}

func (d *fakeDevice) Upload(dst *loader.DeviceFrame, src *frame.Frame) error {
	if dst.Format != src.Format {
		return fmt.Errorf("upload %v into %v", src.Format, dst.Format)
	}
	d.uploads++
	d.order = append(d.order, "up")
	return frame.Convert(d.view(dst), src)
}

func (d *fakeDevice) Download(dst *frame.Frame, src *loader.DeviceFrame) (engine.Fence, error) {
	if dst.Format != src.Format {
		return 0, fmt.Errorf("download %v into %v", src.Format, dst.Format)
	}
	d.downloads++
	d.order = append(d.order, "down")
	d.fence++
	return d.fence, frame.Convert(dst, d.view(src))
}

func (d *fakeDevice) Wait(f engine.Fence) error {
	d.waits++
	d.order = append(d.order, "wait")
	if f > d.fence {
		return fmt.Errorf("wait for fence %d never issued", f)
	}
	d.waited = max(d.waited, f)
	return nil
}

func (d *fakeDevice) Convert(dst, src *loader.DeviceFrame) error {
	d.converts++
	return frame.Convert(d.view(dst), d.view(src))
}

func (d *fakeDevice) Sync() error { return nil }

// runDevice runs chain (ids of the fake-cuda and invert libraries) over n frames of format f.
func runDevice(t *testing.T, dev engine.Device, f frame.Format, n, limit int, chain ...string) ([]*frame.Frame, engine.Stats) {
	t.Helper()
	dir := t.TempDir()
	fake, err := loader.Open(plugintest.FakeCUDA(t, dir), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	inv := open(t, "invert")
	var stages []engine.Instance
	for _, spec := range chain {
		id, params, _ := strings.Cut(spec, ":")
		lib := inv
		switch id {
		case "invert-cuda":
			lib = fake
		case "frame-blend":
			lib = open(t, "temporal")
		}
		p := lib.Pipeline(id)
		vals := p.Defaults()
		if params != "" {
			for _, kv := range strings.Split(params, ",") {
				k, v, _ := strings.Cut(kv, "=")
				if err := vals.Set(p, k, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		in, err := p.NewInstanceOn(loader.ModeVideo, vals, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(in.Close)
		stages = append(stages, in)
	}
	sink := &collectSink{}
	var errs []error
	e, err := engine.New(engine.Config{Stages: stages, Source: &counterSource{format: f, n: n}, Sink: sink, Device: dev, Frames: limit,
		OnError: func(_ int, err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("stage errors: %v", errs)
	}
	return sink.frames, stats
}

// checkFrames checks that output frame i has every sample equal to want(i).
func checkFrames(t *testing.T, frames []*frame.Frame, n int, want func(i int) byte) {
	t.Helper()
	if len(frames) != n {
		t.Fatalf("%d output frames, want %d", len(frames), n)
	}
	for i, fr := range frames {
		for y := 0; y < fr.Height; y++ {
			for x, v := range fr.Row(y) {
				if v != want(i) {
					t.Fatalf("frame %d (%d,%d) = %d, want %d", i, x, y, v, want(i))
				}
			}
		}
	}
}

// A chain of two CUDA pipelines returns its input and moves each frame across PCIe once each
// way; every buffer is released after the run.
func TestDeviceChainUploadsOnceDownloadsOnce(t *testing.T) {
	dev := newFakeDevice()
	f := frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}
	frames, stats := runDevice(t, dev, f, 10, 0, "invert-cuda", "invert-cuda")
	checkFrames(t, frames, 10, func(i int) byte { return byte(i) })
	if stats.Transfers.Uploads != 10 || stats.Transfers.Downloads != 10 || dev.uploads != 10 || dev.downloads != 10 {
		t.Errorf("transfers %+v (device saw %d up, %d down), want 10 each way", stats.Transfers, dev.uploads, dev.downloads)
	}
	if want := int64(10 * 7 * 3 * 3); stats.Transfers.UploadBytes != want || stats.Transfers.DownloadBytes != want {
		t.Errorf("bytes %+v, want %d each way", stats.Transfers, want)
	}
	if dev.converts != 0 {
		t.Errorf("%d device conversions, want none", dev.converts)
	}
	if len(dev.frames) != 0 || len(dev.hosts) != 0 || dev.bound != 0 {
		t.Errorf("after the run: %d device frames, %d pinned frames, bound %d", len(dev.frames), len(dev.hosts), dev.bound)
	}
	if stats.Frames != 10 || stats.Stages[0].Calls != 10 || stats.Stages[1].Calls != 10 {
		t.Errorf("stats %+v", stats)
	}
}

// The sink's frame N is delivered after frame N+1's work was enqueued: the download overlaps
// the next frame, and the order of frames is kept.
func TestDeviceOverlapsDownloadWithNextFrame(t *testing.T) {
	dev := newFakeDevice()
	f := frame.Format{Width: 4, Height: 2, Channels: 4, Elem: frame.U8}
	frames, _ := runDevice(t, dev, f, 0, 5, "invert-cuda:intensity=1")
	// RGBA: colour inverted, alpha copied; counterSource writes i everywhere.
	for i, fr := range frames {
		for y := 0; y < fr.Height; y++ {
			for x, v := range fr.Row(y) {
				want := 255 - byte(i)
				if x%4 == 3 {
					want = byte(i)
				}
				if v != want {
					t.Fatalf("frame %d byte %d = %d, want %d", i, x, v, want)
				}
			}
		}
	}
	if len(frames) != 5 {
		t.Fatalf("%d frames with Frames: 5", len(frames))
	}
	got := strings.Join(dev.order, " ")
	if want := "up down up down wait up down wait up down wait up down wait wait"; got != want {
		t.Errorf("device calls:\n %s\nwant\n %s", got, want)
	}
}

// A host pipeline between CUDA pipelines gets the frame downloaded and uploaded again; host
// pipelines at the ends cost one transfer each way.
func TestDeviceMixedChain(t *testing.T) {
	dev := newFakeDevice()
	f := frame.Format{Width: 5, Height: 4, Channels: 3, Elem: frame.U8}
	frames, stats := runDevice(t, dev, f, 6, 0, "invert", "invert-cuda", "invert")
	checkFrames(t, frames, 6, func(i int) byte { return 255 - byte(i) })
	if stats.Transfers.Uploads != 6 || stats.Transfers.Downloads != 6 {
		t.Errorf("transfers %+v, want 6 each way", stats.Transfers)
	}
	frames, stats = runDevice(t, newFakeDevice(), f, 6, 0, "invert-cuda", "invert", "invert-cuda")
	checkFrames(t, frames, 6, func(i int) byte { return 255 - byte(i) })
	if stats.Transfers.Uploads != 12 || stats.Transfers.Downloads != 12 {
		t.Errorf("cuda,host,cuda: transfers %+v, want 12 each way", stats.Transfers)
	}
}

// A CUDA pipeline that wants f32 gets u8 uploaded and converted on the device (the frame
// crosses PCIe at 1 byte per sample). The sink receives what the last pipeline produces, as
// with host pipelines: here f32, downloaded as it is.
func TestDeviceConvertsOnTheDevice(t *testing.T) {
	dev := newFakeDevice()
	f := frame.Format{Width: 3, Height: 2, Channels: 3, Elem: frame.U8}
	frames, stats := runDevice(t, dev, f, 4, 0, "invert-cuda:f32=true", "invert-cuda:f32=true")
	// u8 -> f32 -> 1-v -> 1-(1-v) -> u8 must give v back.
	checkFrames(t, frames, 4, func(i int) byte {
		one := frame.New(frame.Format{Width: 1, Height: 1, Channels: 1, Elem: frame.F32})
		one.Float32Row(0)[0] = 1 - (1 - float32(i)/255)
		u := frame.New(frame.Format{Width: 1, Height: 1, Channels: 1, Elem: frame.U8})
		frame.Convert(u, one)
		return u.Data[0]
	})
	if want := int64(4 * 3 * 2 * 3); stats.Transfers.UploadBytes != want || stats.Transfers.DownloadBytes != 4*want {
		t.Errorf("bytes %+v, want %d (u8) up and %d (f32) down", stats.Transfers, want, 4*want)
	}
	if dev.converts != 4 {
		t.Errorf("%d device conversions, want 4 (one per frame, after the upload)", dev.converts)
	}
}

func TestDeviceNeededWithoutDevice(t *testing.T) {
	fake, err := loader.Open(plugintest.FakeCUDA(t, t.TempDir()), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	// The plugin refuses create without a device...
	if _, err := fake.Pipeline("invert-cuda").NewInstance(loader.ModeVideo, nil); err == nil || !strings.Contains(err.Error(), "no CUDA device") {
		t.Errorf("create without a device: %v", err)
	}
	// ...and the engine refuses a CUDA-only pipeline without a Device.
	in, err := fake.Pipeline("invert-cuda").NewInstanceOn(loader.ModeVideo, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	_, err = engine.New(engine.Config{Stages: []engine.Instance{in}, Source: &counterSource{format: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}}})
	if !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), "invert-cuda needs CUDA memory") {
		t.Errorf("engine.New without a device: %v", err)
	}
}

// A windowed host pipeline after a CUDA one, in a device run: N frames in give N out, the
// first frame filling the window (the rule graph runs follow).
func TestDeviceWindowFilledAtTheStart(t *testing.T) {
	f := frame.Format{Width: 3, Height: 2, Channels: 3, Elem: frame.U8}
	frames, _ := runDevice(t, newFakeDevice(), f, 6, 0, "invert-cuda", "frame-blend:frames=3,blend=max")
	// invert makes 255-i; the max over inputs k-2..k (clamped to 0) is input max(k-2, 0).
	checkFrames(t, frames, 6, func(i int) byte { return 255 - byte(max(i-2, 0)) })
}
