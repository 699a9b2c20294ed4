/*
 * scope/plugin.hpp -- a header-only C++17 wrapper over the Scope Native plugin ABI (plugin.h).
 *
 * plugin.h is the contract; this header adds no ABI of its own. It turns the C tables and
 * function pointers into C++ types, and it guards the boundary: no C++ exception ever leaves a
 * function the host calls.
 *
 * A COMPLETE PLUGIN
 *
 *   #include <scope/plugin.hpp>
 *
 *   class Invert : public scope::Pipeline {
 *   public:
 *       // Called once, at registration: what the host shows and validates against.
 *       static scope::PipelineSpec describe() {
 *           return scope::PipelineSpec("invert-cpp", "Invert Colors (C++)")
 *               .mode(scope::video_mode(1))
 *               .param(scope::float_param("intensity", 1.0, 0.0, 1.0).label("Intensity"));
 *       }
 *       // create(): the constructor. Load-time parameters are final in ctx.params().
 *       explicit Invert(const scope::CreateContext &ctx) { (void)ctx; }
 *       // prepare(): every tick, before call(). Optional: the default asks for the mode defaults.
 *       scope::Requirements prepare(const scope::PrepareContext &ctx) override;
 *       // call(): read ctx.input(), write ctx.output(). Throw to fail the frame.
 *       void call(scope::CallContext &ctx) override;
 *   };
 *
 *   SCOPE_CPP_PLUGIN("my-plugins", "1.0.0", Invert);   // at global scope, in exactly one file
 *
 * Build it with CMake's scope_add_plugin (cmake/ScopePlugin.cmake): it hides symbols and links
 * with a version script, so the library exports scope_plugin_entry alone. By hand, add
 * -fvisibility=hidden and -Wl,--version-script with `{ global: scope_plugin_entry; local: *; };`
 * (-fvisibility=hidden alone still exports libstdc++'s template instantiations).
 *
 * WHAT THE WRAPPER DOES FOR YOU
 *   - create() runs `new T(ctx)` (or `new T()` when T has no such constructor); destroy() deletes
 *     it. Put every resource in members with destructors (RAII) and join your threads in ~T().
 *   - call() before a successful prepare() returns SCOPE_ERROR_BAD_STATE without reaching T.
 *     A prepare() that fails makes the instance unprepared again.
 *   - Every exception is caught at the boundary and its message goes to the host's error buffer:
 *       scope::Error(status, msg)  -> that status, msg
 *       std::bad_alloc             -> SCOPE_ERROR_OUT_OF_MEMORY, "out of memory"
 *       other std::exception       -> SCOPE_ERROR, e.what()
 *       anything else              -> SCOPE_ERROR, "unknown C++ exception"
 *   - Sized structs the host passes in are read as min(struct_size, sizeof) with a zero tail,
 *     and requirements are written back as min(host struct_size, sizeof), so a plugin built
 *     against a newer minor works on an older host and the other way round.
 *   - Descriptors are built from the PipelineSpec builders once, in register_pipelines, into
 *     storage that stays put until the last unregister_pipelines (the C initializer macros of
 *     plugin.h are C only; the builders replace them in C++).
 *
 * THREADING: the contract of plugin.h holds unchanged. One instance is called by one thread at a
 * time, but not always the same thread: keep no thread_local state between calls. Instances of
 * one pipeline run concurrently unless the spec says .serial().
 */
#ifndef SCOPE_PLUGIN_HPP
#define SCOPE_PLUGIN_HPP

#include "plugin.h"

#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if (defined(_MSVC_LANG) ? _MSVC_LANG : __cplusplus) < 201703L
#error "scope/plugin.hpp needs C++17 or newer"
#endif

#if defined(__GNUC__) || defined(__clang__)
/* printf-style checking for member functions (argument 1 is `this`). */
#define SCOPE_HPP_PRINTF(fmt_, first_) __attribute__((format(printf, fmt_, first_)))
/* The wrapper's internals stay out of the library's dynamic symbol table even when the plugin
 * is built without -fvisibility=hidden. */
#define SCOPE_HPP_HIDDEN __attribute__((visibility("hidden")))
#else
#define SCOPE_HPP_PRINTF(fmt_, first_)
#define SCOPE_HPP_HIDDEN
#endif

namespace scope {

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/**
 * An exception that carries a scope_status. Throw it from create/prepare/call to fail with a
 * status other than SCOPE_ERROR:
 *
 *   throw scope::Error(SCOPE_ERROR_UNSUPPORTED, "only 8-bit frames");
 *
 * Any other exception fails with SCOPE_ERROR and its what() as the message.
 */
class Error : public std::runtime_error {
public:
    /** An error with this status (one of SCOPE_ERROR*) and one-line message. */
    Error(scope_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    /** An error with status SCOPE_ERROR. */
    explicit Error(const std::string &message) : Error(SCOPE_ERROR, message) {}
    /** The status returned to the host. */
    scope_status status() const noexcept { return status_; }

private:
    scope_status status_;
};

/* ---------------------------------------------------------------------------------------------
 * Parameter values
 * ------------------------------------------------------------------------------------------- */

/** An RGBA color, each channel 0..1 (SCOPE_PARAM_COLOR). */
struct Color {
    float r = 0.0f; /**< red */
    float g = 0.0f; /**< green */
    float b = 0.0f; /**< blue */
    float a = 1.0f; /**< alpha */
};

/**
 * A read-only view of the parameter values the host passes to create, prepare or call. Valid
 * during that call only: copy what you keep (a const char* from string_or included).
 * Every getter returns `def` when the key is absent or has another type; the host has already
 * validated each value against the descriptor, so no range checks are needed.
 */
class Params {
public:
    /** An empty view: every getter returns its default. */
    Params() noexcept = default;
    /** A view of `params` (may be NULL). */
    explicit Params(const scope_params *params) noexcept : params_(params) {}

