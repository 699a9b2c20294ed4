/*
 * fake-cuda.c -- a test plugin that declares SCOPE_MEMORY_CUDA only, for hosts whose "device"
 * is a test double keeping device frames in host memory (engine tests without a GPU). It must
 * never run with a real GPU: it reads frame data directly.
 *
 * "invert-cuda": out = table[v] as the CPU invert computes it (intensity 0..1). With f32=true it
 * asks for f32 frames instead and writes 1 - v, so the host has to convert on the "device".
 * call() fails unless every frame is CUDA memory with a stream and a device ordinal >= 0.
 */
#include <scope/plugin.h>

#include <stdlib.h>

static const scope_mode_desc modes[] = { SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1) };

static const scope_param_desc params[] = {
    SCOPE_FLOAT_PARAM("intensity", "Intensity", "How strongly to invert", 1.0, 0.0, 1.0),
    SCOPE_BOOL_PARAM("f32", "Float frames", "Ask for f32 frames", 0),
};

typedef struct fake {
    int prepared, f32, device;
    uint8_t table[256];
} fake;

static scope_status fake_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err)
{
    fake *self;
    (void)host;
    if (args->cuda_device < 0) return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: the host has no CUDA device");
    self = (fake *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "invert-cuda: out of memory");
    self->device = args->cuda_device;
    *out = self;
    return SCOPE_OK;
}

static void fake_destroy(void *instance) { free(instance); }

static scope_status fake_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out, scope_error *err)
{
    fake *self = (fake *)instance;
    double intensity = scope_params_float(args->params, "intensity", 1.0);
    int v;
    (void)err;
    for (v = 0; v < 256; v++) {
        double x = (double)v * (1.0 - intensity) + (double)(255 - v) * intensity;
        long r = (long)(x + 0.5);
        self->table[v] = (uint8_t)(r > 255 ? 255 : r);
    }
    self->f32 = scope_params_bool(args->params, "f32", 0);
    self->prepared = 1;
    out->input_size = 1;
    out->input_memory = SCOPE_MEMORY_CUDA;
    out->output_memory = SCOPE_MEMORY_CUDA;
    out->input_element_type = self->f32 ? SCOPE_ELEMENT_F32 : SCOPE_ELEMENT_U8;
    out->output_element_type = self->f32 ? SCOPE_ELEMENT_F32 : SCOPE_ELEMENT_U8;
    return SCOPE_OK;
}

static scope_status check(const fake *self, const scope_frame *f, const char *what, scope_error *err)
{
    if (!f || !f->data) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: no %s frame", what);
    if (f->memory != SCOPE_MEMORY_CUDA) return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: %s is not CUDA memory", what);
    if (!f->cuda_stream) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: %s has no stream", what);
    if (f->cuda_device != self->device) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: %s on device %d", what, (int)f->cuda_device);
    if (f->element_type != (uint32_t)(self->f32 ? SCOPE_ELEMENT_F32 : SCOPE_ELEMENT_U8))
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "invert-cuda: %s has element type %u", what, (unsigned)f->element_type);
    return SCOPE_OK;
}

static scope_status fake_call(void *instance, const scope_call *call, scope_error *err)
{
    const fake *self = (const fake *)instance;
    const scope_frame *in;
    scope_frame *out = call->output;
    scope_status st;
    uint32_t x, y;
    if (!self->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "invert-cuda: not prepared");
    if (call->input_port_count < 1 || call->inputs[0].count < 1) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: no input");
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    if ((st = check(self, in, "input", err)) != SCOPE_OK) return st;
    if ((st = check(self, out, "output", err)) != SCOPE_OK) return st;
    if (in->width != out->width || in->height != out->height || in->channels != out->channels)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert-cuda: output does not match input");
    for (y = 0; y < in->height; y++) {
        uint32_t n = in->width * in->channels;
        if (self->f32) {
            const float *s = (const float *)scope_frame_row(in, y);
            float *d = (float *)scope_frame_row(out, y);
            for (x = 0; x < n; x++) d[x] = 1.0f - s[x];
        } else {
            const uint8_t *s = scope_frame_row(in, y);
            uint8_t *d = scope_frame_row(out, y);
            for (x = 0; x < n; x++) d[x] = (in->channels == 4 && x % 4 == 3) ? s[x] : self->table[s[x]];
        }
    }
    return SCOPE_OK;
}

static const scope_pipeline_desc pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc), .id = "invert-cuda", .name = "Invert Colors (fake CUDA)",
      .description = "Test double of the CUDA invert: reads device frames as host memory",
      .modes = modes, .mode_count = SCOPE_COUNTOF(modes), .memory = SCOPE_MEMORY_CUDA,
      .params = params, .param_count = SCOPE_COUNTOF(params), .threading = SCOPE_THREADING_INSTANCE,
      .create = fake_create, .destroy = fake_destroy, .prepare = fake_prepare, .call = fake_call },
};

SCOPE_DEFINE_PLUGIN("scope-test-fake-cuda", "1.0.0", "Fake CUDA invert for tests", pipelines)
