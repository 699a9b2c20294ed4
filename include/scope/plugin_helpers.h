/*
 * scope/plugin_helpers.h -- convenience helpers for Scope Native plugins (static inline, no ABI
 * of their own). scope/plugin.h holds the contract and includes this header at its end, so a
 * plugin includes scope/plugin.h only; the helpers are kept apart so that the contract reads
 * on its own.
 *
 * Reading parameters: the host passes every parameter on every call, in the order of
 * scope_pipeline_desc.params, already validated and with the schema's default where the user
 * set none. So a plugin reads values by index (scope_param_float(params, INDEX)), with no
 * string compare per parameter per frame and no second copy of the default. The key-based
 * readers (scope_params_find and friends) remain for code that wants them outside the frame
 * loop.
 *
 * Rows across the host's workers: scope_parallel_for(host, rows, grain, fn, ctx).
 */
#ifndef SCOPE_PLUGIN_HELPERS_H
#define SCOPE_PLUGIN_HELPERS_H

#include "plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Helpers (static inline; no ABI of their own)
 * ------------------------------------------------------------------------------------------- */

/** Writes a printf-style message into err (truncated to fit). Safe with err == NULL.
 *  Returns `status` so it can end a function: `return scope_error_set(err, SCOPE_ERROR, ...)`. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static inline scope_status scope_error_set(scope_error *err, scope_status status, const char *fmt, ...)
{
    if (err && err->message && err->capacity > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, err->capacity, fmt, ap);
        va_end(ap);
    }
    return status;
}

/** Logs through the host if it can log. printf-style, one line. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static inline void scope_log(const scope_host *host, int32_t level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!host || !host->log) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    host->log(host, level, line);
}

/** The value with this key, or NULL. */
static inline const scope_value *scope_params_find(const scope_params *params, const char *key)
{
    uint32_t i;
    if (!params || !params->values || !key) return NULL;
    for (i = 0; i < params->count; i++) {
        if (params->values[i].key && strcmp(params->values[i].key, key) == 0) return &params->values[i];
    }
    return NULL;
}

/** A FLOAT (or INT) parameter's value, or `fallback` when absent. */
static inline double scope_params_float(const scope_params *params, const char *key, double fallback)
{
    const scope_value *v = scope_params_find(params, key);
    if (!v) return fallback;
    if (v->type == SCOPE_PARAM_FLOAT) return v->as.f;
    if (v->type == SCOPE_PARAM_INT) return (double)v->as.i;
    return fallback;
}

/** An INT (or BOOL) parameter's value, or `fallback` when absent. */
static inline int64_t scope_params_int(const scope_params *params, const char *key, int64_t fallback)
{
    const scope_value *v = scope_params_find(params, key);
    if (!v) return fallback;
    if (v->type == SCOPE_PARAM_INT) return v->as.i;
    if (v->type == SCOPE_PARAM_BOOL) return v->as.b;
    return fallback;
}

/** A BOOL parameter's value (0 or 1), or `fallback` when absent. */
static inline int scope_params_bool(const scope_params *params, const char *key, int fallback)
{
    const scope_value *v = scope_params_find(params, key);
    return (v && v->type == SCOPE_PARAM_BOOL) ? (v->as.b != 0) : fallback;
}

/** A STRING or ENUM parameter's value, or `fallback` when absent. */
static inline const char *scope_params_string(const scope_params *params, const char *key, const char *fallback)
{
    const scope_value *v = scope_params_find(params, key);
    return (v && (v->type == SCOPE_PARAM_STRING || v->type == SCOPE_PARAM_ENUM) && v->as.s) ? v->as.s : fallback;
}

/** Copies a COLOR parameter's RGBA into rgba[4]; returns 0 (and leaves rgba) when absent. */
static inline int scope_params_color(const scope_params *params, const char *key, float rgba[4])
{
    const scope_value *v = scope_params_find(params, key);
    if (!v || v->type != SCOPE_PARAM_COLOR) return 0;
    memcpy(rgba, v->as.color, sizeof v->as.color);
    return 1;
}

