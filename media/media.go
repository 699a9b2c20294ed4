// Package media opens frame sources and sinks from spec strings: generated patterns (testsrc,
// solid), still images, numbered image sequences, YUV4MPEG2 files, raw RGB files and, through an
// ffmpeg child process, any other video file or URL. It is what `scope run` uses to read input
// frames and write output frames.
//
// Raw paths (testsrc, solid, still repeats, Y4M, ffmpeg pipes, raw files) do not allocate per
// frame in steady state; PNG and JPEG encoding and decoding do.
package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scopenative/scope/frame"
)

// Source produces frames of one fixed Format.
type Source interface {
	// Format returns the format of every frame the source produces.
	Format() frame.Format
	// Read fills dst (allocated by the caller with Format(), any pitch) with the next frame and
	// sets dst.Index/PTS. Returns io.EOF after the last frame. Must not allocate per frame for
	// raw formats. A dst of the same size but another channel count or element type is accepted
	// too: the frame is converted with frame.Convert (through a buffer allocated once).
	Read(ctx context.Context, dst *frame.Frame) error
	// Close releases the source (and kills its ffmpeg child, if any). It is safe to call twice.
	Close() error
}

// Sink consumes frames.
type Sink interface {
	// Write consumes one frame. f may be u8 or f32, 1/3/4 channels, any pitch; it is converted
	// as needed. Sinks that write a stream (Y4M, raw, ffmpeg) need every frame at the size given
	// to CreateSink. Write does not keep f after it returns.
	Write(f *frame.Frame) error
	// Close flushes; for ffmpeg it waits for the process and reports its error with the tail
	// of its stderr. It is safe to call twice.
	Close() error
}

// SourceOptions tunes OpenSource.
type SourceOptions struct {
	Width, Height int     // size for generated sources (testsrc, solid); zero value: 640x360
	FPS           float64 // rate for the PTS of sources without their own rate; zero value: 30
	Frames        int     // stop after this many frames (0 = source's natural end; testsrc is endless)
	// Limits bounds the frame size every source accepts (zero value: DefaultLimits). A
	// source whose header claims more is refused with a *LimitError before it allocates.
	Limits Limits
	// Repeat makes a still image an endless source (stopped by Frames or by the caller)
	// instead of one frame: `scope run --frames N` on a still gives N frames whatever the
	// pipelines consume.
	Repeat bool
	// SkipGaps makes an image sequence step over missing numbers (counted by Skipped) instead of
	// failing on the first one.
	SkipGaps bool
	// Loop restarts a file input (a video file, Y4M, an image sequence) from its first frame
	// when it ends, until Frames or the caller stops it. Live inputs cannot loop.
	Loop bool

	// Live inputs (see IsLive).

	// OpenTimeout bounds how long a live input may take to deliver its first frame (zero
	// value: 10 s).
	OpenTimeout time.Duration
	// OnLost is told when a camera fails mid-run (unplugged) and each time reopening it
	// fails; the source keeps trying every RetryWait (zero value: 1 s) until it is back.
	OnLost    func(error)
	RetryWait time.Duration
	// OnDrop is told the running total whenever a live input drops a frame because the
	// pipeline is behind.
	OnDrop func(total uint64)
	// Env looks up environment variables (DISPLAY for the screen); nil: os.Getenv.
	Env func(string) string
	// DevDir is where "camera" looks for /dev/videoN nodes; empty: /dev.
	DevDir string
}

