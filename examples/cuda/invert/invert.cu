/*
 * invert.cu -- "Invert Colors (CUDA)": the invert example on frames in GPU memory.
 *
 * Same parameter and the same bytes as examples/c/invert: prepare() builds the 256-entry
 * table with the CPU plugin's formula (round(v * (1 - i) + (255 - v) * i), half away from
 * zero), and call() passes it to the kernel by value (kernel parameters live in constant
 * memory); each block copies it into shared memory and maps every colour byte through it
 * (alpha, when there is one, is copied).
 *
 * Frames: u8, 1, 3 or 4 channels, SCOPE_MEMORY_CUDA in and out, any row pitch. The kernel is
 * enqueued on the stream the host passes in the frame (scope_frame.cuda_stream); the plugin
 * never synchronizes: the host orders its uploads and downloads around that stream. The host
 * makes the device's primary context current before calling, which the CUDA runtime API
 * uses.
 */
#include <scope/plugin.h>

#include <cuda_runtime.h>
#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------
 * Kernel
 * ------------------------------------------------------------------------------------------- */

/* The lookup table, passed by value. */
struct invert_table {
    unsigned int words[64]; /* 256 bytes */
};

/* Maps rows [blockIdx.y, blockIdx.y + gridDim.y, ...) of row_bytes bytes; every thread does 4
 * consecutive bytes per step. With 4 channels every 4th byte (alpha) is copied. */