    /** The value with this key, or nullptr. */
    const scope_value *find(const char *key) const noexcept { return scope_params_find(params_, key); }
    /** Whether a value with this key is present. */
    bool has(const char *key) const noexcept { return find(key) != nullptr; }
    /** A FLOAT (or INT) value as double, or `def`. */
    double float_or(const char *key, double def) const noexcept { return scope_params_float(params_, key, def); }
    /** An INT (or BOOL) value, or `def`. */
    int64_t int_or(const char *key, int64_t def) const noexcept { return scope_params_int(params_, key, def); }
    /** A BOOL value, or `def`. */
    bool bool_or(const char *key, bool def) const noexcept { return scope_params_bool(params_, key, def ? 1 : 0) != 0; }
    /** A STRING or ENUM value (an enum's option key), or `def`. Valid during the call only. */
    const char *string_or(const char *key, const char *def) const noexcept { return scope_params_string(params_, key, def); }
    /** A COLOR value, or `def`. */
    Color color(const char *key, Color def = Color()) const noexcept
    {
        float rgba[4] = {def.r, def.g, def.b, def.a};
        if (!scope_params_color(params_, key, rgba)) return def;
        Color c;
        c.r = rgba[0];
        c.g = rgba[1];
        c.b = rgba[2];
        c.a = rgba[3];
        return c;
    }
    /** Number of values (equals the pipeline's parameter count). */
    uint32_t size() const noexcept { return params_ && params_->values ? params_->count : 0; }
    /** Value `i`, which belongs to parameter `i` of the descriptor (no key lookup needed).
     *  Throws std::out_of_range past size(). */
    const scope_value &operator[](uint32_t i) const
    {
        if (i >= size()) throw std::out_of_range("parameter index out of range");
        return params_->values[i];
    }
    /** The C struct, or nullptr. */
    const scope_params *raw() const noexcept { return params_; }

private:
    const scope_params *params_ = nullptr;
};

/* ---------------------------------------------------------------------------------------------
 * Frames
 * ------------------------------------------------------------------------------------------- */

namespace detail SCOPE_HPP_HIDDEN {

/** Reads a sized struct (one that starts with uint32_t struct_size) the ABI way: the first
 *  min(struct_size, sizeof(S)) bytes, the rest zero. A NULL pointer reads as all zero. */
template <class S>
S read_sized(const void *p) noexcept
{
    static_assert(std::is_trivially_copyable<S>::value, "sized ABI structs are plain C structs");
    S out{};
    if (!p) return out;
    uint32_t size = 0;
    std::memcpy(&size, p, sizeof size);
    std::memcpy(static_cast<void *>(&out), p, size < sizeof(S) ? size : sizeof(S));
    return out;
}

} // namespace detail

/**
 * A view of one frame: its shape and its pixels. `Byte` is uint8_t for the output (writable)
 * and const uint8_t for inputs (read-only); use the FrameView and InputFrame aliases.
 * The pixels belong to the host and are valid during the call only. With
 * memory == SCOPE_MEMORY_CUDA, data() and row() are device addresses: do not dereference them
 * on the CPU.
 */
template <class Byte>
class BasicFrameView {
    static_assert(std::is_same<typename std::remove_const<Byte>::type, uint8_t>::value,
                  "Byte is uint8_t or const uint8_t");

public:
    /** Pointer to T, const when the frame is an input. */
    template <class T>
    using Ptr = typename std::conditional<std::is_const<Byte>::value, const T *, T *>::type;

    /** An empty frame (0x0, no data). */
    BasicFrameView() noexcept = default;
    /** A view of `frame`; the header fields are copied, the pixels are not. */
    explicit BasicFrameView(const scope_frame *frame) noexcept : f_(detail::read_sized<scope_frame>(frame)) {}

    uint32_t width() const noexcept { return f_.width; }               /**< pixels */
    uint32_t height() const noexcept { return f_.height; }             /**< pixels */
    uint32_t channels() const noexcept { return f_.channels; }         /**< 1, 3 or 4 */
    uint32_t element_type() const noexcept { return f_.element_type; } /**< SCOPE_ELEMENT_* */
    uint32_t memory() const noexcept { return f_.memory; }             /**< SCOPE_MEMORY_* */
    int64_t pitch() const noexcept { return f_.pitch; }                /**< bytes between rows */
    int64_t timestamp_us() const noexcept { return f_.timestamp_us; }  /**< presentation time */
    uint64_t index() const noexcept { return f_.index; }               /**< sequence number */
    void *cuda_stream() const noexcept { return f_.cuda_stream; }      /**< CUstream or NULL */
    int32_t cuda_device() const noexcept { return f_.cuda_device; }    /**< device or -1 */
    /** Bytes per sample (1 for U8, 4 for F32). */
    size_t element_size() const noexcept { return scope_element_size(f_.element_type); }
    /** Bytes of pixels in one row: width * channels * element_size (pitch may be larger). */
    size_t row_bytes() const noexcept { return size_t(f_.width) * f_.channels * element_size(); }
    /** Whether this is an 8-bit frame in CPU memory. */
    bool is_host_u8() const noexcept { return f_.memory == SCOPE_MEMORY_HOST && f_.element_type == SCOPE_ELEMENT_U8; }
    /** Whether the other frame has the same width, height, channels and element type. */
    template <class Other>
    bool same_shape(const BasicFrameView<Other> &o) const noexcept
    {
        return width() == o.width() && height() == o.height() && channels() == o.channels() &&
               element_type() == o.element_type();
    }

