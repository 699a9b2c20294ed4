/* A plugin for the loader's pool tests: pipeline "rows" writes, for every sample of every row,
 * out = (255 - in) ^ (uint8_t)(y * 7 + x), splitting its rows across the host's workers with
 * scope_parallel_for (grain 1). With the BOOL parameter "nested" each range splits its rows
 * again with a nested scope_parallel_for, which the host must run inline without deadlocking.
 * The output depends only on the input and the coordinates, so it is byte-identical whatever
 * the pool size; a range run twice or skipped shows as wrong bytes. */
#include <stdlib.h>
#include <scope/plugin.h>

typedef struct {
    const scope_host *host;
} pool_state;

typedef struct {
    const scope_host *host;
    const scope_frame *in;
    scope_frame *out;
    int nested;
} rows_job;

static void rows_leaf(void *ctx, uint32_t begin, uint32_t end)
{
    const rows_job *j = (const rows_job *)ctx;
    size_t n = (size_t)j->in->width * j->in->channels, x;
    uint32_t y;
    for (y = begin; y < end; y++) {
        const uint8_t *src = scope_frame_row(j->in, y);
        uint8_t *dst = scope_frame_row(j->out, y);
        for (x = 0; x < n; x++) dst[x] = (uint8_t)((255 - src[x]) ^ (uint8_t)(y * 7u + x));
    }
}

typedef struct {
    const rows_job *job;
    uint32_t base;
} nested_job;

static void nested_leaf(void *ctx, uint32_t begin, uint32_t end)
{
    const nested_job *n = (const nested_job *)ctx;
    rows_leaf((void *)n->job, n->base + begin, n->base + end);
}

static void rows_outer(void *ctx, uint32_t begin, uint32_t end)
{
    const rows_job *j = (const rows_job *)ctx;
    nested_job n;
    if (!j->nested) {
        rows_leaf(ctx, begin, end);
        return;
    }
    n.job = j;
    n.base = begin;
    scope_parallel_for(j->host, end - begin, 1, nested_leaf, &n);
}

static scope_status p_create(const scope_host *host, const scope_create_args *args, void **out, scope_error *err)
{
    pool_state *s = (pool_state *)calloc(1, sizeof *s);
    (void)args;
    if (!s) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "out of memory");
    s->host = host;
    *out = s;
    return SCOPE_OK;
}

static void p_destroy(void *inst) { free(inst); }

static scope_status p_prepare(void *inst, const scope_prepare_args *args, scope_requirements *req, scope_error *err)
{
    (void)inst;
    (void)args;
    (void)err;
    req->input_size = 1;
    return SCOPE_OK;
}

static scope_status p_call(void *inst, const scope_call *call, scope_error *err)
{
    pool_state *s = (pool_state *)inst;
    rows_job j;
    if (!call->inputs || call->inputs[0].count < 1 || !call->output)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "rows: no frames");
    j.host = s->host;
    j.in = call->inputs[0].frames[0];
    j.out = call->output;
    j.nested = scope_param_bool(call->params, 0);
    scope_parallel_for(s->host, j.out->height, 1, rows_outer, &j);
    return SCOPE_OK;
}

/* "workers" reports scope_worker_count as the one pixel value it writes. */
static scope_status w_call(void *inst, const scope_call *call, scope_error *err)
{
    pool_state *s = (pool_state *)inst;
    uint8_t rgba[4];
    (void)err;
    rgba[0] = rgba[1] = rgba[2] = rgba[3] = (uint8_t)scope_worker_count(s->host);
    scope_frame_fill_u8(call->output, rgba);
    return SCOPE_OK;
}

/* "aligned" fills the output with the ABI 1.1 guarantees it sees: bit 0 the input's data and
 * pitch are multiples of SCOPE_FRAME_ALIGNMENT, bit 1 the output's, bit 2 they do not overlap. */
static int is_aligned(const scope_frame *f)
{
    return ((uintptr_t)f->data % SCOPE_FRAME_ALIGNMENT) == 0 && (f->pitch % SCOPE_FRAME_ALIGNMENT) == 0;
}

static scope_status a_call(void *inst, const scope_call *call, scope_error *err)
{
    const scope_frame *in = call->inputs[0].frames[0];
    scope_frame *out = call->output;
    const uint8_t *i0 = (const uint8_t *)in->data, *i1 = i0 + (size_t)in->pitch * in->height;
    const uint8_t *o0 = (const uint8_t *)out->data, *o1 = o0 + (size_t)out->pitch * out->height;
    uint8_t v = (uint8_t)(is_aligned(in) | is_aligned(out) << 1 | (o1 <= i0 || i1 <= o0) << 2), rgba[4];
    (void)inst;
    (void)err;
    rgba[0] = rgba[1] = rgba[2] = rgba[3] = v;
    scope_frame_fill_u8(out, rgba);
    return SCOPE_OK;
}

static const scope_mode_desc p_modes[] = {SCOPE_MODE(SCOPE_MODE_VIDEO, 1, 0, 0, 1)};
static const scope_param_desc p_params[] = {
    SCOPE_BOOL_PARAM("nested", "Nested", "split each range again", 0),
};

static const scope_pipeline_desc pipelines[] = {
    {.struct_size = sizeof(scope_pipeline_desc), .id = "rows", .name = "Rows", .modes = p_modes,
     .mode_count = 1, .params = p_params, .param_count = 1, .create = p_create,
     .destroy = p_destroy, .prepare = p_prepare, .call = p_call},
    {.struct_size = sizeof(scope_pipeline_desc), .id = "workers", .name = "Workers", .modes = p_modes,
     .mode_count = 1, .create = p_create, .destroy = p_destroy, .prepare = p_prepare, .call = w_call},
    {.struct_size = sizeof(scope_pipeline_desc), .id = "aligned", .name = "Aligned", .modes = p_modes,
     .mode_count = 1, .create = p_create, .destroy = p_destroy, .prepare = p_prepare, .call = a_call},
};

SCOPE_DEFINE_PLUGIN("pool-test", "1.0.0", "thread pool tests", pipelines)
