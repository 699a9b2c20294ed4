/*
 * invert.c -- "Invert Colors", the C twin of the invert pipeline in Scope's plugin guide.
 *
 * A video pipeline that takes one input frame per call and writes
 *
 *     out = round(v * (1 - intensity) + (255 - v) * intensity)
 *
 * for every colour sample v (alpha, when there is one, is copied). intensity = 1 (the default)
 * gives exactly 255 - v, intensity = 0 gives exactly v.
 *
 * A fast reference: at intensity 1 and 0 the row loop is a plain `255 - v` (written v ^ 0xFF)
 * or a copy over `restrict` rows, which the compiler vectorises because the ABI promises that
 * input and output never overlap and that rows are 64-byte aligned. Other intensities map
 * bytes through a 256-entry table that prepare() builds when intensity changes (tables do not
 * vectorise: about 7x slower). call() splits its rows across the host's thread pool with
 * scope_parallel_for, so it uses every core without starting a thread.
 *
 * Frames: u8, 1, 3 or 4 channels, host memory, any row pitch on input and output.
 */
#include <scope/plugin.h>

#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------
 * Descriptor
 * ------------------------------------------------------------------------------------------- */

/* Video mode only: one frame per call, output the size of the input. */
static const scope_mode_desc invert_modes[] = {
    SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1),
};

/* The intensity slider, as in the guide's "Adding UI Parameters" (order 1, label "Intensity").
 * Written out because SCOPE_FLOAT_PARAM cannot set `order`. */
static const scope_param_desc invert_params[] = {
    { .struct_size = sizeof(scope_param_desc),
      .type = SCOPE_PARAM_FLOAT,
      .key = "intensity",
      .label = "Intensity",
      .description = "How strongly to invert the colors (0 = original, 1 = fully inverted)",
      .category = SCOPE_CATEGORY_CONFIGURATION,
      .order = 1,
      .min_value = 0.0,
      .max_value = 1.0,
      .default_number = 1.0 },
};

static scope_status invert_create(const scope_host *host, const scope_create_args *args,
                                  void **out_instance, scope_error *err);
static void invert_destroy(void *instance);
static scope_status invert_prepare(void *instance, const scope_prepare_args *args,
                                   scope_requirements *out, scope_error *err);
static scope_status invert_call(void *instance, const scope_call *call, scope_error *err);

/* The library's one pipeline. */
static const scope_pipeline_desc invert_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "invert",
      .name = "Invert Colors",
      .description = "Inverts the colors of input video frames",
      .modes = invert_modes,
      .mode_count = SCOPE_COUNTOF(invert_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = invert_params,
      .param_count = SCOPE_COUNTOF(invert_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = invert_create,
      .destroy = invert_destroy,
      .prepare = invert_prepare,
      .call = invert_call },
};

/* ---------------------------------------------------------------------------------------------
 * Instance
 * ------------------------------------------------------------------------------------------- */

/* Index of the intensity parameter in invert_params (parameters are read by index). */
enum { INVERT_INTENSITY = 0 };

/* Rows per range of scope_parallel_for: about 64 KiB of a 1080p RGB frame, so a range's work
 * dwarfs the cost of handing it to a worker. */
enum { INVERT_GRAIN_BYTES = 64 * 1024 };

/* One instance: the host (for its thread pool), the lookup table and the intensity it was
 * built for. create() builds the table, so every call() finds a valid one. */
typedef struct invert_instance {
    const scope_host *host;
    double intensity;   /* intensity the table was built for */
    uint8_t table[256]; /* table[v] = inverted v */
} invert_instance;

static void invert_build_table(uint8_t table[256], double intensity);

/* Clamps an intensity to 0..1 (NaN to 0). */
static double invert_clamp(double intensity)
{
    if (!(intensity >= 0.0)) return 0.0;
    return intensity > 1.0 ? 1.0 : intensity;
}

/* Allocates an instance with the table for the intensity it is created with. */
static scope_status invert_create(const scope_host *host, const scope_create_args *args,
                                  void **out_instance, scope_error *err)
{
    invert_instance *self = (invert_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "invert: out of memory");
    self->host = host;
    self->intensity = invert_clamp(scope_param_float(args->params, INVERT_INTENSITY));
    invert_build_table(self->table, self->intensity);
    *out_instance = self;
    return SCOPE_OK;
}

/* Frees an instance. */
static void invert_destroy(void *instance)
{
    free(instance);
}

/* Fills table[] for `intensity` (0..1): v*(1-i) + (255-v)*i rounded half away from zero.
 * Every term is >= 0, so adding 0.5 and truncating rounds correctly (and needs no libm).
 * Exact at the ends: i = 0 gives v, i = 1 gives 255 - v. */
static void invert_build_table(uint8_t table[256], double intensity)
{
    int v;
    for (v = 0; v < 256; v++) {
        double x = (double)v * (1.0 - intensity) + (double)(255 - v) * intensity;
        long r = (long)(x + 0.5);
        table[v] = (uint8_t)(r > 255 ? 255 : r);
    }
}

/* Reads intensity, rebuilds the table when it changed, and asks for one u8 host frame whose
 * format the output copies. Rejects channel counts other than 1, 3 and 4. */
