// invert.cpp -- the C++ twin of the C invert example, written against scope/plugin.hpp.
//
// Two pipelines in one library:
//   invert-cpp  Inverts colors with a strength `intensity` in 0..1. Byte-identical to the C
//               invert (examples/c/invert): a 256-entry table maps each 8-bit value v to
//               floor(v*(1-i) + (255-v)*i + 0.5), computed in double and rebuilt only when
//               the intensity changes; alpha (the 4th channel) is copied.
//   throw-test  Throws std::runtime_error("boom from C++") from call() while `throw` is on (off by default):
//               shows that the wrapper turns exceptions into SCOPE_ERROR and a message.
//
// Build by hand:
//   g++ -std=c++17 -shared -fPIC -fvisibility=hidden -Iinclude examples/cpp/invert/invert.cpp -o invert-cpp.so
#include <scope/plugin.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

// Checks the shapes a pixel loop relies on; the wrapper turns the exception into the status.
void check_frames(const scope::InputFrame &in, const scope::FrameView &out)
{
    if (!in.is_host_u8() || !out.is_host_u8())
        throw scope::Error(SCOPE_ERROR_UNSUPPORTED, "only 8-bit frames in host memory");
    if (in.channels() != 1 && in.channels() != 3 && in.channels() != 4)
        throw scope::Error(SCOPE_ERROR_UNSUPPORTED, "1, 3 or 4 channels, got " + std::to_string(in.channels()));
    if (!in.same_shape(out))
        throw scope::Error(SCOPE_ERROR_INVALID_ARGUMENT, "output shape differs from the input");
}

class Invert : public scope::Pipeline {
public:
    // The descriptor: identity, one video mode with one frame per call, one parameter.
    static scope::PipelineSpec describe()
    {
        return scope::PipelineSpec("invert-cpp", "Invert Colors (C++)")
            .description("Inverts the colors of input video frames")
            .version("1.0.0")
            .mode(scope::video_mode(1))
            .param(scope::float_param("intensity", 1.0, 0.0, 1.0)
                       .label("Intensity")
                       .order(1)
                       .description("How strongly to invert the colors (0 = original, 1 = fully inverted)"));
    }

    // create(): nothing to allocate up front; the table is built on the first call.
    explicit Invert(const scope::CreateContext &) {}

    // prepare(): one frame per call, 8-bit in host memory (the defaults, so the host converts
    // anything else for us). Refuses channel counts the loop does not handle.
    scope::Requirements prepare(const scope::PrepareContext &ctx) override
    {
        if (ctx.input_port_count() > 0) {
            const uint32_t channels = ctx.input_format(0).channels;
            if (channels != 1 && channels != 3 && channels != 4)
                throw scope::Error(SCOPE_ERROR_UNSUPPORTED, "1, 3 or 4 channels, got " + std::to_string(channels));
        }
        scope::Requirements r;
        r.input_size = 1;
        return r;
    }

    // call(): rows split across the host's thread pool (host().parallel_for); each range
    // steps rows by pitch, never by width. At intensity 1 (the default) a row is a plain
    // 255 - v loop (v ^ 0xFF) over __restrict rows that the compiler vectorises (the ABI
    // promises input and output never overlap); other intensities look bytes up in a table.
    void call(scope::CallContext &ctx) override
    {
        const scope::InputFrame in = ctx.input(0);
        const scope::FrameView out = ctx.output();
        check_frames(in, out);
        update_table(ctx.params().float_or("intensity", 1.0));

        const uint32_t channels = in.channels();
        const size_t n = size_t(in.width()) * channels;
        const bool full = intensity_ == 1.0;
        host().parallel_for(in.height(), uint32_t(65536 / (n ? n : 1) + 1), [&](uint32_t y0, uint32_t y1) {
            for (uint32_t y = y0; y < y1; y++) {
                const uint8_t *__restrict src = in.row<uint8_t>(y);
                uint8_t *__restrict dst = out.row<uint8_t>(y);
                if (full && channels != 4) {
                    for (size_t i = 0; i < n; i++) dst[i] = uint8_t(src[i] ^ 0xFFu);
                } else if (channels == 4) { // alpha is copied, not inverted
                    for (size_t i = 0; i < n; i += 4) {
                        dst[i] = table_[src[i]];
                        dst[i + 1] = table_[src[i + 1]];
                        dst[i + 2] = table_[src[i + 2]];
                        dst[i + 3] = src[i + 3];
                    }
                } else {
                    for (size_t i = 0; i < n; i++) dst[i] = table_[src[i]];
                }
            }
        });
    }

private:
    // Rebuilds the lookup table when the intensity changes: exactly the C example's formula,
    // in double, rounded half up; the intensity is clamped to 0..1 (NaN counts as 0).
    void update_table(double intensity)
    {
        if (!(intensity >= 0.0)) intensity = 0.0;
        if (intensity > 1.0) intensity = 1.0;
        if (built_ && intensity == intensity_) return;
        for (int v = 0; v < 256; v++) {
            const double x = double(v) * (1.0 - intensity) + double(255 - v) * intensity;
            table_[v] = static_cast<uint8_t>(std::fmin(std::floor(x + 0.5), 255.0));
        }
        intensity_ = intensity;
        built_ = true;
    }

    uint8_t table_[256] = {};
    double intensity_ = 0.0;
    bool built_ = false;
};

#ifdef SCOPE_EXAMPLE_TEST_PIPELINES
// A test-only pipeline (the cross-language tests build this file with
// -DSCOPE_EXAMPLE_TEST_PIPELINES): it throws on purpose, so it stays out of the shipped library.
class ThrowTest : public scope::Pipeline {
public:
    static scope::PipelineSpec describe()
    {
        return scope::PipelineSpec("throw-test", "Throw Test (C++)")
            .description("Throws from call() while `throw` is on, to test exception handling")
            .mode(scope::video_mode(1))
            .param(scope::bool_param("throw", false).label("Throw").description("Throw std::runtime_error from call()"));
    }

    // No constructor taking a context: the wrapper default-constructs it. No prepare(): the
    // base class asks for the mode defaults.

    void call(scope::CallContext &ctx) override
    {
        if (ctx.params().bool_or("throw", false)) throw std::runtime_error("boom from C++");
        // Otherwise pass the frame through.
        const scope::InputFrame in = ctx.input(0);
        const scope::FrameView out = ctx.output();
        check_frames(in, out);
        for (uint32_t y = 0; y < in.height(); y++) std::memcpy(out.row(y), in.row(y), in.row_bytes());
    }
};

#endif // SCOPE_EXAMPLE_TEST_PIPELINES

} // namespace

#ifdef SCOPE_EXAMPLE_TEST_PIPELINES
SCOPE_CPP_PLUGIN("scope-examples-cpp", "1.0.0", Invert, ThrowTest);
#else
SCOPE_CPP_PLUGIN("scope-examples-cpp", "1.0.0", Invert);
#endif
