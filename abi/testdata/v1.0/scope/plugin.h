/*
 * scope/plugin.h -- the Scope Native plugin ABI, version 1.
 *
 * One self-contained C99 header. A plugin is a shared object that exports exactly one symbol,
 * `scope_plugin_entry`, a function returning a pointer to a constant `scope_plugin`. Everything
 * else reaches the host through that struct: the plugin *registers* its pipelines, the host
 * *creates* instances of them with load-time parameters, *prepares* an instance every tick
 * (runtime parameters in, requirements out) and *calls* it (input frames and parameters in, an
 * output frame out), and finally *destroys* it.
 *
 *   host                                   plugin
 *   ----                                   ------
 *   dlopen(copy of lib.so, RTLD_NOW|RTLD_LOCAL)
 *   scope_plugin_entry()            ->     const scope_plugin *
 *   plugin->register_pipelines(host, path, err)
 *   plugin->pipeline_count() / plugin->get_pipeline(i)  -> const scope_pipeline_desc *
 *   desc->create(host, args, &instance, err)
 *   loop: desc->prepare(instance, args, &requirements, err)
 *         desc->call(instance, call, err)
 *   desc->destroy(instance)
 *   plugin->unregister_pipelines()
 *
 * COMPATIBILITY RULES
 *   - The major version changes only when the ABI breaks; a host refuses a plugin of another
 *     major. The minor version grows when fields are appended; both sides accept the other's
 *     newer minor.
 *   - Every struct that can grow starts with `uint32_t struct_size`, set to sizeof() of the struct
 *     as the writer knew it. The reader uses min(struct_size, its own sizeof) bytes and treats
 *     the missing tail as zero. Structs grow only by appending fields at the end.
 *   - Arrays of sized structs that the plugin writes (parameters, modes, enum options) are
 *     walked with the `struct_size` of their first element as the stride; every element of one
 *     array carries the same struct_size. Arrays the host writes hold pointers instead
 *     (scope_frame_list.frames, scope_prepare_args.input_formats), so a plugin indexes them
 *     plainly whatever size the host's structs have.
 *   - Three small structs have no struct_size and are frozen forever: scope_value,
 *     scope_prompt and scope_frame_list. What they cannot say comes through new fields of the
 *     sized structs that hold them, or through extensions.
 *   - Flag bits (pipeline and parameter flags) added by a newer minor must be safe to ignore: a
 *     host ignores the bits it does not know in a plugin built for a newer minor (and refuses
 *     them from a plugin of its own or an older minor, where they can only be garbage).
 *     Anything a host must understand is a new field or an extension, never a flag.
 *   - New abilities that do not fit an appended field are extensions, found by string id
 *     ("vendor.name/1") through get_extension on either side; NULL means unsupported.
 *
 * THREADING TAGS (written after each function)
 *   [load]        Called by the host with no other call into this library running at the same
 *                 time (the host serializes loading, registration and unloading of a library).
 *   [instance]    Called for one instance by one thread at a time. Consecutive calls for the
 *                 same instance may come from different OS threads (the host is written in Go,
 *                 whose goroutines move between threads): do not keep thread-local state between
 *                 calls. Different instances may be called concurrently from different threads
 *                 unless the pipeline declares SCOPE_THREADING_SERIAL.
 *   [thread-safe] May be called from any thread, concurrently.
 *
 * OWNERSHIP
 *   - Everything the plugin returns from register/get_pipeline (descriptors, strings, arrays) is
 *     owned by the plugin and must stay valid and unchanged until unregister_pipelines returns.
 *   - Everything the host passes into a call (frames, parameter values, strings, prompts) is
 *     owned by the host and valid only during that call; inputs are read-only. The host allocates
 *     every frame, including the output, and reuses them between calls.
 *   - The `scope_host` struct outlives every instance and stays valid until
 *     unregister_pipelines returns.
 *   - All strings are NUL-terminated UTF-8.
 *
 * ERRORS
 *   Fallible functions return a scope_status and may write a one-line, human-readable message
 *   into the host's `scope_error` buffer (scope_error_set does it safely). The host shows it,
 *   prefixed with the plugin and pipeline name. Only negative statuses are errors; zero and
 *   positive ones are success (see scope_status). An error from call() drops that frame; the
 *   host goes on with the next one. C++ exceptions, Rust panics and Go panics must never cross this
 *   boundary: catch them and return SCOPE_ERROR.
 *
 * The header compiles warning-free as C99 and as C++ (-Wall -Wextra -pedantic). The
 * initializer macros (SCOPE_FLOAT_PARAM and friends) use designated initializers and are
 * available in C only.
 */