static scope_status invert_prepare(void *instance, const scope_prepare_args *args,
                                   scope_requirements *out, scope_error *err)
{
    invert_instance *self = (invert_instance *)instance;
    double intensity = invert_clamp(scope_param_float(args->params, INVERT_INTENSITY));

    if (args->input_port_count >= 1 && args->input_formats) {
        scope_status status = scope_format_check(args->input_formats[0], 0, "invert", "input", err);
        if (status != SCOPE_OK) return status;
    }
    if (intensity != self->intensity) {
        invert_build_table(self->table, intensity);
        self->intensity = intensity;
    }

    out->input_size = 1;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* 255 - v for n bytes. 255 - v == v ^ 0xFF for a byte, and with restrict rows the compiler
 * turns this into 16 (SSE2) or 32 (AVX2) bytes per instruction. */
static void invert_bytes(const uint8_t *restrict src, uint8_t *restrict dst, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) dst[i] = (uint8_t)(src[i] ^ 0xFFu);
}

/* 255 - v for the RGB of `width` RGBA pixels, alpha copied: one XOR of each little-endian
 * 32-bit pixel with 0x00FFFFFF (memcpy keeps it free of aliasing and alignment rules and
 * compiles to plain loads and stores). */
static void invert_rgba(const uint8_t *restrict src, uint8_t *restrict dst, uint32_t width)
{
    uint32_t x, px;
    for (x = 0; x < width; x++) {
        memcpy(&px, src + 4 * (size_t)x, 4);
        px ^= 0x00FFFFFFu;
        memcpy(dst + 4 * (size_t)x, &px, 4);
    }
}

/* Maps n bytes through `table` (intensities strictly between 0 and 1). */
static void invert_map_bytes(const uint8_t *restrict table, const uint8_t *restrict src,
                             uint8_t *restrict dst, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) dst[i] = table[src[i]];
}

/* Maps the RGB of `width` RGBA pixels through `table` and copies their alpha. */
static void invert_map_rgba(const uint8_t *restrict table, const uint8_t *restrict src,
                            uint8_t *restrict dst, uint32_t width)
{
    uint32_t x;
    for (x = 0; x < width; x++, src += 4, dst += 4) {
        dst[0] = table[src[0]];
        dst[1] = table[src[1]];
        dst[2] = table[src[2]];
        dst[3] = src[3];
    }
}

/* One call's work, shared by the ranges of scope_parallel_for. */
typedef struct invert_job {
    const invert_instance *self;
    const scope_frame *in;
    scope_frame *out;
} invert_job;

/* Inverts rows [begin, end) of the job (each side stepped by its own pitch). */
static void invert_rows(void *ctx, uint32_t begin, uint32_t end)
{
    const invert_job *job = (const invert_job *)ctx;
    const scope_frame *in = job->in;
    const uint8_t *table = job->self->table;
    double intensity = job->self->intensity;
    size_t n = (size_t)in->width * in->channels;
    uint32_t y;
    for (y = begin; y < end; y++) {
        const uint8_t *src = scope_frame_row(in, y);
        uint8_t *dst = scope_frame_row(job->out, y);
        if (intensity == 0.0) memcpy(dst, src, n);
        else if (intensity == 1.0 && in->channels == 4) invert_rgba(src, dst, in->width);
        else if (intensity == 1.0) invert_bytes(src, dst, n);
        else if (in->channels == 4) invert_map_rgba(table, src, dst, in->width);
        else invert_map_bytes(table, src, dst, n);
    }
}

/* Inverts the one input frame into the output, its rows split across the host's workers. The
 * output must have the input's size and channel count. */
static scope_status invert_call(void *instance, const scope_call *call, scope_error *err)
{
    invert_job job;
    scope_status status;
    size_t row_bytes;

    job.self = (const invert_instance *)instance;
    job.out = call->output;
    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1 || !call->inputs[0].frames) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert: no input frame");
    }
    /* With input_size 1 there is one frame; if the host sends more, the newest is last. The
     * list holds pointers to frames (scope_frame_check rejects a NULL one). */
    job.in = call->inputs[0].frames[call->inputs[0].count - 1];
    if ((status = scope_frame_check(job.in, SCOPE_ELEMENT_U8, "invert", "input", err)) != SCOPE_OK) return status;
    if ((status = scope_frame_check(job.out, SCOPE_ELEMENT_U8, "invert", "output", err)) != SCOPE_OK) return status;
    if (job.in->width != job.out->width || job.in->height != job.out->height || job.in->channels != job.out->channels) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT,
                               "invert: output %ux%u with %u channels does not match input %ux%u with %u channels",
                               (unsigned)job.out->width, (unsigned)job.out->height, (unsigned)job.out->channels,
                               (unsigned)job.in->width, (unsigned)job.in->height, (unsigned)job.in->channels);
    }
    row_bytes = (size_t)job.in->width * job.in->channels;
    scope_parallel_for(job.self->host, job.in->height,
                       (uint32_t)(INVERT_GRAIN_BYTES / (row_bytes ? row_bytes : 1) + 1), invert_rows, &job);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Plugin
 * ------------------------------------------------------------------------------------------- */

/* The plugin table and the exported scope_plugin_entry. No unregister_pipelines (nothing to
 * release), no extensions. */
SCOPE_DEFINE_PLUGIN("scope-example-invert", "1.0.0",
                    "Invert Colors: the C version of the video pipeline in Scope's plugin guide",
                    invert_pipelines)
