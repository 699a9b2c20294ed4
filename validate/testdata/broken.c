/* broken.c -- the validator's corpus: one well-behaved pipeline ("probe") that each -D switch
 * breaks in exactly one way, so that every check of `scope plugin validate` can be shown to
 * catch its failure kind (and only that check to fail).
 *
 *   (none)            a correct plugin: no failure, no warning
 *   F32_OUT           correct, but asks for f32 output (exercises float-output)
 *   CRASH_CALL        call() before prepare() dereferences NULL          -> wrong-order
 *   BAD_STATE_CODE    call() before prepare() returns SCOPE_ERROR        -> wrong-order (warning)
 *   HANG_PREPARE      prepare() spins forever when strength is at its max -> param-fuzz
 *   WRITE_PAST        call() writes 3 bytes after the output's last row  -> write-outside-output
 *   UNPREPARED_OK     no "prepared" check: a call before prepare() runs with a zero table and
 *                     succeeds, which is safe (ABI 1.1 hosts never call first): nothing fails
 *   UNPREPARED_WRITE  a call before prepare() writes 3 bytes after the output -> wrong-order
 *   MODIFY_INPUT      call() writes into its input frame                 -> input-unmodified
 *   NAN_OUTPUT        f32 output with a NaN sample                       -> float-output
 *   NONDETERMINISTIC  output depends on a global call counter            -> deterministic
 *   DECLARED_NONDETERMINISTIC  NONDETERMINISTIC, but declares SCOPE_PIPELINE_NONDETERMINISTIC:
 *                     deterministic and pitch are skipped, nothing fails
 *   LEAK              every create() leaks 1 MiB (touched)               -> memory-growth
 *   SHARED_SCRATCH    instances share one scratch buffer                 -> parallel
 *   IGNORE_PITCH      steps input rows by width*channels                 -> pitch
 *   ASSUME_ALIGN_128  rounds its input rows down to 128 bytes, as if the host aligned them
 *                     to more than SCOPE_FRAME_ALIGNMENT                  -> alignment
 *   REFUSE_ODD        call() fails for sizes under 2x2                   -> sizes
 *   BAD_DESCRIPTOR    min_value > max_value (the loader refuses it)      -> descriptor
 *   BAD_ENUM_KEY      an enum option key with a leading space            -> enum-keys
 *   MUTATE_DEFAULT    create() rewrites a parameter's declared default   -> defaults
 *   REGISTER_ONCE     a second register_pipelines() fails                -> register-twice
 *   ABI_MAJOR_2       built for ABI 2                                    -> abi-version
 *   EXTRA_EXPORT      exports a second symbol                            -> exports (warning)
 *   SLOW_REGISTER     register_pipelines() takes 150 ms                  -> register (warning)
 *   NULL_EXTENSION    get_extension() answers an unknown id              -> unknown-extension
 *   CUDA_MEMORY       correct, but also declares CUDA memory: its CUDA checks are skipped
 *   MANY_PIPELINES=N  correct, but registers N copies of the probe (probe-0 ... probe-N-1):
 *                     a big library for the validator's sample, budget and progress
 *
 * The probe pipeline: video mode, one u8 frame in, out = 255 - in for every sample, scaled by
 * nothing else; "strength" (0..10), "edge" (enum) and "flag" (bool) are read but do not change
 * the output.
 */
#define _POSIX_C_SOURCE 199309L
#if defined(DECLARED_NONDETERMINISTIC)
#define NONDETERMINISTIC
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <scope/plugin.h>

#if defined(POSITIVE_STATUS)
/* Success with a note: every function returns a positive status, which is success. */
#define PROBE_OK 3
#else
#define PROBE_OK SCOPE_OK
#endif

typedef struct {
    int prepared;
    uint8_t *lut; /* 256 entries, built by prepare() */
    double strength;
    void *leak;
} probe;

static scope_status probe_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err);
static void probe_destroy(void *inst);
static scope_status probe_prepare(void *inst, const scope_prepare_args *args, scope_requirements *req, scope_error *err);
static scope_status probe_call(void *inst, const scope_call *call, scope_error *err);

static const scope_enum_option edge_options[] = {
    SCOPE_ENUM_OPTION("soft", "Soft"),
#if defined(BAD_ENUM_KEY)
    SCOPE_ENUM_OPTION(" hard", "Hard"),
#else
    SCOPE_ENUM_OPTION("hard", "Hard"),
#endif
};

#if defined(MUTATE_DEFAULT)
static scope_param_desc probe_params[] = {
#else
static const scope_param_desc probe_params[] = {
#endif
#if defined(BAD_DESCRIPTOR)
    SCOPE_FLOAT_PARAM("strength", "Strength", "Unused", 5.0, 10.0, 0.0),
#else
    SCOPE_FLOAT_PARAM("strength", "Strength", "Unused", 5.0, 0.0, 10.0),
#endif
    SCOPE_ENUM_PARAM("edge", "Edge", "Unused", "soft", edge_options, SCOPE_COUNTOF(edge_options)),
    SCOPE_BOOL_PARAM("flag", "Flag", "Unused", 0),
};

static const scope_mode_desc probe_modes[] = { SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1) };

