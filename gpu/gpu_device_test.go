package gpu

// Tests that need an NVIDIA GPU: named TestGPU* so `-test.run GPU` selects them. They skip
// with the reason where there is none (CI).

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
)

// openGPU opens device 0 and binds it to the test's goroutine, or skips the test.
func openGPU(t *testing.T) *Device {
	t.Helper()
	dev, err := Open(0)
	if err != nil {
		t.Skipf("no NVIDIA GPU: %v", err)
	}
	unbind, err := dev.Bind()
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { unbind(); dev.Close() })
	return dev
}

func TestGPUInfo(t *testing.T) {
	dev := openGPU(t)
	i := dev.Info()
	t.Logf("%v, %d copy engines", i, i.CopyEngines)
	if i.Name == "" || i.TotalMemory == 0 || i.DriverVersion < MinDriverVersion {
		t.Errorf("implausible info %+v", i)
	}
}

// TestGPUMemory: the free memory the driver reports drops by about an allocation's size.
func TestGPUMemory(t *testing.T) {
	dev := openGPU(t)
	free, total, err := dev.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if total != dev.Info().TotalMemory || free == 0 || free > total {
		t.Fatalf("free %d of %d bytes (device total %d)", free, total, dev.Info().TotalMemory)
	}
	const size = 256 << 20
	buf, err := dev.Alloc(size)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	after, _, err := dev.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if d := int64(free) - int64(after); d < size || d > 2*size {
		t.Errorf("free memory dropped by %d bytes after a %d-byte allocation", d, size)
	}
}

func TestGPUOutOfMemoryError(t *testing.T) {
	dev := openGPU(t)
	_, err := dev.Alloc(1 << 62)
	if err == nil || !strings.Contains(err.Error(), "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)") {
		t.Errorf("huge allocation: %v", err)
	}
}

// TestGPUCopy2D round-trips a pitched image through device memory with another pitch.
func TestGPUCopy2D(t *testing.T) {
	dev := openGPU(t)
	s, err := dev.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	const w, h, hp, dp = 1921 * 3, 7, 1921*3 + 13, 6144
	src := make([]byte, hp*h)
	for i := range src {
		src[i] = byte(rand.IntN(256))
	}
	buf, err := dev.Alloc(dp * h)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	pinned, err := dev.AllocHost(hp * h)
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Free()
	if err := dev.Copy2D(Image{Device: buf.Ptr(), Pitch: dp}, Image{Host: src, Pitch: hp}, w, h, s); err != nil {
		t.Fatal(err)
	}
	if err := dev.Copy2D(Image{Host: pinned.Bytes(), Pitch: hp}, Image{Device: buf.Ptr(), Pitch: dp}, w, h, s); err != nil {
		t.Fatal(err)
	}
	if err := s.Synchronize(); err != nil {
		t.Fatal(err)
	}
	got := pinned.Bytes()
	for y := 0; y < h; y++ {
		if string(got[y*hp:y*hp+w]) != string(src[y*hp:y*hp+w]) {
			t.Fatalf("row %d differs after the round trip", y)
		}
	}
}

// TestGPUKernelsMatchHost runs every runtime kernel and compares with frame.Convert.
func TestGPUKernelsMatchHost(t *testing.T) {
	dev := openGPU(t)
	k, err := dev.Kernels()
	if err != nil {
		t.Fatal(err)
	}
	s, err := dev.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	const w, h = 67, 5
	run := func(name string, srcF, dstF frame.Format, fill func(*frame.Frame), launch func(dst, src Pitched) error) {
		t.Helper()
		src := frame.NewWithPitch(srcF, srcF.RowBytes()+5)
		fill(src)
		want := frame.New(dstF)
		if err := frame.Convert(want, src); err != nil {
			t.Fatal(err)
		}
		sp, dp := 1024, 2048
		sb, err := dev.Alloc(sp * h)
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Free()
		db, err := dev.Alloc(dp * h)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Free()
		if err := dev.Copy2D(Image{Device: sb.Ptr(), Pitch: sp}, Image{Host: src.Data, Pitch: src.Pitch}, srcF.RowBytes(), h, s); err != nil {
			t.Fatal(err)
		}
		if err := launch(Pitched{db.Ptr(), dp}, Pitched{sb.Ptr(), sp}); err != nil {
			t.Fatal(err)
		}
		got := frame.New(dstF)
		if err := dev.Copy2D(Image{Host: got.Data, Pitch: got.Pitch}, Image{Device: db.Ptr(), Pitch: dp}, dstF.RowBytes(), h, s); err != nil {
			t.Fatal(err)
		}
		if err := s.Synchronize(); err != nil {
			t.Fatal(err)
		}
		if !frame.Equal(got, want) {
			t.Errorf("%s: device result differs from frame.Convert", name)
		}
	}
	randomU8 := func(f *frame.Frame) {
		for i := range f.Data {
			f.Data[i] = byte(rand.IntN(256))
		}
	}
	specials := []float32{0, -0.0, 1, -1, 2, 0.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 127.5 / 255, 1.0 / 510, 254.5 / 255}
	floats := func(f *frame.Frame) {
		for y := 0; y < f.Height; y++ {
			row := f.Float32Row(y)
			for i := range row {
				if i < len(specials) && y == 0 {
					row[i] = specials[i]
				} else if y == 1 {
					row[i] = (float32(i%256) + 0.5) / 255 // every tie
				} else {
					row[i] = rand.Float32()*1.2 - 0.1
				}
			}
		}
	}
	rgbU8, rgbaU8 := frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.U8}, frame.Format{Width: w, Height: h, Channels: 4, Elem: frame.U8}
	rgbF32 := frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.F32}
	run("u8->f32", rgbU8, rgbF32, randomU8, func(d, s2 Pitched) error { return k.U8ToF32(d, s2, w*3, h, s) })
	run("f32->u8", rgbF32, rgbU8, floats, func(d, s2 Pitched) error { return k.F32ToU8(d, s2, w*3, h, s) })
	run("rgb->rgba", rgbU8, rgbaU8, randomU8, func(d, s2 Pitched) error { return k.RGBToRGBA(d, s2, w, h, s) })
	run("rgba->rgb", rgbaU8, rgbU8, randomU8, func(d, s2 Pitched) error { return k.RGBAToRGB(d, s2, w, h, s) })
}

func TestGPUBandwidth(t *testing.T) {
	dev := openGPU(t)
	bw, err := dev.MeasureBandwidth(1920*1080*3, 50)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pinned 1080p RGB u8: upload %.3f ms (%.1f GB/s), download %.3f ms (%.1f GB/s)", bw.HostToDevMS, bw.HostToDevGBs(), bw.DevToHostMS, bw.DevToHostGBs())
}
