/*
 * frei0r.c -- the frei0r bridge: every installed frei0r filter, source and mixer as a Scope
 * pipeline named "frei0r.<file name>".
 *
 * REGISTRATION
 *   register_pipelines() searches, in order:
 *     - $SCOPE_FREI0R_PATH, when set (even empty): it REPLACES every folder below;
 *     - $FREI0R_PATH (colon-separated), then ~/.frei0r-1/lib, /usr/local/lib/frei0r-1,
 *       /usr/lib/frei0r-1, /usr/lib/<triplet>/frei0r-1, /usr/local/lib/<triplet>/frei0r-1 and
 *       /usr/lib64/frei0r-1.
 *   Each entry is a folder (its *.so files, and those of its subfolders: frei0r's vendor
 *   folders) or a single .so file. The same file reached twice is opened once; the same id
 *   from two folders keeps the first (so FREI0R_PATH overrides the system folders).
 *
 *   Each file is dlopen()ed (RTLD_NOW | RTLD_LOCAL), must export the frei0r 1.x functions,
 *   f0r_init() must succeed, its f0r_plugin_info must be well formed (frei0r API 1, a known
 *   type and colour model, known parameter types), and an instance must construct (at 16x16,
 *   else 640x360): its parameter values are the defaults (frei0r declares none). A file that
 *   fails any step is skipped with a logged reason (WARN for a broken frei0r plugin, DEBUG for
 *   a file that is not a frei0r plugin or a duplicate); the others register. A plugin that
 *   CRASHES (SIGSEGV) in f0r_init, f0r_get_*_info or f0r_construct takes the host process with
 *   it: a plugin library cannot catch that portably. With no frei0r plugin found, the bridge
 *   registers no pipeline and says so at DEBUG level only.
 *
 * QUIRKS
 *   A short table (bf_quirks, below) keyed by the frei0r plugin's name (its file name without
 *   .so, as in the pipeline id) lists what `scope plugin validate` found wrong with the plugins
 *   of Debian 12's frei0r-plugins 1.8.0 that the bridge cannot work around:
 *     - effects random by design (noise, particles, k-means from random centres...) register
 *       with SCOPE_PIPELINE_NONDETERMINISTIC, so that hosts and validators do not expect
 *       identical output for identical input;
 *     - plugins that crash or corrupt memory are not registered, logged at WARN with the
 *       reason. Set SCOPE_FREI0R_KEEP_BROKEN=1 to register them anyway (to check whether a
 *       newer frei0r fixed them).
 *   Add an entry only for what the validator shows, with the reason.
 *
 * PARAMETERS (keys: the frei0r name lowercased, spaces -> '_', other characters outside
 * [a-z0-9_.-] dropped, runs of '_' collapsed, de-duplicated with _2, _3...; the frei0r name is
 * the label, its explanation the description. Defaults are read from an instance constructed
 * at 16x16; a value is sent to a frei0r instance only once it differs from the default shown,
 * so an untouched parameter keeps frei0r's own default, which for pixeliz0r, glitch0r,
 * pr0file and lightgraffiti depends on the frame size)
 *   bool     -> BOOL               (frei0r's double >= 0.5 is true)
 *   double   -> FLOAT 0..1         (a default outside 0..1 is shown clamped, logged at DEBUG;
 *                                   the plugin keeps its own until the value is changed)
 *   color    -> COLOR              (alpha ignored: frei0r colours are RGB)
 *   position -> FLOAT <key>_x and FLOAT <key>_y, each 0..1
 *   string   -> STRING
 *   Sources also get load-time INT "width" and "height" (default 640x360).
 *
 * PIPELINES
 *   filter  -> video mode, one input port
 *   source  -> text mode (640x360 by default, load-time width/height), RGB output
 *   mixer2/3 -> video mode with input ports "video", "video2" (, "video3"). A graph
 *              (scope run --graph, or --mix) feeds every port; prepare() refuses a mixer
 *              given fewer ports with a message that says how to connect them.
 *   All pipelines are SCOPE_THREADING_SERIAL: frei0r allows one thread per instance, and every
 *   plugin built on frei0r.hpp shares static state between instances (each f0r_construct
 *   clears and refills the static parameter table that f0r_get/set_param_value index), so
 *   two instances of one plugin must never run at once.
 *
 * FRAMES
 *   frei0r wants packed 8-bit RGBA8888 / BGRA8888 (PACKED32 is fed RGBA), 16-byte aligned,
 *   rows of exactly width*4 bytes, width and height multiples of 8. Each instance keeps
 *   64-byte aligned input/output buffers padded up to multiples of 8 and at least 16x16
 *   (curves divides by zero at a height of 8), with 32 spare rows (at least 4096 pixels)
 *   after each (partik0l writes up to 14 rows past its output at heights under 200). They are allocated in prepare()
 *   when the size changes, never per frame, and the frei0r instance is rebuilt then too.
 *   Input pixels are converted from the host frame (u8 gray, RGB or RGBA, any pitch; RGB and
 *   gray get alpha 255), edge pixels are replicated into the padding, and the output is
 *   cropped back: an effect that depends on geometry (a centred vignette, a position
 *   parameter) sees the padded frame, at most 7 pixels wider and taller. Output has 4
 *   channels for RGBA input (frei0r's alpha), else 3 (gray input gives RGB output: frei0r
 *   effects may colour it). frei0r's 2048-pixel limit is not enforced (most plugins do not
 *   need it). The frame time given to frei0r is the call's timestamp in seconds.
 *
 * LIFECYCLE
 *   Each frei0r library is loaded once per process and never unloaded: f0r_init() runs when
 *   the bridge is the first to load it into the process (dlopen with RTLD_NOLOAD tells), then
 *   the library is pinned (RTLD_NODELETE). frei0r calls f0r_deinit() "when the plugin is
 *   unloaded", which therefore never happens. Why: the host runs a private copy of the bridge
 *   per load, so during a hot reload two copies share one frei0r library; a per-copy
 *   init/deinit pair would deinitialize it under the other copy (curves frees its globals in
 *   f0r_deinit: a double free), and unloading libraries that pull in OpenCV or C++ runtimes is a
 *   classic crash. It also makes a second registration in a process ~10 ms instead of ~100 ms.
 *   Register/unregister are reference-counted; descriptors are heap-allocated at registration
 *   and freed at the last unregister_pipelines().
 *
 * Builds with the default example flags (C99, -Wall -Wextra -pedantic -Werror) and needs no
 * frei0r header: the few frei0r types and signatures are declared below. dlopen() is in libc
 * on glibc 2.34+ (CMakeLists.txt adds ${CMAKE_DL_LIBS} for older systems).
 */
#define _XOPEN_SOURCE 700 /* dlopen, opendir, realpath */

#include <scope/plugin.h>

#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------------------------------------
 * frei0r 1.x declarations (frei0r.h, restated so the bridge builds without it)
 * ------------------------------------------------------------------------------------------- */

enum { F0R_TYPE_FILTER = 0, F0R_TYPE_SOURCE = 1, F0R_TYPE_MIXER2 = 2, F0R_TYPE_MIXER3 = 3 };
enum { F0R_MODEL_BGRA8888 = 0, F0R_MODEL_RGBA8888 = 1, F0R_MODEL_PACKED32 = 2 };
enum { F0R_PARAM_BOOL = 0, F0R_PARAM_DOUBLE = 1, F0R_PARAM_COLOR = 2, F0R_PARAM_POSITION = 3, F0R_PARAM_STRING = 4 };