static const scope_pipeline_desc probe_pipelines[] = {
    { .struct_size = sizeof(scope_pipeline_desc),
      .id = "probe",
      .name = "Probe",
      .description = "Inverts its input (validator test plugin)",
      .modes = probe_modes, .mode_count = SCOPE_COUNTOF(probe_modes),
#if defined(CUDA_MEMORY)
      .memory = SCOPE_MEMORY_HOST | SCOPE_MEMORY_CUDA,
#else
      .memory = SCOPE_MEMORY_HOST,
#endif
      .params = probe_params, .param_count = SCOPE_COUNTOF(probe_params),
#if defined(DECLARED_NONDETERMINISTIC)
      .flags = SCOPE_PIPELINE_NONDETERMINISTIC,
#endif
      .create = probe_create, .destroy = probe_destroy, .prepare = probe_prepare, .call = probe_call },
};

#if defined(NONDETERMINISTIC)
static unsigned calls_so_far; /* shared by every instance: the bug */
#endif
#if defined(SHARED_SCRATCH)
static uint8_t scratch[1 << 24]; /* shared by every instance: the bug */
static unsigned scratch_writes; /* lets the bug show reliably (see probe_call) */
static unsigned live_instances;
#endif

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static scope_status probe_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err)
{
    probe *s = calloc(1, sizeof *s);
    (void)host;
    (void)args;
    if (!s) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "probe: out of memory");
#if defined(LEAK)
    s->leak = malloc(1 << 20);                /* destroy() forgets to free it */
    if (s->leak) memset(s->leak, 1, 1 << 20); /* touched, so it counts in RSS */
#endif
#if defined(MUTATE_DEFAULT)
    probe_params[0].default_number = 7.0;
#endif
#if defined(SHARED_SCRATCH)
    __atomic_add_fetch(&live_instances, 1u, __ATOMIC_SEQ_CST);
#endif
    *out = s;
    return PROBE_OK;
}

static void probe_destroy(void *inst)
{
    probe *s = inst;
    if (!s) return;
#if defined(SHARED_SCRATCH)
    __atomic_sub_fetch(&live_instances, 1u, __ATOMIC_SEQ_CST);
#endif
    free(s->lut);
    free(s);
}

static scope_status probe_prepare(void *inst, const scope_prepare_args *args, scope_requirements *req, scope_error *err)
{
    probe *s = inst;
    int v;
    s->strength = scope_params_float(args->params, "strength", 5.0);
#if defined(HANG_PREPARE)
    {
        /* The bug: a refinement loop that never ends at the top of the range. */
        volatile double x = 0.0;
        while (s->strength >= 10.0 && x >= 0.0) x += 1.0;
    }
#endif
    if (args->input_port_count >= 1 && args->input_formats) {
        scope_status st = scope_format_check(args->input_formats[0], 0, "probe", "input", err);
        if (st != SCOPE_OK) return st;
    }
    if (!s->lut) {
        s->lut = malloc(256);
        if (!s->lut) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "probe: out of memory");
        for (v = 0; v < 256; v++) s->lut[v] = (uint8_t)(255 - v);
    }
    s->prepared = 1;
    req->input_size = 1;
    req->input_element_type = SCOPE_ELEMENT_U8;
#if defined(F32_OUT) || defined(NAN_OUTPUT)
    req->output_element_type = SCOPE_ELEMENT_F32;
#else
    req->output_element_type = SCOPE_ELEMENT_U8;
#endif
    return PROBE_OK;
}

static scope_status probe_call(void *inst, const scope_call *call, scope_error *err)
{
    probe *s = inst;
    const scope_frame *in;
    scope_frame *out = call->output;
    uint32_t x, y;
    size_t n;

#if defined(CRASH_CALL)
    /* The bug: no "prepared" check, and lut is NULL until prepare(). */
    volatile uint8_t first = s->lut[0];
    (void)first;
#elif defined(BAD_STATE_CODE)
    if (!s->prepared) return scope_error_set(err, SCOPE_ERROR, "probe: not prepared");
#elif defined(UNPREPARED_OK) || defined(UNPREPARED_WRITE)
    if (!s->prepared) { /* no table yet: a black frame */
        static const uint8_t black[4] = {0, 0, 0, 0};
        if (out) scope_frame_fill_u8(out, black);
#if defined(UNPREPARED_WRITE)
        if (out) memset((uint8_t *)out->data + (size_t)out->pitch * out->height, 0, 3);
#endif
        return SCOPE_OK;
    }
#else
    if (!s->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "probe: call() before prepare()");
#endif
    if (call->input_port_count < 1 || call->inputs[0].count < 1)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "probe: no input");
    in = call->inputs[0].frames[call->inputs[0].count - 1];
    if (in->width != out->width || in->height != out->height || in->channels != out->channels)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "probe: output does not match input");
#if defined(REFUSE_ODD)
    if (in->width < 2 || in->height < 2)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "probe: frames under 2x2 are not supported");
