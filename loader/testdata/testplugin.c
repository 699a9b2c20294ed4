/* A configurable test plugin for the loader's tests. Built once per case with -D flags that
 * break exactly one thing, so every rejection the loader makes is exercised on real C. */
#if defined(HANG_CALL_AT) || defined(RECOVER_SEGV) || defined(HANG_PREPARE)
#define _XOPEN_SOURCE 700 /* pause(), sigaction with SA_ONSTACK, sigsetjmp */
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <scope/plugin.h>

#if defined(RECOVER_SEGV)
/* A plugin with a runtime of its own that handles its faults (as a Go runtime inside a plugin
 * does): a handler installed when the library loads recovers from the faults of its recovery
 * window and forwards every other one to the handler it replaced. */
static struct sigaction previous;
static sigjmp_buf recovery;
static volatile sig_atomic_t recovering;

static void on_segv(int sig, siginfo_t *info, void *ctx)
{
    if (recovering) siglongjmp(recovery, 1);
    if (previous.sa_flags & SA_SIGINFO) previous.sa_sigaction(sig, info, ctx);
}

__attribute__((constructor)) static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, &previous);
}
#endif

typedef struct {
    int prepared;
    int64_t calls;
    const scope_host *host;
} state;

/* Fault injection for the plugin host's tests: each define breaks a call (or prepare) the way
 * a real plugin bug does, after logging a line that names the frame, so the host's report of
 * the plugin's last log lines can be checked. */
#if defined(SEGV_CALL_AT) || defined(ABORT_CALL_AT) || defined(EXIT0_CALL_AT)
#define FAULT_LOG(s, call, what) scope_log((s)->host, SCOPE_LOG_WARN, "frame %llu: %s on purpose", (unsigned long long)(call)->call_index, what)
#endif

static scope_status t_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err)
{
    state *s = calloc(1, sizeof *s);
    (void)args;
    if (!s) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "out of memory");
    scope_log(host, SCOPE_LOG_INFO, "created %s", args->pipeline->id);
    s->host = host;
    *out = s;
    return SCOPE_OK;
}

static void t_destroy(void *inst) { free(inst); }

static scope_status t_prepare(void *inst, const scope_prepare_args *args, scope_requirements *req, scope_error *err)
{
    state *s = inst;
    if (strcmp(scope_params_string(args->params, "label", ""), "fail-prepare") == 0)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "refusing to prepare on purpose");
#if defined(HANG_PREPARE)
    /* A prepare that never returns (a model download that stalls, a deadlock). */
    for (;;) pause();
#endif
    s->prepared = 1;
    req->input_size = 1;
    return SCOPE_OK;
}

/* Copies the input; with `fail` true returns an error naming the frame index. */
static scope_status t_call(void *inst, const scope_call *call, scope_error *err)
{
    state *s = inst;
    uint32_t y;
    if (!s->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "call before prepare");
    s->calls++;
#if defined(SEGV_CALL_AT)
    /* A plugin bug: a store through a null pointer the compiler cannot see is null. */
    if (call->call_index == SEGV_CALL_AT) {
        static int *volatile nowhere = NULL;
        FAULT_LOG(s, call, "segfaulting");
        *nowhere = 1;
    }
#endif
#if defined(ABORT_CALL_AT)
    if (call->call_index == ABORT_CALL_AT) {
        FAULT_LOG(s, call, "aborting");
        abort();
    }
#endif
#if defined(EXIT0_CALL_AT)
    /* A plugin that ends the whole process "successfully" (a library calling exit on error). */
    if (call->call_index == EXIT0_CALL_AT) {
        FAULT_LOG(s, call, "exiting");
        exit(0);
    }
#endif
#if defined(LEAK_MB_PER_FRAME)
    /* A leak: LEAK_MB_PER_FRAME MiB per call, touched so it is resident, never freed. */
    {
        char *volatile leak = malloc((size_t)LEAK_MB_PER_FRAME << 20);
        if (leak) memset(leak, (int)(call->call_index & 0xff) | 1, (size_t)LEAK_MB_PER_FRAME << 20);
    }
#endif
#if defined(RECOVER_SEGV)
    /* A fault the plugin's own handler recovers from: the call succeeds. */
    recovering = 1;
    if (sigsetjmp(recovery, 1) == 0) {
        static int *volatile nowhere = NULL;
        *nowhere = 1;
    }
    recovering = 0;
#endif
#if defined(HANG_CALL_AT)
    /* A plugin that never returns (a deadlock, an endless loop). It first creates the file
     * $SCOPE_TEST_HANG_MARKER, if set, so a test knows the call has started. */
    if (call->call_index == HANG_CALL_AT) {
        const char *marker = getenv("SCOPE_TEST_HANG_MARKER");
        FILE *f = marker ? fopen(marker, "w") : NULL;
        if (f) fclose(f);
        for (;;) pause();
    }
#endif
    if (scope_params_bool(call->params, "fail", 0))
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "refusing frame %llu on purpose", (unsigned long long)call->call_index);
    if (call->input_port_count == 0 || !call->output) return SCOPE_OK;
    for (y = 0; y < call->output->height; y++) {
        const scope_frame *in = call->inputs[0].frames[0];
        memcpy(scope_frame_row(call->output, y), scope_frame_row(in, y), (size_t)in->width * in->channels);
    }
#if defined(POSITIVE_STATUS)
    /* Success with a note: positive statuses are not errors (see scope_status). */
    return scope_error_set(err, POSITIVE_STATUS, "frame %llu copied, with a note", (unsigned long long)call->call_index);
