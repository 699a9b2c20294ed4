// Package kernels embeds the PTX of the host's runtime kernels (kernels.cu in this folder):
// u8 <-> f32 normalization and RGB <-> RGBA on pitched images in device memory. Package gpu
// loads it once per device (gpu.Device.Kernels).
//
// The PTX targets sm_70 with PTX ISA 6.0, which the driver JIT-compiles for the GPU it runs on
// (Volta and newer). It is generated with clang's NVPTX backend, which needs no CUDA SDK:
//
//	clang -x cuda --cuda-device-only --cuda-gpu-arch=sm_70 -nocudainc -nocudalib -O3 \
//	    -ffp-contract=off -S -o kernels.ptx kernels.cu
//
// or, with the CUDA toolkit, nvcc -ptx -arch=compute_70 --fmad=false -O3 -o kernels.ptx
// kernels.cu (see README.md).
package kernels

import (
	_ "embed"
	"strings"
)

//go:generate sh -c "${CLANG:-clang} -x cuda --cuda-device-only --cuda-gpu-arch=sm_70 -nocudainc -nocudalib -O3 -ffp-contract=off -S -o kernels.ptx kernels.cu"

// PTX is the text of kernels.ptx.
//
//go:embed kernels.ptx
var PTX string

// Names of the kernels in PTX, all with the signature
// (const src*, int64 src_pitch, dst*, int64 dst_pitch, uint32 count, uint32 height), where
// count is elements per row for the element conversions and pixels per row for the channel
// conversions.
const (
	U8ToF32   = "scope_u8_to_f32"
	F32ToU8   = "scope_f32_to_u8"
	RGBToRGBA = "scope_rgb_to_rgba_u8"
	RGBAToRGB = "scope_rgba_to_rgb_u8"
)

// Built reports whether kernels.ptx holds generated PTX (every kernel above is defined).
func Built() bool {
	for _, k := range []string{U8ToF32, F32ToU8, RGBToRGBA, RGBAToRGB} {
		if !strings.Contains(PTX, ".entry "+k+"(") {
			return false
		}
	}
	return true
}
