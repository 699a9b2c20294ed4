/*
 * temporal.c -- one library, several pipelines: what the two guide examples do not exercise.
 *
 *   frame-blend   video  blends the last N frames (N is a runtime parameter: prepare() asks the
 *                        host for input_size = N), mean / lighten / darken / exponential decay
 *   prompt-color  text   a solid frame whose colour comes from the weighted text prompts
 *                        (SCOPE_PIPELINE_SUPPORTS_PROMPTS), with a FLOAT and a COLOR parameter
 *   channel-mix   video  BOOL and ENUM parameters; asks the host to convert gray input to RGB
 *                        (scope_requirements.input_channels)
 *
 * All frames are u8 in host memory with any row pitch. Every pipeline keeps its state in its
 * instance (SCOPE_THREADING_INSTANCE); the only globals are the constant tables below.
 * frame-blend and channel-mix are fast references: their row loops run over `restrict` rows
 * (the ABI promises no overlap) and call() splits the rows across the host's thread pool with
 * scope_parallel_for. Parameters are read by index, and create() leaves every instance ready
 * for a call (no "prepared" flag: the host calls only after a successful prepare).
 */
#include <scope/plugin.h>

#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------
 * Helpers shared by the pipelines of this file
 * ------------------------------------------------------------------------------------------- */

/* Checks that `frame` has the width, height and channel count of `ref`. */
static scope_status temporal_check_same_shape(const scope_frame *frame, const scope_frame *ref, const char *who,
                                              const char *what, scope_error *err)
{
    if (frame->width != ref->width || frame->height != ref->height || frame->channels != ref->channels) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT,
                               "%s: %s is %ux%u with %u channels, expected %ux%u with %u channels", who, what,
                               (unsigned)frame->width, (unsigned)frame->height, (unsigned)frame->channels,
                               (unsigned)ref->width, (unsigned)ref->height, (unsigned)ref->channels);
    }
    return SCOPE_OK;
}

/* Index of the option whose key is `key`, or -1. */
static int temporal_enum_index(const scope_enum_option *options, uint32_t count, const char *key)
{
    uint32_t i;
    for (i = 0; key && i < count; i++) {
        if (strcmp(options[i].key, key) == 0) return (int)i;
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * frame-blend
 * ------------------------------------------------------------------------------------------- */

/* How frame-blend combines its frames; the order of frame_blend_options. */
enum { BLEND_MEAN, BLEND_MAX, BLEND_MIN, BLEND_DECAY };

/* Options of the "blend" parameter, in the order of the enum above. */
static const scope_enum_option frame_blend_options[] = {
    SCOPE_ENUM_OPTION("mean", "Mean"),
    SCOPE_ENUM_OPTION("max", "Lighten"),
    SCOPE_ENUM_OPTION("min", "Darken"),
    SCOPE_ENUM_OPTION("decay", "Exponential decay"),
};

/* "frames" is a runtime parameter: prepare() turns it into input_size. */
static const scope_param_desc frame_blend_params[] = {
    SCOPE_INT_PARAM("frames", "Frames", "How many of the latest frames to blend", 4, 1, 16),
    SCOPE_ENUM_PARAM("blend", "Blend",
                     "How to combine the frames: mean, lighten (max), darken (min), or exponential "
                     "decay (weights 1, 1/2, 1/4... newest strongest)",
                     "mean", frame_blend_options, SCOPE_COUNTOF(frame_blend_options)),
};

/* Video mode: four frames per call by default (the default of "frames"). */
static const scope_mode_desc frame_blend_modes[] = {
    SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 4),
};

/* Indexes of frame_blend_params (parameters are read by index). */
enum { FRAME_BLEND_FRAMES = 0, FRAME_BLEND_BLEND = 1 };

/* Samples summed at once on the stack: each range of rows has its own sums, so ranges run
 * in parallel with no shared buffer. */
enum { FRAME_BLEND_CHUNK = 1024 };

/* Rows per range of scope_parallel_for: about 64 KiB of every frame per range. */
static uint32_t temporal_grain(size_t row_bytes)
{
    return (uint32_t)(64u * 1024u / (row_bytes ? row_bytes : 1u) + 1u);
}

/* One frame-blend instance. */
typedef struct frame_blend {
    const scope_host *host; /* for its thread pool */
    int blend;              /* BLEND_* from the last prepare() (BLEND_MEAN until then) */
} frame_blend;

/* Creates a frame-blend instance, ready to blend by the mean. */
static scope_status frame_blend_create(const scope_host *host, const scope_create_args *args, void **out_instance,
                                       scope_error *err)
{
    frame_blend *self;
    (void)args;
    self = (frame_blend *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "frame-blend: out of memory");
    self->host = host;
    self->blend = BLEND_MEAN;
    *out_instance = self;
    return SCOPE_OK;
}

/* Frees a frame-blend instance. */
static void frame_blend_destroy(void *instance)
{
    free(instance);
}

/* Reads frames and blend, asks for `frames` u8 host frames per call, output like the input. */
static scope_status frame_blend_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                                        scope_error *err)
{
    frame_blend *self = (frame_blend *)instance;
    int64_t frames = scope_param_int(args->params, FRAME_BLEND_FRAMES);
    const char *blend = scope_param_string(args->params, FRAME_BLEND_BLEND);
    int index = temporal_enum_index(frame_blend_options, SCOPE_COUNTOF(frame_blend_options), blend);
    scope_status status;

    if (frames < 1 || frames > 16) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "frame-blend: frames must be 1..16, got %lld",
                               (long long)frames);
    }
    if (index < 0) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "frame-blend: unknown blend \"%s\"", blend);
    }
    if (args->input_port_count >= 1 && args->input_formats) {
        const scope_frame_format *in = args->input_formats[0];
        if ((status = scope_format_check(in, 0, "frame-blend", "input", err)) != SCOPE_OK) return status;
    }
    self->blend = index;

    out->input_size = (uint32_t)frames;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* Writes the rounded weighted average of row y of the n frames into dst: frame k (0 = oldest)
 * weighs 1 for the mean and 2^k for decay (so the newest weighs 1, the one before 1/2...). */