#ifndef SCOPE_PLUGIN_H
#define SCOPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions, export, status codes
 * ------------------------------------------------------------------------------------------- */

/** ABI major version: a host refuses plugins of another major. */
#define SCOPE_ABI_VERSION_MAJOR 1
/** ABI minor version: grows when fields are appended; both sides accept a newer minor. */
#define SCOPE_ABI_VERSION_MINOR 0

/** Name of the one symbol a plugin exports (see scope_plugin_entry_fn). */
#define SCOPE_PLUGIN_ENTRY_SYMBOL "scope_plugin_entry"

/** Marks the entry function as exported when the library is built with -fvisibility=hidden. */
#if defined(_WIN32)
#define SCOPE_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define SCOPE_EXPORT __attribute__((visibility("default")))
#else
#define SCOPE_EXPORT
#endif

/** Result of every fallible function. The rule, applied by the host and `scope plugin validate`
 *  alike: a negative value is an error (the host shows the message and, for call(), drops the
 *  frame); SCOPE_OK (0) is success; a positive value is also success: the host uses the
 *  outputs exactly as for SCOPE_OK and counts no error. Positive values are free for a
 *  plugin's own "succeeded, with a note" codes; the host ignores any message written with one. */
typedef int32_t scope_status;

enum {
    SCOPE_OK = 0,                      /**< success */
    SCOPE_ERROR = -1,                  /**< failure; the message says why */
    SCOPE_ERROR_INVALID_ARGUMENT = -2, /**< a value the plugin cannot use (size, format, param) */
    SCOPE_ERROR_UNSUPPORTED = -3,      /**< a mode, memory kind or format the pipeline lacks */
    SCOPE_ERROR_OUT_OF_MEMORY = -4,    /**< an allocation failed */
    SCOPE_ERROR_BAD_STATE = -5,        /**< called in the wrong order (call before prepare...) */
    SCOPE_ERROR_CUDA = -6              /**< a CUDA call failed */
};

/** Log levels for scope_host.log. */
enum {
    SCOPE_LOG_DEBUG = 0,
    SCOPE_LOG_INFO = 1,
    SCOPE_LOG_WARN = 2,
    SCOPE_LOG_ERROR = 3
};

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/**
 * A message buffer owned by the host, valid during one call. The plugin writes at most
 * `capacity` bytes, NUL terminator included, into `message`. Never NULL where a function
 * takes one.
 */
typedef struct scope_error {
    uint32_t struct_size; /**< sizeof(scope_error) as the host knew it */
    uint32_t capacity;    /**< bytes available at message, NUL included */
    char *message;        /**< host-owned buffer; starts as "" */
} scope_error;

/* ---------------------------------------------------------------------------------------------
 * Host services
 * ------------------------------------------------------------------------------------------- */

/**
 * What the host offers a plugin. One per loaded library; owned by the host; valid until
 * unregister_pipelines returns. Plugins may keep the pointer.
 */