__global__ void invert_kernel(const unsigned char *src, long long src_pitch, unsigned char *dst,
                              long long dst_pitch, unsigned row_bytes, unsigned height,
                              unsigned channels, invert_table table)
{
    __shared__ unsigned int t32[64];
    const unsigned char *t = (const unsigned char *)t32;
    unsigned tid = threadIdx.x;
    if (tid < 64) t32[tid] = table.words[tid];
    __syncthreads();
    unsigned x0 = (blockIdx.x * blockDim.x + tid) * 4;
    if (x0 >= row_bytes) return;
    for (unsigned y = blockIdx.y; y < height; y += gridDim.y) {
        const unsigned char *s = src + (long long)y * src_pitch;
        unsigned char *d = dst + (long long)y * dst_pitch;
        for (unsigned x = x0; x < x0 + 4 && x < row_bytes; x++) {
            unsigned char v = s[x];
            d[x] = (channels == 4 && (x & 3) == 3) ? v : t[v];
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Descriptor (positional initializers: this file is C++)
 * ------------------------------------------------------------------------------------------- */

static const scope_mode_desc invert_modes[] = {
    {sizeof(scope_mode_desc), SCOPE_MODE_VIDEO, 1, 0, 0, 1},
};

static const scope_param_desc invert_params[] = {
    {sizeof(scope_param_desc), SCOPE_PARAM_FLOAT, "intensity", "Intensity",
     "How strongly to invert the colors (0 = original, 1 = fully inverted)", 0,
     SCOPE_CATEGORY_CONFIGURATION, 1, 0, 0.0, 1.0, 0.0, 1.0, NULL, NULL, 0, {0, 0, 0, 0}, 0},
};

static scope_status invert_create(const scope_host *, const scope_create_args *, void **, scope_error *);
static void invert_destroy(void *);
static scope_status invert_prepare(void *, const scope_prepare_args *, scope_requirements *, scope_error *);
static scope_status invert_call(void *, const scope_call *, scope_error *);

static const scope_pipeline_desc invert_pipelines[] = {
    {sizeof(scope_pipeline_desc), 0, "invert-cuda", "Invert Colors (CUDA)",
     "Inverts the colors of input video frames on the GPU", NULL, NULL, NULL,
     invert_modes, SCOPE_COUNTOF(invert_modes), SCOPE_MEMORY_CUDA,
     invert_params, SCOPE_COUNTOF(invert_params), SCOPE_THREADING_INSTANCE, NULL, 0, 0,
     invert_create, invert_destroy, invert_prepare, invert_call},
};

/* ---------------------------------------------------------------------------------------------
 * Instance
 * ------------------------------------------------------------------------------------------- */

typedef struct invert_instance {
    int prepared;
    int device;        /* CUDA device ordinal the host runs */
    double intensity;  /* intensity the table was built for */
    invert_table table;
} invert_instance;

static scope_status invert_create(const scope_host *host, const scope_create_args *args,
                                  void **out_instance, scope_error *err)
{
    invert_instance *self;
    (void)host;
    if (args->cuda_device < 0)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: the host runs no CUDA device");
    self = (invert_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "invert-cuda: out of memory");
    self->device = args->cuda_device;
    *out_instance = self;
    return SCOPE_OK;
}

static void invert_destroy(void *instance) { free(instance); }

/* The CPU plugin's table, byte for byte (examples/c/invert/invert.c). */
static void invert_build_table(unsigned char table[256], double intensity)
{
    for (int v = 0; v < 256; v++) {
        double x = (double)v * (1.0 - intensity) + (double)(255 - v) * intensity;
        long r = (long)(x + 0.5);
        table[v] = (unsigned char)(r > 255 ? 255 : r);
    }
}

static scope_status invert_prepare(void *instance, const scope_prepare_args *args,
                                   scope_requirements *out, scope_error *err)
{
    invert_instance *self = (invert_instance *)instance;
    double intensity = scope_params_float(args->params, "intensity", 1.0);
    if (args->input_port_count >= 1 && args->input_formats) {
        scope_status status = scope_format_check(args->input_formats[0], 0, "invert-cuda", "input", err);
        if (status != SCOPE_OK) return status;
    }
    if (!(intensity >= 0.0)) intensity = 0.0;
    if (intensity > 1.0) intensity = 1.0;
    if (!self->prepared || intensity != self->intensity) {
        invert_build_table((unsigned char *)self->table.words, intensity);
        self->intensity = intensity;
    }
    self->prepared = 1;
    out->input_size = 1;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_CUDA;
    out->output_memory = SCOPE_MEMORY_CUDA;
    return SCOPE_OK;
}

/* Checks a frame the host passed: u8, 1/3/4 channels, CUDA memory on our device, a stream. */
static scope_status invert_check(const invert_instance *self, const scope_frame *f, const char *what, scope_error *err)
{
    if (!f || !f->data) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: %s frame is missing", what);
    if (f->memory != SCOPE_MEMORY_CUDA)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: %s must be in CUDA memory", what);
    if (f->cuda_device != self->device)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: %s is on device %d, not %d", what, (int)f->cuda_device, self->device);
    if (!f->cuda_stream)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: %s has no stream", what);
    if (f->element_type != SCOPE_ELEMENT_U8)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: %s must be u8", what);
    if (f->channels != 1 && f->channels != 3 && f->channels != 4)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: %s must have 1, 3 or 4 channels", what);
    return SCOPE_OK;
}

static scope_status invert_call(void *instance, const scope_call *call, scope_error *err)
{
    const invert_instance *self = (const invert_instance *)instance;
    const scope_frame *in;
    scope_frame *out = call->output;
    scope_status status;
    if (!self->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "invert-cuda: call() before a successful prepare()");
    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1 || !call->inputs[0].frames)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: no input frame");
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    if ((status = invert_check(self, in, "input", err)) != SCOPE_OK) return status;
    if ((status = invert_check(self, out, "output", err)) != SCOPE_OK) return status;
    if (in->width != out->width || in->height != out->height || in->channels != out->channels)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: output does not match the input");

    unsigned row_bytes = in->width * in->channels;
    dim3 block(256);
    dim3 grid((row_bytes + 4 * 256 - 1) / (4 * 256), in->height < 1024 ? in->height : 1024);
    invert_kernel<<<grid, block, 0, (cudaStream_t)in->cuda_stream>>>(
        (const unsigned char *)in->data, in->pitch, (unsigned char *)out->data, out->pitch,
        row_bytes, in->height, in->channels, self->table);
    cudaError_t e = cudaGetLastError(); /* launch errors only: never synchronize */
    if (e != cudaSuccess)
        return scope_error_set(err, SCOPE_ERROR_CUDA, "invert-cuda: kernel launch: %s (%s)", cudaGetErrorName(e), cudaGetErrorString(e));
    return SCOPE_OK;
}

SCOPE_DEFINE_PLUGIN("scope-example-invert-cuda", "1.0.0",
                    "Invert Colors on the GPU: the CUDA version of the invert example",
                    invert_pipelines)
