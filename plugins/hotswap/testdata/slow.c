/*
 * slow.c -- a test pipeline "slow" whose create(), first prepare() and destroy() each sleep
 * SLOW_MS milliseconds, and whose call() fills the output with FILL (a copy of the input when
 * FILL is -1). A hot swap that ran any of the three on the frame loop would stall the frames
 * for SLOW_MS.
 */
#define _POSIX_C_SOURCE 199309L
#include <scope/plugin.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SLOW_MS
#define SLOW_MS 0
#endif
#ifndef FILL
#define FILL -1
#endif

static void slow_nap(void)
{
    struct timespec ts;
    ts.tv_sec = SLOW_MS / 1000;
    ts.tv_nsec = (long)(SLOW_MS % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static const scope_mode_desc slow_modes[] = {
    SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1),
};

typedef struct slow_instance {
    int prepared;
} slow_instance;

static scope_status slow_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err)
{
    slow_instance *self;
    (void)host;
    (void)args;
    slow_nap();
    self = (slow_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "slow: out of memory");
    *out = self;
    return SCOPE_OK;
}

static void slow_destroy(void *instance)
{
    slow_nap();
    free(instance);
}

static scope_status slow_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out, scope_error *err)
{
    slow_instance *self = (slow_instance *)instance;
    (void)args;
    (void)err;
    if (!self->prepared) slow_nap();
    self->prepared = 1;
    out->input_size = 1;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

static scope_status slow_call(void *instance, const scope_call *call, scope_error *err)
{
    const scope_frame *in;
    scope_frame *out = call->output;
    uint32_t y;
    (void)instance;
    if (call->input_port_count < 1 || !call->inputs || call->inputs[0].count < 1) {
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "slow: no input frame");
    }
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    for (y = 0; y < out->height; y++) {
        uint8_t *dst = scope_frame_row(out, y);
        size_t n = (size_t)out->width * out->channels;
        if (FILL < 0) {
            memcpy(dst, scope_frame_row(in, y), n);
        } else {
            memset(dst, FILL, n);
        }
    }
    return SCOPE_OK;
}

static const scope_pipeline_desc slow_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "slow",
      .name = "Slow",
      .description = "Sleeps in create, the first prepare and destroy",
      .modes = slow_modes,
      .mode_count = SCOPE_COUNTOF(slow_modes),
      .memory = SCOPE_MEMORY_HOST,
      .threading = SCOPE_THREADING_INSTANCE,
      .create = slow_create,
      .destroy = slow_destroy,
      .prepare = slow_prepare,
      .call = slow_call },
};

SCOPE_DEFINE_PLUGIN("scope-test-slow", "1.0.0", "hot swap test plugin", slow_pipelines)