// SinkOptions tunes CreateSink.
type SinkOptions struct {
	FPS float64 // frame rate written into containers (Y4M, ffmpeg outputs); zero value: 30

	// Encoding of file and stream outputs through ffmpeg. The defaults are what a person
	// would pick: H.264 (libx264 veryfast, yuv420p) at CRF 18 for files; for streams
	// (rtmp, srt, udp, tcp, rtp, .m3u8) CRF 23 tuned for zero latency (no B-frames, a
	// keyframe every 2 s); VP8 for WebM.

	// Codec is h264, h265, vp8, vp9, av1, ffv1, prores, or an ffmpeg encoder name.
	Codec string
	// CRF is the constant quality (lower is better, 0 lossless for x264); CRFSet says it was
	// given (so that 0 means lossless, not default). Exclusive with Bitrate.
	CRF    int
	CRFSet bool
	// Bitrate is a target like "4M" or "2500k" (capped at that rate, for streams).
	Bitrate string
	// PixFmt is the encoded pixel format (default yuv420p; yuv444p keeps full colour).
	PixFmt string

	// Audio makes an ffmpeg sink that can carry audio take PCM through AudioSink.WriteAudio.
	Audio bool
	// AudioFrom muxes the first audio track of this file or URL (the run's input) into the
	// output, in step with the video frames taken from the same input; AudioLoop repeats it
	// (for --loop). Ignored when Audio is set, or when the output cannot carry audio.
	AudioFrom string
	AudioLoop bool
}

// Defaults for zero-valued options.
const (
	defaultWidth  = 640
	defaultHeight = 360
	defaultFPS    = 30
)

// SourceHelp returns a one-line human description of the accepted source spec forms, for CLI help.
func SourceHelp() string {
	return "testsrc[:WxH] | solid:RRGGBB[:WxH] | image.png/.jpg (one frame, repeated with --frames) | dir/%05d.png (numbered sequence) | clip.y4m | any other video file or URL through ffmpeg (mp4, mkv, webm, mov, gif, http...) | camera, camera:N, v4l2:/dev/videoN[?size=WxH&fps=F&format=mjpeg] | screen[:DISPLAY][?region=WxH+X+Y&fps=F] | rtsp:// srt:// rtmp:// udp:// rtp:// tcp:// streams"
}

// SinkHelp returns a one-line human description of the accepted sink spec forms, for CLI help.
func SinkHelp() string {
	return "null | out.png/.jpg (keeps the last frame) | dir/%05d.png (one image per frame, from 0) | out.y4m (YUV4MPEG2 4:4:4) | out.raw (packed rgb24) | out.mp4/.mkv/.webm/.mov/.gif... through ffmpeg | live.m3u8 (HLS) | rtmp:// srt:// udp:// tcp:// rtp:// streams | v4l2:/dev/videoN (a v4l2loopback virtual camera)"
}