static void frame_blend_average_row(const scope_frame *const *frames, uint32_t n, uint32_t y,
                                    uint8_t *restrict dst, size_t len, int decay)
{
    uint32_t acc[FRAME_BLEND_CHUNK];
    uint32_t total = decay ? (1u << n) - 1u : n;
    uint32_t half = total / 2u;
    uint32_t k;
    size_t i0, i, m;

    for (i0 = 0; i0 < len; i0 += m) {
        m = len - i0 < FRAME_BLEND_CHUNK ? len - i0 : FRAME_BLEND_CHUNK;
        memset(acc, 0, m * sizeof *acc);
        for (k = 0; k < n; k++) {
            const uint8_t *restrict src = scope_frame_row(frames[k], y) + i0;
            uint32_t w = decay ? (1u << k) : 1u;
            for (i = 0; i < m; i++) acc[i] += w * src[i];
        }
        for (i = 0; i < m; i++) dst[i0 + i] = (uint8_t)((acc[i] + half) / total);
    }
}

/* Writes the per-sample maximum (lighten) or minimum (darken) of row y of the n frames. */
static void frame_blend_extreme_row(const scope_frame *const *frames, uint32_t n, uint32_t y,
                                    uint8_t *restrict dst, size_t len, int lighten)
{
    uint32_t k;
    size_t i;

    memcpy(dst, scope_frame_row(frames[0], y), len);
    for (k = 1; k < n; k++) {
        const uint8_t *restrict src = scope_frame_row(frames[k], y);
        if (lighten) {
            for (i = 0; i < len; i++) dst[i] = src[i] > dst[i] ? src[i] : dst[i];
        } else {
            for (i = 0; i < len; i++) dst[i] = src[i] < dst[i] ? src[i] : dst[i];
        }
    }
}

/* One frame-blend call's work, shared by the ranges of scope_parallel_for. */
typedef struct frame_blend_job {
    const scope_frame *const *frames;
    uint32_t n;
    scope_frame *out;
    int blend;
} frame_blend_job;