typedef struct scope_host {
    uint32_t struct_size; /**< sizeof(scope_host) as the host knew it */
    uint16_t abi_major;   /**< SCOPE_ABI_VERSION_MAJOR of the host */
    uint16_t abi_minor;   /**< SCOPE_ABI_VERSION_MINOR of the host */
    const char *name;     /**< host name, e.g. "scope" */
    const char *version;  /**< host version, e.g. "0.1.0" */
    void *host_data;      /**< reserved for the host; plugins must not touch it */

    /**
     * Writes one line to the host's log, attributed to this plugin. `message` is copied before
     * the function returns. Cheap enough for per-frame warnings, but do not log every frame at
     * INFO or above.
     * [thread-safe]
     */
    void (*log)(const struct scope_host *host, int32_t level, const char *message);

    /**
     * Returns the host extension with this id ("scope.cuda/1"...), or NULL if the host lacks
     * it. The returned pointer is owned by the host and valid as long as the host struct.
     * [thread-safe]
     */
    const void *(*get_extension)(const struct scope_host *host, const char *id);
} scope_host;

/* ---------------------------------------------------------------------------------------------
 * Frames
 * ------------------------------------------------------------------------------------------- */

/** Element type of a frame's samples. */
enum {
    SCOPE_ELEMENT_U8 = 1,  /**< 8-bit unsigned, 0..255 */
    SCOPE_ELEMENT_F32 = 2  /**< 32-bit float, 0.0..1.0 */
};

/** Memory kinds; also used as a bit mask (scope_pipeline_desc.memory). */
enum {
    SCOPE_MEMORY_HOST = 1u << 0, /**< ordinary CPU memory */
    SCOPE_MEMORY_CUDA = 1u << 1  /**< CUDA device memory in the device's primary context */
};

/** Pipeline modes; also used as a bit mask (scope_param_desc.modes). */
enum {
    SCOPE_MODE_TEXT = 1u << 0, /**< no video input: the pipeline generates frames */
    SCOPE_MODE_VIDEO = 1u << 1 /**< input frames are transformed */
};

/**
 * The shape of a frame without its data: what prepare() sees of its inputs.
 */
typedef struct scope_frame_format {
    uint32_t struct_size;  /**< sizeof(scope_frame_format) */
    uint32_t width;        /**< pixels */
    uint32_t height;       /**< pixels */
    uint32_t channels;     /**< 1 (gray), 3 (RGB) or 4 (RGBA), interleaved */
    uint32_t element_type; /**< SCOPE_ELEMENT_* */
    uint32_t memory;       /**< SCOPE_MEMORY_HOST or SCOPE_MEMORY_CUDA */
} scope_frame_format;

/**
 * One image. Owned by the host; `data` is valid during the call that receives it only.
 * Pixel (x, y) channel c is at (element_type*)((uint8_t *)data + y * pitch) + x * channels + c.
 * Rows may be padded: always step rows by `pitch`, never by width * channels.
 */
typedef struct scope_frame {
    uint32_t struct_size;  /**< sizeof(scope_frame) */
    uint32_t width;        /**< pixels */
    uint32_t height;       /**< pixels */
    uint32_t channels;     /**< 1, 3 or 4 interleaved channels (RGB order) */
    uint32_t element_type; /**< SCOPE_ELEMENT_* */
    uint32_t memory;       /**< SCOPE_MEMORY_HOST or SCOPE_MEMORY_CUDA */
    int64_t pitch;         /**< bytes from the start of one row to the next, >= width*channels*size */
    void *data;            /**< first row; host or device pointer as `memory` says */
    /** CUstream to enqueue work on when memory is SCOPE_MEMORY_CUDA, else NULL. Plugins enqueue
     *  on this stream and never synchronize the device or use the default stream. */
    void *cuda_stream;
    int32_t cuda_device;   /**< CUDA device ordinal when memory is SCOPE_MEMORY_CUDA, else -1 */
    uint32_t flags;        /**< reserved, 0 */
    int64_t timestamp_us;  /**< presentation time in microseconds since the session started */
    uint64_t index;        /**< sequence number of the frame in its stream */
} scope_frame;

/**
 * The frames of one input port, oldest first. The host keeps a sliding window per port: once
 * input_size frames have arrived, every new frame triggers one call with the newest
 * input_size frames, so the output keeps the input's frame rate.
 */
typedef struct scope_frame_list {
    const scope_frame *const *frames; /**< `count` frame pointers, read-only, oldest first */
    uint32_t count;            /**< equals the input_size the pipeline asked for */
    uint32_t reserved;         /**< 0 */
} scope_frame_list;