    /** The first row. */
    Ptr<uint8_t> data() const noexcept { return static_cast<Ptr<uint8_t>>(f_.data); }
    /** Row y as an array of T (uint8_t for U8 frames, float for F32), stepping by pitch.
     *  Channel c of pixel x is row<T>(y)[x * channels() + c]. y must be < height(). */
    template <class T = uint8_t>
    Ptr<T> row(uint32_t y) const noexcept
    {
        return reinterpret_cast<Ptr<T>>(data() + static_cast<ptrdiff_t>(y) * static_cast<ptrdiff_t>(f_.pitch));
    }
    /** The frame header as the wrapper read it. */
    const scope_frame &raw() const noexcept { return f_; }

private:
    scope_frame f_{};
};

/** The output frame: writable. */
using FrameView = BasicFrameView<uint8_t>;
/** An input frame: read-only. */
using InputFrame = BasicFrameView<const uint8_t>;

/* ---------------------------------------------------------------------------------------------
 * Host
 * ------------------------------------------------------------------------------------------- */

/** A view of the host's services (scope_host). Valid as long as the plugin stays registered. */
class Host {
public:
    /** No host: log() does nothing, extension() returns nullptr. */
    Host() noexcept = default;
    /** A view of `host` (may be NULL). */
    explicit Host(const scope_host *host) noexcept : h_(host) {}

    /** Writes one printf-style line to the host's log (SCOPE_LOG_*). [thread-safe] */
    void log(int32_t level, const char *fmt, ...) const SCOPE_HPP_PRINTF(3, 4)
    {
        if (!has(offsetof(scope_host, log) + sizeof h_->log) || !h_->log) return;
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        h_->log(h_, level, line);
    }
    /** The host extension with this id ("vendor.name/1"), or nullptr. [thread-safe] */
    const void *extension(const char *id) const noexcept
    {
        if (!has(offsetof(scope_host, get_extension) + sizeof h_->get_extension) || !h_->get_extension) return nullptr;
        return h_->get_extension(h_, id);
    }
    /** The C struct, or nullptr. */
    const scope_host *raw() const noexcept { return h_; }

    /** Threads the host's pool runs at once, the caller's included (1 without a pool, as on a
     *  1.0 host). [thread-safe] */
    uint32_t workers() const noexcept { return scope_worker_count(h_); }

    /**
     * Runs f(begin, end) over disjoint ranges covering [0, count), each at least `grain` items
     * (0 = 1), on the host's thread pool (scope_host.parallel_for has the contract: ranges run
     * concurrently on other threads; a nested call runs inline), or as f(0, count) here without
     * a pool. Returns when every range has finished. An exception thrown by f never crosses
     * the C boundary: the first one is caught and rethrown here, after every range has ended
     * (the other ranges still run). [thread-safe]
     *
     *     host.parallel_for(out.height(), 8, [&](uint32_t y0, uint32_t y1) { ... rows ... });
     */
    template <class F>
    void parallel_for(uint32_t count, uint32_t grain, F &&f) const
    {
        struct Job {
            F *f;
            std::atomic<bool> failed{false};
            std::exception_ptr error;
        } job;
        job.f = &f;
        scope_parallel_for(h_, count, grain, [](void *ctx, uint32_t begin, uint32_t end) {
            Job *j = static_cast<Job *>(ctx);
            try {
                (*j->f)(begin, end);
            } catch (...) {
                if (!j->failed.exchange(true)) j->error = std::current_exception();
            }
        }, &job);
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    bool has(size_t end) const noexcept { return h_ && h_->struct_size >= end; }
    const scope_host *h_ = nullptr;
};

/* ---------------------------------------------------------------------------------------------
 * What each entry point receives
 * ------------------------------------------------------------------------------------------- */

/** The arguments of create(), passed to the pipeline's constructor. Valid during it only. */
class CreateContext {
public:
    /** Built by the wrapper from the host's arguments. */
    CreateContext(const scope_host *host, const scope_create_args *args) noexcept
        : host_(host), args_(detail::read_sized<scope_create_args>(args)), params_(args_.params) {}

    /** The host's services; keep a copy if the instance logs later. */
    const Host &host() const noexcept { return host_; }
    /** SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO. */
    uint32_t mode() const noexcept { return args_.mode; }
    /** Every parameter; load-time values are final. */
    const Params &params() const noexcept { return params_; }
    /** The CUDA device the host uses, or -1. */
    int32_t cuda_device() const noexcept { return args_.cuda_device; }
    /** The descriptor create() was found in. */
    const scope_pipeline_desc *pipeline() const noexcept { return args_.pipeline; }

private:
    Host host_;
    scope_create_args args_;
    Params params_;
};

/** The arguments of prepare(). Valid during it only. */
class PrepareContext {
public:
    /** Built by the wrapper from the host's arguments. */
    explicit PrepareContext(const scope_prepare_args *args) noexcept
        : args_(detail::read_sized<scope_prepare_args>(args)), params_(args_.params) {}

    /** The mode of this instance. */
    uint32_t mode() const noexcept { return args_.mode; }
    /** Current values of every parameter. */
    const Params &params() const noexcept { return params_; }
    /** Number of input ports described (0 in text mode). */
    uint32_t input_port_count() const noexcept { return args_.input_formats ? args_.input_port_count : 0; }
    /** The format arriving on input port `port`. Throws std::out_of_range past the last port. */
    scope_frame_format input_format(uint32_t port = 0) const
    {
        if (port >= input_port_count()) throw std::out_of_range("no format for input port " + std::to_string(port));
        // input_formats holds one pointer per port (plugin.h: host-written arrays are pointer
        // arrays), so it is indexed plainly whatever sizeof(scope_frame_format) the host has.
        return detail::read_sized<scope_frame_format>(args_.input_formats[port]);
    }

private:
    scope_prepare_args args_;
    Params params_;
};

/**
 * What prepare() returns: a zero-filled scope_requirements (zero = the default everywhere).
 * Set only what the pipeline cares about, e.g. `r.input_size = 4;`.
 */
struct Requirements : scope_requirements {
    /** All defaults. */
    Requirements() noexcept : scope_requirements() { struct_size = sizeof(scope_requirements); }
};

/** The arguments of call(). Valid during it only: keep no frame, pointer or string after. */
class CallContext {
public:
    /** Built by the wrapper from the host's arguments. */
    explicit CallContext(const scope_call *call) noexcept
        : c_(detail::read_sized<scope_call>(call)), params_(c_.params) {}

