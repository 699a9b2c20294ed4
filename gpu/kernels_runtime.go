package gpu

import (
	"fmt"
	"sync"

	"github.com/scopenative/scope/gpu/kernels"
)

// Kernels are the host's runtime kernels (gpu/kernels), loaded into one device's primary
// context. Their methods are safe for concurrent use.
type Kernels struct {
	mod                                    *Module
	u8ToF32, f32ToU8, rgbToRGBA, rgbaToRGB Function

	mu   sync.Mutex
	args *Args
}

// ErrKernelsNotBuilt is returned by Kernels when the binary embeds no generated PTX.
var ErrKernelsNotBuilt = fmt.Errorf("runtime kernels not built: run go generate ./gpu/kernels (clang with the NVPTX backend, or nvcc)")

// Kernels loads the runtime kernels into the device's primary context on first use (the
// calling goroutine must hold a Bind) and returns them; later calls return the same.
func (dev *Device) Kernels() (*Kernels, error) {
	dev.kernelsOnce.Do(func() {
		if !kernels.Built() {
			dev.kernelsErr = ErrKernelsNotBuilt
			return
		}
		m, err := dev.LoadModule([]byte(kernels.PTX))
		if err != nil {
			dev.kernelsErr = fmt.Errorf("load runtime kernels: %w", err)
			return
		}
		k := &Kernels{mod: m, args: NewArgs()}
		for _, f := range []struct {
			name string
			dst  *Function
		}{{kernels.U8ToF32, &k.u8ToF32}, {kernels.F32ToU8, &k.f32ToU8}, {kernels.RGBToRGBA, &k.rgbToRGBA}, {kernels.RGBAToRGB, &k.rgbaToRGB}} {
			if *f.dst, err = m.Function(f.name); err != nil {
				m.Unload()
				dev.kernelsErr = fmt.Errorf("load runtime kernels: %w", err)
				return
			}
		}
		dev.mu.Lock()
		dev.kernels = k
		dev.mu.Unlock()
	})
	return dev.kernels, dev.kernelsErr
}

// Pitched is a pitched image in device memory.
type Pitched struct {
	Ptr   DevicePtr
	Pitch int
}

// kernelBlock is the block shape of every runtime kernel.
var kernelBlock = Dim3{X: 32, Y: 8, Z: 1}

func (k *Kernels) launch(f Function, dst, src Pitched, count, height int, s *Stream) error {
	if count <= 0 || height <= 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.args.Reset().Ptr(src.Ptr).I64(int64(src.Pitch)).Ptr(dst.Ptr).I64(int64(dst.Pitch)).U32(uint32(count)).U32(uint32(height))
	return f.Launch(GridFor(count, height, kernelBlock), kernelBlock, 0, s, k.args)
}

// U8ToF32 enqueues dst = src / 255 for height rows of `elems` samples (width * channels).
func (k *Kernels) U8ToF32(dst, src Pitched, elems, height int, s *Stream) error {
	return k.launch(k.u8ToF32, dst, src, elems, height, s)
}

// F32ToU8 enqueues dst = round(clamp(src, 0, 1) * 255) for height rows of `elems` samples.
func (k *Kernels) F32ToU8(dst, src Pitched, elems, height int, s *Stream) error {
	return k.launch(k.f32ToU8, dst, src, elems, height, s)
}

// RGBToRGBA enqueues the u8 RGB -> RGBA (alpha 255) conversion of width x height pixels.
func (k *Kernels) RGBToRGBA(dst, src Pitched, width, height int, s *Stream) error {
	return k.launch(k.rgbToRGBA, dst, src, width, height, s)
}

// RGBAToRGB enqueues the u8 RGBA -> RGB conversion (alpha dropped) of width x height pixels.
func (k *Kernels) RGBAToRGB(dst, src Pitched, width, height int, s *Stream) error {
	return k.launch(k.rgbaToRGB, dst, src, width, height, s)
}