typedef struct f0r_plugin_info {
    const char *name;
    const char *author;
    int plugin_type;
    int color_model;
    int frei0r_version;
    int major_version;
    int minor_version;
    int num_params;
    const char *explanation;
} f0r_plugin_info;

typedef struct f0r_param_info {
    const char *name;
    int type;
    const char *explanation;
} f0r_param_info;

typedef struct f0r_color { float r, g, b; } f0r_color;
typedef struct f0r_position { double x, y; } f0r_position;

/* What f0r_get_param_value may write, with slack for plugins that write more than the type. */
typedef union f0r_value {
    double d;
    f0r_color color;
    f0r_position pos;
    char *s;
    unsigned char slack[64];
} f0r_value;

/* The functions of one frei0r library. */
typedef struct f0r_api {
    int (*init)(void);
    void (*deinit)(void);
    void (*get_plugin_info)(f0r_plugin_info *info);
    void (*get_param_info)(f0r_param_info *info, int index);
    void *(*construct)(unsigned int width, unsigned int height);
    void (*destruct)(void *fx);
    void (*set_param_value)(void *fx, void *param, int index);
    void (*get_param_value)(void *fx, void *param, int index);
    void (*update)(void *fx, double time, const uint32_t *in, uint32_t *out);
    void (*update2)(void *fx, double time, const uint32_t *in1, const uint32_t *in2, const uint32_t *in3,
                    uint32_t *out);
} f0r_api;

/* ---------------------------------------------------------------------------------------------
 * Bridge state
 * ------------------------------------------------------------------------------------------- */

#define BF_MAX_PARAMS 256      /* a frei0r plugin with more is refused as malformed */
#define BF_DEFAULT_WIDTH 640   /* sources: default output size */
#define BF_DEFAULT_HEIGHT 360
#define BF_MAX_SIZE 8192       /* sources: largest load-time width/height */
/* Spare space after every frei0r buffer: some plugins write a little past the end of their
 * output frame (partik0l draws particles up to 14 rows below it at heights under 200, which
 * corrupts the heap with an exact-size buffer). 32 rows, at least 4096 pixels. */
#define BF_GUARD_ROWS 32u
#define BF_GUARD_PIXELS 4096u

/* How one Scope parameter reaches frei0r. */
enum { BF_MAP_BOOL, BF_MAP_DOUBLE, BF_MAP_COLOR, BF_MAP_POS_X, BF_MAP_POS_Y, BF_MAP_STRING, BF_MAP_WIDTH, BF_MAP_HEIGHT };

typedef struct bf_param_map {
    int kind;      /* BF_MAP_* */
    int index;     /* frei0r parameter index (unused for WIDTH/HEIGHT) */
} bf_param_map;

/* One registered pipeline: its descriptor (first, so the descriptor pointer the host hands
 * back to create() is the pipeline), the frei0r library behind it and everything allocated
 * for the descriptor. */
typedef struct bf_pipeline {
    scope_pipeline_desc desc;
    scope_mode_desc mode;
    const char *ports[3];
    scope_param_desc *params;
    bf_param_map *map;
    uint32_t param_count;
    void *handle;     /* dlopen handle */
    f0r_api api;
    int type;         /* F0R_TYPE_* */
    int bgra;         /* 1 for BGRA8888, 0 for RGBA8888 and PACKED32 */
    int inputs;       /* input ports: 0 (source), 1 (filter), 2, 3 (mixers) */
    char *path;
    char **strings;   /* every string allocated for the descriptor */
    uint32_t string_count, string_cap;
} bf_pipeline;

/* Everything register_pipelines built; guarded by the host's [load] serialization. */
static struct {
    int refs;
    const scope_host *host;
    bf_pipeline **items;
    uint32_t count, cap;
    uint32_t skipped;
} g_bf;

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------------- */

/* Copies `s` (NULL = "") as valid, single-line UTF-8: invalid bytes become '?', control
 * characters (newlines, tabs) become spaces, surrounding spaces are trimmed. */
static char *bf_clean_text(const char *s)
{
    size_t n = s ? strlen(s) : 0, i = 0, o = 0;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    char *out;
    if (n > 4096) n = 4096;
    out = (char *)malloc(n + 1);
    if (!out) return NULL;
    while (i < n) {
        unsigned char c = u[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        size_t k;
        int ok = len > 0 && i + len <= n;
        for (k = 1; ok && k < len; k++) ok = (u[i + k] & 0xC0) == 0x80;
        if (ok && len == 2 && c < 0xC2) ok = 0;                                     /* overlong */
        if (ok && len == 3 && c == 0xE0 && u[i + 1] < 0xA0) ok = 0;                 /* overlong */
        if (ok && len == 3 && c == 0xED && u[i + 1] >= 0xA0) ok = 0;                /* surrogate */
        if (ok && len == 4 && (c > 0xF4 || (c == 0xF0 && u[i + 1] < 0x90) || (c == 0xF4 && u[i + 1] >= 0x90))) ok = 0;
        if (!ok) {
            out[o++] = '?';
            i++;
            continue;
        }
        if (len == 1 && (c < 0x20 || c == 0x7F)) {
            out[o++] = ' ';
            i++;
            continue;
        }
        memcpy(out + o, u + i, len);
        o += len;
        i += len;
    }
    while (o > 0 && out[o - 1] == ' ') o--;
    out[o] = '\0';
    for (i = 0; out[i] == ' '; i++) {}
    if (i > 0) memmove(out, out + i, o - i + 1);
    return out;
}

/* Writes the key form of `s` into out (capacity cap): lowercase ASCII letters and digits,
 * '_', '.', '-' kept, spaces become '_', everything else is dropped; runs of '_' collapse to
 * one and none leads or trails ("Delta R / A / Hue" -> "delta_r_a_hue"). */
static void bf_key_of(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 1 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c == ' ') c = '_';
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) continue;
        if (c == '_' && (o == 0 || out[o - 1] == '_')) continue; /* no leading or doubled '_' */
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == '_') o--;
    out[o] = '\0';
}

/* Keeps `s` (a malloc'd string, may be NULL) to be freed with the pipeline; returns it. */
static char *bf_own(bf_pipeline *bp, char *s)
{
    if (!s) return NULL;
    if (bp->string_count == bp->string_cap) {
        uint32_t cap = bp->string_cap ? bp->string_cap * 2 : 16;
        char **grown = (char **)realloc(bp->strings, cap * sizeof *grown);
        if (!grown) {
            free(s);
            return NULL;
        }
        bp->strings = grown;
        bp->string_cap = cap;
    }
    bp->strings[bp->string_count++] = s;
    return s;
}

/* A malloc'd copy of s. */
static char *bf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = (char *)malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Looks up a symbol as a function pointer (memcpy: ISO C has no object -> function cast). */
static int bf_sym(void *handle, const char *name, void *fn, size_t fn_size)
{
    void *p = dlsym(handle, name);
    if (!p) return 0;
    memcpy(fn, &p, fn_size);
    return 1;
}

static double bf_clamp01(double x)
{
    if (!(x >= 0.0)) return 0.0; /* also NaN */
    return x > 1.0 ? 1.0 : x;
}

/* The frei0r size for a host size: the next multiple of 8, at least 16 (frei0r allows 8, but
 * curves divides by zero at a height of 8). */
static uint32_t bf_pad8(uint32_t n)
{
    uint32_t p = (n + 7u) & ~7u;
    return p < 16u ? 16u : p;
}

/* Frees one pipeline and everything it owns, and drops its reference to the library (which
 * stays mapped once pinned: see LIFECYCLE). */