    /** SCOPE_CALL_* flags. */
    uint32_t flags() const noexcept { return c_.flags; }
    /** First call of this instance: reset temporal state. */
    bool first() const noexcept { return (c_.flags & SCOPE_CALL_FIRST) != 0; }
    /** Some parameter differs from the previous call. */
    bool params_changed() const noexcept { return (c_.flags & SCOPE_CALL_PARAMS_CHANGED) != 0; }
    /** 0 for the first call, then +1. */
    uint64_t call_index() const noexcept { return c_.call_index; }
    /** Session time of this tick in microseconds. */
    int64_t timestamp_us() const noexcept { return c_.timestamp_us; }
    /** Current values of every parameter. */
    const Params &params() const noexcept { return params_; }

    /** Number of input ports (0 in text mode). */
    uint32_t input_port_count() const noexcept { return c_.inputs ? c_.input_port_count : 0; }
    /** Number of frames on input port `port` (the input_size asked for), 0 past the last port. */
    uint32_t input_count(uint32_t port = 0) const noexcept
    {
        return port < input_port_count() && c_.inputs[port].frames ? c_.inputs[port].count : 0;
    }
    /** Frame `i` (oldest first) of input port `port`. Throws std::out_of_range if absent. */
    InputFrame input(uint32_t i = 0, uint32_t port = 0) const
    {
        if (i >= input_count(port))
            throw std::out_of_range("no input frame " + std::to_string(i) + " on port " + std::to_string(port));
        // frames holds one pointer per frame (plugin.h), indexed plainly.
        return InputFrame(c_.inputs[port].frames[i]);
    }
    /** Whether there is an output frame (false with SCOPE_PIPELINE_NO_VIDEO). */
    bool has_output() const noexcept { return c_.output != nullptr; }
    /** The frame to fill: write every pixel of width x height. Throws std::logic_error if none. */
    FrameView output() const
    {
        if (!c_.output) throw std::logic_error("this call has no output frame");
        return FrameView(c_.output);
    }
    /** Number of weighted prompts. */
    uint32_t prompt_count() const noexcept { return c_.prompts ? c_.prompt_count : 0; }
    /** Prompt `i`. Throws std::out_of_range past the last one. */
    const scope_prompt &prompt(uint32_t i) const
    {
        if (i >= prompt_count()) throw std::out_of_range("no prompt " + std::to_string(i));
        return c_.prompts[i];
    }
    /** The audio buffer with SCOPE_PIPELINE_PRODUCES_AUDIO, else nullptr. */
    scope_audio *audio() const noexcept { return c_.audio; }
    /** The call arguments as the wrapper read them. */
    const scope_call &raw() const noexcept { return c_; }

private:
    scope_call c_;
    Params params_;
};

/* ---------------------------------------------------------------------------------------------
 * The pipeline base class
 * ------------------------------------------------------------------------------------------- */

namespace detail SCOPE_HPP_HIDDEN {
template <class T>
struct Adapter;
class BuiltPipeline;
} // namespace detail

/**
 * Base class of a C++ pipeline. A pipeline type T also provides
 *
 *   static scope::PipelineSpec describe();          // its descriptor, built at registration
 *   explicit T(const scope::CreateContext &ctx);    // create() (or a default constructor)
 *
 * and overrides call() (required) and prepare() (optional). Deriving is optional: any type
 * with these members works, but the base gives `override` checking and host().
 * The destructor is destroy(): release everything and join every thread there.
 */
class Pipeline {
public:
    virtual ~Pipeline() = default;

    /** Tells the host what the next call needs. Every tick, before call(); keep it cheap.
     *  Default: the mode's defaults (input_size, sizes and channels follow the input). */
    virtual Requirements prepare(const PrepareContext &ctx)
    {
        (void)ctx;
        return Requirements();
    }
    /** Processes one tick: read ctx.input(), write every pixel of ctx.output(). Throw to fail
     *  this frame; the host goes on with the next one. */
    virtual void call(CallContext &ctx) = 0;

    /** The host this instance was created by (set right after the constructor returns). */
    const Host &host() const noexcept { return host_; }

protected:
    Pipeline() = default;
    Pipeline(const Pipeline &) = default;
    Pipeline &operator=(const Pipeline &) = default;

private:
    template <class T>
    friend struct detail::Adapter;
    Host host_;
};

/* ---------------------------------------------------------------------------------------------
 * Descriptor builders
 * ------------------------------------------------------------------------------------------- */

/** One option of an enum parameter: a stable key and a UI label (empty = the key). */
struct EnumOption {
    std::string key;   /**< stored in settings and passed as the value */
    std::string label; /**< shown in the UI */
};

/**
 * Builds one scope_param_desc. Start from float_param, int_param, bool_param, string_param,
 * enum_param or color_param, then chain: `.label("Intensity").description("...").order(1)`.
 * Empty strings become NULL in the descriptor.
 */
class ParamSpec {
public:
    /** A parameter of type SCOPE_PARAM_* with this key; prefer the factory functions. */
    ParamSpec(uint32_t type, std::string key) : type_(type), key_(std::move(key)) {}