/** The value at `index` (the parameter's position in scope_pipeline_desc.params), or NULL when
 *  the index is out of range. The host passes every parameter in that order. */
static inline const scope_value *scope_param_at(const scope_params *params, uint32_t index)
{
    return (params && params->values && index < params->count) ? &params->values[index] : NULL;
}

/** The FLOAT (or INT) value at `index`; 0 when absent or of another type (which a host that
 *  keeps the contract never does: the schema's default arrives when the user set none). */
static inline double scope_param_float(const scope_params *params, uint32_t index)
{
    const scope_value *v = scope_param_at(params, index);
    if (!v) return 0.0;
    return v->type == SCOPE_PARAM_FLOAT ? v->as.f : v->type == SCOPE_PARAM_INT ? (double)v->as.i : 0.0;
}

/** The INT (or BOOL) value at `index`; 0 when absent or of another type. */
static inline int64_t scope_param_int(const scope_params *params, uint32_t index)
{
    const scope_value *v = scope_param_at(params, index);
    if (!v) return 0;
    return v->type == SCOPE_PARAM_INT ? v->as.i : v->type == SCOPE_PARAM_BOOL ? v->as.b : 0;
}

/** The BOOL value at `index` (0 or 1); 0 when absent or of another type. */
static inline int scope_param_bool(const scope_params *params, uint32_t index)
{
    const scope_value *v = scope_param_at(params, index);
    return (v && v->type == SCOPE_PARAM_BOOL) ? (v->as.b != 0) : 0;
}

/** The STRING or ENUM value at `index`; "" when absent or of another type. */
static inline const char *scope_param_string(const scope_params *params, uint32_t index)
{
    const scope_value *v = scope_param_at(params, index);
    return (v && (v->type == SCOPE_PARAM_STRING || v->type == SCOPE_PARAM_ENUM) && v->as.s) ? v->as.s : "";
}

/** Range function of scope_parallel_for: processes items [begin, end). */
typedef void (*scope_range_fn)(void *ctx, uint32_t begin, uint32_t end);

/** Whether `host` offers the 1.1 thread pool (scope_host.parallel_for). */
static inline int scope_host_has_pool(const scope_host *host)
{
    return host && host->struct_size >= offsetof(scope_host, reserved) + sizeof host->reserved &&
           host->parallel_for != NULL;
}

/** Threads the host pool runs at once (1 without a pool). */
static inline uint32_t scope_worker_count(const scope_host *host)
{
    return scope_host_has_pool(host) && host->worker_count > 0 ? host->worker_count : 1u;
}

/** Runs fn over [0, count) in ranges of at least `grain` items on the host's pool
 *  (scope_host.parallel_for has the contract), or as fn(ctx, 0, count) on this thread when
 *  there is nothing to split: the host has no pool (a 1.0 host, host == NULL), the pool has one
 *  worker, or count fits in one range. The last two skip the call into the host, which would
 *  run the one range on this thread anyway. */
static inline void scope_parallel_for(const scope_host *host, uint32_t count, uint32_t grain,
                                      scope_range_fn fn, void *ctx)
{
    if (count == 0) return;
    if (scope_worker_count(host) > 1 && count > (grain ? grain : 1u))
        host->parallel_for(host, count, grain, fn, ctx);
    else
        fn(ctx, 0, count);
}

/** Address of row y of a host frame. */
static inline uint8_t *scope_frame_row(const scope_frame *frame, uint32_t y)
{
    return (uint8_t *)frame->data + (size_t)y * (size_t)frame->pitch;
}

/** Bytes per element of an element type (0 if unknown). */
static inline size_t scope_element_size(uint32_t element_type)
{
    return element_type == SCOPE_ELEMENT_U8 ? 1u : element_type == SCOPE_ELEMENT_F32 ? 4u : 0u;
}

/** Checks, in prepare(), that an input format has 1, 3 or 4 channels of `element_type`;
 *  otherwise writes "<who>: <what> ..." into err and returns an error. */