/**
 * Interleaved float PCM that a pipeline with SCOPE_PIPELINE_PRODUCES_AUDIO may write beside its
 * video. The host allocates `samples` with room for `capacity_frames` stereo frames
 * (capacity_frames * 2 floats), whatever `channels` the plugin then chooses.
 */
typedef struct scope_audio {
    uint32_t struct_size;     /**< sizeof(scope_audio) */
    uint32_t sample_rate;     /**< plugin sets: Hz, e.g. 48000 */
    uint32_t channels;        /**< plugin sets: 1 or 2 (interleaved) */
    uint32_t capacity_frames; /**< host sets: room in samples, in sample frames */
    uint32_t frames;          /**< plugin sets: sample frames written this call (0 = none) */
    uint32_t reserved;        /**< 0 */
    float *samples;           /**< host-owned buffer, valid during the call */
} scope_audio;

/* ---------------------------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------------------------- */

/** Parameter types. */
enum {
    SCOPE_PARAM_BOOL = 1,   /**< value.b: 0 or 1 */
    SCOPE_PARAM_INT = 2,    /**< value.i; min/max/step as doubles, exact within +-2^53 */
    SCOPE_PARAM_FLOAT = 3,  /**< value.f */
    SCOPE_PARAM_STRING = 4, /**< value.s: UTF-8 text (a prompt, a path...) */
    SCOPE_PARAM_ENUM = 5,   /**< value.s: the key of one option; never an index */
    SCOPE_PARAM_COLOR = 6   /**< value.color: RGBA, each 0..1 */
};

/** Where a control appears (Scope's ui category). */
enum {
    SCOPE_CATEGORY_CONFIGURATION = 0, /**< the settings panel (default) */
    SCOPE_CATEGORY_INPUT = 1          /**< the input & controls panel */
};

/** Parameter flags. */
enum {
    /** Passed to create() only; shown but disabled while streaming. Changing it means a new
     *  instance. */
    SCOPE_PARAM_LOAD_TIME = 1u << 0,
    /** Not shown in user interfaces. */
    SCOPE_PARAM_HIDDEN = 1u << 1
};

/** One option of an enum parameter. */
typedef struct scope_enum_option {
    uint32_t struct_size; /**< sizeof(scope_enum_option) */
    uint32_t reserved;    /**< 0 */
    const char *key;      /**< stable key stored in settings and passed as the value */
    const char *label;    /**< text for the UI; NULL = key */
} scope_enum_option;

/**
 * Describes one parameter. Keys are stable: hosts store settings by key.
 * The host validates every value against this description before the plugin sees it.
 */
typedef struct scope_param_desc {
    uint32_t struct_size;       /**< sizeof(scope_param_desc) */
    uint32_t type;              /**< SCOPE_PARAM_* */
    const char *key;            /**< stable id: [a-z0-9_.-]+, unique within the pipeline */
    const char *label;          /**< short UI label; NULL = key */
    const char *description;    /**< tooltip / help text; NULL = none */
    uint32_t flags;             /**< SCOPE_PARAM_LOAD_TIME | SCOPE_PARAM_HIDDEN */
    uint32_t category;          /**< SCOPE_CATEGORY_* */
    int32_t order;              /**< display order; lower first */
    uint32_t modes;             /**< SCOPE_MODE_* mask where it applies; 0 = every mode */
    double min_value;           /**< INT/FLOAT: lowest allowed value (finite) */
    double max_value;           /**< INT/FLOAT: highest allowed value (finite, >= min) */
    double step;                /**< INT/FLOAT: UI step; 0 = 1 for INT, continuous for FLOAT */
    double default_number;      /**< BOOL (0/1), INT, FLOAT: default value */
    const char *default_string; /**< STRING: default text; ENUM: key of the default option */
    const scope_enum_option *options; /**< ENUM: the options */
    uint32_t option_count;      /**< ENUM: number of options (>= 1) */
    float default_color[4];     /**< COLOR: default RGBA, each 0..1 */
    uint32_t reserved;          /**< 0; makes the v1 tail explicit so appended fields never
                                     land in padding */
} scope_param_desc;

