/*
 * crossfade.c -- "Crossfade", a mixer: a video pipeline with two input ports, "a" and "b",
 * and a `mix` slider. For every sample (alpha included)
 *
 *     w   = round(mix * 256)                     (0..256)
 *     out = (a * (256 - w) + b * w + 128) >> 8
 *
 * so mix = 0 gives exactly a, mix = 1 exactly b, and every value in between is exact integer
 * arithmetic (the same on every machine: a test compares it byte for byte).
 *
 * A graph feeds both ports (scope run --graph FILE, or scope run crossfade -i A --mix B); the
 * host converts both inputs to one format, and they must have the same size.
 *
 * Frames: u8, 1, 3 or 4 channels, host memory, any row pitch.
 */
#include <scope/plugin.h>

#include <stdlib.h>

/* Video mode only: one frame per port per call, output the size of port a. */
static const scope_mode_desc crossfade_modes[] = {
    SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1),
};

/* The two ports, in the order call() receives them. */
static const char *const crossfade_ports[] = {"a", "b"};

static const scope_param_desc crossfade_params[] = {
    { .struct_size = sizeof(scope_param_desc),
      .type = SCOPE_PARAM_FLOAT,
      .key = "mix",
      .label = "Mix",
      .description = "How much of input b (0 = only a, 1 = only b)",
      .category = SCOPE_CATEGORY_CONFIGURATION,
      .order = 1,
      .min_value = 0.0,
      .max_value = 1.0,
      .default_number = 0.5 },
};

static scope_status crossfade_create(const scope_host *host, const scope_create_args *args,
                                     void **out_instance, scope_error *err);
static void crossfade_destroy(void *instance);
static scope_status crossfade_prepare(void *instance, const scope_prepare_args *args,
                                      scope_requirements *out, scope_error *err);
static scope_status crossfade_call(void *instance, const scope_call *call, scope_error *err);

static const scope_pipeline_desc crossfade_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "crossfade",
      .name = "Crossfade",
      .description = "Mixes two inputs: a * (1 - mix) + b * mix",
      .modes = crossfade_modes,
      .mode_count = SCOPE_COUNTOF(crossfade_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = crossfade_params,
      .param_count = SCOPE_COUNTOF(crossfade_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .input_ports = crossfade_ports,
      .input_port_count = SCOPE_COUNTOF(crossfade_ports),
      .create = crossfade_create,
      .destroy = crossfade_destroy,
      .prepare = crossfade_prepare,
      .call = crossfade_call },
};

/* One instance: the weight of b, 0..256, from the last prepare(). */
typedef struct crossfade_instance {
    int prepared;
    unsigned w;
} crossfade_instance;

static scope_status crossfade_create(const scope_host *host, const scope_create_args *args,
                                     void **out_instance, scope_error *err)
{
    crossfade_instance *self;
    (void)host;
    (void)args;
    self = (crossfade_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "crossfade: out of memory");
    *out_instance = self;
    return SCOPE_OK;
}

static void crossfade_destroy(void *instance)
{
    free(instance);
}

/* Reads mix and asks for both inputs as u8 in the format of port a. */
static scope_status crossfade_prepare(void *instance, const scope_prepare_args *args,
                                      scope_requirements *out, scope_error *err)
{
    crossfade_instance *self = (crossfade_instance *)instance;
    double mix = scope_params_float(args->params, "mix", 0.5);
    uint32_t i;

    if (args->input_port_count < 2 || !args->input_formats) {
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED,
                               "crossfade needs 2 inputs (ports a, b); it got %u: connect both in a graph "
                               "(scope run --graph FILE, or scope run crossfade -i A --mix B)",
                               (unsigned)args->input_port_count);
    }
    for (i = 0; i < 2; i++) {
        scope_status status = scope_format_check(args->input_formats[i], 0, "crossfade", i ? "input b" : "input a", err);
        if (status != SCOPE_OK) return status;
    }
    if (!(mix >= 0.0)) mix = 0.0; /* also catches NaN */
    if (mix > 1.0) mix = 1.0;
    self->w = (unsigned)(mix * 256.0 + 0.5);
    self->prepared = 1;

    out->input_size = 1;
    out->input_channels = args->input_formats[0]->channels;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    out->output_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* Blends the newest frame of each port into the output, row by row. */
static scope_status crossfade_call(void *instance, const scope_call *call, scope_error *err)
{
    const crossfade_instance *self = (const crossfade_instance *)instance;
    const scope_frame *a, *b;
    scope_frame *out = call->output;
    scope_status status;
    unsigned w;
    uint32_t y;
    size_t i, n;

    if (!self->prepared) {
        return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "crossfade: call() before a successful prepare()");
    }
    if (call->input_port_count < 2 || !call->inputs || call->inputs[0].count < 1 || call->inputs[1].count < 1) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "crossfade: needs one frame on each of ports a and b");
    }
    a = call->inputs[0].frames[call->inputs[0].count - 1];
    b = call->inputs[1].frames[call->inputs[1].count - 1];
    if ((status = scope_frame_check(a, SCOPE_ELEMENT_U8, "crossfade", "input a", err)) != SCOPE_OK) return status;
    if ((status = scope_frame_check(b, SCOPE_ELEMENT_U8, "crossfade", "input b", err)) != SCOPE_OK) return status;
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "crossfade", "output", err)) != SCOPE_OK) return status;
    if (a->width != b->width || a->height != b->height || a->channels != b->channels ||
        a->width != out->width || a->height != out->height || a->channels != out->channels) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT,
                               "crossfade: inputs a %ux%ux%u and b %ux%ux%u and output %ux%ux%u must have one format",
                               (unsigned)a->width, (unsigned)a->height, (unsigned)a->channels,
                               (unsigned)b->width, (unsigned)b->height, (unsigned)b->channels,
                               (unsigned)out->width, (unsigned)out->height, (unsigned)out->channels);
    }
    w = self->w;
    n = (size_t)a->width * a->channels;
    for (y = 0; y < a->height; y++) {
        const uint8_t *pa = scope_frame_row(a, y), *pb = scope_frame_row(b, y);
        uint8_t *po = scope_frame_row(out, y);
        for (i = 0; i < n; i++) {
            po[i] = (uint8_t)((pa[i] * (256u - w) + pb[i] * w + 128u) >> 8);
        }
    }
    return SCOPE_OK;
}

SCOPE_DEFINE_PLUGIN("scope-example-crossfade", "1.0.0", "Crossfade: a two-input mixer with a mix slider",
                    crossfade_pipelines)