    /** Short UI label (default: the key). */
    ParamSpec &label(std::string v) { label_ = std::move(v); return *this; }
    /** Tooltip / help text. */
    ParamSpec &description(std::string v) { description_ = std::move(v); return *this; }
    /** Display order, lower first. */
    ParamSpec &order(int32_t v) { order_ = v; return *this; }
    /** UI step (INT/FLOAT). */
    ParamSpec &step(double v) { step_ = v; return *this; }
    /** SCOPE_CATEGORY_CONFIGURATION (default) or SCOPE_CATEGORY_INPUT. */
    ParamSpec &category(uint32_t v) { category_ = v; return *this; }
    /** Shows the control in the input & controls panel (SCOPE_CATEGORY_INPUT). */
    ParamSpec &input_panel() { return category(SCOPE_CATEGORY_INPUT); }
    /** SCOPE_MODE_* mask where the parameter applies; 0 (default) = every mode. */
    ParamSpec &modes(uint32_t mask) { modes_ = mask; return *this; }
    /** Passed to create() only; changing it means a new instance. */
    ParamSpec &load_time(bool on = true) { return flag(SCOPE_PARAM_LOAD_TIME, on); }
    /** Not shown in user interfaces. */
    ParamSpec &hidden(bool on = true) { return flag(SCOPE_PARAM_HIDDEN, on); }
    /** Sets the INT/FLOAT range. */
    ParamSpec &range(double min, double max) { min_ = min; max_ = max; return *this; }
    /** Sets the BOOL/INT/FLOAT default. */
    ParamSpec &default_number(double v) { number_ = v; return *this; }
    /** Sets the STRING default, or the ENUM default option key. */
    ParamSpec &default_string(std::string v) { string_ = std::move(v); return *this; }
    /** Sets the COLOR default. */
    ParamSpec &default_color(Color c) { color_ = c; return *this; }
    /** Appends an ENUM option. */
    ParamSpec &option(std::string key, std::string label = std::string())
    {
        options_.push_back(EnumOption{std::move(key), std::move(label)});
        return *this;
    }

private:
    friend class detail::BuiltPipeline;
    ParamSpec &flag(uint32_t f, bool on) { flags_ = on ? (flags_ | f) : (flags_ & ~f); return *this; }

    uint32_t type_;
    std::string key_, label_, description_, string_;
    uint32_t flags_ = 0, category_ = SCOPE_CATEGORY_CONFIGURATION, modes_ = 0;
    int32_t order_ = 0;
    double min_ = 0, max_ = 0, step_ = 0, number_ = 0;
    Color color_;
    std::vector<EnumOption> options_;
};

/** A FLOAT parameter in [min, max]. */
inline ParamSpec float_param(std::string key, double def, double min, double max)
{
    return ParamSpec(SCOPE_PARAM_FLOAT, std::move(key)).range(min, max).default_number(def);
}
/** An INT parameter in [min, max], step 1. */
inline ParamSpec int_param(std::string key, int64_t def, int64_t min, int64_t max)
{
    return ParamSpec(SCOPE_PARAM_INT, std::move(key))
        .range(static_cast<double>(min), static_cast<double>(max))
        .step(1)
        .default_number(static_cast<double>(def));
}
/** A BOOL parameter. */
inline ParamSpec bool_param(std::string key, bool def)
{
    return ParamSpec(SCOPE_PARAM_BOOL, std::move(key)).range(0, 1).default_number(def ? 1 : 0);
}
/** A STRING parameter (a prompt, a path...). */
inline ParamSpec string_param(std::string key, std::string def)
{
    return ParamSpec(SCOPE_PARAM_STRING, std::move(key)).default_string(std::move(def));
}
/** An ENUM parameter: values are option keys, never indices. */
inline ParamSpec enum_param(std::string key, std::string default_key, std::vector<EnumOption> options)
{
    ParamSpec p(SCOPE_PARAM_ENUM, std::move(key));
    p.default_string(std::move(default_key));
    for (auto &o : options) p.option(std::move(o.key), std::move(o.label));
    return p;
}
/** A COLOR parameter with a default RGBA. */
inline ParamSpec color_param(std::string key, Color def)
{
    return ParamSpec(SCOPE_PARAM_COLOR, std::move(key)).default_color(def);
}

/** Builds one scope_mode_desc. Start from video_mode or text_mode. */
class ModeSpec {
public:
    /** A mode SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO; prefer the factory functions. */
    explicit ModeSpec(uint32_t mode) : mode_(mode) {}
    /** Default output size in this mode (0 = follow the input). */
    ModeSpec &size(uint32_t width, uint32_t height) { width_ = width; height_ = height; return *this; }
    /** Default frames per call (video). */
    ModeSpec &input_size(uint32_t n) { input_size_ = n; return *this; }
    /** Marks this as the mode used when the user names none. If no mode of a pipeline is
     *  marked, the first one is the default. */
    ModeSpec &is_default(bool on = true) { default_ = on; return *this; }

private:
    friend class detail::BuiltPipeline;
    uint32_t mode_, width_ = 0, height_ = 0, input_size_ = 0;
    bool default_ = false;
};

/** Video mode: input frames are transformed, `input_size` frames per call. */
inline ModeSpec video_mode(uint32_t input_size = 1) { return ModeSpec(SCOPE_MODE_VIDEO).input_size(input_size); }
/** Text mode: no input; frames of width x height are generated. */
inline ModeSpec text_mode(uint32_t width, uint32_t height) { return ModeSpec(SCOPE_MODE_TEXT).size(width, height); }

/**
 * Builds one scope_pipeline_desc: identity, modes, parameters, flags. Returned by the
 * pipeline type's static describe(). Checked at registration (ids, ranges, defaults, enum
 * options, one default mode); a mistake fails register_pipelines with a message that names it.
 * A spec without modes gets one: video_mode(1).
 */
class PipelineSpec {
public:
    /** A pipeline with a stable id ([a-z0-9][a-z0-9_.-]*, unique across plugins) and a name. */
    PipelineSpec(std::string id, std::string name) : id_(std::move(id)), name_(std::move(name)) {}