/**
 * One parameter value as the host passes it. `key` and the type come from the descriptor.
 */
typedef struct scope_value {
    const char *key; /**< the parameter's key */
    uint32_t type;   /**< SCOPE_PARAM_* */
    uint32_t reserved;
    union {
        int64_t i;       /**< INT */
        double f;        /**< FLOAT */
        int32_t b;       /**< BOOL: 0 or 1 */
        const char *s;   /**< STRING, ENUM (never NULL; "" for empty) */
        float color[4];  /**< COLOR: RGBA 0..1 */
    } as;
} scope_value;

/**
 * The values of every parameter of a pipeline, in the order of scope_pipeline_desc.params:
 * values[i] belongs to params[i], so a plugin may index directly instead of looking up keys.
 * Load-time parameters are included (read-only) everywhere.
 */
typedef struct scope_params {
    uint32_t struct_size;       /**< sizeof(scope_params) */
    uint32_t count;             /**< equals the pipeline's param_count */
    const scope_value *values;  /**< host-owned; valid during the call */
} scope_params;

/** One weighted prompt (pipelines with SCOPE_PIPELINE_SUPPORTS_PROMPTS). */
typedef struct scope_prompt {
    const char *text; /**< UTF-8 */
    float weight;     /**< relative weight, >= 0 */
    uint32_t reserved;
} scope_prompt;

/* ---------------------------------------------------------------------------------------------
 * Pipelines
 * ------------------------------------------------------------------------------------------- */

/** Defaults for one mode a pipeline supports (Scope's ModeDefaults). */
typedef struct scope_mode_desc {
    uint32_t struct_size; /**< sizeof(scope_mode_desc) */
    uint32_t mode;        /**< SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO */
    uint32_t is_default;  /**< 1 for the mode used when the user names none */
    uint32_t width;       /**< default output width in this mode; 0 = follow the input */
    uint32_t height;      /**< default output height in this mode; 0 = follow the input */
    uint32_t input_size;  /**< default frames per call in this mode (0 in text mode) */
} scope_mode_desc;

/** Pipeline flags. */
enum {
    SCOPE_PIPELINE_SUPPORTS_PROMPTS = 1u << 0, /**< takes weighted text prompts */
    SCOPE_PIPELINE_PRODUCES_AUDIO = 1u << 1,   /**< writes scope_call.audio */
    SCOPE_PIPELINE_NO_VIDEO = 1u << 2,         /**< produces no video output (audio only) */
    /** Output depends on randomness or wall time, not only on inputs and parameters: hosts
     *  and validators must not expect identical output for identical input. */
    SCOPE_PIPELINE_NONDETERMINISTIC = 1u << 3
};

/** How the host may call instances of a pipeline from several threads. */
enum {
    /** Different instances may run concurrently; one instance is never called concurrently. */
    SCOPE_THREADING_INSTANCE = 0,
    /** All instances of this pipeline share state: the host never calls two at once. */
    SCOPE_THREADING_SERIAL = 1
};

/** Arguments of create(). */
typedef struct scope_create_args {
    uint32_t struct_size;                  /**< sizeof(scope_create_args) */
    uint32_t mode;                         /**< SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO */
    const struct scope_pipeline_desc *pipeline; /**< the descriptor create() was found in */
    const scope_params *params;            /**< every parameter, load-time values final */
    int32_t cuda_device;                   /**< device ordinal the host uses, or -1 (no CUDA) */
    uint32_t reserved;                     /**< 0 */
} scope_create_args;

/** Arguments of prepare(). */
typedef struct scope_prepare_args {
    uint32_t struct_size;   /**< sizeof(scope_prepare_args) */
    uint32_t mode;          /**< the mode of this instance */
    const scope_params *params; /**< current values of every parameter */
    /** Format of the frames arriving on each input port (what the source or the previous
     *  pipeline produces): input_port_count pointers, or NULL in text mode. */
    const scope_frame_format *const *input_formats;
    uint32_t input_port_count; /**< entries in input_formats; 0 in text mode */
    uint32_t reserved;         /**< 0 */
} scope_prepare_args;