#else
    return SCOPE_OK;
#endif
}

/* noop: prepare and call do nothing (the benchmark's round trip). */
static scope_status noop_prepare(void *inst, const scope_prepare_args *args, scope_requirements *req, scope_error *err)
{
    (void)inst; (void)args; (void)req; (void)err;
    return SCOPE_OK;
}
static scope_status noop_call(void *inst, const scope_call *call, scope_error *err)
{
    (void)inst; (void)call; (void)err;
    return SCOPE_OK;
}

static const scope_enum_option options[] = {
    SCOPE_ENUM_OPTION("soft", "Soft"),
    SCOPE_ENUM_OPTION("hard", "Hard"),
};

static const scope_param_desc params[] = {
    SCOPE_BOOL_PARAM("fail", "Fail", "Return an error from call", 0),
#if defined(MIN_GT_MAX)
    SCOPE_FLOAT_PARAM("amount", "Amount", NULL, 1.0, 5.0, 1.0),
#elif defined(DEFAULT_OUT)
    SCOPE_FLOAT_PARAM("amount", "Amount", NULL, 2.0, 0.0, 1.0),
#elif defined(NAN_BOUND)
    SCOPE_FLOAT_PARAM("amount", "Amount", NULL, 0.5, NAN, 1.0),
#elif defined(NULL_KEY)
    SCOPE_FLOAT_PARAM(NULL, "Amount", NULL, 0.5, 0.0, 1.0),
#else
    SCOPE_FLOAT_PARAM("amount", "Amount", "How much", 0.5, 0.0, 1.0),
#endif
#if defined(DUP_KEY)
    SCOPE_INT_PARAM("amount", "Amount again", NULL, 1, 0, 10),
#else
    SCOPE_INT_PARAM("count", "Count", NULL, 3, 1, 10),
#endif
#if defined(ENUM_DEFAULT)
    SCOPE_ENUM_PARAM("edge", "Edge", NULL, "nope", options, SCOPE_COUNTOF(options)),
#else
    SCOPE_ENUM_PARAM("edge", "Edge", NULL, "hard", options, SCOPE_COUNTOF(options)),
#endif
    SCOPE_STRING_PARAM("label", "Label", NULL, "hello"),
    SCOPE_COLOR_PARAM("tint", "Tint", NULL, 1.0f, 0.5f, 0.0f, 1.0f),
    SCOPE_INT_LOAD_PARAM("size", "Size", NULL, 64, 1, 4096),
};

static const scope_mode_desc video_modes[] = { SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1) };

#if defined(NEWER_MINOR)
/* A descriptor as a future minor version might write it: larger, with an appended field. */
typedef struct { scope_pipeline_desc v1; uint64_t future_field; } desc_t;
#define DESC(x) (x).v1
#define BEGIN { {
#define END }, 42 }
#else
typedef scope_pipeline_desc desc_t;
#define DESC(x) (x)
#define BEGIN {
#define END }
#endif

static const desc_t pipelines[] = {
    BEGIN .struct_size = sizeof(desc_t),
#if defined(EMPTY_ID)
      .id = "",
#else
      .id = "copy",
#endif
#if defined(NULL_NAME)
      .name = NULL,
#else
      .name = "Copy",
#endif
      .description = "Copies its input (test plugin)",
#if defined(NEWER_MINOR) || defined(UNKNOWN_FLAG)
      .flags = 1u << 20, /* a flag from the future: ignored from a newer minor, refused otherwise */
#endif
      .modes = video_modes, .mode_count = 1,
      .params = params, .param_count = SCOPE_COUNTOF(params),
      .create = t_create, .destroy = t_destroy, .prepare = t_prepare, .call = t_call END,
    BEGIN .struct_size = sizeof(desc_t),
#if defined(DUP_ID)
      .id = "copy",
#else
      .id = "noop",
#endif
      .name = "No-op", .modes = video_modes, .mode_count = 1,
      .create = t_create, .destroy = t_destroy, .prepare = noop_prepare, .call = noop_call END,
};

static int registrations;

static scope_status t_register(const scope_host *host, const char *path, scope_error *err)
{
    (void)err;
    registrations++;
    scope_log(host, SCOPE_LOG_DEBUG, "registered from %s", path);
    return SCOPE_OK;
}
static void t_unregister(void) { registrations--; }
static uint32_t t_count(void) { return SCOPE_COUNTOF(pipelines); }
static const scope_pipeline_desc *t_get(uint32_t i) { return i < t_count() ? &DESC(pipelines[i]) : NULL; }

static const scope_plugin plugin = {
    .struct_size = sizeof(scope_plugin),
#if defined(ABI_MAJOR_2)
    .abi_major = 2,
#else
    .abi_major = SCOPE_ABI_VERSION_MAJOR,
#endif
#if defined(NEWER_MINOR)
    .abi_minor = SCOPE_ABI_VERSION_MINOR + 7,
#else
    .abi_minor = SCOPE_ABI_VERSION_MINOR,
#endif
#if defined(FOREIGN)
    .name = "foreign", /* another user's library, for the private-copy attack test */
#else
    .name = "loader-test",
#endif
    .version = "1.2.3",
    .register_pipelines = t_register, .unregister_pipelines = t_unregister,
    .pipeline_count = t_count, .get_pipeline = t_get,
};

#if defined(NO_ENTRY)
SCOPE_EXPORT const scope_plugin *some_other_symbol(void) { return &plugin; }
#else
SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void) { return &plugin; }
#endif