// OpenSource opens the source named by spec. Every source produces RGB U8 frames.
//
//   - "testsrc" or "testsrc:WxH": a deterministic moving pattern (colour bars, a scrolling colour
//     ramp, a bouncing box, the frame index as 16 black/white cells top left). Endless.
//   - "solid:RRGGBB" or "solid:RRGGBB:WxH": one colour. Endless.
//     Generated sources take their size from the spec, else opts.Width/Height, else 640x360.
//   - a .png/.jpg/.jpeg path: one frame, or opts.Frames copies of it (endless copies with
//     opts.Repeat). Alpha is dropped, 16-bit samples are reduced by >>8.
//   - a pattern such as "dir/%05d.png" (%d or %0Nd, .png/.jpg): from the lowest existing number
//     to the highest; a missing number in between is an error naming the file (skipped and
//     counted with opts.SkipGaps); every image must have the first one's size.
//   - a .y4m path: 8-bit YUV4MPEG2 (C420jpeg, C420, C420paldv, C420mpeg2, C422, C444, Cmono),
//     BT.601, full range if the header says XCOLORRANGE=FULL, else limited.
//   - any other existing file, or a URL (scheme://...): decoded by ffmpeg (the first video
//     stream, size from ffprobe), read as rgb24 through a pipe.
//   - live inputs (IsLive), read through ffmpeg as YUV4MPEG2, paced by the input and wrapped
//     in a Live (the oldest frame is dropped when the pipeline is behind): "camera" (the first
//     V4L2 capture device), "camera:N" (/dev/videoN) and "v4l2:/dev/videoN" with options
//     ?size=WxH&fps=F&format=mjpeg|yuyv (the mode is negotiated against what the device
//     lists; a missing, busy or forbidden device is an error that says so; a camera lost
//     mid-run is reported through opts.OnLost and reopened); "screen", "screen:DISPLAY" with
//     ?region=WxH+X+Y&fps=F (X11 through x11grab); rtsp, srt, rtmp, udp, rtp and tcp URLs.
//     A live input that sends nothing within opts.OpenTimeout is an error.
//
// opts.Loop restarts a file input when it ends.
//
// Every source checks the size its header (or ffprobe, or the spec) gives against opts.Limits
// before allocating frames, and fails with a *LimitError when it is over.
//
// PTS is Index divided by the source's own frame rate (Y4M header, probed video), else by
// opts.FPS (default 30). ctx bounds the lifetime of any child process: ffmpeg is started with
// exec.CommandContext and killed on Close. Read's own ctx is checked before each frame only.
func OpenSource(ctx context.Context, spec string, opts SourceOptions) (Source, error) {
	if opts.Frames < 0 {
		return nil, fmt.Errorf("open source %q: negative frame count %d", spec, opts.Frames)
	}
	if opts.FPS < 0 {
		return nil, fmt.Errorf("open source %q: negative fps %v", spec, opts.FPS)
	}
	if IsLive(spec) {
		if opts.Loop {
			return nil, fmt.Errorf("open source %s: --loop is for files; a live input has no end to loop from", spec)
		}
		return openLive(ctx, spec, opts)
	}
	r, err := openReader(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	if opts.Loop {
		r = &loopReader{cur: r, open: func() (reader, error) { return openReader(ctx, spec, opts) }}
	}
	return newSource(r, opts), nil
}

func openReader(ctx context.Context, spec string, opts SourceOptions) (reader, error) {
	switch {
	case spec == "":
		return nil, fmt.Errorf("empty source spec; accepted forms: %s", SourceHelp())
	case spec == "testsrc" || strings.HasPrefix(spec, "testsrc:"):
		return openTestsrc(spec, opts)
	case strings.HasPrefix(spec, "solid:"):
		return openSolid(spec, opts)
	case isURL(spec):
		return openFFmpeg(ctx, spec, opts)
	}
	if pat, ok, err := parsePattern(spec); err != nil {
		return nil, fmt.Errorf("open source %s: %w", spec, err)
	} else if ok {
		return openSequence(pat, opts)
	}
	st, err := os.Stat(spec)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && filepath.Ext(spec) == "" && !strings.ContainsRune(spec, filepath.Separator) {
			return nil, fmt.Errorf("unknown source %q (no such file); accepted forms: %s", spec, SourceHelp())
		}
		return nil, fmt.Errorf("open source: %w", err) // *fs.PathError names the path
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open source %s: is a directory (for an image sequence use a pattern like %s)", spec, filepath.Join(spec, "%05d.png"))
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".png", ".jpg", ".jpeg":
		return openStill(spec, opts)
	case ".y4m":
		return openY4M(spec, opts.Limits)
	}
	return openFFmpeg(ctx, spec, opts)
}