/**
 * What an instance needs for its next call. The host zero-fills it, sets struct_size, and
 * prepare() fills in what it cares about; zero means "the default" everywhere.
 */
typedef struct scope_requirements {
    uint32_t struct_size;         /**< sizeof(scope_requirements) as the host knew it */
    uint32_t input_size;          /**< frames per input port per call; 0 = the mode default */
    uint32_t output_width;        /**< 0 = input width (video) or mode default (text) */
    uint32_t output_height;       /**< 0 = input height (video) or mode default (text) */
    uint32_t output_channels;     /**< 0 = input channels (video) or 3 (text) */
    uint32_t output_element_type; /**< 0 = SCOPE_ELEMENT_U8; F32 output is clamped to 0..1 */
    uint32_t output_memory;       /**< 0 = SCOPE_MEMORY_HOST */
    uint32_t input_element_type;  /**< 0 = SCOPE_ELEMENT_U8; the host converts if needed */
    uint32_t input_memory;        /**< 0 = SCOPE_MEMORY_HOST; the host uploads if needed */
    uint32_t input_channels;      /**< 0 = as produced upstream; 3 or 4 to have it converted */
    uint32_t audio_max_frames;    /**< room needed in scope_call.audio (sample frames) */
    uint32_t reserved;            /**< 0 */
} scope_requirements;

/** Call flags. */
enum {
    /** First call of this instance (Scope's init_cache): reset temporal state. */
    SCOPE_CALL_FIRST = 1u << 0,
    /** Some parameter value differs from the previous call. */
    SCOPE_CALL_PARAMS_CHANGED = 1u << 1
};

/** Arguments of call(). */
typedef struct scope_call {
    uint32_t struct_size;            /**< sizeof(scope_call) */
    uint32_t flags;                  /**< SCOPE_CALL_* */
    const scope_frame_list *inputs;  /**< one list per input port; NULL in text mode */
    uint32_t input_port_count;       /**< 0 in text mode */
    uint32_t reserved;               /**< 0 */
    /** The frame to fill, allocated by the host as the requirements asked; write every pixel
     *  of width x height and nothing outside it. NULL with SCOPE_PIPELINE_NO_VIDEO. */
    scope_frame *output;
    const scope_params *params;      /**< current values of every parameter */
    const scope_prompt *prompts;     /**< weighted prompts, or NULL */
    uint32_t prompt_count;           /**< entries in prompts */
    uint32_t reserved2;              /**< 0 */
    scope_audio *audio;              /**< with SCOPE_PIPELINE_PRODUCES_AUDIO, else NULL */
    uint64_t call_index;             /**< 0 for the first call of this instance, then +1 */
    int64_t timestamp_us;            /**< session time of this tick in microseconds */
} scope_call;

/** Creates an instance. Writes the plugin's instance pointer to *out_instance.
 *  [instance] (no instance exists yet; never concurrent with another create of a SERIAL pipeline) */
typedef scope_status (*scope_create_fn)(const scope_host *host, const scope_create_args *args,
                                        void **out_instance, scope_error *err);

/** Destroys an instance created by create(); the pointer is invalid afterwards. Must release
 *  everything the instance holds and join every thread it started. NULL is ignored.
 *  [instance] */
typedef void (*scope_destroy_fn)(void *instance);

/** Tells the host what the next call() needs. Called before every call() (cheap: no
 *  allocation in steady state). May return an error for parameter combinations or input
 *  formats the pipeline cannot handle; the host then skips the tick.
 *  [instance] */
typedef scope_status (*scope_prepare_fn)(void *instance, const scope_prepare_args *args,
                                         scope_requirements *out, scope_error *err);

/** Processes one tick: reads inputs and params, writes call->output (and audio). Must return
 *  SCOPE_ERROR_BAD_STATE rather than crash if called before any successful prepare().
 *  [instance] */