/* Blends rows [begin, end). */
static void frame_blend_rows(void *ctx, uint32_t begin, uint32_t end)
{
    const frame_blend_job *job = (const frame_blend_job *)ctx;
    size_t len = (size_t)job->out->width * job->out->channels;
    uint32_t y;
    for (y = begin; y < end; y++) {
        uint8_t *dst = scope_frame_row(job->out, y);
        switch (job->blend) {
        case BLEND_MAX: frame_blend_extreme_row(job->frames, job->n, y, dst, len, 1); break;
        case BLEND_MIN: frame_blend_extreme_row(job->frames, job->n, y, dst, len, 0); break;
        case BLEND_DECAY: frame_blend_average_row(job->frames, job->n, y, dst, len, 1); break;
        default: frame_blend_average_row(job->frames, job->n, y, dst, len, 0); break;
        }
    }
}

/* Blends the input frames (oldest first) into the output, the rows split across the host's
 * workers. Every channel, alpha included, is blended the same way. */
static scope_status frame_blend_call(void *instance, const scope_call *call, scope_error *err)
{
    const frame_blend *self = (const frame_blend *)instance;
    frame_blend_job job;
    uint32_t k;
    scope_status status;

    job.out = call->output;
    job.blend = self->blend;
    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1 || !call->inputs[0].frames) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "frame-blend: no input frames");
    }
    job.frames = call->inputs[0].frames;
    job.n = call->inputs[0].count;
    if (job.n > 16) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "frame-blend: at most 16 input frames, got %u",
                               (unsigned)job.n);
    }
    if ((status = scope_frame_check(job.out, SCOPE_ELEMENT_U8, "frame-blend", "output", err)) != SCOPE_OK) return status;
    for (k = 0; k < job.n; k++) {
        if ((status = scope_frame_check(job.frames[k], SCOPE_ELEMENT_U8, "frame-blend", "input", err)) != SCOPE_OK) {
            return status;
        }
        if ((status = temporal_check_same_shape(job.frames[k], job.out, "frame-blend", "input", err)) != SCOPE_OK) {
            return status;
        }
    }
    if (job.out->width == 0) return SCOPE_OK;
    scope_parallel_for(self->host, job.out->height,
                       temporal_grain((size_t)job.out->width * job.out->channels * job.n), frame_blend_rows, &job);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * prompt-color
 * ------------------------------------------------------------------------------------------- */

/* A colour word and its CSS colour. */
typedef struct prompt_color_word {
    const char *word; /* lower case */
    uint8_t rgb[3];
} prompt_color_word;

/* The colour words prompt-color knows (CSS named colours; "grey" spells gray). */
static const prompt_color_word prompt_color_words[] = {
    { "red", { 255, 0, 0 } },       { "green", { 0, 128, 0 } },     { "blue", { 0, 0, 255 } },
    { "white", { 255, 255, 255 } }, { "black", { 0, 0, 0 } },       { "yellow", { 255, 255, 0 } },
    { "cyan", { 0, 255, 255 } },    { "magenta", { 255, 0, 255 } }, { "orange", { 255, 165, 0 } },
    { "purple", { 128, 0, 128 } },  { "gray", { 128, 128, 128 } },  { "grey", { 128, 128, 128 } },
};

/* Load-time frame size, then the runtime brightness and tint. */
static const scope_param_desc prompt_color_params[] = {
    SCOPE_INT_LOAD_PARAM("width", "Width", "Width of the generated frames in pixels", 512, 1, 8192),
    SCOPE_INT_LOAD_PARAM("height", "Height", "Height of the generated frames in pixels", 512, 1, 8192),
    SCOPE_FLOAT_PARAM("brightness", "Brightness", "Multiplies the prompt colour (1 = unchanged)", 1.0, 0.0, 2.0),
    SCOPE_COLOR_PARAM("tint", "Tint", "Multiplies the prompt colour channel by channel (alpha is ignored)", 1.0f,
                      1.0f, 1.0f, 1.0f),
};

/* Text mode only: 512x512 by default. */
static const scope_mode_desc prompt_color_modes[] = {
    SCOPE_MODE(SCOPE_MODE_TEXT, 1, 512, 512, 0),
};

