/*
 * entry.c -- the C half of the Go SDK: the exported scope_plugin_entry, the scope_plugin table
 * and the trampolines every descriptor points at.
 *
 * The trampolines do the ABI's size bookkeeping in C, where it is natural: sized structs from the
 * host are copied into zero-filled locals of this header's size (min(struct_size, sizeof) bytes),
 * and requirements are copied back as min(host's struct_size, sizeof). Go then sees full-size
 * structs only. Each trampoline calls one Go function exported from export.go (scopeSDK*).
 *
 * An instance pointer is a runtime/cgo.Handle: a small non-zero integer, never a Go pointer.
 */
#include <pthread.h>
#include <string.h>

#include "sdk.h"
#include "_cgo_export.h"

static scope_plugin sdk_plugin;
static pthread_once_t sdk_plugin_once = PTHREAD_ONCE_INIT;

/* Set by scope_sdk_publish during register/unregister ([load]); read by the [thread-safe]
 * getters afterwards. */
static scope_pipeline_desc *sdk_pipelines;
static uint32_t sdk_pipeline_count;

/* Copies a sized struct the ABI way into dst (dst_size bytes, zero tail). */
static void sdk_read_sized(void *dst, size_t dst_size, const void *src)
{
    uint32_t size = 0;
    memset(dst, 0, dst_size);
    if (!src) return;
    memcpy(&size, src, sizeof size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
}

/* Index of the published descriptor `d`, by address or else by id; -1 if it is not ours. */
static int64_t sdk_index_of(const scope_pipeline_desc *d)
{
    uint32_t i;
    if (!d || !sdk_pipelines) return -1;
    for (i = 0; i < sdk_pipeline_count; i++) {
        if (d == &sdk_pipelines[i]) return i;
    }
    for (i = 0; d->id && i < sdk_pipeline_count; i++) {
        if (strcmp(d->id, sdk_pipelines[i].id) == 0) return i;
    }
    return -1;
}

static scope_status sdk_register(const scope_host *host, const char *plugin_path, scope_error *err)
{
    return scopeSDKRegister((scope_host *)host, (char *)plugin_path, err);
}

static void sdk_unregister(void)
{
    scopeSDKUnregister();
}

static uint32_t sdk_count(void)
{
    return sdk_pipeline_count;
}

static const scope_pipeline_desc *sdk_get(uint32_t index)
{
    return index < sdk_pipeline_count ? &sdk_pipelines[index] : NULL;
}

static scope_status sdk_create(const scope_host *host, const scope_create_args *args, void **out_instance,
                               scope_error *err)
{
    scope_create_args a;
    uintptr_t handle = 0;
    int64_t index;
    scope_status status;
    if (!args || !out_instance) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "create: NULL argument");
    *out_instance = NULL;
    sdk_read_sized(&a, sizeof a, args);
    index = sdk_index_of(a.pipeline);
    if (index < 0) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "create: unknown pipeline descriptor");
    status = scopeSDKCreate((uint32_t)index, (scope_host *)host, &a, &handle, err);
    if (status == SCOPE_OK) *out_instance = (void *)handle;
    return status;
}

static void sdk_destroy(void *instance)
{
    if (instance) scopeSDKDestroy((uintptr_t)instance);
}

static scope_status sdk_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                                scope_error *err)
{
    scope_prepare_args a;
    scope_requirements r;
    scope_status status;
    if (!instance) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "prepare: no instance");
    if (!args || !out) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "prepare: NULL argument");
    sdk_read_sized(&a, sizeof a, args);
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    status = scopeSDKPrepare((uintptr_t)instance, &a, &r, err);
    if (status == SCOPE_OK) {
        /* Write what both sides know; the host's struct_size stays. */
        size_t n = out->struct_size < sizeof r ? out->struct_size : sizeof r;
        if (n > sizeof r.struct_size)
            memcpy((char *)out + sizeof r.struct_size, (const char *)&r + sizeof r.struct_size, n - sizeof r.struct_size);
    }
    return status;
}

static scope_status sdk_call(void *instance, const scope_call *call, scope_error *err)
{
    scope_call c;
    if (!instance) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "call: no instance");
    if (!call) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "call: NULL argument");
    sdk_read_sized(&c, sizeof c, call);
    return scopeSDKCall((uintptr_t)instance, &c, err);
}

void scope_sdk_publish(scope_pipeline_desc *pipelines, uint32_t count)
{
    uint32_t i;
    for (i = 0; pipelines && i < count; i++) {
        pipelines[i].create = sdk_create;
        pipelines[i].destroy = sdk_destroy;
        pipelines[i].prepare = sdk_prepare;
        pipelines[i].call = sdk_call;
    }
    sdk_pipelines = pipelines;
    sdk_pipeline_count = pipelines ? count : 0;
}

void scope_sdk_log(const scope_host *host, int32_t level, const char *message)
{
    if (host && host->struct_size >= offsetof(scope_host, log) + sizeof host->log && host->log)
        host->log(host, level, message);
}

/* One range of a Go parallel_for job (scopeSDKRange is exported by export.go). */
extern void scopeSDKRange(uintptr_t job, uint32_t begin, uint32_t end);

static void sdk_range(void *ctx, uint32_t begin, uint32_t end)
{
    scopeSDKRange((uintptr_t)ctx, begin, end);
}

void scope_sdk_parallel_for(const scope_host *host, uint32_t count, uint32_t grain, uintptr_t job)
{
    scope_parallel_for(host, count, grain, sdk_range, (void *)job);
}

static void sdk_build_plugin(void)
{
    char *name = NULL, *version = NULL, *description = NULL;
    /* Waits for the Go runtime and every package init (scope.Register calls) to finish. */
    scopeSDKPluginInfo(&name, &version, &description);
    sdk_plugin.struct_size = sizeof sdk_plugin;
    sdk_plugin.abi_major = SCOPE_ABI_VERSION_MAJOR;
    sdk_plugin.abi_minor = SCOPE_ABI_VERSION_MINOR;
    sdk_plugin.name = name;
    sdk_plugin.version = version;
    sdk_plugin.description = description;
    sdk_plugin.register_pipelines = sdk_register;
    sdk_plugin.unregister_pipelines = sdk_unregister;
    sdk_plugin.pipeline_count = sdk_count;
    sdk_plugin.get_pipeline = sdk_get;
    sdk_plugin.get_extension = NULL;
}

SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void)
{
    pthread_once(&sdk_plugin_once, sdk_build_plugin);
    return &sdk_plugin;
}
