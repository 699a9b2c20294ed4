/*
 * tone.c -- "Tone": a text-mode pipeline that produces audio beside its video.
 *
 * Every call writes one video frame's worth of a sine tone: sample_rate / fps sample frames
 * (fps is a load-time parameter, 30 by default), with the phase carried across calls so the
 * tone is continuous whatever the frequency does. The pitch follows the runtime parameter
 * `frequency` (20..20000 Hz), the loudness `volume` (0..1).
 *
 * The audio is deliberately mono at 44.1 kHz: the host resamples and up-mixes it to what it
 * plays (48 kHz stereo), so this example exercises that path end to end.
 *
 * Video: a small level meter (chains need video): a dark frame with a bar whose length is the
 * peak level of this call's samples and whose colour moves from blue (low pitch) to red (high).
 */
#include <scope/plugin.h>

#include <math.h>
#include <stdlib.h>

#define TONE_RATE 44100u
#define TONE_PI 3.14159265358979323846

/* Text mode only: a 256x64 meter by default. */
static const scope_mode_desc tone_modes[] = {
    SCOPE_MODE(SCOPE_MODE_TEXT, 1, 256, 64, 0),
};

static const scope_param_desc tone_params[] = {
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_FLOAT, .key = "frequency",
      .label = "Frequency (Hz)", .description = "Pitch of the tone", .category = SCOPE_CATEGORY_INPUT,
      .order = 0, .min_value = 20, .max_value = 20000, .step = 1, .default_number = 440 },
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_FLOAT, .key = "volume",
      .label = "Volume", .description = "Amplitude of the tone, 0..1", .category = SCOPE_CATEGORY_INPUT,
      .order = 1, .min_value = 0, .max_value = 1, .step = 0.01, .default_number = 0.5 },
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_INT, .key = "fps",
      .label = "Frames per second", .description = "Video rate the audio is cut for: each call produces 44100/fps samples",
      .flags = SCOPE_PARAM_LOAD_TIME, .order = 2, .min_value = 1, .max_value = 240, .step = 1, .default_number = 30 },
};

static scope_status tone_create(const scope_host *host, const scope_create_args *args,
                                void **out_instance, scope_error *err);
static void tone_destroy(void *instance);
static scope_status tone_prepare(void *instance, const scope_prepare_args *args,
                                 scope_requirements *out, scope_error *err);
static scope_status tone_call(void *instance, const scope_call *call, scope_error *err);

static const scope_pipeline_desc tone_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .flags = SCOPE_PIPELINE_PRODUCES_AUDIO,
      .id = "tone",
      .name = "Tone",
      .description = "A sine tone whose pitch follows a parameter, with a level meter as video",
      .modes = tone_modes,
      .mode_count = SCOPE_COUNTOF(tone_modes),
      .memory = SCOPE_MEMORY_HOST,
      .params = tone_params,
      .param_count = SCOPE_COUNTOF(tone_params),
      .threading = SCOPE_THREADING_INSTANCE,
      .create = tone_create,
      .destroy = tone_destroy,
      .prepare = tone_prepare,
      .call = tone_call },
};

/* One instance: the oscillator's phase and how many samples it has produced. */
typedef struct tone_instance {
    uint32_t fps;      /* load-time */
    double phase;      /* radians, 0..2pi, carried across calls */
    uint64_t produced; /* sample frames produced so far */
    uint64_t calls;    /* calls so far (for the samples-per-call schedule) */
    int prepared;
} tone_instance;

static scope_status tone_create(const scope_host *host, const scope_create_args *args,
                                void **out_instance, scope_error *err)
{
    tone_instance *self;
    (void)host;
    self = (tone_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "tone: out of memory");
    self->fps = (uint32_t)scope_params_int(args->params, "fps", 30);
    *out_instance = self;
    return SCOPE_OK;
}

static void tone_destroy(void *instance)
{
    free(instance);
}

/* A 256x64 RGB frame and room for one call's audio (rounded up). */
static scope_status tone_prepare(void *instance, const scope_prepare_args *args,
                                 scope_requirements *out, scope_error *err)
{
    tone_instance *self = (tone_instance *)instance;
    (void)args;
    (void)err;
    out->output_channels = 3;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->audio_max_frames = TONE_RATE / self->fps + 1;
    self->prepared = 1;
    return SCOPE_OK;
}

static scope_status tone_call(void *instance, const scope_call *call, scope_error *err)
{
    tone_instance *self = (tone_instance *)instance;
    scope_frame *out = call->output;
    scope_audio *audio = call->audio;
    double freq, volume, step, peak = 0;
    uint64_t target;
    uint32_t n, i, x, y, bar;
    uint8_t rgb[3];
    scope_status status;

    if (!self->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "tone: call() before prepare()");
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, "tone", "output", err)) != SCOPE_OK) return status;
    if (!audio || !audio->samples) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "tone: no audio buffer");
    if (call->flags & SCOPE_CALL_FIRST) {
        self->phase = 0;
        self->produced = 0;
        self->calls = 0;
    }

    /* Exactly TONE_RATE samples per fps calls, spread evenly: no drift for any fps. */
    self->calls++;
    target = self->calls * TONE_RATE / self->fps;
    n = (uint32_t)(target - self->produced);
    if (n > audio->capacity_frames) n = audio->capacity_frames;

    freq = scope_params_float(call->params, "frequency", 440);
    volume = scope_params_float(call->params, "volume", 0.5);
    step = 2 * TONE_PI * freq / TONE_RATE;
    for (i = 0; i < n; i++) {
        float s = (float)(volume * sin(self->phase));
        audio->samples[i] = s;
        if (fabs(s) > peak) peak = fabs(s);
        self->phase += step;
        if (self->phase >= 2 * TONE_PI) self->phase -= 2 * TONE_PI;
    }
    self->produced += n;
    audio->sample_rate = TONE_RATE;
    audio->channels = 1;
    audio->frames = n;

    /* Level meter: bar length = peak, colour from blue (20 Hz) to red (20 kHz, log scale). */
    {
        double t = log(freq / 20.0) / log(1000.0);
        if (t < 0) t = 0;
        if (t > 1) t = 1;
        rgb[0] = (uint8_t)(40 + 215 * t);
        rgb[1] = 60;
        rgb[2] = (uint8_t)(40 + 215 * (1 - t));
    }
    bar = (uint32_t)(peak * out->width + 0.5);
    for (y = 0; y < out->height; y++) {
        uint8_t *row = scope_frame_row(out, y);
        int inside = y >= out->height / 4 && y < out->height - out->height / 4;
        for (x = 0; x < out->width; x++) {
            uint8_t *p = row + (size_t)x * out->channels;
            if (inside && x < bar) { p[0] = rgb[0]; p[1] = rgb[1]; p[2] = rgb[2]; }
            else { p[0] = 16; p[1] = 16; p[2] = 20; }
            if (out->channels == 4) p[3] = 255;
        }
    }
    return SCOPE_OK;
}

SCOPE_DEFINE_PLUGIN("scope-example-tone", "1.0.0",
                    "Tone: a sine tone whose pitch follows a parameter, to exercise audio output",
                    tone_pipelines)