static void bf_pipeline_free(bf_pipeline *bp)
{
    uint32_t i;
    if (!bp) return;
    if (bp->handle) dlclose(bp->handle);
    for (i = 0; i < bp->string_count; i++) free(bp->strings[i]);
    free(bp->strings);
    free(bp->params);
    free(bp->map);
    free(bp->path);
    free(bp);
}

/* ---------------------------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------------------------- */

/* One value as last sent to the frei0r instance. */
typedef struct bf_sent {
    int valid;
    double d;
    float color[3];
    char *s;
} bf_sent;

typedef struct bf_instance {
    const bf_pipeline *bp;
    const scope_host *host;
    void *fx;                 /* frei0r instance, built for pw x ph */
    uint32_t width, height;   /* host frame size */
    uint32_t pw, ph;          /* padded frei0r size */
    uint32_t out_channels;
    void *raw[4];             /* allocations behind buf[] (aligned inside) */
    uint32_t *buf[4];         /* buf[0..2]: inputs, buf[3]: output; pw*ph pixels each */
    bf_sent *sent;            /* per Scope parameter */
    int prepared;
} bf_instance;

static const bf_pipeline *bf_find(const scope_pipeline_desc *desc)
{
    uint32_t i;
    for (i = 0; i < g_bf.count; i++) {
        if (&g_bf.items[i]->desc == desc) return g_bf.items[i];
    }
    for (i = 0; desc && desc->id && i < g_bf.count; i++) {
        if (strcmp(g_bf.items[i]->desc.id, desc->id) == 0) return g_bf.items[i];
    }
    return NULL;
}

static void bf_release_frames(bf_instance *self)
{
    int i;
    if (self->fx) self->bp->api.destruct(self->fx);
    self->fx = NULL;
    for (i = 0; i < 4; i++) {
        free(self->raw[i]);
        self->raw[i] = NULL;
        self->buf[i] = NULL;
    }
    self->width = self->height = self->pw = self->ph = 0;
}

static void bf_forget_sent(bf_instance *self)
{
    uint32_t i;
    for (i = 0; self->sent && i < self->bp->param_count; i++) {
        free(self->sent[i].s);
        memset(&self->sent[i], 0, sizeof self->sent[i]);
    }
}

static scope_status bf_create(const scope_host *host, const scope_create_args *args, void **out_instance,
                              scope_error *err)
{
    const bf_pipeline *bp = bf_find(args ? args->pipeline : NULL);
    bf_instance *self;
    if (!bp) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "frei0r: unknown pipeline descriptor");
    self = (bf_instance *)calloc(1, sizeof *self);
    if (!self) return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "%s: out of memory", bp->desc.id);
    self->sent = (bf_sent *)calloc(bp->param_count ? bp->param_count : 1, sizeof *self->sent);
    if (!self->sent) {
        free(self);
        return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "%s: out of memory", bp->desc.id);
    }
    self->bp = bp;
    self->host = host;
    *out_instance = self;
    return SCOPE_OK;
}

static void bf_destroy(void *instance)
{
    bf_instance *self = (bf_instance *)instance;
    if (!self) return;
    bf_release_frames(self);
    bf_forget_sent(self);
    free(self->sent);
    free(self);
}

/* Records that a new frei0r instance holds the defaults the descriptor shows (frei0r sets its
 * defaults in f0r_construct), so only values that differ from them are sent: a parameter left
 * at its default keeps frei0r's own value, which for a few plugins depends on the frame size
 * (pixeliz0r's block size, glitch0r, pr0file, lightgraffiti) or lies outside 0..1. */
static void bf_seed_sent(bf_instance *self)
{
    const bf_pipeline *bp = self->bp;
    uint32_t i;
    for (i = 0; i < bp->param_count; i++) {
        const scope_param_desc *p = &bp->params[i];
        bf_sent *s = &self->sent[i];
        switch (bp->map[i].kind) {
        case BF_MAP_BOOL:
        case BF_MAP_DOUBLE:
        case BF_MAP_POS_X:
        case BF_MAP_POS_Y:
            s->d = p->default_number;
            s->valid = 1;
            break;
        case BF_MAP_COLOR:
            memcpy(s->color, p->default_color, sizeof s->color);
            s->valid = 1;
            break;
        case BF_MAP_STRING:
            s->s = bf_strdup(p->default_string ? p->default_string : "");
            s->valid = s->s != NULL;
            break;
        default:
            break;
        }
    }
}

/* Writes every parameter of a new frei0r instance back with the value it reports, so its
 * state is what f0r_get_param_value says even where f0r_construct left it uninitialized
 * (curves crashes at 640x360 unless a parameter has been set), while values that depend on the
 * frame size stay the plugin's own. Strings are copied first: the plugin frees its old copy.
 * Bools are left alone: frei0r.hpp up to 1.8 reads a C++ bool as a double in
 * f0r_get_param_value, so the value it reports is garbage and writing it back would replace
 * the plugin's real default. */
static void bf_settle_params(bf_instance *self)
{
    const bf_pipeline *bp = self->bp;
    uint32_t i;
    for (i = 0; i < bp->param_count; i++) {
        const bf_param_map *m = &bp->map[i];
        f0r_value v;
        if (m->kind == BF_MAP_BOOL || m->kind == BF_MAP_POS_Y || m->kind == BF_MAP_WIDTH || m->kind == BF_MAP_HEIGHT)
            continue;
        memset(&v, 0, sizeof v);
        bp->api.get_param_value(self->fx, &v, m->index);
        if (m->kind == BF_MAP_STRING) {
            char *copy = bf_strdup(v.s ? v.s : "");
            if (!copy) continue;
            bp->api.set_param_value(self->fx, &copy, m->index);
            free(copy);
        } else {
            bp->api.set_param_value(self->fx, &v, m->index);
        }
    }
}

/* Builds the frei0r instance and the padded buffers for a w x h host frame. */
static scope_status bf_resize(bf_instance *self, uint32_t w, uint32_t h, scope_error *err)
{
    const bf_pipeline *bp = self->bp;
    uint32_t pw = bf_pad8(w), ph = bf_pad8(h);
    size_t bytes = (size_t)pw * ph * 4u;
    size_t guard = (size_t)pw * BF_GUARD_ROWS > BF_GUARD_PIXELS ? (size_t)pw * BF_GUARD_ROWS : BF_GUARD_PIXELS;
    int i;
    bf_release_frames(self);
    bf_forget_sent(self);
    for (i = 0; i < 4; i++) {
        if (i < 3 && i >= (bp->inputs > 0 ? bp->inputs : 1)) continue;
        self->raw[i] = calloc(1, bytes + guard * 4u + 64u);
        if (!self->raw[i]) {
            bf_release_frames(self);
            return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "%s: out of memory for %ux%u frames",
                                   bp->desc.id, (unsigned)pw, (unsigned)ph);
        }
        self->buf[i] = (uint32_t *)(((uintptr_t)self->raw[i] + 63u) & ~(uintptr_t)63u);
    }
    self->fx = bp->api.construct(pw, ph);
    if (!self->fx) {
        bf_release_frames(self);
        return scope_error_set(err, SCOPE_ERROR, "%s: f0r_construct(%u, %u) failed", bp->desc.id, (unsigned)pw,
                               (unsigned)ph);
    }
    self->width = w;
    self->height = h;
    self->pw = pw;
    self->ph = ph;
    bf_settle_params(self);
    bf_seed_sent(self);
    return SCOPE_OK;
}