    /** One sentence for the UI. */
    PipelineSpec &description(std::string v) { description_ = std::move(v); return *this; }
    /** Pipeline version (default: the plugin's). */
    PipelineSpec &version(std::string v) { version_ = std::move(v); return *this; }
    /** Author. */
    PipelineSpec &author(std::string v) { author_ = std::move(v); return *this; }
    /** Documentation link. */
    PipelineSpec &docs_url(std::string v) { docs_url_ = std::move(v); return *this; }
    /** Adds a mode. */
    PipelineSpec &mode(ModeSpec m) { modes_.push_back(std::move(m)); return *this; }
    /** Adds a parameter; the order of calls is the order of values in scope_params. */
    PipelineSpec &param(ParamSpec p) { params_.push_back(std::move(p)); return *this; }
    /** SCOPE_MEMORY_* mask of the frames call() accepts (default: host memory). */
    PipelineSpec &memory(uint32_t mask) { memory_ = mask; return *this; }
    /** SCOPE_PIPELINE_* flags, or-ed in. */
    PipelineSpec &flags(uint32_t f) { flags_ |= f; return *this; }
    /** Takes weighted text prompts (SCOPE_PIPELINE_SUPPORTS_PROMPTS). */
    PipelineSpec &supports_prompts() { return flags(SCOPE_PIPELINE_SUPPORTS_PROMPTS); }
    /** Writes audio beside video (SCOPE_PIPELINE_PRODUCES_AUDIO). */
    PipelineSpec &produces_audio() { return flags(SCOPE_PIPELINE_PRODUCES_AUDIO); }
    /** Output depends on randomness or wall time, not only on inputs and parameters
     *  (SCOPE_PIPELINE_NONDETERMINISTIC). */
    PipelineSpec &nondeterministic() { return flags(SCOPE_PIPELINE_NONDETERMINISTIC); }
    /** Instances share state: the host never calls two at once (SCOPE_THREADING_SERIAL). */
    PipelineSpec &serial() { threading_ = SCOPE_THREADING_SERIAL; return *this; }
    /** Names of the video input ports (default: one port, "video"). */
    PipelineSpec &input_ports(std::vector<std::string> names) { ports_ = std::move(names); return *this; }

private:
    friend class detail::BuiltPipeline;
    std::string id_, name_, description_, version_, author_, docs_url_;
    std::vector<ModeSpec> modes_;
    std::vector<ParamSpec> params_;
    std::vector<std::string> ports_;
    uint32_t memory_ = SCOPE_MEMORY_HOST, flags_ = 0, threading_ = SCOPE_THREADING_INSTANCE;
};

/* ---------------------------------------------------------------------------------------------
 * Internals: boundary guard, descriptor storage, entry points
 * ------------------------------------------------------------------------------------------- */

namespace detail SCOPE_HPP_HIDDEN {

/** Runs f() and turns every exception into a status and a message in err. */
template <class F>
scope_status guard(scope_error *err, F &&f) noexcept
{
    try {
        return f();
    } catch (const Error &e) {
        return scope_error_set(err, e.status() < 0 ? e.status() : SCOPE_ERROR, "%s", e.what());
    } catch (const std::bad_alloc &) {
        return scope_error_set(err, SCOPE_ERROR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception &e) {
        return scope_error_set(err, SCOPE_ERROR, "%s", e.what());
    } catch (...) {
        return scope_error_set(err, SCOPE_ERROR, "unknown C++ exception");
    }
}

inline bool valid_id(const std::string &s, bool first_alnum)
{
    if (s.empty()) return false;
    for (size_t i = 0; i < s.size(); i++) {
        const char c = s[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((first_alnum && i == 0) || (c != '_' && c != '.' && c != '-'))) return false;
    }
    return true;
}

inline const char *or_null(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

/** The entry points of one pipeline type, filled into its descriptor. */
struct EntryPoints {
    scope_create_fn create;
    scope_destroy_fn destroy;
    scope_prepare_fn prepare;
    scope_call_fn call;
};

/**
 * One registered pipeline: the spec (owner of every string) and the C arrays pointing into it.
 * Heap-allocated and never moved or changed after construction, so every pointer in `desc`
 * stays valid until it is deleted at the last unregister_pipelines.
 */
class BuiltPipeline {
public:
    BuiltPipeline(PipelineSpec spec, const EntryPoints &fns) : spec_(std::move(spec))
    {
        const std::string &id = spec_.id_;
        auto fail = [&id](const std::string &what) { throw std::invalid_argument("pipeline \"" + id + "\": " + what); };
        if (!valid_id(id, true)) fail("id must match [a-z0-9][a-z0-9_.-]*");
        if (spec_.name_.empty()) fail("name is empty");

        std::vector<ModeSpec> &modes = spec_.modes_;
        if (modes.empty()) modes.push_back(video_mode(1));
        size_t defaults = 0;
        for (const ModeSpec &m : modes) {
            defaults += m.default_ ? 1 : 0;
            const uint32_t kind = m.mode_;
            if (kind != SCOPE_MODE_TEXT && kind != SCOPE_MODE_VIDEO) fail("mode must be SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO");
        }
        if (defaults > 1) fail("more than one default mode");
        modes_.reserve(modes.size());
        for (const ModeSpec &m : modes) {
            scope_mode_desc d{};
            d.struct_size = sizeof d;
            d.mode = m.mode_;
            d.is_default = (defaults == 0 ? &m == &modes.front() : m.default_) ? 1u : 0u;
            d.width = m.width_;
            d.height = m.height_;
            d.input_size = m.input_size_;
            modes_.push_back(d);
        }

        const std::vector<ParamSpec> &params = spec_.params_;
        options_.resize(params.size());
        params_.reserve(params.size());
        for (size_t i = 0; i < params.size(); i++) {
            const ParamSpec &p = params[i];
            const std::string &key = p.key_;
            auto pfail = [&](const std::string &what) { fail("param \"" + key + "\": " + what); };
            if (!valid_id(key, false)) pfail("key must match [a-z0-9_.-]+");
            for (size_t j = 0; j < i; j++)
                if (params[j].key_ == key) pfail("duplicate key");
            scope_param_desc d{};
            d.struct_size = sizeof d;
            d.type = p.type_;
            d.key = key.c_str();
            d.label = or_null(p.label_);
            d.description = or_null(p.description_);
            d.flags = p.flags_;
            d.category = p.category_;
            d.order = p.order_;
            d.modes = p.modes_;
            d.min_value = p.min_;
            d.max_value = p.max_;
            d.step = p.step_;
            d.default_number = p.number_;
            switch (d.type) {
            case SCOPE_PARAM_BOOL:
            case SCOPE_PARAM_INT:
            case SCOPE_PARAM_FLOAT:
                if (!std::isfinite(d.min_value) || !std::isfinite(d.max_value) || d.min_value > d.max_value)
                    pfail("min and max must be finite with min <= max");
                if (!(d.default_number >= d.min_value && d.default_number <= d.max_value))
                    pfail("default " + std::to_string(d.default_number) + " is outside [" +
                          std::to_string(d.min_value) + ", " + std::to_string(d.max_value) + "]");
                break;
            case SCOPE_PARAM_STRING:
                d.default_string = p.string_.c_str();
                break;
            case SCOPE_PARAM_ENUM: {
                const std::vector<EnumOption> &opts = p.options_;
                if (opts.empty()) pfail("an enum needs at least one option");
                bool found = false;
                for (size_t j = 0; j < opts.size(); j++) {
                    if (!valid_id(opts[j].key, false)) pfail("option key \"" + opts[j].key + "\" must match [a-z0-9_.-]+");
                    for (size_t k = 0; k < j; k++)
                        if (opts[k].key == opts[j].key) pfail("duplicate option \"" + opts[j].key + "\"");
                    found = found || opts[j].key == p.string_;
                    scope_enum_option o{};
                    o.struct_size = sizeof o;
                    o.key = opts[j].key.c_str();
                    o.label = or_null(opts[j].label);
                    options_[i].push_back(o);
                }
                if (!found) pfail("default \"" + p.string_ + "\" is not an option");
                d.default_string = p.string_.c_str();
                d.options = options_[i].data();
                d.option_count = static_cast<uint32_t>(options_[i].size());
                break;
            }
            case SCOPE_PARAM_COLOR: {
                const Color &c = p.color_;
                d.default_color[0] = c.r;
                d.default_color[1] = c.g;
                d.default_color[2] = c.b;
                d.default_color[3] = c.a;
                break;
            }
            default:
                pfail("unknown type " + std::to_string(d.type));
            }
            params_.push_back(d);
        }

        for (const std::string &port : spec_.ports_) ports_.push_back(port.c_str());

        desc_ = scope_pipeline_desc{};
        desc_.struct_size = sizeof desc_;
        desc_.flags = spec_.flags_;
        desc_.id = id.c_str();
        desc_.name = spec_.name_.c_str();
        desc_.description = or_null(spec_.description_);
        desc_.version = or_null(spec_.version_);
        desc_.author = or_null(spec_.author_);
        desc_.docs_url = or_null(spec_.docs_url_);
        desc_.modes = modes_.data();
        desc_.mode_count = static_cast<uint32_t>(modes_.size());
        desc_.memory = spec_.memory_;
        desc_.params = params_.empty() ? nullptr : params_.data();
        desc_.param_count = static_cast<uint32_t>(params_.size());
        desc_.threading = spec_.threading_;
        desc_.input_ports = ports_.empty() ? nullptr : ports_.data();
        desc_.input_port_count = static_cast<uint32_t>(ports_.size());
        desc_.create = fns.create;
        desc_.destroy = fns.destroy;
        desc_.prepare = fns.prepare;
        desc_.call = fns.call;
    }
    BuiltPipeline(const BuiltPipeline &) = delete;
    BuiltPipeline &operator=(const BuiltPipeline &) = delete;

    const scope_pipeline_desc *desc() const noexcept { return &desc_; }

private:
    PipelineSpec spec_;
    std::vector<scope_mode_desc> modes_;
    std::vector<scope_param_desc> params_;
    std::vector<std::vector<scope_enum_option>> options_;
    std::vector<const char *> ports_;
    scope_pipeline_desc desc_{};
};

/** What the instance pointer handed to the host points at. */
template <class T>
struct Instance {
    template <class... A>
    explicit Instance(A &&...a) : impl(std::forward<A>(a)...) {}
    T impl;
    bool prepared = false; /**< a prepare() succeeded and no prepare() failed since */
};

/** The C entry points of pipeline type T. */
template <class T>
struct Adapter {
    static scope_status create(const scope_host *host, const scope_create_args *args, void **out,
                               scope_error *err) noexcept
    {
        if (!out) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "create: out_instance is NULL");
        *out = nullptr;
        return guard(err, [&]() -> scope_status {
            const CreateContext ctx(host, args);
            std::unique_ptr<Instance<T>> inst;
            if constexpr (std::is_constructible<T, const CreateContext &>::value) {
                inst.reset(new Instance<T>(ctx));
            } else {
                static_assert(std::is_default_constructible<T>::value,
                              "a pipeline needs T(const scope::CreateContext&) or T()");
                inst.reset(new Instance<T>());
            }
            if constexpr (std::is_base_of<Pipeline, T>::value) static_cast<Pipeline &>(inst->impl).host_ = Host(host);
            *out = inst.release();
            return SCOPE_OK;
        });
    }

    static void destroy(void *instance) noexcept
    {
        try {
            delete static_cast<Instance<T> *>(instance);
        } catch (...) {
            /* A throwing destructor has nowhere to report to; never let it cross the boundary. */
        }
    }

    static scope_status prepare(void *instance, const scope_prepare_args *args, scope_requirements *out,
                                scope_error *err) noexcept
    {
        if (!instance) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "prepare: no instance");
        if (!out) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "prepare: requirements is NULL");
        Instance<T> *inst = static_cast<Instance<T> *>(instance);
        inst->prepared = false;
        return guard(err, [&]() -> scope_status {
            const PrepareContext ctx(args);
            Requirements r = prepare_of(inst->impl, ctx);
            /* Write what both sides know; the host's struct_size stays. */
            const size_t n = out->struct_size < sizeof(scope_requirements) ? out->struct_size : sizeof(scope_requirements);
            if (n > sizeof out->struct_size)
                std::memcpy(reinterpret_cast<unsigned char *>(out) + sizeof out->struct_size,
                            reinterpret_cast<const unsigned char *>(static_cast<const scope_requirements *>(&r)) + sizeof r.struct_size,
                            n - sizeof out->struct_size);
            inst->prepared = true;
            return SCOPE_OK;
        });
    }

