/*
 * harness.c -- a minimal C host for the SDK's end-to-end test (../e2e_test.go).
 *
 *   harness LIB:PIPELINE:CHECK [LIB:PIPELINE:CHECK ...]
 *
 * Loads every LIB into this one process with dlopen(RTLD_NOW | RTLD_LOCAL), as the Scope host
 * does, registers it twice (registration is reference-counted), finds PIPELINE and runs CHECK:
 *
 *   invert   the invert examples (C, C++, Go): descriptor fields, call before prepare, pixels
 *            of odd sizes and padded pitches against the formula for 1, 3 and 4 channels
 *   gray     the gray-go test pipeline: Rec.601 luma
 *   throw    the C++ throw-test pipeline: SCOPE_ERROR with "boom from C++", then recovery
 *   actions  the actions-go test pipeline: panic, error status and message, color parameter,
 *            failed prepare
 *
 * Then it runs every check again (all libraries are loaded at once by then), then all of them
 * at the same time from one thread each, and finally unregisters each library twice. It prints
 * "ok ..." per passed check and "FAIL ..." per failure, and exits 1 if anything failed.
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scope/plugin.h>

/* ------------------------------------------------------------------------------------------ */

static int failures;
static pthread_mutex_t failures_mu = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond_, ...)                                                                        \
    do {                                                                                         \
        if (!(cond_)) {                                                                          \
            pthread_mutex_lock(&failures_mu);                                                    \
            failures++;                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                          \
            printf(__VA_ARGS__);                                                                 \
            printf("\n");                                                                        \
            fflush(stdout);                                                                      \
            pthread_mutex_unlock(&failures_mu);                                                  \
            return 1;                                                                            \
        }                                                                                        \
    } while (0)

static int log_lines;

/* Prints the first few log lines (the repeated rounds would flood the output). */
static void host_log(const scope_host *host, int32_t level, const char *message)
{
    (void)host;
    pthread_mutex_lock(&failures_mu);
    if (++log_lines <= 3) printf("log[%d]: %s\n", (int)level, message);
    fflush(stdout);
    pthread_mutex_unlock(&failures_mu);
}

static const void *host_extension(const scope_host *host, const char *id)
{
    (void)host;
    (void)id;
    return NULL;
}

/* One range run on a thread of the harness's own: the Go SDK's ranges must work on threads
 * its runtime did not create, as the real host's workers are. */
typedef struct {
    void (*fn)(void *ctx, uint32_t begin, uint32_t end);
    void *ctx;
    uint32_t begin, end;
} host_range;

static void *host_range_thread(void *arg)
{
    host_range *r = (host_range *)arg;
    r->fn(r->ctx, r->begin, r->end);
    return NULL;
}

/* A small thread pool stand-in: the first range of `grain` items runs on a new thread, the
 * rest on the caller in reverse order (so no range may depend on another's order). */
static void host_parallel_for(const scope_host *host, uint32_t count, uint32_t grain,
                              void (*fn)(void *ctx, uint32_t begin, uint32_t end), void *ctx)
{
    host_range first;
    pthread_t th;
    uint32_t b;
    (void)host;
    if (grain == 0) grain = 1;
    first.fn = fn;
    first.ctx = ctx;
    first.begin = 0;
    first.end = count < grain ? count : grain;
    if (pthread_create(&th, NULL, host_range_thread, &first) != 0) {
        fn(ctx, 0, count);
        return;
    }
    for (b = (count - 1) / grain * grain; b >= grain; b -= grain) fn(ctx, b, b + grain < count ? b + grain : count);
    pthread_join(th, NULL);
}

static const scope_host the_host = {
    sizeof(scope_host), SCOPE_ABI_VERSION_MAJOR, SCOPE_ABI_VERSION_MINOR, "harness", "0.0.0", NULL,
    host_log, host_extension, host_parallel_for, 2, 0};

/* ------------------------------------------------------------------------------------------ */
/* Parameters built from a descriptor's defaults */

#define MAX_PARAMS 16

typedef struct params {
    scope_value values[MAX_PARAMS];
    char strings[MAX_PARAMS][64];
    scope_params p;
} params;

static const scope_param_desc *param_at(const scope_pipeline_desc *d, uint32_t i)
{
    size_t stride = d->params[0].struct_size;
    return (const scope_param_desc *)((const char *)d->params + stride * i);
}