static scope_status bf_prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                               scope_error *err)
{
    bf_instance *self = (bf_instance *)instance;
    const bf_pipeline *bp = self->bp;
    uint32_t w, h, i, channels;
    scope_status status;

    if (bp->inputs == 0) {
        /* Source: the size is the load-time width/height. */
        w = (uint32_t)scope_params_int(args->params, "width", BF_DEFAULT_WIDTH);
        h = (uint32_t)scope_params_int(args->params, "height", BF_DEFAULT_HEIGHT);
        channels = 3;
    } else {
        if (args->input_port_count < (uint32_t)bp->inputs || !args->input_formats) {
            if (bp->inputs > 1)
                return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED,
                                       "%s is a frei0r mixer and needs %d inputs (ports video, video2%s); it got %u: "
                                       "connect every port in a graph (scope run --graph FILE, or --mix SOURCE)",
                                       bp->desc.id, bp->inputs, bp->inputs == 3 ? ", video3" : "",
                                       (unsigned)args->input_port_count);
            return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: no input format", bp->desc.id);
        }
        for (i = 0; i < (uint32_t)bp->inputs; i++) {
            const scope_frame_format *f = args->input_formats[i];
            if ((status = scope_format_check(f, 0, bp->desc.id, "input", err)) != SCOPE_OK) return status;
            if (f->width == 0 || f->height == 0)
                return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: empty input frame", bp->desc.id);
            if (i > 0 && (f->width != args->input_formats[0]->width || f->height != args->input_formats[0]->height))
                return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT,
                                       "%s: input %u is %ux%u but input 1 is %ux%u; a frei0r mixer needs equal sizes",
                                       bp->desc.id, (unsigned)i + 1, (unsigned)f->width, (unsigned)f->height,
                                       (unsigned)args->input_formats[0]->width,
                                       (unsigned)args->input_formats[0]->height);
        }
        w = args->input_formats[0]->width;
        h = args->input_formats[0]->height;
        channels = args->input_formats[0]->channels == 4 ? 4 : 3;
    }
    if (!self->fx || w != self->width || h != self->height) {
        self->prepared = 0;
        if ((status = bf_resize(self, w, h, err)) != SCOPE_OK) return status;
    }
    self->out_channels = channels;
    self->prepared = 1;

    out->input_size = bp->inputs > 0 ? 1 : 0;
    out->output_width = w;
    out->output_height = h;
    out->output_channels = channels;
    out->output_element_type = SCOPE_ELEMENT_U8;
    out->output_memory = SCOPE_MEMORY_HOST;
    out->input_element_type = SCOPE_ELEMENT_U8;
    out->input_memory = SCOPE_MEMORY_HOST;
    return SCOPE_OK;
}

/* Sends the parameters that differ from what the frei0r instance holds. */
static void bf_apply_params(bf_instance *self, const scope_params *params)
{
    const bf_pipeline *bp = self->bp;
    uint32_t i;
    if (!params || !params->values) return;
    for (i = 0; i < bp->param_count && i < params->count; i++) {
        const scope_value *v = &params->values[i];
        bf_sent *s = &self->sent[i];
        const bf_param_map *m = &bp->map[i];
        switch (m->kind) {
        case BF_MAP_BOOL:
        case BF_MAP_DOUBLE: {
            double d = m->kind == BF_MAP_BOOL ? (v->as.b ? 1.0 : 0.0) : v->as.f;
            if (s->valid && s->d == d) break;
            bp->api.set_param_value(self->fx, &d, m->index);
            s->valid = 1;
            s->d = d;
            break;
        }
        case BF_MAP_COLOR: {
            f0r_color c;
            c.r = v->as.color[0];
            c.g = v->as.color[1];
            c.b = v->as.color[2];
            if (s->valid && s->color[0] == c.r && s->color[1] == c.g && s->color[2] == c.b) break;
            bp->api.set_param_value(self->fx, &c, m->index);
            s->valid = 1;
            s->color[0] = c.r;
            s->color[1] = c.g;
            s->color[2] = c.b;
            break;
        }
        case BF_MAP_POS_X: {
            /* The y half is always the next Scope parameter. */
            f0r_position p;
            bf_sent *sy = &self->sent[i + 1];
            p.x = v->as.f;
            p.y = (i + 1 < params->count) ? params->values[i + 1].as.f : 0.0;
            if (s->valid && sy->valid && s->d == p.x && sy->d == p.y) break;
            bp->api.set_param_value(self->fx, &p, m->index);
            s->valid = sy->valid = 1;
            s->d = p.x;
            sy->d = p.y;
            break;
        }
        case BF_MAP_STRING: {
            const char *text = v->as.s ? v->as.s : "";
            char *copy;
            if (s->valid && s->s && strcmp(s->s, text) == 0) break;
            copy = bf_strdup(text);
            if (!copy) break; /* retried next call */
            {
                char *param = copy; /* frei0r takes a char ** and copies the string */
                bp->api.set_param_value(self->fx, &param, m->index);
            }
            free(s->s);
            s->s = copy;
            s->valid = 1;
            break;
        }
        default: /* POS_Y (sent with POS_X), WIDTH, HEIGHT (load-time, not frei0r's) */
            break;
        }
    }
}

/* Converts a host frame into a padded frei0r buffer (RGBA or BGRA bytes), replicating the
 * last column and row into the padding. */
static void bf_pack(const scope_frame *in, uint8_t *dst, uint32_t pw, uint32_t ph, int bgra)
{
    uint32_t w = in->width, h = in->height, c = in->channels, x, y;
    int ri = bgra ? 2 : 0, bi = bgra ? 0 : 2;
    size_t stride = (size_t)pw * 4u;
    for (y = 0; y < h; y++) {
        const uint8_t *s = scope_frame_row(in, y);
        uint8_t *d = dst + y * stride;
        if (c == 4) {
            for (x = 0; x < w; x++, s += 4, d += 4) {
                d[ri] = s[0];
                d[1] = s[1];
                d[bi] = s[2];
                d[3] = s[3];
            }
        } else if (c == 3) {
            for (x = 0; x < w; x++, s += 3, d += 4) {
                d[ri] = s[0];
                d[1] = s[1];
                d[bi] = s[2];
                d[3] = 255;
            }
        } else {
            for (x = 0; x < w; x++, s += 1, d += 4) {
                d[0] = d[1] = d[2] = s[0];
                d[3] = 255;
            }
        }
        for (x = w; x < pw; x++, d += 4) memcpy(d, d - 4, 4);
    }
    for (y = h; y < ph; y++) memcpy(dst + y * stride, dst + (size_t)(h - 1) * stride, stride);
}

/* Crops a padded frei0r buffer back into a host frame of 1, 3 or 4 channels. */
static void bf_unpack(const uint8_t *src, uint32_t pw, scope_frame *out, int bgra)
{
    uint32_t w = out->width, h = out->height, c = out->channels, x, y;
    int ri = bgra ? 2 : 0, bi = bgra ? 0 : 2;
    for (y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * pw * 4u;
        uint8_t *d = scope_frame_row(out, y);
        if (c == 4) {
            for (x = 0; x < w; x++, s += 4, d += 4) {
                d[0] = s[ri];
                d[1] = s[1];
                d[2] = s[bi];
                d[3] = s[3];
            }
        } else if (c == 3) {
            for (x = 0; x < w; x++, s += 4, d += 3) {
                d[0] = s[ri];
                d[1] = s[1];
                d[2] = s[bi];
            }
        } else {
            for (x = 0; x < w; x++, s += 4, d += 1)
                d[0] = (uint8_t)((299u * s[ri] + 587u * s[1] + 114u * s[bi] + 500u) / 1000u);
        }
    }
}

