/*
 * color_generator.c -- "Color Generator", the C twin of the text-mode pipeline in Scope's
 * plugin guide.
 *
 * A text-mode pipeline (no video input) that fills every frame with one colour, read from the
 * runtime parameters color_r / color_g / color_b (0..255). The frame size comes from the
 * load-time parameters width / height, given to create() as the guide's __init__(height, width).
 *
 * Output: u8 host memory, 3 channels as asked (4 also handled: alpha 255), any row pitch.
 */
#include <scope/plugin.h>

#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------
 * Descriptor
 * ------------------------------------------------------------------------------------------- */

/* Text mode only: 512x512 by default, no input frames. */
static const scope_mode_desc colorgen_modes[] = {
    SCOPE_MODE(SCOPE_MODE_TEXT, 1, 512, 512, 0),
};

/* Runtime colour components, then the load-time frame size. */
static const scope_param_desc colorgen_params[] = {
    SCOPE_INT_PARAM("color_r", "Red", "Red component", 128, 0, 255),
    SCOPE_INT_PARAM("color_g", "Green", "Green component", 128, 0, 255),
    SCOPE_INT_PARAM("color_b", "Blue", "Blue component", 128, 0, 255),
    SCOPE_INT_LOAD_PARAM("width", "Width", "Width of the generated frames in pixels", 512, 1, 8192),
    SCOPE_INT_LOAD_PARAM("height", "Height", "Height of the generated frames in pixels", 512, 1, 8192),
};

static scope_status colorgen_create(const scope_host *host, const scope_create_args *args,
                                    void **out_instance, scope_error *err);
static void colorgen_destroy(void *instance);
static scope_status colorgen_prepare(void *instance, const scope_prepare_args *args,
                                     scope_requirements *out, scope_error *err);
static scope_status colorgen_call(void *instance, const scope_call *call, scope_error *err);

/* The library's one pipeline. */
static const scope_pipeline_desc colorgen_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "color-generator",
      .name = "Color Generator",
      .description = "Generates solid color frames",
      .modes = colorgen_modes,
      .mode_count = SCOPE_COUNTOF(colorgen_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = colorgen_params,
      .param_count = SCOPE_COUNTOF(colorgen_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = colorgen_create,
      .destroy = colorgen_destroy,
      .prepare = colorgen_prepare,
      .call = colorgen_call },
};

/* ---------------------------------------------------------------------------------------------
 * Instance
 * ------------------------------------------------------------------------------------------- */

/* One instance: the frame size fixed at create(). */
typedef struct colorgen_instance {
    uint32_t width;  /* output width in pixels (load-time) */
    uint32_t height; /* output height in pixels (load-time) */
    int prepared;    /* 1 once prepare() has succeeded */
} colorgen_instance;

/* Creates an instance with the load-time width and height. */
static scope_status colorgen_create(const scope_host *host, const scope_create_args *args,
                                    void **out_instance, scope_error *err)
{
    colorgen_instance *self;
    (void)host;

    self = (colorgen_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "color-generator: out of memory");
    /* The host has already checked both against the schema (1..8192). */
    self->width = (uint32_t)scope_params_int(args->params, "width", 512);
    self->height = (uint32_t)scope_params_int(args->params, "height", 512);
    *out_instance = self;
    return SCOPE_OK;
}

/* Frees an instance. */
static void colorgen_destroy(void *instance)
{
    free(instance);
}

/* Asks for a width x height RGB u8 frame in host memory. */
static scope_status colorgen_prepare(void *instance, const scope_prepare_args *args,
                                     scope_requirements *out, scope_error *err)
{
    colorgen_instance *self = (colorgen_instance *)instance;
    (void)args;
    (void)err;
    out->output_width = self->width;
    out->output_height = self->height;
    out->output_channels = 3;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    self->prepared = 1;
    return SCOPE_OK;
}

/* Clamps an INT parameter value to one byte. */
static uint8_t colorgen_byte(int64_t v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Fills the output with (color_r, color_g, color_b), alpha 255 when the host gave 4 channels. */
static scope_status colorgen_call(void *instance, const scope_call *call, scope_error *err)
{
    const colorgen_instance *self = (const colorgen_instance *)instance;
    scope_frame *out = call->output;
    uint8_t rgba[4];
    scope_status status;

    if (!self->prepared) {
        return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "color-generator: call() before a successful prepare()");
    }
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "color-generator", "output", err)) != SCOPE_OK) {
        return status;
    }

    rgba[0] = colorgen_byte(scope_params_int(call->params, "color_r", 128));
    rgba[1] = colorgen_byte(scope_params_int(call->params, "color_g", 128));
    rgba[2] = colorgen_byte(scope_params_int(call->params, "color_b", 128));
    rgba[3] = 255;
    scope_frame_fill_u8(out, rgba);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Plugin
 * ------------------------------------------------------------------------------------------- */

/* The plugin table and the exported scope_plugin_entry. No unregister_pipelines (nothing to
 * release), no extensions. */
SCOPE_DEFINE_PLUGIN("scope-example-color-generator", "1.0.0",
                    "Color Generator: the C version of the text-mode pipeline in Scope's plugin guide",
                    colorgen_pipelines)