/* One prompt-color instance: the frame size fixed at create(). */
typedef struct prompt_color {
    uint32_t width;  /* output width in pixels (load-time) */
    uint32_t height; /* output height in pixels (load-time) */
    int prepared;    /* 1 once prepare() has succeeded */
} prompt_color;

/* Creates a prompt-color instance with the load-time width and height. */
static scope_status prompt_color_create(const scope_host *host, const scope_create_args *args,
                                        void **out_instance, scope_error *err)
{
    prompt_color *self;
    (void)host;

    self = (prompt_color *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "prompt-color: out of memory");
    /* The host has already checked both against the schema (1..8192). */
    self->width = (uint32_t)scope_params_int(args->params, "width", 512);
    self->height = (uint32_t)scope_params_int(args->params, "height", 512);
    *out_instance = self;
    return SCOPE_OK;
}

/* Frees a prompt-color instance. */
static void prompt_color_destroy(void *instance)
{
    free(instance);
}

/* Asks for a width x height RGB u8 host frame. */
static scope_status prompt_color_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                                         scope_error *err)
{
    prompt_color *self = (prompt_color *)instance;
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

/* ASCII lower case of c (other bytes, UTF-8 included, unchanged). */
static char prompt_color_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* 1 if c is an ASCII letter. */
static int prompt_color_is_letter(char c)
{
    c = prompt_color_lower(c);
    return c >= 'a' && c <= 'z';
}

/* 1 if `text` starts with the lower-case `word`, ignoring ASCII case. */
static int prompt_color_starts_with(const char *text, const char *word)
{
    for (; *word; text++, word++) {
        if (prompt_color_lower(*text) != *word) return 0;
    }
    return 1;
}

/* The colour of one prompt: the colour word that starts earliest in the text (at the start of a
 * word, any case: "Red", "reddish" and "a RED car" match red, "bored" does not), else the bytes
 * of the 32-bit FNV-1a hash of the ASCII-lower-cased text (deterministic, the same for every
 * spelling of one text up to case). */
static void prompt_color_of_text(const char *text, float rgb[3])
{
    uint32_t hash = 2166136261u;
    const char *p;
    uint32_t i;

    if (!text) text = "";
    for (p = text; *p; p++) {
        if (p != text && prompt_color_is_letter(p[-1])) continue;
        for (i = 0; i < SCOPE_COUNTOF(prompt_color_words); i++) {
            if (prompt_color_starts_with(p, prompt_color_words[i].word)) {
                rgb[0] = prompt_color_words[i].rgb[0];
                rgb[1] = prompt_color_words[i].rgb[1];
                rgb[2] = prompt_color_words[i].rgb[2];
                return;
            }
        }
    }
    for (p = text; *p; p++) {
        hash ^= (uint8_t)prompt_color_lower(*p);
        hash *= 16777619u;
    }
    rgb[0] = (float)((hash >> 16) & 0xFFu);
    rgb[1] = (float)((hash >> 8) & 0xFFu);
    rgb[2] = (float)(hash & 0xFFu);
}

/* Clamps and rounds a 0..255 float to a byte. */
static uint8_t prompt_color_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 255.0f) return 255;
    return (uint8_t)(v + 0.5f);
}

/* Fills the output with the weight-averaged colour of the prompts times brightness times tint.
 * No prompts (or only zero weights) gives black: there is no colour to show. */
static scope_status prompt_color_call(void *instance, const scope_call *call, scope_error *err)
{
    const prompt_color *self = (const prompt_color *)instance;
    scope_frame *out = call->output;
    float sum[3] = { 0.0f, 0.0f, 0.0f };
    float total = 0.0f;
    float tint[4] = { 1.0f, 1.0f, 1.0f, 1.0f };
    float brightness;
    uint8_t rgba[4] = { 0, 0, 0, 255 };
    uint32_t i, c;
    scope_status status;

    if (!self->prepared) {
        return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "prompt-color: call() before a successful prepare()");
    }
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "prompt-color", "output", err)) != SCOPE_OK) return status;

    for (i = 0; call->prompts && i < call->prompt_count; i++) {
        float w = call->prompts[i].weight;
        float color[3];
        if (!(w > 0.0f)) continue; /* zero, negative or NaN weight: ignored */
        prompt_color_of_text(call->prompts[i].text, color);
        for (c = 0; c < 3; c++) sum[c] += w * color[c];
        total += w;
    }
    brightness = (float)scope_params_float(call->params, "brightness", 1.0);
    scope_params_color(call->params, "tint", tint);
    for (c = 0; c < 3; c++) {
        float avg = total > 0.0f ? sum[c] / total : 0.0f;
        rgba[c] = prompt_color_byte(avg * brightness * tint[c]);
    }
    scope_frame_fill_u8(out, rgba);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * channel-mix
 * ------------------------------------------------------------------------------------------- */