static scope_status bf_call(void *instance, const scope_call *call, scope_error *err)
{
    bf_instance *self = (bf_instance *)instance;
    const bf_pipeline *bp = self->bp;
    scope_frame *out = call->output;
    double t = (double)call->timestamp_us / 1e6;
    scope_status status;
    int i;

    if (!self->prepared || !self->fx)
        return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "%s: call() before a successful prepare()", bp->desc.id);
    if ((status = scope_frame_check(out, SCOPE_ELEMENT_U8, bp->desc.id, "output", err)) != SCOPE_OK) return status;
    if (out->width != self->width || out->height != self->height)
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: output is %ux%u, prepared for %ux%u",
                               bp->desc.id, (unsigned)out->width, (unsigned)out->height, (unsigned)self->width,
                               (unsigned)self->height);
    if (bp->inputs > 0 && ((int)call->input_port_count < bp->inputs || !call->inputs))
        return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: needs %d input port(s), got %u",
                               bp->desc.id, bp->inputs, (unsigned)call->input_port_count);
    for (i = 0; i < bp->inputs; i++) {
        const scope_frame_list *list = &call->inputs[i];
        const scope_frame *in;
        if (list->count < 1 || !list->frames)
            return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: no frame on input %d", bp->desc.id, i + 1);
        in = list->frames[list->count - 1];
        if ((status = scope_frame_check(in, SCOPE_ELEMENT_U8, bp->desc.id, "input", err)) != SCOPE_OK) return status;
        if (in->width != self->width || in->height != self->height)
            return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "%s: input %d is %ux%u, prepared for %ux%u",
                                   bp->desc.id, i + 1, (unsigned)in->width, (unsigned)in->height,
                                   (unsigned)self->width, (unsigned)self->height);
        bf_pack(in, (uint8_t *)self->buf[i], self->pw, self->ph, bp->bgra);
    }

    bf_apply_params(self, call->params);
    switch (bp->inputs) {
    case 0: /* source: frei0r allows a NULL input, but a zeroed frame is safer for sloppy plugins */
    case 1:
        bp->api.update(self->fx, t, self->buf[0], self->buf[3]);
        break;
    case 2:
        bp->api.update2(self->fx, t, self->buf[0], self->buf[1], NULL, self->buf[3]);
        break;
    default:
        bp->api.update2(self->fx, t, self->buf[0], self->buf[1], self->buf[2], self->buf[3]);
        break;
    }
    bf_unpack((const uint8_t *)self->buf[3], self->pw, out, bp->bgra);
    return SCOPE_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------------------------- */

/* Adds a parameter slot; returns its index or -1 when out of memory. */
static int bf_add_param(bf_pipeline *bp, uint32_t cap)
{
    if (bp->param_count >= cap) return -1;
    memset(&bp->params[bp->param_count], 0, sizeof bp->params[0]);
    bp->params[bp->param_count].struct_size = sizeof(scope_param_desc);
    bp->params[bp->param_count].order = (int32_t)bp->param_count;
    return (int)bp->param_count++;
}

/* Makes `base` a unique key among the parameters so far (appending _2, _3...), owned by bp. */
static const char *bf_unique_key(bf_pipeline *bp, const char *base, int index)
{
    char key[96], trial[112];
    uint32_t i, n;
    int taken;
    bf_key_of(base, key, 64);
    if (key[0] == '\0') sprintf(key, "param%d", index);
    for (n = 1;; n++) {
        if (n == 1) sprintf(trial, "%s", key);
        else sprintf(trial, "%s_%u", key, (unsigned)n);
        taken = 0;
        for (i = 0; i < bp->param_count; i++) {
            if (bp->params[i].key && strcmp(bp->params[i].key, trial) == 0) taken = 1;
        }
        if (!taken) break;
    }
    return bf_own(bp, bf_strdup(trial));
}

/* A label: `name` plus an optional suffix, cleaned. */
static const char *bf_label(bf_pipeline *bp, const char *name, const char *suffix)
{
    char *clean = bf_clean_text(name), *both;
    size_t n;
    if (!clean || !suffix) return bf_own(bp, clean);
    n = strlen(clean) + strlen(suffix) + 1;
    both = (char *)malloc(n);
    if (both) {
        strcpy(both, clean);
        strcat(both, suffix);
    }
    free(clean);
    return bf_own(bp, both);
}

/* Builds the parameter table of bp from its frei0r parameters, reading defaults from `fx`.
 * Returns 0 with `why` filled on failure. */
static int bf_build_params(bf_pipeline *bp, int num_params, void *fx, char *why, size_t why_cap)
{
    uint32_t cap = (uint32_t)num_params * 2u + 2u;
    int i;
    bp->params = (scope_param_desc *)calloc(cap, sizeof *bp->params);
    bp->map = (bf_param_map *)calloc(cap, sizeof *bp->map);
    if (!bp->params || !bp->map) {
        snprintf(why, why_cap, "out of memory");
        return 0;
    }
    if (bp->type == F0R_TYPE_SOURCE) {
        const char *names[2] = {"width", "height"};
        const double defs[2] = {BF_DEFAULT_WIDTH, BF_DEFAULT_HEIGHT};
        for (i = 0; i < 2; i++) {
            int k = bf_add_param(bp, cap);
            scope_param_desc *p = &bp->params[k];
            p->type = SCOPE_PARAM_INT;
            p->key = names[i];
            p->label = i == 0 ? "Width" : "Height";
            p->description = i == 0 ? "Output width in pixels (frei0r works on multiples of 8; other sizes are padded and cropped)"
                                    : "Output height in pixels (frei0r works on multiples of 8; other sizes are padded and cropped)";
            p->flags = SCOPE_PARAM_LOAD_TIME;
            p->min_value = 1;
            p->max_value = BF_MAX_SIZE;
            p->step = 1;
            p->default_number = defs[i];
            bp->map[k].kind = i == 0 ? BF_MAP_WIDTH : BF_MAP_HEIGHT;
        }
    }
    for (i = 0; i < num_params; i++) {
        f0r_param_info info;
        f0r_value v;
        const char *desc;
        int k;
        memset(&info, 0, sizeof info);
        memset(&v, 0, sizeof v);
        bp->api.get_param_info(&info, i);
        if (!info.name || !info.name[0]) {
            snprintf(why, why_cap, "parameter %d has no name", i);
            return 0;
        }
        if (info.type < F0R_PARAM_BOOL || info.type > F0R_PARAM_STRING) {
            snprintf(why, why_cap, "parameter %d (%.64s) has unknown type %d", i, info.name, info.type);
            return 0;
        }
        bp->api.get_param_value(fx, &v, i);
        desc = info.explanation && info.explanation[0] ? bf_own(bp, bf_clean_text(info.explanation)) : NULL;
        if (info.type == F0R_PARAM_POSITION) {
            const char *base = bf_unique_key(bp, info.name, i);
            char kx[120], ky[120];
            int kyi;
            if (!base) goto oom;
            sprintf(kx, "%s_x", base);
            sprintf(ky, "%s_y", base);
            k = bf_add_param(bp, cap);
            bp->params[k].key = bf_unique_key(bp, kx, i);
            kyi = bf_add_param(bp, cap);
            bp->params[kyi].key = bf_unique_key(bp, ky, i);
            if (!bp->params[k].key || !bp->params[kyi].key) goto oom;
            bp->params[k].label = bf_label(bp, info.name, " X");
            bp->params[kyi].label = bf_label(bp, info.name, " Y");
            bp->params[k].description = bp->params[kyi].description = desc;
            bp->params[k].type = bp->params[kyi].type = SCOPE_PARAM_FLOAT;
            bp->params[k].max_value = bp->params[kyi].max_value = 1.0;
            bp->params[k].default_number = bf_clamp01(v.pos.x);
            bp->params[kyi].default_number = bf_clamp01(v.pos.y);
            if (bp->params[k].default_number != v.pos.x || bp->params[kyi].default_number != v.pos.y)
                scope_log(g_bf.host, SCOPE_LOG_DEBUG, "frei0r: %s: position %s default (%g, %g) clamped into 0..1",
                          bp->desc.id, info.name, v.pos.x, v.pos.y);
            bp->map[k].kind = BF_MAP_POS_X;
            bp->map[kyi].kind = BF_MAP_POS_Y;
            bp->map[k].index = bp->map[kyi].index = i;
            continue;
        }
        k = bf_add_param(bp, cap);
        bp->params[k].key = bf_unique_key(bp, info.name, i);
        bp->params[k].label = bf_label(bp, info.name, NULL);
        if (!bp->params[k].key || !bp->params[k].label) goto oom;
        bp->params[k].description = desc;
        bp->map[k].index = i;
        switch (info.type) {
        case F0R_PARAM_BOOL:
            bp->params[k].type = SCOPE_PARAM_BOOL;
            bp->params[k].max_value = 1;
            bp->params[k].default_number = v.d >= 0.5 ? 1.0 : 0.0;
            bp->map[k].kind = BF_MAP_BOOL;
            break;
        case F0R_PARAM_DOUBLE:
            bp->params[k].type = SCOPE_PARAM_FLOAT;
            bp->params[k].max_value = 1.0;
            bp->params[k].default_number = bf_clamp01(v.d);
            if (bp->params[k].default_number != v.d)
                scope_log(g_bf.host, SCOPE_LOG_DEBUG, "frei0r: %s: parameter %s default %g clamped into 0..1",
                          bp->desc.id, info.name, v.d);
            bp->map[k].kind = BF_MAP_DOUBLE;
            break;
        case F0R_PARAM_COLOR:
            bp->params[k].type = SCOPE_PARAM_COLOR;
            bp->params[k].default_color[0] = (float)bf_clamp01(v.color.r);
            bp->params[k].default_color[1] = (float)bf_clamp01(v.color.g);
            bp->params[k].default_color[2] = (float)bf_clamp01(v.color.b);
            bp->params[k].default_color[3] = 1.0f;
            bp->map[k].kind = BF_MAP_COLOR;
            break;
        default: /* F0R_PARAM_STRING */
            bp->params[k].type = SCOPE_PARAM_STRING;
            bp->params[k].default_string = bf_own(bp, bf_clean_text(v.s));
            if (!bp->params[k].default_string) goto oom;
            bp->map[k].kind = BF_MAP_STRING;
            break;
        }
    }
    return 1;
oom:
    snprintf(why, why_cap, "out of memory");
    return 0;
}

