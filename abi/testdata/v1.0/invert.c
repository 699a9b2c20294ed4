/*
 * invert.c -- "Invert Colors", the C twin of the invert pipeline in Scope's plugin guide.
 *
 * A video pipeline that takes one input frame per call and writes
 *
 *     out = round(v * (1 - intensity) + (255 - v) * intensity)
 *
 * for every colour sample v (alpha, when there is one, is copied). intensity = 1 gives exactly
 * 255 - v, intensity = 0 gives exactly v. prepare() turns the formula into a 256-entry table
 * whenever intensity changes, so call() is one table lookup per byte.
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

/* One instance: the lookup table and the intensity it was built for. */
typedef struct invert_instance {
    int prepared;       /* 1 once prepare() has succeeded */
    double intensity;   /* intensity the table was built for (valid when prepared) */
    uint8_t table[256]; /* table[v] = inverted v */
} invert_instance;

/* Allocates an instance; nothing is computed until the first prepare(). */
static scope_status invert_create(const scope_host *host, const scope_create_args *args,
                                  void **out_instance, scope_error *err)
{
    invert_instance *self;
    (void)host;
    (void)args;
    self = (invert_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "invert: out of memory");
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
    double intensity = scope_params_float(args->params, "intensity", 1.0);

    if (args->input_port_count >= 1 && args->input_formats) {
        scope_status status = scope_format_check(args->input_formats[0], 0, "invert", "input", err);
        if (status != SCOPE_OK) return status;
    }
    if (!(intensity >= 0.0)) intensity = 0.0; /* also catches NaN */
    if (intensity > 1.0) intensity = 1.0;
    if (!self->prepared || intensity != self->intensity) {
        invert_build_table(self->table, intensity);
        self->intensity = intensity;
    }
    self->prepared = 1;

    out->input_size = 1;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* Maps `n` bytes through `table`, eight at a time (the unrolled loop keeps the loads
 * independent so the CPU overlaps them). */
static void invert_map_bytes(const uint8_t *table, const uint8_t *src, uint8_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint8_t a = table[src[i]], b = table[src[i + 1]], c = table[src[i + 2]], d = table[src[i + 3]];
        uint8_t e = table[src[i + 4]], f = table[src[i + 5]], g = table[src[i + 6]], h = table[src[i + 7]];
        dst[i] = a; dst[i + 1] = b; dst[i + 2] = c; dst[i + 3] = d;
        dst[i + 4] = e; dst[i + 5] = f; dst[i + 6] = g; dst[i + 7] = h;
    }
    for (; i < n; i++) dst[i] = table[src[i]];
}

/* Maps the RGB of `width` RGBA pixels through `table` and copies their alpha. */
static void invert_map_rgba(const uint8_t *table, const uint8_t *src, uint8_t *dst, uint32_t width)
{
    uint32_t x;
    for (x = 0; x < width; x++, src += 4, dst += 4) {
        dst[0] = table[src[0]];
        dst[1] = table[src[1]];
        dst[2] = table[src[2]];
        dst[3] = src[3];
    }
}

/* Inverts the one input frame into the output, row by row (each side stepped by its own
 * pitch). The output must have the input's size and channel count. */
static scope_status invert_call(void *instance, const scope_call *call, scope_error *err)
{
    const invert_instance *self = (const invert_instance *)instance;
    const scope_frame *in;
    scope_frame *out = call->output;
    scope_status status;
    uint32_t y;

    if (!self->prepared) {
        return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "invert: call() before a successful prepare()");
    }
    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1 || !call->inputs[0].frames) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "invert: no input frame");
    }
    /* With input_size 1 there is one frame; if the host sends more, the newest is last. The
     * list holds pointers to frames (scope_frame_check rejects a NULL one). */
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    if ((status = scope_frame_check(in, SCOPE_ELEMENT_U8, "invert", "input", err)) != SCOPE_OK) return status;
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "invert", "output", err)) != SCOPE_OK) return status;
    if (in->width != out->width || in->height != out->height || in->channels != out->channels) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT,
                               "invert: output %ux%u with %u channels does not match input %ux%u with %u channels",
                               (unsigned)out->width, (unsigned)out->height, (unsigned)out->channels,
                               (unsigned)in->width, (unsigned)in->height, (unsigned)in->channels);
    }

    for (y = 0; y < in->height; y++) {
        const uint8_t *src = scope_frame_row(in, y);
        uint8_t *dst = scope_frame_row(out, y);
        if (in->channels == 4) {
            invert_map_rgba(self->table, src, dst, in->width);
        } else {
            invert_map_bytes(self->table, src, dst, (size_t)in->width * in->channels);
        }
    }
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