static void params_init(params *ps, const scope_pipeline_desc *d)
{
    uint32_t i;
    memset(ps, 0, sizeof *ps);
    for (i = 0; i < d->param_count && i < MAX_PARAMS; i++) {
        const scope_param_desc *pd = param_at(d, i);
        scope_value *v = &ps->values[i];
        v->key = pd->key;
        v->type = pd->type;
        switch (pd->type) {
        case SCOPE_PARAM_BOOL: v->as.b = pd->default_number != 0; break;
        case SCOPE_PARAM_INT: v->as.i = (int64_t)pd->default_number; break;
        case SCOPE_PARAM_FLOAT: v->as.f = pd->default_number; break;
        case SCOPE_PARAM_STRING:
        case SCOPE_PARAM_ENUM: v->as.s = pd->default_string ? pd->default_string : ""; break;
        case SCOPE_PARAM_COLOR: memcpy(v->as.color, pd->default_color, sizeof v->as.color); break;
        }
    }
    ps->p.struct_size = sizeof ps->p;
    ps->p.count = d->param_count;
    ps->p.values = ps->values;
}

static scope_value *params_get(params *ps, const char *key)
{
    uint32_t i;
    for (i = 0; i < ps->p.count; i++) {
        if (strcmp(ps->values[i].key, key) == 0) return &ps->values[i];
    }
    fprintf(stderr, "harness: no parameter %s\n", key);
    abort();
}