/* True when the id is already registered. */
static const bf_pipeline *bf_by_id(const char *id)
{
    uint32_t i;
    for (i = 0; i < g_bf.count; i++) {
        if (strcmp(g_bf.items[i]->desc.id, id) == 0) return g_bf.items[i];
    }
    return NULL;
}

static int bf_by_path(const char *path)
{
    uint32_t i;
    for (i = 0; i < g_bf.count; i++) {
        if (strcmp(g_bf.items[i]->path, path) == 0) return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Quirks of known frei0r plugins (see QUIRKS above); every entry was found by
 * `scope plugin validate build/plugins/frei0r.so` against frei0r-plugins 1.8.0 (Debian 12).
 * ------------------------------------------------------------------------------------------- */

enum {
    BF_RANDOM = 1, /* output depends on rand() or similar: SCOPE_PIPELINE_NONDETERMINISTIC */
    BF_BROKEN = 2  /* crashes or corrupts memory: not registered */
};

static const struct bf_quirk {
    const char *name; /* the plugin's file name without .so */
    int kind;         /* BF_RANDOM or BF_BROKEN */
    const char *why;
} bf_quirks[] = {
    /* Random by design (rand() and the like): two fresh instances given the same input differ;
     * glitch0r and partik0l only in some runs, as the shared rand() state happens to fall. */
    {"cluster", BF_RANDOM, "k-means clustering from random initial centres"},
    {"glitch0r", BF_RANDOM, "glitches random blocks"},
    {"ising0r", BF_RANDOM, "Ising model with random spin flips"},
    {"nervous", BF_RANDOM, "shows randomly chosen past frames"},
    {"partik0l", BF_RANDOM, "random particles"},
    {"plasma", BF_RANDOM, "random plasma field"},
    {"rgbnoise", BF_RANDOM, "adds random noise"},
    {"tehroxx0r", BF_RANDOM, "moves blocks to random places"},
    /* Broken: each takes the host process down. */
    {"facebl0r", BF_BROKEN, "aborts (uncaught OpenCV exception) when its classifier parameter is not a readable cascade file"},
    {"facedetect", BF_BROKEN, "aborts (uncaught OpenCV exception) when its classifier parameter is not a readable cascade file"},
    {"medians", BF_BROKEN, "fails an assertion (width >= 2*r+1) when the median size exceeds the frame"},
    {"pr0be", BF_BROKEN, "writes past its output buffer"},
};

/* True when SCOPE_FREI0R_KEEP_BROKEN is set to something other than "" or "0". */
static int bf_keep_broken(void)
{
    const char *v = getenv("SCOPE_FREI0R_KEEP_BROKEN");
    return v && v[0] && strcmp(v, "0") != 0;
}

/* The quirk of the plugin with this file-name key, or NULL. */
static const struct bf_quirk *bf_quirk_of(const char *key)
{
    size_t i;
    for (i = 0; i < sizeof bf_quirks / sizeof bf_quirks[0]; i++)
        if (strcmp(bf_quirks[i].name, key) == 0) return &bf_quirks[i];
    return NULL;
}

/* Logs why `path` was skipped. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void bf_skip(int32_t level, const char *path, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    g_bf.skipped++;
    scope_log(g_bf.host, level, "frei0r: skipped %s: %s", path, why);
}

/* Opens one candidate file and, if it is a usable frei0r plugin, registers its pipeline. */
static void bf_try_file(const char *path)
{
    static const char *const ports[3] = {"video", "video2", "video3"};
    bf_pipeline *bp;
    f0r_plugin_info info;
    const char *base, *dot;
    char id[160], key[128], why[256], version[48];
    const bf_pipeline *other;
    const struct bf_quirk *quirk;
    void *fx;
    int fresh = 1; /* the library was not in the process before this dlopen */

    if (bf_by_path(path)) return;
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    {
        char stem[128];
        size_t n = dot ? (size_t)(dot - base) : strlen(base);
        if (n >= sizeof stem) n = sizeof stem - 1;
        memcpy(stem, base, n);
        stem[n] = '\0';
        bf_key_of(stem, key, sizeof key);
    }
    if (!key[0]) {
        bf_skip(SCOPE_LOG_DEBUG, path, "its file name gives no usable pipeline id");
        return;
    }
    snprintf(id, sizeof id, "frei0r.%s", key);
    quirk = bf_quirk_of(key);
    if (quirk && quirk->kind == BF_BROKEN && !bf_keep_broken()) {
        /* Before dlopen: facedetect and facebl0r would load OpenCV for nothing. */
        g_bf.skipped++;
        /* Info, not a warning: nothing is wrong with this machine. scope -v, scope doctor
         * and scope plugin validate show it; an ordinary run does not. */
        scope_log(g_bf.host, SCOPE_LOG_INFO,
                  "frei0r: skipped frei0r plugin %s: %s (known bug in frei0r-plugins 1.8.0; "
                  "SCOPE_FREI0R_KEEP_BROKEN=1 registers it anyway): %s", key, quirk->why, path);
        return;
    }
    if ((other = bf_by_id(id)) != NULL) {
        bf_skip(SCOPE_LOG_DEBUG, path, "%s is already registered from %s (earlier in the search path)", id, other->path);
        return;
    }

    bp = (bf_pipeline *)calloc(1, sizeof *bp);
    if (!bp || !(bp->path = bf_strdup(path))) {
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "out of memory");
        return;
    }
#ifdef RTLD_NOLOAD
    {
        void *already = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
        if (already) {
            fresh = 0; /* loaded (and initialized) earlier in this process, by us or another copy */
            dlclose(already);
        }
    }
#endif
    dlerror();
    bp->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!bp->handle) {
        const char *e = dlerror();
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "cannot be loaded: %s", e ? e : "dlopen failed");
        return;
    }
