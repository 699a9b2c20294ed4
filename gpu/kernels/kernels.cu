// kernels.cu -- the runtime kernels of the Scope Native host: format conversions the engine
// runs on frames in device memory, so that a frame crosses PCIe in its smallest form.
//
// Every kernel works on pitched images: row y of an image starts at base + y * pitch bytes.
// Launch with 2D blocks (32 x 8) over (elements or pixels per row) x height.
//
// The results match the host's frame.Convert bit for bit:
//   u8 -> f32   v / 255.0f, one correctly rounded float division (frame: float32(v) / 255)
//   f32 -> u8   clamp to [0, 1], round(v * 255) half to even in double precision (v * 255 is
//               exact in double; the only tie a float can make is 127.5, where half-even and
//               half-up agree); NaN gives 0 (frame.q8)
//   rgb -> rgba alpha 255;  rgba -> rgb drops alpha
//
// Regenerate kernels.ptx with `go generate ./gpu/kernels` (see README.md there). Compile
// without fused multiply-add (-ffp-contract=off / --fmad=false) so results match the CPU.
#if defined(__clang__) && !defined(__global__)
// clang without the CUDA SDK (-nocudainc): declare what the SDK headers would.
#define __global__ __attribute__((global))
#include <__clang_cuda_builtin_vars.h>
#endif

typedef unsigned char u8;
typedef long long i64;

extern "C" __global__ void scope_u8_to_f32(const u8 *src, i64 src_pitch, float *dst, i64 dst_pitch,
                                           unsigned row_elems, unsigned height)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= row_elems || y >= height) return;
    const u8 *s = src + (i64)y * src_pitch;
    float *d = (float *)((u8 *)dst + (i64)y * dst_pitch);
    d[x] = (float)s[x] / 255.0f;
}

extern "C" __global__ void scope_f32_to_u8(const float *src, i64 src_pitch, u8 *dst, i64 dst_pitch,
                                           unsigned row_elems, unsigned height)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= row_elems || y >= height) return;
    const float *s = (const float *)((const u8 *)src + (i64)y * src_pitch);
    u8 *d = dst + (i64)y * dst_pitch;
    double v = (double)s[x] * 255.0;
    u8 r = 0; // negative, zero or NaN
    if (v > 0.0 && v < 255.0) r = (u8)__builtin_rint(v);
    else if (v >= 255.0) r = 255;
    d[x] = r;
}

extern "C" __global__ void scope_rgb_to_rgba_u8(const u8 *src, i64 src_pitch, u8 *dst, i64 dst_pitch,
                                                unsigned width, unsigned height)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const u8 *s = src + (i64)y * src_pitch + 3 * (i64)x;
    u8 *d = dst + (i64)y * dst_pitch + 4 * (i64)x;
    d[0] = s[0];
    d[1] = s[1];
    d[2] = s[2];
    d[3] = 255;
}

extern "C" __global__ void scope_rgba_to_rgb_u8(const u8 *src, i64 src_pitch, u8 *dst, i64 dst_pitch,
                                                unsigned width, unsigned height)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const u8 *s = src + (i64)y * src_pitch + 4 * (i64)x;
    u8 *d = dst + (i64)y * dst_pitch + 3 * (i64)x;
    d[0] = s[0];
    d[1] = s[1];
    d[2] = s[2];
}