static inline scope_status scope_format_check(const scope_frame_format *format, uint32_t element_type,
                                              const char *who, const char *what, scope_error *err)
{
    if (!format)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: no %s format", who, what);
    if (format->channels != 1 && format->channels != 3 && format->channels != 4)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s: %s must have 1, 3 or 4 channels, got %u",
                               who, what, (unsigned)format->channels);
    if (element_type && format->element_type != element_type)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s: %s must be %s, got element type %u",
                               who, what, element_type == SCOPE_ELEMENT_U8 ? "u8" : "f32",
                               (unsigned)format->element_type);
    return SCOPE_OK;
}

/** Checks that `frame` is a host frame of `element_type` with 1, 3 or 4 channels and data;
 *  otherwise writes "<who>: <what> ..." into err and returns an error. `what` names the frame
 *  in the message ("input", "output"). */
static inline scope_status scope_frame_check(const scope_frame *frame, uint32_t element_type,
                                             const char *who, const char *what, scope_error *err)
{
    if (!frame || !frame->data)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: %s frame is missing", who, what);
    if (frame->memory != SCOPE_MEMORY_HOST)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s: %s must be in host memory", who, what);
    if (frame->element_type != element_type)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s: %s must be %s, got element type %u",
                               who, what, element_type == SCOPE_ELEMENT_U8 ? "u8" : "f32",
                               (unsigned)frame->element_type);
    if (frame->channels != 1 && frame->channels != 3 && frame->channels != 4)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s: %s must have 1, 3 or 4 channels, got %u",
                               who, what, (unsigned)frame->channels);
    return SCOPE_OK;
}

/** Fills a u8 host frame with one colour: RGB(A) frames get rgba's first 3 (4) values, gray
 *  frames the Rec.601 luma of rgb. Honours the pitch; writes nothing outside width x height. */
static inline void scope_frame_fill_u8(scope_frame *frame, const uint8_t rgba[4])
{
    uint32_t x, y, c = frame->channels;
    uint8_t px[4];
    uint8_t *row0;
    size_t row_bytes = (size_t)frame->width * c;
    if (frame->width == 0 || frame->height == 0) return;
    row0 = scope_frame_row(frame, 0);
    if (c == 1) px[0] = (uint8_t)((299u * rgba[0] + 587u * rgba[1] + 114u * rgba[2] + 500u) / 1000u);
    else memcpy(px, rgba, 4);
    for (x = 0; x < frame->width; x++) memcpy(row0 + (size_t)x * c, px, c);
    for (y = 1; y < frame->height; y++) memcpy(scope_frame_row(frame, y), row0, row_bytes);
}

/*
 * Initializer macros for static descriptor tables (C only: C++ warns about the fields they leave
 * out; C++ plugins use include/scope/plugin.hpp). Each yields a braced initializer; fields not
 * named are zero.
 *
 *   static const scope_param_desc params[] = {
 *       SCOPE_FLOAT_PARAM("intensity", "Intensity", "How strongly to invert", 1.0, 0.0, 1.0),
 *   };
 */
#ifndef __cplusplus

/** A FLOAT parameter shown as a slider in the configuration panel. */
#define SCOPE_FLOAT_PARAM(key_, label_, description_, default_, min_, max_)                     \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_FLOAT, .key = (key_),         \
      .label = (label_), .description = (description_), .min_value = (min_),                     \
      .max_value = (max_), .default_number = (default_) }

/** An INT parameter. */
#define SCOPE_INT_PARAM(key_, label_, description_, default_, min_, max_)                       \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_INT, .key = (key_),           \
      .label = (label_), .description = (description_), .min_value = (min_),                     \
      .max_value = (max_), .step = 1, .default_number = (default_) }

