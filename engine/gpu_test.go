package engine_test

// Tests on a real NVIDIA GPU with the real invert-cuda plugin (examples/cuda/invert): named
// TestGPU* so that `-test.run GPU` selects them (scripts/gpu-check.sh runs them). They need
// SCOPE_GPU_PLUGINS, a folder holding invert.so and invert-cuda.so, and skip with the reason
// otherwise. TestGPUBenchmark prints the benchmark table when SCOPE_GPU_BENCH=1.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/loader"
)

// gpuRig is an opened GPU, bound to the test's goroutine, with the engine device and the
// invert and invert-cuda pipelines.
type gpuRig struct {
	dev        *gpu.Device
	cuda       *engine.CUDA
	cpu, cudaP *loader.Pipeline
}

func openRig(t *testing.T, opts engine.CUDAOptions) *gpuRig {
	t.Helper()
	dir := os.Getenv("SCOPE_GPU_PLUGINS")
	if dir == "" {
		t.Skip("no NVIDIA GPU plugins: set SCOPE_GPU_PLUGINS to a folder with invert.so and invert-cuda.so (scripts/gpu-check.sh does)")
	}
	dev, err := gpu.Open(0)
	if err != nil {
		t.Skipf("no NVIDIA GPU: %v", err)
	}
	unbind, err := dev.Bind()
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	c, err := engine.NewCUDA(dev, opts)
	if err != nil {
		unbind()
		dev.Close()
		t.Fatal(err)
	}
	r := &gpuRig{dev: dev, cuda: c}
	t.Cleanup(func() { c.Close(); unbind(); dev.Close() })
	for name, dst := range map[string]**loader.Pipeline{"invert": &r.cpu, "invert-cuda": &r.cudaP} {
		lib, err := loader.Open(filepath.Join(dir, name+".so"), loader.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lib.Close() })
		if *dst = lib.Pipeline(name); *dst == nil {
			t.Fatalf("%s.so has no pipeline %s", name, name)
		}
	}
	return r
}