/* Which channel channel-mix keeps; the order of channel_mix_options. */
enum { CHANNEL_ALL, CHANNEL_RED, CHANNEL_GREEN, CHANNEL_BLUE };

/* Options of the "channel" parameter, in the order of the enum above. */
static const scope_enum_option channel_mix_options[] = {
    SCOPE_ENUM_OPTION("all", "All"),
    SCOPE_ENUM_OPTION("red", "Red"),
    SCOPE_ENUM_OPTION("green", "Green"),
    SCOPE_ENUM_OPTION("blue", "Blue"),
};

/* A BOOL and an ENUM parameter. */
static const scope_param_desc channel_mix_params[] = {
    SCOPE_BOOL_PARAM("swap_rb", "Swap red/blue", "Exchange the red and blue channels", 0),
    SCOPE_ENUM_PARAM("channel", "Channel", "Keep only this channel (after the swap) and zero the others", "all",
                     channel_mix_options, SCOPE_COUNTOF(channel_mix_options)),
};

/* Video mode only: one frame per call. */
static const scope_mode_desc channel_mix_modes[] = {
    SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1),
};

/* Indexes of channel_mix_params (parameters are read by index). */
enum { CHANNEL_MIX_SWAP = 0, CHANNEL_MIX_CHANNEL = 1 };

/* One channel-mix instance: where each output colour channel comes from. */
typedef struct channel_mix {
    const scope_host *host; /* for its thread pool */
    int source[3];          /* input channel of output channel 0..2, or -1 for zero */
} channel_mix;

/* Creates a channel-mix instance with the identity map (until prepare() builds the real one). */
static scope_status channel_mix_create(const scope_host *host, const scope_create_args *args, void **out_instance,
                                       scope_error *err)
{
    channel_mix *self;
    (void)args;
    self = (channel_mix *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "channel-mix: out of memory");
    self->host = host;
    self->source[0] = 0;
    self->source[1] = 1;
    self->source[2] = 2;
    *out_instance = self;
    return SCOPE_OK;
}

/* Frees a channel-mix instance. */
static void channel_mix_destroy(void *instance)
{
    free(instance);
}

/* Builds the channel map from swap_rb and channel, and asks for one u8 host frame with 3 or 4
 * channels: gray input is converted to RGB by the host (input_channels = 3). */
static scope_status channel_mix_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                                        scope_error *err)
{
    channel_mix *self = (channel_mix *)instance;
    int swap = scope_param_bool(args->params, CHANNEL_MIX_SWAP);
    const char *channel = scope_param_string(args->params, CHANNEL_MIX_CHANNEL);
    int keep = temporal_enum_index(channel_mix_options, SCOPE_COUNTOF(channel_mix_options), channel);
    uint32_t channels = 0;
    scope_status status;
    int c;

    if (keep < 0) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "channel-mix: unknown channel \"%s\"", channel);
    }
    if (args->input_port_count >= 1 && args->input_formats) {
        status = scope_format_check(args->input_formats[0], 0, "channel-mix", "input", err);
        if (status != SCOPE_OK) return status;
        channels = args->input_formats[0]->channels;
        if (channels == 1) channels = 3;
    }
    for (c = 0; c < 3; c++) {
        self->source[c] = (swap && c != 1) ? 2 - c : c;
        if (keep != CHANNEL_ALL && c != keep - CHANNEL_RED) self->source[c] = -1;
    }

    out->input_size = 1;
    out->input_channels = channels; /* 0 when unknown: as produced */
    out->output_channels = channels;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* One channel-mix call's work, shared by the ranges of scope_parallel_for. */