typedef scope_status (*scope_call_fn)(void *instance, const scope_call *call, scope_error *err);

/**
 * Describes one pipeline: its identity, modes, parameters and entry points. Owned by the plugin;
 * valid until unregister_pipelines returns.
 */
typedef struct scope_pipeline_desc {
    uint32_t struct_size;      /**< sizeof(scope_pipeline_desc) */
    uint32_t flags;            /**< SCOPE_PIPELINE_* */
    const char *id;            /**< stable, unique across plugins: [a-z0-9][a-z0-9_.-]* */
    const char *name;          /**< human name, e.g. "Invert Colors" */
    const char *description;   /**< one sentence; NULL = none */
    const char *version;       /**< pipeline version, e.g. "1.0.0"; NULL = plugin version */
    const char *author;        /**< NULL = none */
    const char *docs_url;      /**< NULL = none */
    const scope_mode_desc *modes; /**< supported modes, >= 1, exactly one is_default */
    uint32_t mode_count;
    uint32_t memory;           /**< SCOPE_MEMORY_* mask the pipeline accepts (0 = HOST) */
    const scope_param_desc *params; /**< parameters, may be NULL when param_count is 0 */
    uint32_t param_count;
    uint32_t threading;        /**< SCOPE_THREADING_* */
    /** Names of the video input ports; NULL with input_port_count 0 means one port "video". */
    const char *const *input_ports;
    uint32_t input_port_count;
    uint32_t reserved;         /**< 0 */
    scope_create_fn create;    /**< required */
    scope_destroy_fn destroy;  /**< required */
    scope_prepare_fn prepare;  /**< required */
    scope_call_fn call;        /**< required */
} scope_pipeline_desc;

/* ---------------------------------------------------------------------------------------------
 * The plugin entry
 * ------------------------------------------------------------------------------------------- */

/**
 * The library's table, returned by scope_plugin_entry. Constant and owned by the plugin.
 */
typedef struct scope_plugin {
    uint32_t struct_size;  /**< sizeof(scope_plugin) */
    uint16_t abi_major;    /**< SCOPE_ABI_VERSION_MAJOR the plugin was built against */
    uint16_t abi_minor;    /**< SCOPE_ABI_VERSION_MINOR the plugin was built against */
    const char *name;      /**< library name, e.g. "scope-examples-c" */
    const char *version;   /**< library version, e.g. "1.0.0" */
    const char *description; /**< NULL = none */

    /**
     * Register: builds the pipeline table (may scan directories, probe devices...). Fast, no
     * UI, no network. `plugin_path` is the library's path as the user installed it (use it to
     * find files shipped beside the library; the host itself runs a private copy of the file,
     * so never dlopen it). A second call without unregister_pipelines in between must succeed
     * and yield the same pipelines (reference-counted, as CLAP's init).
     * [load]
     */
    scope_status (*register_pipelines)(const scope_host *host, const char *plugin_path,
                                       scope_error *err);

    /** Releases what register_pipelines built, once per successful register call. Every
     *  instance has been destroyed before. NULL = nothing to release.
     *  [load] */
    void (*unregister_pipelines)(void);

    /** Number of pipelines registered. [thread-safe] after register_pipelines */
    uint32_t (*pipeline_count)(void);

    /** Pipeline `index` (0 <= index < pipeline_count), or NULL if out of range.
     *  [thread-safe] after register_pipelines */
    const scope_pipeline_desc *(*get_pipeline)(uint32_t index);

    /** Returns the plugin extension with this id, or NULL. NULL function = no extensions.
     *  [thread-safe] */
    const void *(*get_extension)(const char *id);
} scope_plugin;

/** Type of the exported entry function. Must be cheap, may be called more than once, and returns
 *  the same pointer every time. [thread-safe] */
typedef const scope_plugin *(*scope_plugin_entry_fn)(void);

/** The one function every plugin defines and exports (with C linkage, also from C++):
 *
 *      SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void) { return &my_plugin; }
 *
 *  [thread-safe] */
SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void);

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

#endif /* SCOPE_PLUGIN_H */