/** A load-time INT parameter (passed to create(), disabled while streaming). */
#define SCOPE_INT_LOAD_PARAM(key_, label_, description_, default_, min_, max_)                  \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_INT, .key = (key_),           \
      .label = (label_), .description = (description_), .flags = SCOPE_PARAM_LOAD_TIME,          \
      .min_value = (min_), .max_value = (max_), .step = 1, .default_number = (default_) }

/** A BOOL parameter. */
#define SCOPE_BOOL_PARAM(key_, label_, description_, default_)                                  \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_BOOL, .key = (key_),          \
      .label = (label_), .description = (description_), .max_value = 1,                          \
      .default_number = (default_) }

/** A STRING parameter. */
#define SCOPE_STRING_PARAM(key_, label_, description_, default_)                                \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_STRING, .key = (key_),        \
      .label = (label_), .description = (description_), .default_string = (default_) }

/** An ENUM parameter over a static scope_enum_option array. */
#define SCOPE_ENUM_PARAM(key_, label_, description_, default_key_, options_, count_)            \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_ENUM, .key = (key_),          \
      .label = (label_), .description = (description_), .default_string = (default_key_),        \
      .options = (options_), .option_count = (count_) }

/** An enum option. */
#define SCOPE_ENUM_OPTION(key_, label_)                                                          \
    { .struct_size = sizeof(scope_enum_option), .key = (key_), .label = (label_) }

/** A COLOR parameter with a default RGBA (each 0..1). */
#define SCOPE_COLOR_PARAM(key_, label_, description_, r_, g_, b_, a_)                            \
    { .struct_size = sizeof(scope_param_desc), .type = SCOPE_PARAM_COLOR, .key = (key_),         \
      .label = (label_), .description = (description_), .default_color = { (r_), (g_), (b_), (a_) } }

/** A mode entry. */
#define SCOPE_MODE(mode_, is_default_, width_, height_, input_size_)                              \
    { .struct_size = sizeof(scope_mode_desc), .mode = (mode_), .is_default = (is_default_),      \
      .width = (width_), .height = (height_), .input_size = (input_size_) }

#endif /* !__cplusplus */

/** Number of elements of a static array. */
#define SCOPE_COUNTOF(array_) ((uint32_t)(sizeof(array_) / sizeof((array_)[0])))

/**
 * Defines the plugin table and the exported entry for a library whose pipelines are a static
 * array of scope_pipeline_desc, with a register step that refuses a host of another ABI major.
 * Use it once, at file scope, after the array (C and C++):
 *
 *     SCOPE_DEFINE_PLUGIN("my-plugin", "1.0.0", "What it does", my_pipelines)
 */
#define SCOPE_DEFINE_PLUGIN(name_, version_, description_, pipelines_)                           \
    static scope_status scope_plugin_register_(const scope_host *host, const char *plugin_path,   \
                                               scope_error *err)                                  \
    {                                                                                            \
        (void)plugin_path;                                                                       \
        if (host && host->abi_major != SCOPE_ABI_VERSION_MAJOR)                                  \
            return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED,                                  \
                                   "%s needs plugin ABI %d.x; the host has %u.x", (name_),        \
                                   SCOPE_ABI_VERSION_MAJOR, (unsigned)host->abi_major);           \
        return SCOPE_OK;                                                                         \
    }                                                                                            \
    static uint32_t scope_plugin_count_(void) { return SCOPE_COUNTOF(pipelines_); }              \
    static const scope_pipeline_desc *scope_plugin_get_(uint32_t index)                          \
    {                                                                                            \
        return index < SCOPE_COUNTOF(pipelines_) ? &(pipelines_)[index] : NULL;                  \
    }                                                                                            \
    static const scope_plugin scope_plugin_table_ = {                                            \
        sizeof(scope_plugin), SCOPE_ABI_VERSION_MAJOR, SCOPE_ABI_VERSION_MINOR, (name_),         \
        (version_), (description_), scope_plugin_register_, NULL, scope_plugin_count_,            \
        scope_plugin_get_, NULL};                                                                \
    SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void) { return &scope_plugin_table_; }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SCOPE_PLUGIN_HELPERS_H */