// CreateSink creates the sink named by spec for frames of the given format (the size matters to
// stream sinks; every sink converts the element type and channels of what it is given).
//
//   - "null": discards frames.
//   - a .png/.jpg/.jpeg path: a still. It keeps a copy of the LAST frame written and encodes it
//     on Close (so a 10-frame run leaves the final state); Close fails if no frame was written.
//     PNG stores U8 values exactly: gray as a gray PNG, RGB as an opaque RGB PNG, RGBA with alpha.
//   - a pattern such as "dir/%05d.png": one image per frame, numbered from 0; the directory is
//     created.
//   - a .y4m path: YUV4MPEG2, C444 full-range BT.601 (XCOLORRANGE=FULL), F from opts.FPS.
//   - a .raw (or .rgb) path: packed rgb24 bytes, frame after frame, no header.
//   - any other extension (.mp4, .mkv, .mov, .webm, .gif...) or a URL: rgb24 piped into ffmpeg;
//     H.264 (libx264, yuv420p, CRF 18) for mp4/m4v/mov/mkv/ts/flv, VP8 (libvpx) for webm, a
//     generated palette for gif, ffmpeg's defaults otherwise; rtmp:// is sent as FLV and
//     srt/udp/tcp/rtp:// as MPEG-TS, a .m3u8 path as HLS (1 s segments, the last 6 kept), all
//     three tuned for low latency (CRF 23, zerolatency, no B-frames, a keyframe every 2 s).
//     opts.Codec, CRF, Bitrate and PixFmt override the defaults. For the yuv420p codecs an odd
//     width or height is padded to even by repeating the last column or row. With opts.Audio
//     (PCM through AudioSink) or opts.AudioFrom (the input's audio track) an output that can
//     carry audio (CarriesAudio) gets an AAC track (Opus in WebM).
//   - "v4l2:/dev/videoN" (or "/dev/videoN"): a v4l2loopback virtual camera, yuv420p. A missing
//     device is an error that says how to load the module.
//
// ctx bounds the lifetime of any child process.
func CreateSink(ctx context.Context, spec string, format frame.Format, opts SinkOptions) (Sink, error) {
	if err := format.Validate(); err != nil {
		return nil, fmt.Errorf("create sink %s: %w", spec, err)
	}
	if opts.FPS < 0 {
		return nil, fmt.Errorf("create sink %s: negative fps %v", spec, opts.FPS)
	}
	if opts.FPS == 0 {
		opts.FPS = defaultFPS
	}
	switch {
	case spec == "":
		return nil, fmt.Errorf("empty sink spec; accepted forms: %s", SinkHelp())
	case spec == "null":
		return &nullSink{}, nil
	case isURL(spec) || isVirtualCamera(spec):
		return createFFmpegSink(ctx, spec, format, opts)
	}
	if pat, ok, err := parsePattern(spec); err != nil {
		return nil, fmt.Errorf("create sink %s: %w", spec, err)
	} else if ok {
		return createSequenceSink(pat)
	}
	if st, err := os.Stat(spec); err == nil && st.IsDir() {
		return nil, fmt.Errorf("create sink %s: is a directory (for an image sequence use a pattern like %s)", spec, filepath.Join(spec, "%05d.png"))
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case "":
		return nil, fmt.Errorf("unknown sink %q (no file extension); accepted forms: %s", spec, SinkHelp())
	case ".png", ".jpg", ".jpeg":
		return createStillSink(spec)
	case ".y4m":
		return createY4MSink(spec, format, opts)
	case ".raw", ".rgb":
		return createRawSink(spec, format)
	}
	return createFFmpegSink(ctx, spec, format, opts)
}

// isURL reports whether spec looks like scheme://... (http, rtsp, rtmp, srt, file...).
func isURL(spec string) bool {
	i := strings.Index(spec, "://")
	if i <= 0 {
		return false
	}
	for _, c := range spec[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// parseSize parses "WxH" with W, H >= 1 (how large is for Limits to say).
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(s, "x")
	if ok {
		if _, err = fmt.Sscanf(ws+" "+hs, "%d %d", &w, &h); err == nil && w >= 1 && h >= 1 &&
			fmt.Sprintf("%dx%d", w, h) == s {
			return w, h, nil
		}
	}
	return 0, 0, fmt.Errorf("bad size %q, want WxH like 1920x1080", s)
}

// generatedSize returns the size of a generated source: from the spec if given, else from
// opts, else the default; spec names the source in errors. The size is checked against
// opts.Limits (a generated source holds one or two RGB rows per row of the frame at most).
func generatedSize(spec, sizeSpec string, opts SourceOptions) (w, h int, err error) {
	switch {
	case sizeSpec != "":
		if w, h, err = parseSize(sizeSpec); err != nil {
			return 0, 0, fmt.Errorf("open source %q: %w", spec, err)
		}
	case opts.Width == 0 && opts.Height == 0:
		w, h = defaultWidth, defaultHeight
	case opts.Width < 1 || opts.Height < 1:
		return 0, 0, fmt.Errorf("open source %q: bad size %dx%d in options, want both >= 1 (or both 0 for %dx%d)", spec, opts.Width, opts.Height, defaultWidth, defaultHeight)
	default:
		w, h = opts.Width, opts.Height
	}
	if err := opts.Limits.check(spec, w, h, 2*rgbBytes); err != nil {
		return 0, 0, err
	}
	return w, h, nil
}