static void params_string(params *ps, const char *key, const char *s)
{
    scope_value *v = params_get(ps, key);
    char *buf = ps->strings[v - ps->values];
    snprintf(buf, sizeof ps->strings[0], "%s", s);
    v->as.s = buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Frames with canaries in the row padding */

#define IN_CANARY 0xEE
#define OUT_CANARY 0xCD

typedef struct frame {
    scope_frame f;
    uint8_t *mem;
    size_t size;
} frame;

static void frame_init(frame *fr, uint32_t w, uint32_t h, uint32_t ch, int64_t pitch, uint8_t fill)
{
    memset(fr, 0, sizeof *fr);
    fr->size = (size_t)pitch * h;
    fr->mem = (uint8_t *)malloc(fr->size);
    memset(fr->mem, fill, fr->size);
    fr->f.struct_size = sizeof fr->f;
    fr->f.width = w;
    fr->f.height = h;
    fr->f.channels = ch;
    fr->f.element_type = SCOPE_ELEMENT_U8;
    fr->f.memory = SCOPE_MEMORY_HOST;
    fr->f.pitch = pitch;
    fr->f.data = fr->mem;
    fr->f.cuda_device = -1;
}

/* Fills the pixels (not the padding) with a pattern that covers many values. */
static void frame_pattern(frame *fr, unsigned seed)
{
    uint32_t x, y, c;
    for (y = 0; y < fr->f.height; y++)
        for (x = 0; x < fr->f.width; x++)
            for (c = 0; c < fr->f.channels; c++)
                fr->mem[y * fr->f.pitch + x * fr->f.channels + c] = (uint8_t)(x * 37 + y * 101 + c * 59 + seed);
}

static uint8_t px(const frame *fr, uint32_t x, uint32_t y, uint32_t c)
{
    return fr->mem[y * fr->f.pitch + x * fr->f.channels + c];
}

/* Whether every byte outside width x height still holds `canary`. */
static int padding_intact(const frame *fr, uint8_t canary)
{
    uint32_t y;
    size_t i, row = (size_t)fr->f.width * fr->f.channels;
    for (y = 0; y < fr->f.height; y++)
        for (i = row; i < (size_t)fr->f.pitch; i++)
            if (fr->mem[y * fr->f.pitch + i] != canary) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* One pipeline instance */

typedef struct inst {
    const scope_pipeline_desc *d;
    void *ptr;
    char msg[256];
    scope_error err;
    scope_requirements req;
    uint64_t calls;
} inst;

static void reset_err(inst *in)
{
    in->msg[0] = 0;
    in->err.struct_size = sizeof in->err;
    in->err.capacity = sizeof in->msg;
    in->err.message = in->msg;
}

static scope_status inst_create(inst *in, const scope_pipeline_desc *d, params *ps)
{
    scope_create_args a;
    memset(in, 0, sizeof *in);
    in->d = d;
    reset_err(in);
    memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    a.mode = SCOPE_MODE_VIDEO;
    a.pipeline = d;
    a.params = &ps->p;
    a.cuda_device = -1;
    return d->create(&the_host, &a, &in->ptr, &in->err);
}

/* Prepares with one input port of 7x3 u8 frames with `channels`; with null_entry the host's
 * pointer array holds NULL instead of the format. */
static scope_status inst_prepare_ex(inst *in, params *ps, uint32_t channels, int null_entry)
{
    scope_prepare_args a;
    scope_frame_format f;
    const scope_frame_format *formats[1]; /* host arrays hold pointers (plugin.h) */
    memset(&a, 0, sizeof a);
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.width = 7;
    f.height = 3;
    f.channels = channels;
    f.element_type = SCOPE_ELEMENT_U8;
    f.memory = SCOPE_MEMORY_HOST;
    a.struct_size = sizeof a;
    a.mode = SCOPE_MODE_VIDEO;
    a.params = &ps->p;
    formats[0] = null_entry ? NULL : &f;
    a.input_formats = formats;
    a.input_port_count = 1;
    memset(&in->req, 0, sizeof in->req);
    in->req.struct_size = sizeof in->req;
    reset_err(in);
    return in->d->prepare(in->ptr, &a, &in->req, &in->err);
}

static scope_status inst_prepare(inst *in, params *ps, uint32_t channels)
{
    return inst_prepare_ex(in, ps, channels, 0);
}

/* Calls with one input frame; with null_entry the frame list's pointer is NULL. */
static scope_status inst_call_ex(inst *in, params *ps, frame *input, frame *output, int null_entry)
{
    scope_frame_list list;
    scope_call c;
    const scope_frame *frames[1]; /* host arrays hold pointers (plugin.h) */
    frames[0] = null_entry ? NULL : &input->f;
    list.frames = frames;
    list.count = 1;
    list.reserved = 0;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.flags = in->calls == 0 ? SCOPE_CALL_FIRST : 0;
    c.inputs = &list;
    c.input_port_count = 1;
    c.output = &output->f;
    c.params = &ps->p;
    c.call_index = in->calls++;
    reset_err(in);
    return in->d->call(in->ptr, &c, &in->err);
}

static scope_status inst_call(inst *in, params *ps, frame *input, frame *output)
{
    return inst_call_ex(in, ps, input, output, 0);
}

static void inst_destroy(inst *in)
{
    in->d->destroy(in->ptr);
    in->ptr = NULL;
}

/* Checks what every pipeline must do: a sane descriptor, create with defaults, and
 * SCOPE_ERROR_BAD_STATE (not a crash) for call() before prepare(). Leaves `in` created. */
static int common(const scope_pipeline_desc *d, params *ps, inst *in, int quiet)
{
    uint32_t i, defaults = 0;
    frame a, b;
    scope_status st;
    CHECK(d->struct_size == sizeof(scope_pipeline_desc), "%s: struct_size %u", d->id, (unsigned)d->struct_size);
    CHECK(d->name && d->name[0], "%s: no name", d->id);
    CHECK(d->mode_count >= 1 && d->modes, "%s: no modes", d->id);
    for (i = 0; i < d->mode_count; i++) defaults += d->modes[i].is_default != 0;
    CHECK(defaults == 1, "%s: %u default modes", d->id, (unsigned)defaults);
    CHECK(d->create && d->destroy && d->prepare && d->call, "%s: missing entry point", d->id);
    CHECK(d->param_count <= MAX_PARAMS, "%s: too many params", d->id);
    params_init(ps, d);
    st = inst_create(in, d, ps);
    CHECK(st == SCOPE_OK && in->ptr, "%s: create: %d %s", d->id, (int)st, in->msg);
    frame_init(&a, 7, 3, 3, 32, IN_CANARY);
    frame_init(&b, 7, 3, 3, 32, OUT_CANARY);
    st = inst_call(in, ps, &a, &b);
    free(a.mem);
    free(b.mem);
    CHECK(st == SCOPE_ERROR_BAD_STATE, "%s: call before prepare returned %d (%s)", d->id, (int)st, in->msg);
    CHECK(in->msg[0] != 0, "%s: call before prepare left no message", d->id);
    if (!quiet) printf("ok %s: descriptor, create with defaults, call before prepare -> %d \"%s\"\n", d->id, (int)st, in->msg);
    in->calls = 0;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* invert */

static uint8_t invert_expected(int v, double i)
{
    double x = floor(v * (1.0 - i) + (255 - v) * i + 0.5);
    return (uint8_t)(x > 255 ? 255 : x);
}

/* Prints "pixels ID INTENSITY in=HEX out=HEX" (width x height x channels bytes, no padding) so
 * that the Go test can check the values with its own formula. */
static void print_pixels(const char *id, double intensity, const frame *in, const frame *out)
{
    uint32_t x, y, c;
    printf("pixels %s %g in=", id, intensity);
    for (y = 0; y < in->f.height; y++)
        for (x = 0; x < in->f.width; x++)
            for (c = 0; c < in->f.channels; c++) printf("%02x", px(in, x, y, c));
    printf(" out=");
    for (y = 0; y < out->f.height; y++)
        for (x = 0; x < out->f.width; x++)
            for (c = 0; c < out->f.channels; c++) printf("%02x", px(out, x, y, c));
    printf("\n");
}

/* Inverts one frame of w x h x ch with this pitch at intensity i (i < 0: leave the default). */
static int invert_frame(inst *in, params *ps, uint32_t w, uint32_t h, uint32_t ch, int64_t pitch, double i,
                        int quiet)
{
    frame a, b, orig;
    uint32_t x, y, c;
    scope_status st;
    double used = i < 0 ? 1.0 : i;
    if (i >= 0) params_get(ps, "intensity")->as.f = i;
    frame_init(&a, w, h, ch, pitch, IN_CANARY);
    frame_init(&b, w, h, ch, pitch + 8, OUT_CANARY); /* another pitch on the output */
    frame_init(&orig, w, h, ch, pitch, IN_CANARY);
    frame_pattern(&a, (unsigned)(w * 7 + ch));
    memcpy(orig.mem, a.mem, a.size);
    st = inst_prepare(in, ps, ch);
    CHECK(st == SCOPE_OK, "%s: prepare: %d %s", in->d->id, (int)st, in->msg);
    CHECK(in->req.input_size == 1, "%s: input_size %u", in->d->id, (unsigned)in->req.input_size);
    st = inst_call(in, ps, &a, &b);
    CHECK(st == SCOPE_OK, "%s: call: %d %s", in->d->id, (int)st, in->msg);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < ch; c++) {
                uint8_t v = px(&a, x, y, c), got = px(&b, x, y, c);
                uint8_t want = (ch == 4 && c == 3) ? v : invert_expected(v, used);
                CHECK(got == want, "%s: %ux%ux%u pitch %lld i=%g: pixel (%u,%u) c%u: v=%u got %u want %u", in->d->id,
                      w, h, ch, (long long)pitch, used, x, y, c, v, got, want);
            }
    CHECK(padding_intact(&b, OUT_CANARY), "%s: wrote into the output's row padding", in->d->id);
    CHECK(memcmp(a.mem, orig.mem, a.size) == 0, "%s: modified its input", in->d->id);
    if (!quiet && w == 7 && h == 3 && ch == 3) print_pixels(in->d->id, used, &a, &b);
    if (!quiet)
        printf("ok %s: %ux%u, %u channels, pitch %lld/%lld, intensity %g: pixels match, padding and input untouched\n",
               in->d->id, w, h, ch, (long long)pitch, (long long)pitch + 8, used);
    free(a.mem);
    free(b.mem);
    free(orig.mem);
    return 0;
}

static int check_invert(const scope_pipeline_desc *d, int quiet)
{
    params ps;
    inst in;
    const scope_param_desc *p;
    static const double all[] = {0.1, 0.25, 1.0 / 3.0, 0.3, 0.45, 0.5, 0.55, 2.0 / 3.0, 0.7, 0.9};
    size_t k;
    scope_status st;
    if (common(d, &ps, &in, quiet)) return 1;
    CHECK(strstr(d->name, "Invert Colors") != NULL, "%s: name %s", d->id, d->name);
    CHECK(d->param_count == 1, "%s: %u params", d->id, (unsigned)d->param_count);
    p = param_at(d, 0);
    CHECK(p->struct_size == sizeof(scope_param_desc) && p->type == SCOPE_PARAM_FLOAT && strcmp(p->key, "intensity") == 0,
          "%s: param 0 is not the FLOAT intensity", d->id);
    CHECK(p->default_number == 1.0 && p->min_value == 0.0 && p->max_value == 1.0, "%s: intensity range", d->id);
    CHECK(p->label && strcmp(p->label, "Intensity") == 0, "%s: label", d->id);
    CHECK(p->description &&
              strcmp(p->description, "How strongly to invert the colors (0 = original, 1 = fully inverted)") == 0,
          "%s: description %s", d->id, p->description ? p->description : "(null)");
    CHECK(d->mode_count == 1 && d->modes[0].mode == SCOPE_MODE_VIDEO && d->modes[0].is_default &&
              d->modes[0].input_size == 1,
          "%s: modes", d->id);

    /* The brief's case: 7x3 RGB, pitch 32, default intensity (1) then 0 and 0.5. */
    if (invert_frame(&in, &ps, 7, 3, 3, 32, -1, quiet)) return 1;
    if (invert_frame(&in, &ps, 7, 3, 3, 32, 0.0, quiet)) return 1;
    if (invert_frame(&in, &ps, 7, 3, 3, 32, 0.5, quiet)) return 1;
    /* RGBA (alpha copied) and gray, odd sizes, padded pitches. */
    if (invert_frame(&in, &ps, 5, 2, 4, 24, 0.3, quiet)) return 1;
    if (invert_frame(&in, &ps, 9, 4, 1, 16, 0.7, quiet)) return 1;
    if (invert_frame(&in, &ps, 1, 1, 3, 3, 1.0, quiet)) return 1;
    /* Every 8-bit value at intensities where rounding is close. */
    for (k = 0; k < sizeof all / sizeof all[0]; k++)
        if (invert_frame(&in, &ps, 256, 1, 1, 256, all[k], 1)) return 1;
    if (!quiet) printf("ok %s: all 256 values at %u intensities\n", d->id, (unsigned)(sizeof all / sizeof all[0]));

    /* A 2-channel input is refused in prepare. */
    st = inst_prepare(&in, &ps, 2);
    CHECK(st != SCOPE_OK && in.msg[0], "%s: prepare accepted 2 channels", d->id);
    if (!quiet) printf("ok %s: prepare with 2 channels -> %d \"%s\"\n", d->id, (int)st, in.msg);

    /* The host's arrays hold pointers: a NULL entry is refused, never dereferenced. */
    st = inst_prepare_ex(&in, &ps, 3, 1);
    CHECK(st == SCOPE_ERROR_INVALID_ARGUMENT && in.msg[0], "%s: prepare with a NULL format -> %d", d->id, (int)st);
    if (!quiet) printf("ok %s: prepare with a NULL format pointer -> %d \"%s\"\n", d->id, (int)st, in.msg);
    st = inst_prepare(&in, &ps, 3);
    CHECK(st == SCOPE_OK, "%s: prepare: %d %s", d->id, (int)st, in.msg);
    {
        frame a, b;
        frame_init(&a, 7, 3, 3, 32, IN_CANARY);
        frame_init(&b, 7, 3, 3, 32, OUT_CANARY);
        st = inst_call_ex(&in, &ps, &a, &b, 1);
        free(a.mem);
        free(b.mem);
    }
    CHECK(st == SCOPE_ERROR_INVALID_ARGUMENT && in.msg[0], "%s: call with a NULL frame -> %d", d->id, (int)st);
    if (!quiet) printf("ok %s: call with a NULL frame pointer -> %d \"%s\"\n", d->id, (int)st, in.msg);
    inst_destroy(&in);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* gray */

static int check_gray(const scope_pipeline_desc *d, int quiet)
{
    params ps;
    inst in;
    frame a, b;
    uint32_t x, y;
    scope_status st;
    if (common(d, &ps, &in, quiet)) return 1;
    frame_init(&a, 7, 3, 4, 32, IN_CANARY);
    frame_init(&b, 7, 3, 4, 40, OUT_CANARY);
    frame_pattern(&a, 3);
    st = inst_prepare(&in, &ps, 4);
    CHECK(st == SCOPE_OK, "%s: prepare: %d %s", d->id, (int)st, in.msg);
    st = inst_call(&in, &ps, &a, &b);
    CHECK(st == SCOPE_OK, "%s: call: %d %s", d->id, (int)st, in.msg);
    for (y = 0; y < 3; y++)
        for (x = 0; x < 7; x++) {
            unsigned l = (299u * px(&a, x, y, 0) + 587u * px(&a, x, y, 1) + 114u * px(&a, x, y, 2) + 500u) / 1000u;
            CHECK(px(&b, x, y, 0) == l && px(&b, x, y, 1) == l && px(&b, x, y, 2) == l && px(&b, x, y, 3) == px(&a, x, y, 3),
                  "%s: pixel (%u,%u)", d->id, x, y);
        }
    CHECK(padding_intact(&b, OUT_CANARY), "%s: wrote into the output's row padding", d->id);
    if (!quiet) printf("ok %s: 7x3 RGBA luma, alpha copied\n", d->id);
    free(a.mem);
    free(b.mem);
    inst_destroy(&in);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* throw (C++) */

static int check_throw(const scope_pipeline_desc *d, int quiet)
{
    params ps;
    inst in;
    frame a, b;
    scope_status st;
    int round;
    if (common(d, &ps, &in, quiet)) return 1;
    CHECK(d->param_count == 1 && param_at(d, 0)->type == SCOPE_PARAM_BOOL && strcmp(param_at(d, 0)->key, "throw") == 0 &&
              param_at(d, 0)->default_number == 1,
          "%s: param throw", d->id);
    frame_init(&a, 7, 3, 3, 32, IN_CANARY);
    frame_init(&b, 7, 3, 3, 32, OUT_CANARY);
    frame_pattern(&a, 9);
    st = inst_prepare(&in, &ps, 3);
    CHECK(st == SCOPE_OK, "%s: prepare: %d %s", d->id, (int)st, in.msg);
    for (round = 0; round < 2; round++) {
        params_get(&ps, "throw")->as.b = 1;
        st = inst_call(&in, &ps, &a, &b);
        CHECK(st == SCOPE_ERROR && strstr(in.msg, "boom from C++"), "%s: call returned %d \"%s\"", d->id, (int)st, in.msg);
        if (!quiet) printf("ok %s: throw=true -> %d \"%s\", process alive\n", d->id, (int)st, in.msg);
        params_get(&ps, "throw")->as.b = 0;
        st = inst_call(&in, &ps, &a, &b);
        CHECK(st == SCOPE_OK && memcmp(a.mem, b.mem, 7 * 3) == 0, "%s: throw=false returned %d \"%s\"", d->id, (int)st, in.msg);
        if (!quiet) printf("ok %s: throw=false -> pass-through\n", d->id);
    }
    free(a.mem);
    free(b.mem);
    inst_destroy(&in);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* actions (Go) */

static int check_actions(const scope_pipeline_desc *d, int quiet)
{
    params ps;
    inst in;
    frame a, b;
    scope_status st;
    uint32_t x, y, c;
    const scope_param_desc *p;
    if (common(d, &ps, &in, quiet)) return 1;
    CHECK(d->mode_count == 2 && d->modes[0].is_default && d->modes[1].mode == SCOPE_MODE_TEXT && d->modes[1].width == 64,
          "%s: modes", d->id);
    CHECK(d->param_count == 5, "%s: %u params", d->id, (unsigned)d->param_count);
    p = param_at(d, 0);
    CHECK(p->type == SCOPE_PARAM_ENUM && p->option_count == 3 && strcmp(p->options[1].key, "error") == 0 &&
              strcmp(p->options[1].label, "Return an error") == 0 && p->options[2].label == NULL &&
              strcmp(p->default_string, "panic") == 0,
          "%s: enum param", d->id);
    p = param_at(d, 3);
    CHECK(p->type == SCOPE_PARAM_COLOR && p->default_color[2] == 0.75f && p->category == SCOPE_CATEGORY_INPUT, "%s: color param", d->id);
    p = param_at(d, 4);
    CHECK(p->flags == (SCOPE_PARAM_HIDDEN | SCOPE_PARAM_LOAD_TIME), "%s: flags %u", d->id, (unsigned)p->flags);

    frame_init(&a, 7, 3, 3, 32, IN_CANARY);
    frame_init(&b, 7, 3, 3, 32, OUT_CANARY);
    st = inst_prepare(&in, &ps, 3);
    CHECK(st == SCOPE_OK, "%s: prepare: %d %s", d->id, (int)st, in.msg);

    st = inst_call(&in, &ps, &a, &b); /* action "panic" by default */
    CHECK(st == SCOPE_ERROR && strcmp(in.msg, "panic: boom from Go") == 0, "%s: panic returned %d \"%s\"", d->id, (int)st, in.msg);
    if (!quiet) printf("ok %s: panic -> %d \"%s\", process alive\n", d->id, (int)st, in.msg);

    params_string(&ps, "action", "error");
    params_get(&ps, "code")->as.i = SCOPE_ERROR_UNSUPPORTED;
    params_string(&ps, "message", "nope, not this one");
    st = inst_call(&in, &ps, &a, &b);
    CHECK(st == SCOPE_ERROR_UNSUPPORTED && strcmp(in.msg, "nope, not this one") == 0, "%s: error returned %d \"%s\"", d->id,
          (int)st, in.msg);
    params_string(&ps, "message", "a second message");
    st = inst_call(&in, &ps, &a, &b);
    CHECK(st == SCOPE_ERROR_UNSUPPORTED && strcmp(in.msg, "a second message") == 0, "%s: changed string \"%s\"", d->id, in.msg);
    if (!quiet) printf("ok %s: error -> %d \"%s\" (string parameter follows changes)\n", d->id, (int)st, in.msg);

    params_string(&ps, "action", "ok");
    st = inst_call(&in, &ps, &a, &b);
    CHECK(st == SCOPE_OK, "%s: ok returned %d \"%s\"", d->id, (int)st, in.msg);
    for (y = 0; y < 3; y++)
        for (x = 0; x < 7; x++)
            for (c = 0; c < 3; c++) {
                static const uint8_t want[3] = {64, 128, 191};
                CHECK(px(&b, x, y, c) == want[c], "%s: tint pixel (%u,%u) c%u = %u", d->id, x, y, c, px(&b, x, y, c));
            }
    CHECK(padding_intact(&b, OUT_CANARY), "%s: wrote into the output's row padding", d->id);
    if (!quiet) printf("ok %s: color parameter -> output filled with 64,128,191\n", d->id);

    st = inst_prepare(&in, &ps, 2);
    CHECK(st == SCOPE_ERROR_UNSUPPORTED, "%s: prepare with 2 channels returned %d", d->id, (int)st);
    st = inst_call(&in, &ps, &a, &b);
    CHECK(st == SCOPE_ERROR_BAD_STATE, "%s: call after a failed prepare returned %d \"%s\"", d->id, (int)st, in.msg);
    if (!quiet) printf("ok %s: failed prepare, then call -> %d \"%s\"\n", d->id, (int)st, in.msg);
    free(a.mem);
    free(b.mem);
    inst_destroy(&in);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct spec {
    const char *lib, *pipeline, *check;
    void *handle;
    const scope_plugin *plugin;
    const scope_pipeline_desc *desc;
    int quiet;
    int result;
} spec;

static int run_check(spec *s)
{
    if (strcmp(s->check, "invert") == 0) return check_invert(s->desc, s->quiet);
    if (strcmp(s->check, "gray") == 0) return check_gray(s->desc, s->quiet);
    if (strcmp(s->check, "throw") == 0) return check_throw(s->desc, s->quiet);
    if (strcmp(s->check, "actions") == 0) return check_actions(s->desc, s->quiet);
    CHECK(0, "unknown check %s", s->check);
    return 1;
}

static void *run_many(void *arg)
{
    spec *s = (spec *)arg;
    int i;
    for (i = 0; i < 50 && !s->result; i++) s->result = run_check(s);
    return NULL;
}

/* Opens the library (once per path) and registers it twice. */
static int load(spec *s, spec *all, int n)
{
    scope_plugin_entry_fn entry;
    char msg[256];
    scope_error err = {sizeof(scope_error), sizeof msg, msg};
    uint32_t i, count;
    int k;
    for (k = 0; k < n && &all[k] != s; k++) {
        if (strcmp(all[k].lib, s->lib) == 0) {
            s->handle = all[k].handle;
            s->plugin = all[k].plugin;
        }
    }
    if (!s->handle) {
        s->handle = dlopen(s->lib, RTLD_NOW | RTLD_LOCAL);
        CHECK(s->handle, "dlopen %s: %s", s->lib, dlerror());
        *(void **)&entry = dlsym(s->handle, SCOPE_PLUGIN_ENTRY_SYMBOL); /* POSIX's way around ISO C */
        CHECK(entry, "%s: no %s", s->lib, SCOPE_PLUGIN_ENTRY_SYMBOL);
        s->plugin = entry();
        CHECK(s->plugin && entry() == s->plugin, "%s: entry returned %p then %p", s->lib, (const void *)s->plugin,
              (const void *)entry());
        CHECK(s->plugin->struct_size == sizeof(scope_plugin) && s->plugin->abi_major == SCOPE_ABI_VERSION_MAJOR,
              "%s: plugin table size %u abi %u", s->lib, (unsigned)s->plugin->struct_size, (unsigned)s->plugin->abi_major);
        for (k = 0; k < 2; k++) {
            msg[0] = 0;
            CHECK(s->plugin->register_pipelines(&the_host, s->lib, &err) == SCOPE_OK, "%s: register: %s", s->lib, msg);
        }
        printf("ok %s: loaded \"%s\" %s, %u pipelines, registered twice\n", s->lib, s->plugin->name, s->plugin->version,
               (unsigned)s->plugin->pipeline_count());
    }
    count = s->plugin->pipeline_count();
    CHECK(s->plugin->get_pipeline(count) == NULL, "%s: get_pipeline(count) is not NULL", s->lib);
    for (i = 0; i < count; i++) {
        const scope_pipeline_desc *d = s->plugin->get_pipeline(i);
        if (d && strcmp(d->id, s->pipeline) == 0) s->desc = d;
    }
    CHECK(s->desc, "%s: no pipeline %s", s->lib, s->pipeline);
    return 0;
}

int main(int argc, char **argv)
{
    spec specs[16];
    pthread_t threads[16];
    int n = argc - 1, i, k;
    if (n < 1 || n > 16) {
        fprintf(stderr, "usage: harness LIB:PIPELINE:CHECK...\n");
        return 2;
    }
    memset(specs, 0, sizeof specs);
    for (i = 0; i < n; i++) {
        char *a = argv[i + 1], *c1 = strchr(a, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) {
            fprintf(stderr, "harness: %s is not LIB:PIPELINE:CHECK\n", a);
            return 2;
        }
        *c1 = *c2 = 0;
        specs[i].lib = a;
        specs[i].pipeline = c1 + 1;
        specs[i].check = c2 + 1;
    }
    /* Round 1: load and check each in turn; every library stays loaded. */
    for (i = 0; i < n; i++)
        if (load(&specs[i], specs, n) || run_check(&specs[i])) return 1;
    /* Round 2: again, with all libraries loaded. */
    for (i = 0; i < n; i++) {
        specs[i].quiet = 1;
        if (run_check(&specs[i])) return 1;
    }
    printf("ok all %d checks again with every library loaded\n", n);
    /* Round 3: all at once, one thread each. */
    for (i = 0; i < n; i++) pthread_create(&threads[i], NULL, run_many, &specs[i]);
    for (i = 0; i < n; i++) pthread_join(threads[i], NULL);
    for (i = 0; i < n; i++)
        if (specs[i].result) return 1;
    printf("ok all %d checks 50 times in %d concurrent threads\n", n, n);
    /* Unregister each library twice (it was registered twice). */
    for (i = 0; i < n; i++) {
        for (k = 0; k < i; k++)
            if (specs[k].plugin == specs[i].plugin) break;
        if (k < i || !specs[i].plugin->unregister_pipelines) continue;
        specs[i].plugin->unregister_pipelines();
        CHECK(specs[i].plugin->pipeline_count() > 0, "%s: pipelines gone after the first of two unregisters", specs[i].lib);
        specs[i].plugin->unregister_pipelines();
        printf("ok %s: unregistered twice, %u pipelines left\n", specs[i].lib, (unsigned)specs[i].plugin->pipeline_count());
    }
    if (failures) return 1;
    printf("PASS\n");
    return 0;
}