#define BF_SYM(field, name)                                                                     \
    if (!bf_sym(bp->handle, name, &bp->api.field, sizeof bp->api.field)) {                        \
        bf_pipeline_free(bp);                                                                  \
        bf_skip(SCOPE_LOG_DEBUG, path, "not a frei0r plugin (no %s)", name);                     \
        return;                                                                                   \
    }
    BF_SYM(init, "f0r_init")
    BF_SYM(deinit, "f0r_deinit")
    BF_SYM(get_plugin_info, "f0r_get_plugin_info")
    BF_SYM(get_param_info, "f0r_get_param_info")
    BF_SYM(construct, "f0r_construct")
    BF_SYM(destruct, "f0r_destruct")
    BF_SYM(set_param_value, "f0r_set_param_value")
    BF_SYM(get_param_value, "f0r_get_param_value")
#undef BF_SYM
    /* f0r_update is required of filters and sources, f0r_update2 of mixers (checked below). */
    bf_sym(bp->handle, "f0r_update", &bp->api.update, sizeof bp->api.update);
    bf_sym(bp->handle, "f0r_update2", &bp->api.update2, sizeof bp->api.update2);

    if (fresh) {
        if (bp->api.init() == 0) {
            bf_pipeline_free(bp); /* unloads it, so a later registration tries f0r_init again */
            bf_skip(SCOPE_LOG_WARN, path, "f0r_init() failed");
            return;
        }
#if defined(RTLD_NODELETE) && defined(RTLD_NOLOAD)
        {
            /* Pin the initialized library: it is never unloaded (see LIFECYCLE). */
            void *pin = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
            if (pin) dlclose(pin);
        }
#endif
    }
    memset(&info, 0, sizeof info);
    info.plugin_type = -1;
    info.color_model = -1;
    bp->api.get_plugin_info(&info);
    why[0] = '\0';
    if (!info.name || !info.name[0]) snprintf(why, sizeof why, "its f0r_plugin_info has no name");
    else if (info.frei0r_version != 1)
        snprintf(why, sizeof why, "built for frei0r API %d; the bridge speaks frei0r 1.x", info.frei0r_version);
    else if (info.plugin_type < F0R_TYPE_FILTER || info.plugin_type > F0R_TYPE_MIXER3)
        snprintf(why, sizeof why, "unknown plugin type %d", info.plugin_type);
    else if (info.color_model < F0R_MODEL_BGRA8888 || info.color_model > F0R_MODEL_PACKED32)
        snprintf(why, sizeof why, "unknown color model %d", info.color_model);
    else if (info.num_params < 0 || info.num_params > BF_MAX_PARAMS)
        snprintf(why, sizeof why, "num_params is %d (0..%d)", info.num_params, BF_MAX_PARAMS);
    else if (info.plugin_type >= F0R_TYPE_MIXER2 && !bp->api.update2)
        snprintf(why, sizeof why, "a mixer without f0r_update2");
    else if (info.plugin_type <= F0R_TYPE_SOURCE && !bp->api.update)
        snprintf(why, sizeof why, "a %s without f0r_update", info.plugin_type == F0R_TYPE_SOURCE ? "source" : "filter");
    if (why[0]) {
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "%s", why);
        return;
    }
    bp->type = info.plugin_type;
    bp->bgra = info.color_model == F0R_MODEL_BGRA8888;
    bp->inputs = info.plugin_type == F0R_TYPE_SOURCE ? 0 : info.plugin_type == F0R_TYPE_FILTER ? 1
               : info.plugin_type == F0R_TYPE_MIXER2 ? 2 : 3;

    /* Descriptor strings (ours: the library's could be invalid UTF-8). */
    bp->desc.struct_size = sizeof(scope_pipeline_desc);
    bp->desc.id = bf_own(bp, bf_strdup(id));
    bp->desc.name = bf_own(bp, bf_clean_text(info.name));
    bp->desc.description = info.explanation && info.explanation[0] ? bf_own(bp, bf_clean_text(info.explanation)) : NULL;
    bp->desc.author = info.author && info.author[0] ? bf_own(bp, bf_clean_text(info.author)) : NULL;
    snprintf(version, sizeof version, "%d.%d", info.major_version, info.minor_version);
    bp->desc.version = bf_own(bp, bf_strdup(version));
    if (!bp->desc.id || !bp->desc.name || !bp->desc.version) {
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "out of memory");
        return;
    }
    if (!bp->desc.name[0]) bp->desc.name = bp->desc.id;

    /* Defaults come from a small instance (cheap: 640x360 would cost ~120 ms more per process
     * for all of Debian's plugins, defish0r alone 33 ms); see bf_seed_sent for the few whose
     * defaults depend on the size. */
    fx = bp->api.construct(16, 16);
    if (!fx) fx = bp->api.construct(BF_DEFAULT_WIDTH, BF_DEFAULT_HEIGHT);
    if (!fx) {
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "f0r_construct() failed at 16x16 and 640x360");
        return;
    }
    why[0] = '\0';
    if (!bf_build_params(bp, info.num_params, fx, why, sizeof why)) {
        bp->api.destruct(fx);
        bf_pipeline_free(bp);
        bf_skip(SCOPE_LOG_WARN, path, "%s", why);
        return;
    }
    bp->api.destruct(fx);

    if (bp->inputs == 0) {
        bp->mode.struct_size = sizeof(scope_mode_desc);
        bp->mode.mode = SCOPE_MODE_TEXT;
        bp->mode.is_default = 1;
        bp->mode.width = BF_DEFAULT_WIDTH;
        bp->mode.height = BF_DEFAULT_HEIGHT;
    } else {
        bp->mode.struct_size = sizeof(scope_mode_desc);
        bp->mode.mode = SCOPE_MODE_VIDEO;
        bp->mode.is_default = 1;
        bp->mode.input_size = 1;
    }
    if (bp->inputs > 1) {
        memcpy(bp->ports, ports, sizeof ports);
        bp->desc.input_ports = bp->ports;
        bp->desc.input_port_count = (uint32_t)bp->inputs;
    }
    bp->desc.modes = &bp->mode;
    bp->desc.mode_count = 1;
    bp->desc.memory = SCOPE_MEMORY_HOST;
    if (quirk && quirk->kind == BF_RANDOM) bp->desc.flags |= SCOPE_PIPELINE_NONDETERMINISTIC;
    bp->desc.params = bp->param_count ? bp->params : NULL;
    bp->desc.param_count = bp->param_count;
    bp->desc.threading = SCOPE_THREADING_SERIAL;
    bp->desc.create = bf_create;
    bp->desc.destroy = bf_destroy;
    bp->desc.prepare = bf_prepare;
    bp->desc.call = bf_call;

    if (g_bf.count == g_bf.cap) {
        uint32_t cap = g_bf.cap ? g_bf.cap * 2 : 64;
        bf_pipeline **grown = (bf_pipeline **)realloc(g_bf.items, cap * sizeof *grown);
        if (!grown) {
            bf_pipeline_free(bp);
            bf_skip(SCOPE_LOG_WARN, path, "out of memory");
            return;
        }
        g_bf.items = grown;
        g_bf.cap = cap;
    }
    g_bf.items[g_bf.count++] = bp;
}