    static scope_status call(void *instance, const scope_call *call, scope_error *err) noexcept
    {
        if (!instance) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "call: no instance");
        Instance<T> *inst = static_cast<Instance<T> *>(instance);
        if (!inst->prepared) return scope_error_set(err, SCOPE_ERROR_BAD_STATE, "call before a successful prepare");
        if (!call) return scope_error_set(err, SCOPE_ERROR_INVALID_ARGUMENT, "call: arguments are NULL");
        return guard(err, [&]() -> scope_status {
            CallContext ctx(call);
            inst->impl.call(ctx);
            return SCOPE_OK;
        });
    }

    static EntryPoints entry_points() noexcept { return EntryPoints{&create, &destroy, &prepare, &call}; }

private:
    template <class U, class = void>
    struct has_prepare : std::false_type {};
    template <class U>
    struct has_prepare<U, decltype(void(std::declval<U &>().prepare(std::declval<const PrepareContext &>())))>
        : std::true_type {};

    static Requirements prepare_of(T &impl, const PrepareContext &ctx)
    {
        if constexpr (has_prepare<T>::value) {
            return impl.prepare(ctx);
        } else {
            (void)impl;
            (void)ctx;
            return Requirements();
        }
    }
};

/**
 * The library: its name and version and the pipelines of types Ts. Constant-initialized and
 * trivially destructible (no static constructor or destructor runs); register_pipelines builds
 * the descriptors once, reference-counted, and the last unregister_pipelines frees them.
 */
template <class... Ts>
class Library {
public:
    constexpr Library(const char *name, const char *version) noexcept : name_(name), version_(version) {}