#endif
    n = (size_t)in->width * in->channels;
#if defined(SHARED_SCRATCH)
    /* The bug: every instance stages its rows in the same buffer. */
    if ((size_t)in->height * n > sizeof scratch) return scope_error_set(err, SCOPE_ERROR, "probe: frame too large");
    for (y = 0; y < in->height; y++) {
        const uint8_t *src = scope_frame_row(in, y);
        for (x = 0; x < n; x++) scratch[(size_t)y * n + x] = s->lut[src[x]];
    }
    if (__atomic_load_n(&live_instances, __ATOMIC_SEQ_CST) > 1) {
        /* While other instances exist, wait (up to 100 ms) for one to overwrite the scratch
         * rows, so the bug shows whenever two run at once, however threads are scheduled. */
        unsigned mine = __atomic_add_fetch(&scratch_writes, 1u, __ATOMIC_SEQ_CST);
        int waited;
        for (waited = 0; waited < 100 && __atomic_load_n(&scratch_writes, __ATOMIC_SEQ_CST) == mine; waited++) sleep_ms(1);
    }
#endif
    for (y = 0; y < in->height; y++) {
#if defined(IGNORE_PITCH)
        const uint8_t *src = (const uint8_t *)in->data + (size_t)y * n;
#elif defined(ASSUME_ALIGN_128)
        const uint8_t *src = (const uint8_t *)((uintptr_t)scope_frame_row(in, y) & ~(uintptr_t)127);
#else
        const uint8_t *src = scope_frame_row(in, y);
#endif
        uint8_t *dst = scope_frame_row(out, y);
        for (x = 0; x < n; x++) {
#if defined(SHARED_SCRATCH)
            uint8_t v = scratch[(size_t)y * n + x];
            (void)src;
#else
            uint8_t v = s->lut[src[x]];
#endif
#if defined(NONDETERMINISTIC)
            v = (uint8_t)(v + calls_so_far);
#endif
            if (out->element_type == SCOPE_ELEMENT_F32) ((float *)dst)[x] = (float)v / 255.0f;
            else dst[x] = v;
        }
    }
#if defined(NONDETERMINISTIC)
    calls_so_far++;
#endif
#if defined(NAN_OUTPUT)
    ((float *)out->data)[0] = NAN;
#endif
#if defined(MODIFY_INPUT)
    ((uint8_t *)in->data)[0] ^= 0xFF;
#endif
#if defined(WRITE_PAST)
    memset((uint8_t *)out->data + (size_t)out->pitch * out->height, 0, 3);
#endif
    return PROBE_OK;
}

static int registrations;

static scope_status probe_register(const scope_host *host, const char *path, scope_error *err)
{
    (void)path;
    if (host && host->abi_major != SCOPE_ABI_VERSION_MAJOR)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "probe needs ABI 1");
#if defined(REGISTER_ONCE)
    if (registrations > 0) return scope_error_set(err, SCOPE_ERROR, "probe: already registered");
#endif
#if defined(SLOW_REGISTER)
    sleep_ms(150);
#endif
    registrations++;
    return PROBE_OK;
}

static void probe_unregister(void) { registrations--; }
#if defined(MANY_PIPELINES)
static scope_pipeline_desc many[MANY_PIPELINES];
static char many_ids[MANY_PIPELINES][24];
static uint32_t probe_count(void) { return MANY_PIPELINES; }
static const scope_pipeline_desc *probe_get(uint32_t i)
{
    if (i >= MANY_PIPELINES) return NULL;
    if (!many[i].struct_size) { /* filled on first use: the same probe under its own id */
        many[i] = probe_pipelines[0];
        snprintf(many_ids[i], sizeof many_ids[i], "probe-%u", (unsigned)i);
        many[i].id = many_ids[i];
    }
    return &many[i];
}
#else
static uint32_t probe_count(void) { return SCOPE_COUNTOF(probe_pipelines); }
static const scope_pipeline_desc *probe_get(uint32_t i) { return i < probe_count() ? &probe_pipelines[i] : NULL; }
#endif

#if defined(NULL_EXTENSION)
static const int some_extension = 1;
static const void *probe_extension(const char *id) { (void)id; return &some_extension; }
#endif

static const scope_plugin probe_plugin = {
    .struct_size = sizeof(scope_plugin),
#if defined(ABI_MAJOR_2)
    .abi_major = 2,
#else
    .abi_major = SCOPE_ABI_VERSION_MAJOR,
#endif
    .abi_minor = SCOPE_ABI_VERSION_MINOR,
    .name = "validate-probe", .version = "1.0.0",
    .register_pipelines = probe_register, .unregister_pipelines = probe_unregister,
    .pipeline_count = probe_count, .get_pipeline = probe_get,
#if defined(NULL_EXTENSION)
    .get_extension = probe_extension,
#endif
};

SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void) { return &probe_plugin; }

#if defined(EXTRA_EXPORT)
SCOPE_EXPORT int probe_helper(int x) { return x + 1; }
#endif