static int bf_is_library(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int bf_cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Registers every library in `dir` (sorted by name) and, when `depth` > 0, in its
 * subfolders. Returns 1 if the folder exists. */
static int bf_scan_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0, i;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        char *copy;
        if (e->d_name[0] == '.') continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = (char **)realloc(names, ncap * sizeof *grown);
            if (!grown) break;
            names = grown;
            cap = ncap;
        }
        if ((copy = bf_strdup(e->d_name)) == NULL) break;
        names[count++] = copy;
    }
    closedir(d);
    if (count > 1) qsort(names, count, sizeof *names, bf_cmp_names);
    for (i = 0; i < count; i++) {
        size_t n = strlen(dir) + strlen(names[i]) + 2;
        char *full = (char *)malloc(n);
        struct stat st;
        if (full) {
            snprintf(full, n, "%s/%s", dir, names[i]);
            if (stat(full, &st) == 0) {
                if (S_ISREG(st.st_mode) && bf_is_library(names[i])) {
                    char *real = realpath(full, NULL);
                    bf_try_file(real ? real : full);
                    free(real);
                } else if (S_ISDIR(st.st_mode) && depth > 0) {
                    bf_scan_dir(full, depth - 1);
                }
            }
            free(full);
        }
        free(names[i]);
    }
    free(names);
    return 1;
}

/* One search-path entry: a folder or a single library file. */
static void bf_scan_entry(const char *entry, char *searched, size_t searched_cap)
{
    struct stat st;
    size_t used = strlen(searched);
    if (!entry[0]) return;
    snprintf(searched + used, searched_cap - used, "%s%s", used ? ":" : "", entry);
    if (stat(entry, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        bf_scan_dir(entry, 1);
    } else if (S_ISREG(st.st_mode)) {
        char *real = realpath(entry, NULL);
        bf_try_file(real ? real : entry);
        free(real);
    }
}

/* Scans a colon-separated list. */
static void bf_scan_list(const char *list, char *searched, size_t searched_cap)
{
    const char *p = list;
    while (p && *p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char entry[4096];
        if (n > 0 && n < sizeof entry) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            bf_scan_entry(entry, searched, searched_cap);
        }
        p = colon ? colon + 1 : NULL;
    }
}

/* The Debian/Ubuntu multiarch triplet of this build, or NULL. */
static const char *bf_triplet(void)
{
#if defined(__x86_64__)
    return "x86_64-linux-gnu";
#elif defined(__aarch64__)
    return "aarch64-linux-gnu";
#elif defined(__i386__)
    return "i386-linux-gnu";
#elif defined(__arm__)
    return "arm-linux-gnueabihf";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "powerpc64le-linux-gnu";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64-linux-gnu";
#elif defined(__s390x__)
    return "s390x-linux-gnu";
#else
    return NULL;
#endif
}

static void bf_unregister_all(void)
{
    uint32_t i;
    for (i = 0; i < g_bf.count; i++) bf_pipeline_free(g_bf.items[i]);
    free(g_bf.items);
    g_bf.items = NULL;
    g_bf.count = g_bf.cap = 0;
}

static scope_status bf_register(const scope_host *host, const char *plugin_path, scope_error *err)
{
    char searched[8192];
    const char *only, *env, *home, *triplet;
    uint32_t filters = 0, sources = 0, mixers = 0, i;
    (void)plugin_path;
    if (host && host->abi_major != SCOPE_ABI_VERSION_MAJOR)
        return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "the frei0r bridge needs plugin ABI %d.x; the host has %u.x",
                               SCOPE_ABI_VERSION_MAJOR, (unsigned)host->abi_major);
    if (g_bf.refs++ > 0) return SCOPE_OK; /* same pipelines as the first call */
    g_bf.host = host;
    g_bf.skipped = 0;
    searched[0] = '\0';

    only = getenv("SCOPE_FREI0R_PATH");
    if (only) {
        bf_scan_list(only, searched, sizeof searched);
    } else {
        char dir[4096];
        if ((env = getenv("FREI0R_PATH")) != NULL) bf_scan_list(env, searched, sizeof searched);
        if ((home = getenv("HOME")) != NULL && home[0]) {
            snprintf(dir, sizeof dir, "%s/.frei0r-1/lib", home);
            bf_scan_entry(dir, searched, sizeof searched);
        }
        bf_scan_entry("/usr/local/lib/frei0r-1", searched, sizeof searched);
        bf_scan_entry("/usr/lib/frei0r-1", searched, sizeof searched);
        if ((triplet = bf_triplet()) != NULL) {
            snprintf(dir, sizeof dir, "/usr/lib/%s/frei0r-1", triplet);
            bf_scan_entry(dir, searched, sizeof searched);
            snprintf(dir, sizeof dir, "/usr/local/lib/%s/frei0r-1", triplet);
            bf_scan_entry(dir, searched, sizeof searched);
        }
        bf_scan_entry("/usr/lib64/frei0r-1", searched, sizeof searched);
    }

    for (i = 0; i < g_bf.count; i++) {
        int t = g_bf.items[i]->type;
        if (t == F0R_TYPE_FILTER) filters++;
        else if (t == F0R_TYPE_SOURCE) sources++;
        else mixers++;
    }
    if (g_bf.count == 0) {
        scope_log(host, SCOPE_LOG_DEBUG, "frei0r: no frei0r plugins found (searched %s%s); registering nothing",
                  searched[0] ? searched : "nothing", g_bf.skipped ? ", every candidate was skipped" : "");
    } else {
        scope_log(host, SCOPE_LOG_INFO,
                  "frei0r: registered %u pipelines (%u filters, %u sources, %u mixers), skipped %u files; searched %s",
                  (unsigned)g_bf.count, (unsigned)filters, (unsigned)sources, (unsigned)mixers,
                  (unsigned)g_bf.skipped, searched);
    }
    return SCOPE_OK;
}

static void bf_unregister(void)
{
    if (g_bf.refs <= 0) return;
    if (--g_bf.refs > 0) return;
    bf_unregister_all();
    g_bf.host = NULL;
}

static uint32_t bf_count(void)
{
    return g_bf.count;
}

static const scope_pipeline_desc *bf_get(uint32_t index)
{
    return index < g_bf.count ? &g_bf.items[index]->desc : NULL;
}

static const scope_plugin bf_plugin = {
    sizeof(scope_plugin), SCOPE_ABI_VERSION_MAJOR, SCOPE_ABI_VERSION_MINOR, "scope-frei0r", "1.0.0",
    "frei0r bridge: every installed frei0r filter, source and mixer as a pipeline frei0r.<name>",
    bf_register, bf_unregister, bf_count, bf_get, NULL};

SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void)
{
    return &bf_plugin;
}