    scope_status register_pipelines(const scope_host *host, scope_error *err) noexcept
    {
        if (host && host->abi_major != SCOPE_ABI_VERSION_MAJOR)
            return scope_error_set(err, SCOPE_ERROR_UNSUPPORTED, "%s needs plugin ABI %d.x; the host has %u.x", name_,
                                   SCOPE_ABI_VERSION_MAJOR, static_cast<unsigned>(host->abi_major));
        return guard(err, [&]() -> scope_status {
            if (refs_ == 0) {
                std::unique_ptr<std::vector<std::unique_ptr<BuiltPipeline>>> built(
                    new std::vector<std::unique_ptr<BuiltPipeline>>());
                built->reserve(sizeof...(Ts));
                /* In the order of the macro's type list. */
                (built->push_back(std::make_unique<BuiltPipeline>(Ts::describe(), Adapter<Ts>::entry_points())), ...);
                for (size_t i = 0; i < built->size(); i++)
                    for (size_t j = 0; j < i; j++)
                        if (std::strcmp((*built)[i]->desc()->id, (*built)[j]->desc()->id) == 0)
                            throw std::invalid_argument(std::string("duplicate pipeline id \"") + (*built)[i]->desc()->id + "\"");
                built_ = built.release();
            }
            refs_++;
            return SCOPE_OK;
        });
    }

    void unregister_pipelines() noexcept
    {
        if (refs_ == 0 || --refs_ > 0) return;
        delete built_;
        built_ = nullptr;
    }

    uint32_t pipeline_count() const noexcept { return built_ ? static_cast<uint32_t>(built_->size()) : 0; }

    const scope_pipeline_desc *get_pipeline(uint32_t index) const noexcept
    {
        return index < pipeline_count() ? (*built_)[index]->desc() : nullptr;
    }

    /** The plugin table, pointing at the given plain functions. */
    scope_plugin table(decltype(scope_plugin::register_pipelines) reg, decltype(scope_plugin::unregister_pipelines) unreg,
                       decltype(scope_plugin::pipeline_count) count, decltype(scope_plugin::get_pipeline) get) const noexcept
    {
        scope_plugin t{};
        t.struct_size = sizeof t;
        t.abi_major = SCOPE_ABI_VERSION_MAJOR;
        t.abi_minor = SCOPE_ABI_VERSION_MINOR;
        t.name = name_;
        t.version = version_;
        t.register_pipelines = reg;
        t.unregister_pipelines = unreg;
        t.pipeline_count = count;
        t.get_pipeline = get;
        return t;
    }

private:
    const char *name_;
    const char *version_;
    uint32_t refs_ = 0;
    std::vector<std::unique_ptr<BuiltPipeline>> *built_ = nullptr;
};

} // namespace detail
} // namespace scope

/**
 * Defines the library's one exported symbol, scope_plugin_entry, for the pipeline types listed
 * (in that order). Use it once, at global scope, in one source file of the library:
 *
 *   SCOPE_CPP_PLUGIN("my-plugins", "1.0.0", Invert, Blur);
 *
 * `name_` and `version_` are string literals (or other strings that live forever).
 * All state lives in this translation unit, with internal linkage: two C++ plugins loaded into
 * one process never share it, whatever their visibility flags.
 */
#define SCOPE_CPP_PLUGIN(name_, version_, ...)                                                      \
    namespace {                                                                                    \
    ::scope::detail::Library<__VA_ARGS__> scope_cpp_library_((name_), (version_));                \
    scope_status scope_cpp_register_(const scope_host *host, const char *, scope_error *err)       \
    {                                                                                              \
        return scope_cpp_library_.register_pipelines(host, err);                                  \
    }                                                                                              \
    void scope_cpp_unregister_(void) { scope_cpp_library_.unregister_pipelines(); }                \
    uint32_t scope_cpp_count_(void) { return scope_cpp_library_.pipeline_count(); }                \
    const scope_pipeline_desc *scope_cpp_get_(uint32_t i) { return scope_cpp_library_.get_pipeline(i); } \
    }                                                                                              \
    extern "C" SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void)                          \
    {                                                                                              \
        static const scope_plugin table =                                                          \
            scope_cpp_library_.table(&scope_cpp_register_, &scope_cpp_unregister_, &scope_cpp_count_, &scope_cpp_get_); \
        return &table;                                                                             \
    }                                                                                              \
    static_assert(true, "SCOPE_CPP_PLUGIN ends with a semicolon")

#endif /* SCOPE_PLUGIN_HPP */