typedef struct channel_mix_job {
    const channel_mix *self;
    const scope_frame *in;
    scope_frame *out;
} channel_mix_job;

/* Remaps rows [begin, end): output channel c = input channel source[c] (or 0); alpha copied. */
static void channel_mix_rows(void *ctx, uint32_t begin, uint32_t end)
{
    const channel_mix_job *job = (const channel_mix_job *)ctx;
    uint32_t ch = job->in->channels, width = job->in->width, x, y;
    int s0 = job->self->source[0], s1 = job->self->source[1], s2 = job->self->source[2];
    for (y = begin; y < end; y++) {
        const uint8_t *restrict src = scope_frame_row(job->in, y);
        uint8_t *restrict dst = scope_frame_row(job->out, y);
        for (x = 0; x < width; x++, src += ch, dst += ch) {
            dst[0] = s0 < 0 ? 0 : src[s0];
            dst[1] = s1 < 0 ? 0 : src[s1];
            dst[2] = s2 < 0 ? 0 : src[s2];
            if (ch == 4) dst[3] = src[3];
        }
    }
}

/* Remaps the colour channels of the input into the output, the rows split across the host's
 * workers; alpha is copied. */
static scope_status channel_mix_call(void *instance, const scope_call *call, scope_error *err)
{
    const channel_mix *self = (const channel_mix *)instance;
    scope_frame *out = call->output;
    const scope_frame *in;
    channel_mix_job job;
    scope_status status;

    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1 || !call->inputs[0].frames) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "channel-mix: no input frame");
    }
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    if ((status = scope_frame_check(in, SCOPE_ELEMENT_U8, "channel-mix", "input", err)) != SCOPE_OK) return status;
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "channel-mix", "output", err)) != SCOPE_OK) return status;
    if (in->channels < 3) {
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "channel-mix: input must have 3 or 4 channels, got %u",
                               (unsigned)in->channels);
    }
    if ((status = temporal_check_same_shape(out, in, "channel-mix", "output", err)) != SCOPE_OK) return status;

    job.self = self;
    job.in = in;
    job.out = out;
    scope_parallel_for(self->host, in->height, temporal_grain((size_t)in->width * in->channels), channel_mix_rows, &job);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Plugin
 * ------------------------------------------------------------------------------------------- */

/* The library's pipelines. */
static const scope_pipeline_desc temporal_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "frame-blend",
      .name = "Frame Blend",
      .description = "Blends the last N input frames (mean, lighten, darken or exponential decay)",
      .modes = frame_blend_modes,
      .mode_count = SCOPE_COUNTOF(frame_blend_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = frame_blend_params,
      .param_count = SCOPE_COUNTOF(frame_blend_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = frame_blend_create,
      .destroy = frame_blend_destroy,
      .prepare = frame_blend_prepare,
      .call = frame_blend_call },
    { .struct_size = sizeof(scope_pipeline_desc),
      .flags = SCOPE_PIPELINE_SUPPORTS_PROMPTS,
      .id = "prompt-color",
      .name = "Prompt Color",
      .description = "Generates solid frames in the weighted average colour of the prompts",
      .modes = prompt_color_modes,
      .mode_count = SCOPE_COUNTOF(prompt_color_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = prompt_color_params,
      .param_count = SCOPE_COUNTOF(prompt_color_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = prompt_color_create,
      .destroy = prompt_color_destroy,
      .prepare = prompt_color_prepare,
      .call = prompt_color_call },
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "channel-mix",
      .name = "Channel Mix",
      .description = "Swaps red and blue or keeps a single colour channel",
      .modes = channel_mix_modes,
      .mode_count = SCOPE_COUNTOF(channel_mix_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = channel_mix_params,
      .param_count = SCOPE_COUNTOF(channel_mix_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = channel_mix_create,
      .destroy = channel_mix_destroy,
      .prepare = channel_mix_prepare,
      .call = channel_mix_call },
};

/* The plugin table and the exported scope_plugin_entry. No unregister_pipelines (nothing to
 * release), no extensions. */
SCOPE_DEFINE_PLUGIN("scope-example-temporal", "1.0.0",
                    "Example pipelines: frame blending, prompt colours, channel mixing", temporal_pipelines)