func (r *gpuRig) instance(t testing.TB, p *loader.Pipeline, intensity string) *loader.Instance {
	t.Helper()
	vals := p.Defaults()
	if err := vals.Set(p, "intensity", intensity); err != nil {
		t.Fatal(err)
	}
	in, err := p.NewInstanceOn(loader.ModeVideo, vals, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

// randomSource yields copies of its frames in turn.
type randomSource struct {
	frames []*frame.Frame
	n, i   int
}

func newRandomSource(f frame.Format, kinds, n int) *randomSource {
	s := &randomSource{n: n}
	for k := 0; k < kinds; k++ {
		fr := frame.New(f)
		for i := range fr.Data {
			fr.Data[i] = byte(rand.IntN(256))
		}
		s.frames = append(s.frames, fr)
	}
	return s
}

func (s *randomSource) Format() frame.Format { return s.frames[0].Format }
func (s *randomSource) Close() error         { return nil }
func (s *randomSource) Read(_ context.Context, dst *frame.Frame) error {
	if s.n > 0 && s.i >= s.n {
		return io.EOF
	}
	s.i++
	return frame.Convert(dst, s.frames[(s.i-1)%len(s.frames)])
}

func (r *gpuRig) run(t testing.TB, dev engine.Device, src media, stages ...engine.Instance) ([]*frame.Frame, engine.Stats) {
	t.Helper()
	sink := &collectSink{}
	var errs []error
	e, err := engine.New(engine.Config{Stages: stages, Source: src, Sink: sink, Device: dev, OnError: func(_ int, err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	return sink.frames, stats
}

// media is the source interface the rig feeds (media.Source without importing media here).
type media interface {
	Format() frame.Format
	Read(context.Context, *frame.Frame) error
	Close() error
}

// invert-cuda equals the CPU invert pixel for pixel, through the engine (host in, host out)
// and called directly on frames with padded pitches on both sides.
func TestGPUInvertMatchesCPU(t *testing.T) {
	r := openRig(t, engine.CUDAOptions{})
	for _, sz := range [][3]int{{1, 1, 3}, {7, 3, 3}, {7, 3, 4}, {1921, 1081, 3}, {3840, 2160, 3}, {33, 17, 1}} {
		f := frame.Format{Width: sz[0], Height: sz[1], Channels: sz[2], Elem: frame.U8}
		for _, intensity := range []string{"1", "0.37"} {
			src := newRandomSource(f, 3, 3)
			got, stats := r.run(t, r.cuda, src, r.instance(t, r.cudaP, intensity))
			src.i = 0
			want, _ := r.run(t, nil, src, r.instance(t, r.cpu, intensity))
			for i := range want {
				if !frame.Equal(got[i], want[i]) {
					t.Errorf("%v intensity %s: frame %d differs from the CPU invert", f, intensity, i)
				}
			}
			if stats.Transfers.Uploads != 3 || stats.Transfers.Downloads != 3 {
				t.Errorf("%v: transfers %+v", f, stats.Transfers)
			}
			r.direct(t, f, intensity)
		}
	}
}

// direct calls invert-cuda through the loader on host frames with padded pitches, uploaded
// and downloaded by the engine's CUDA device.
func (r *gpuRig) direct(t *testing.T, f frame.Format, intensity string) {
	t.Helper()
	in := frame.NewWithPitch(f, f.RowBytes()+13)
	for i := range in.Data {
		in.Data[i] = byte(rand.IntN(256))
	}
	want := frame.New(f)
	cpu := r.instance(t, r.cpu, intensity)
	if _, err := cpu.Prepare([]frame.Format{f}); err != nil {
		t.Fatal(err)
	}
	if err := cpu.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: want}); err != nil {
		t.Fatal(err)
	}
	inst := r.instance(t, r.cudaP, intensity)
	if _, err := inst.PrepareOn([]frame.Format{f}, 2); err != nil {
		t.Fatal(err)
	}
	din, err := r.cuda.NewFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.cuda.FreeFrame(din)
	dout, err := r.cuda.NewFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.cuda.FreeFrame(dout)
	if err := r.cuda.Upload(din, in); err != nil {
		t.Fatal(err)
	}
	if err := inst.Call(&loader.CallArgs{DeviceInputs: [][]*loader.DeviceFrame{{din}}, DeviceOutput: dout}); err != nil {
		t.Fatal(err)
	}
	got := frame.NewWithPitch(f, f.RowBytes()+7)
	fence, err := r.cuda.Download(got, dout)
	if err == nil {
		err = r.cuda.Wait(fence)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !frame.Equal(got, want) {
		t.Errorf("%v intensity %s, padded pitches: invert-cuda differs from invert", f, intensity)
	}
}

// A chain of two invert-cuda returns the input and moves each frame across PCIe once each way.
func TestGPUChainRoundTrip(t *testing.T) {
	r := openRig(t, engine.CUDAOptions{})
	f := frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8}
	src := newRandomSource(f, 4, 12)
	got, stats := r.run(t, r.cuda, src, r.instance(t, r.cudaP, "1"), r.instance(t, r.cudaP, "1"))
	if len(got) != 12 {
		t.Fatalf("%d frames, want 12", len(got))
	}
	for i, g := range got {
		if !frame.Equal(g, src.frames[i%4]) {
			t.Errorf("frame %d: invert-cuda,invert-cuda did not return the input", i)
		}
	}
	if tr := stats.Transfers; tr.Uploads != 12 || tr.Downloads != 12 || tr.UploadBytes != 12*int64(f.RowBytes()*f.Height) {
		t.Errorf("transfers %+v, want 12 frames each way", tr)
	}
}

// nullSource hands out frames without writing them: the benchmark measures the chain, not a
// source copy.
type nullSource struct{ f frame.Format }

func (s nullSource) Format() frame.Format                     { return s.f }
func (s nullSource) Close() error                             { return nil }
func (s nullSource) Read(context.Context, *frame.Frame) error { return nil }

// TestGPUBenchmark prints the benchmark table (SCOPE_GPU_BENCH=1): 1080p RGB u8 through
// invert-cuda, host frame in to host frame out, against the PCIe floor.
func TestGPUBenchmark(t *testing.T) {
	if os.Getenv("SCOPE_GPU_BENCH") == "" {
		t.Skip("benchmark: set SCOPE_GPU_BENCH=1")
	}
	f := frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8}
	const warm, frames = 30, 600
	measure := func(serial bool) float64 {
		r := openRig(t, engine.CUDAOptions{Serial: serial})
		stages := []engine.Instance{r.instance(t, r.cudaP, "1")}
		e, err := engine.New(engine.Config{Stages: stages, Source: nullSource{f}, Device: r.cuda, Frames: warm})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		e, _ = engine.New(engine.Config{Stages: stages, Source: nullSource{f}, Device: r.cuda, Frames: frames})
		stats, err := e.Run(context.Background())
		if err != nil || stats.Frames != frames || stats.Errors > 0 {
			t.Fatalf("run: %v, %+v", err, stats)
		}
		return float64(stats.Elapsed.Microseconds()) / 1000 / frames
	}
	r := openRig(t, engine.CUDAOptions{})
	bw, err := r.dev.MeasureBandwidth(f.RowBytes()*f.Height, 100)
	if err != nil {
		t.Fatal(err)
	}
	serial, overlapped := measure(true), measure(false)
	cpuIn := r.instance(t, r.cpu, "1")
	e, _ := engine.New(engine.Config{Stages: []engine.Instance{cpuIn}, Source: nullSource{f}, Frames: 200})
	cstats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cpu := float64(cstats.Elapsed.Microseconds()) / 1000 / 200
	info := r.dev.Info()
	fmt.Printf("\nbenchmark: %s, driver CUDA %s, compute %d.%d, %d copy engines\n", info.Name, info.Driver(), info.ComputeMajor, info.ComputeMinor, info.CopyEngines)
	fmt.Printf("frame: %v, %.2f MB each way; %d frames after %d warm-up\n", f, float64(bw.Bytes)/1e6, frames, warm)
	fmt.Printf("  %-44s %9s\n", "", "ms/frame")
	fmt.Printf("  %-44s %9.3f  (%.1f GB/s)\n", "pinned upload (host -> device)", bw.HostToDevMS, bw.HostToDevGBs())
	fmt.Printf("  %-44s %9.3f  (%.1f GB/s)\n", "pinned download (device -> host)", bw.DevToHostMS, bw.DevToHostGBs())
	fmt.Printf("  %-44s %9.3f\n", "floor, serial (upload + download)", bw.HostToDevMS+bw.DevToHostMS)
	fmt.Printf("  %-44s %9.3f\n", "floor, overlapped (max of the two)", max(bw.HostToDevMS, bw.DevToHostMS))
	fmt.Printf("  %-44s %9.3f\n", "invert-cuda, host in/out, serial", serial)
	fmt.Printf("  %-44s %9.3f\n", "invert-cuda, host in/out, overlapped", overlapped)
	fmt.Printf("  %-44s %9.3f\n", "invert (CPU plugin, one core)", cpu)
	fmt.Printf("  %-44s %9.3f\n", "Scope's own path (H200, ARCHITECTURE.md)", 3.0)
	fmt.Printf("  target: <= 0.200 ms/frame overlapped on an H100/H200: %s\n", map[bool]string{true: "met", false: "NOT met"}[overlapped <= 0.2])
}
