package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/v4l2"
)

// AudioRate and AudioChannels are the PCM format AudioSink.WriteAudio takes: 48 kHz stereo,
// interleaved float32 (what package audio converts every pipeline's audio to).
const (
	AudioRate     = 48000
	AudioChannels = 2
)

// AudioSink is a Sink that muxes audio beside the video (file and stream outputs through
// ffmpeg created with SinkOptions.Audio).
type AudioSink interface {
	Sink
	// WriteAudio queues interleaved 48 kHz stereo samples; the slice is not kept.
	WriteAudio(pcm []float32) error
}

// CarriesAudio reports whether the sink spec can hold an audio track: containers and streams
// written by ffmpeg can; null, images, Y4M, raw, GIF and virtual cameras cannot.
func CarriesAudio(spec string) bool {
	if spec == "null" || spec == "" || isVirtualCamera(spec) {
		return false
	}
	if isURL(spec) {
		return true
	}
	if _, ok, _ := parsePattern(spec); ok {
		return false
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case "", ".png", ".jpg", ".jpeg", ".y4m", ".raw", ".rgb", ".gif":
		return false
	}
	return true
}

// isVirtualCamera reports whether a sink spec names a V4L2 output device.
func isVirtualCamera(spec string) bool {
	return strings.HasPrefix(spec, "v4l2:") || strings.HasPrefix(spec, "/dev/video")
}

// HasAudio reports whether the first audio stream of a file or URL exists, as ffprobe sees it
// (false when ffprobe is missing or fails).
func HasAudio(ctx context.Context, spec string) bool {
	if IsLive(spec) || !isURL(spec) && func() bool { _, err := os.Stat(spec); return err != nil }() {
		return false
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_entries", "stream=codec_type", "-of", "csv=p=0", ffmpegInput(spec)).Output()
	return err == nil && strings.TrimSpace(string(out)) == "audio"
}

// codecs maps the --codec names to ffmpeg encoders, in order of preference.
var codecs = map[string][]string{
	"h264": {"libx264", "libopenh264", "h264_v4l2m2m"},
	"h265": {"libx265"}, "hevc": {"libx265"},
	"vp8": {"libvpx"}, "vp9": {"libvpx-vp9"},
	"av1":    {"libsvtav1", "libaom-av1"},
	"ffv1":   {"ffv1"},
	"prores": {"prores_ks"},
}

// CodecNames lists the --codec values (any other ffmpeg encoder name is accepted too).
func CodecNames() string { return "h264, h265, vp8, vp9, av1, ffv1 (lossless), prores" }

// encoder resolves a --codec value to an ffmpeg encoder that this ffmpeg has.
func encoder(name string, has map[string]bool) (string, error) {
	if c, ok := codecs[strings.ToLower(name)]; ok {
		for _, e := range c {
			if has[e] || len(has) == 0 {
				return e, nil
			}
		}
		return "", fmt.Errorf("codec %s: this ffmpeg has none of its encoders (%s); install a full ffmpeg build (apt-get install ffmpeg)", name, strings.Join(c, ", "))
	}
	if has[name] || len(has) == 0 {
		return name, nil
	}
	return "", fmt.Errorf("unknown codec %q: use one of %s, or an encoder listed by 'ffmpeg -encoders'", name, CodecNames())
}

// ffmpegSink pipes rgb24 frames into an ffmpeg child that encodes them, and, with audio, 48 kHz
// stereo float PCM through a second pipe.
type ffmpegSink struct {
	spec   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *tailBuffer
	w, h   int
	conv   packer
	err    error // sticky: set once the child failed
	closed bool

	audio     chan []byte // PCM chunks for the writer goroutine; nil without audio
	audioDone chan error
	free      chan []byte
}

// audioQueue is how many chunks (about one video frame of audio each) may wait for ffmpeg.
const audioQueue = 64

func createFFmpegSink(ctx context.Context, spec string, format frame.Format, opts SinkOptions) (*ffmpegSink, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("cannot write %s: ffmpeg not found on PATH; install it (apt-get install ffmpeg) or use PNG/Y4M output", spec)
	}
	target := ffmpegInput(spec)
	if isVirtualCamera(spec) {
		dev, err := checkVirtualCamera(spec)
		if err != nil {
			return nil, err
		}
		target = dev
	} else if !isURL(spec) {
		if err := checkParentDir(spec); err != nil {
			return nil, fmt.Errorf("create sink %s: %w", spec, err)
		}
	}
	num, den := rational(opts.FPS)
	args := []string{"-hide_banner", "-nostats", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", format.Width, format.Height),
		"-r", frameRate(num, den)}
	// ffmpeg opens its inputs one after the other and probes each: a raw pipe needs no
	// probing, and probing one pipe while the other is full would deadlock.
	rawProbe := []string{"-probesize", "32", "-analyzeduration", "0"}
	args = append(append(args, rawProbe...), "-i", "pipe:0")
	withAudio := CarriesAudio(spec) && (opts.Audio || opts.AudioFrom != "")
	var audioR, audioW *os.File
	switch {
	case withAudio && opts.Audio:
		var err error
		if audioR, audioW, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", spec, err)
		}
		args = append(append(args, rawProbe...), "-thread_queue_size", "1024", "-f", "f32le", "-ar", strconv.Itoa(AudioRate),
			"-ac", strconv.Itoa(AudioChannels), "-i", "pipe:3")
	case withAudio:
		if opts.AudioLoop {
			args = append(args, "-stream_loop", "-1")
		}
		args = append(args, "-thread_queue_size", "1024", "-i", ffmpegInput(opts.AudioFrom))
	}
	enc, err := encodeArgs(ctx, spec, format.Width, format.Height, opts)
	if err != nil {
		if audioR != nil {
			audioR.Close()
			audioW.Close()
		}
		return nil, fmt.Errorf("cannot write %s: %w", spec, err)
	}
	args = append(args, "-map", "0:v:0")
	if withAudio {
		args = append(args, "-map", "1:a:0?", "-c:a", audioCodec(spec), "-b:a", "160k", "-ar", strconv.Itoa(AudioRate), "-shortest")
	}
	args = append(append(args, enc...), target)
	s := &ffmpegSink{spec: spec, stderr: &tailBuffer{max: 4096}, w: format.Width, h: format.Height}
	s.cmd = exec.CommandContext(ctx, "ffmpeg", args...)
	s.cmd.Stderr = s.stderr
	if audioR != nil {
		s.cmd.ExtraFiles = []*os.File{audioR}
	}
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", spec, err)
	}
	if err := s.cmd.Start(); err != nil {
		if audioR != nil {
			audioR.Close()
			audioW.Close()
		}
		return nil, fmt.Errorf("cannot write %s: start ffmpeg: %w", spec, err)
	}
	if audioR != nil {
		audioR.Close() // the child holds it
		s.audio, s.audioDone, s.free = make(chan []byte, audioQueue), make(chan error, 1), make(chan []byte, audioQueue+1)
		go func() {
			var werr error
			for b := range s.audio {
				if werr == nil {
					_, werr = audioW.Write(b)
				}
				select {
				case s.free <- b[:0]:
				default:
				}
			}
			audioW.Close()
			s.audioDone <- werr
		}()
	}
	return s, nil
}

// WriteAudio queues 48 kHz stereo samples for the audio track. It blocks when ffmpeg is
// audioQueue chunks behind (the video pipe does the same), so nothing grows without bound.
func (s *ffmpegSink) WriteAudio(pcm []float32) error {
	if s.audio == nil {
		return fmt.Errorf("write %s: this sink was created without audio", s.spec)
	}
	if s.err != nil || s.closed {
		return fmt.Errorf("write audio to %s: sink is closed", s.spec)
	}
	var b []byte
	select {
	case b = <-s.free:
	default:
	}
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	s.audio <- b
	return nil
}

// closeAudio ends the audio pipe (ffmpeg then sees the end of the audio input).
func (s *ffmpegSink) closeAudio() {
	if s.audio == nil {
		return
	}
	close(s.audio)
	<-s.audioDone
	s.audio = nil
}

// audioCodec picks the audio encoder for a container: Opus for WebM, AAC elsewhere.
func audioCodec(spec string) string {
	if strings.ToLower(filepath.Ext(spec)) == ".webm" {
		return "libopus"
	}
	return "aac"
}

// checkVirtualCamera checks that a "v4l2:/dev/videoN" (or "/dev/videoN") sink is a V4L2 output
// device and returns its path; a missing one gets the command that makes it.
func checkVirtualCamera(spec string) (string, error) {
	dev := strings.TrimPrefix(spec, "v4l2:")
	n := strings.TrimPrefix(dev, "/dev/video")
	if _, err := strconv.Atoi(n); err != nil {
		n = "10"
	}
	if _, err := os.Stat(dev); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("create sink %s: no virtual camera at %s; load v4l2loopback with 'sudo modprobe v4l2loopback video_nr=%s card_label=Scope exclusive_caps=1' (package v4l2loopback-dkms), which makes %s", spec, dev, n, dev)
	}
	d, err := v4l2.Open(dev)
	if err != nil {
		return "", fmt.Errorf("create sink %s: %w", spec, err)
	}
	if !d.Output() {
		return "", fmt.Errorf("create sink %s: %s (%s) is a camera, not a virtual camera; write to a v4l2loopback device (see 'scope devices')", spec, dev, d.Card)
	}
	return dev, nil
}

// encodeArgs picks the output arguments from the output's extension or URL scheme and opts
// (codec, quality, pixel format). yuv420p outputs of odd size are padded to even.
func encodeArgs(ctx context.Context, spec string, w, h int, opts SinkOptions) ([]string, error) {
	if opts.CRF != 0 && opts.Bitrate != "" {
		return nil, errors.New("give --crf or --bitrate, not both")
	}
	if opts.CRF < 0 || opts.CRF > 63 {
		return nil, fmt.Errorf("crf %d: want 0 (lossless) to 51 for h264/h265, to 63 for vp9/av1", opts.CRF)
	}
	has := availableEncoders(ctx)
	if isVirtualCamera(spec) {
		pix := opts.PixFmt
		if pix == "" {
			pix = "yuv420p" // what browsers and video-call apps read
		}
		return []string{"-pix_fmt", pix, "-f", "v4l2"}, nil
	}
	scheme := urlScheme(spec)
	ext := strings.ToLower(filepath.Ext(spec))
	stream := scheme != "" && scheme != "file" && scheme != "http" && scheme != "https" || ext == ".m3u8"
	var muxer []string
	switch {
	case scheme == "rtmp" || scheme == "rtmps":
		muxer = []string{"-f", "flv"}
	case scheme == "srt" || scheme == "udp" || scheme == "tcp" || scheme == "rtp":
		muxer = []string{"-f", "mpegts", "-muxdelay", "0", "-flush_packets", "1"}
	case ext == ".m3u8":
		muxer = []string{"-f", "hls", "-hls_time", "1", "-hls_list_size", "6", "-hls_flags", "delete_segments+independent_segments"}
	case scheme != "" && opts.Codec == "":
		return nil, nil // other URLs: ffmpeg's defaults for the protocol
	}
	codec := opts.Codec
	if codec == "" {
		switch ext {
		case ".gif":
			return []string{"-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse"}, nil
		case ".webm":
			codec = "vp8"
			if !has["libvpx"] && has["libvpx-vp9"] {
				codec = "vp9"
			}
		case ".mp4", ".m4v", ".mov", ".mkv", ".ts", ".flv", ".m3u8":
			codec = "h264"
		default:
			if !stream {
				return nil, nil // ffmpeg's defaults for the container
			}
			codec = "h264"
		}
	}
	e, err := encoder(codec, has)
	if err != nil {
		if codec != opts.Codec && strings.HasPrefix(codec, "h264") {
			e = "" // no H.264 encoder: ffmpeg's default codec for the container, good quality
		} else {
			return nil, err
		}
	}
	pix := opts.PixFmt
	if pix == "" {
		pix = "yuv420p"
		if e == "ffv1" {
			pix = "yuv444p"
		} else if e == "prores_ks" {
			pix = "yuv422p10le"
		}
	}
	var a []string
	if (w%2 != 0 || h%2 != 0) && strings.HasPrefix(pix, "yuv42") {
		// Pad to even and smear the edge into the new column/row, so the shared chroma at the
		// edge is not mixed with black. fillborders needs a planar format (gbrp) to work in RGB.
		a = []string{"-vf", fmt.Sprintf("format=gbrp,pad=%d:%d,fillborders=right=%d:bottom=%d:mode=smear", w+w%2, h+h%2, w%2, h%2)}
	}
	fps := opts.FPS
	if fps == 0 {
		fps = defaultFPS
	}
	gop := strconv.Itoa(max(1, int(math.Round(2*fps)))) // a keyframe every 2 s: quick joins, small streams
	crf := opts.CRF
	switch e {
	case "":
		a = append(a, "-q:v", "2")
	case "libx264", "libx265":
		a = append(a, "-c:v", e, "-preset", "veryfast")
		if stream {
			a = append(a, "-tune", "zerolatency", "-g", gop, "-bf", "0")
		}
		if opts.Bitrate == "" {
			if crf == 0 && !opts.CRFSet {
				crf = 18
				if stream {
					crf = 23
				}
			}
			a = append(a, "-crf", strconv.Itoa(crf))
		}
	case "libvpx", "libvpx-vp9":
		a = append(a, "-c:v", e, "-deadline", "good", "-cpu-used", "4")
		if stream {
			a = append(a, "-deadline", "realtime", "-lag-in-frames", "0", "-g", gop)
		}
		if opts.Bitrate == "" {
			if crf == 0 && !opts.CRFSet {
				crf = 10
				if e == "libvpx-vp9" {
					crf = 30
				}
			}
			a = append(a, "-crf", strconv.Itoa(crf))
			if e == "libvpx" {
				a = append(a, "-b:v", "8M") // libvpx's crf is a cap under a bitrate
			} else {
				a = append(a, "-b:v", "0")
			}
		}
		if e == "libvpx-vp9" {
			a = append(a, "-row-mt", "1")
		}
	case "libsvtav1", "libaom-av1":
		a = append(a, "-c:v", e)
		if opts.Bitrate == "" {
			if crf == 0 && !opts.CRFSet {
				crf = 32
			}
			a = append(a, "-crf", strconv.Itoa(crf))
		}
		if stream {
			a = append(a, "-g", gop)
		}
	default:
		a = append(a, "-c:v", e)
		if opts.CRFSet {
			return nil, fmt.Errorf("--crf does not apply to %s; use --bitrate (or nothing for its default)", e)
		}
	}
	if opts.Bitrate != "" {
		if !validBitrate(opts.Bitrate) {
			return nil, fmt.Errorf("bitrate %q: want bits per second like 4M, 2500k or 800000", opts.Bitrate)
		}
		a = append(a, "-b:v", opts.Bitrate, "-maxrate", opts.Bitrate, "-bufsize", opts.Bitrate)
	}
	if e != "" || opts.PixFmt != "" {
		a = append(a, "-pix_fmt", pix)
	}
	if strings.HasPrefix(pix, "yuv") {
		// BT.601 limited range is what ffmpeg's rgb24 -> yuv conversion produces; say so.
		a = append(a, "-colorspace", "smpte170m", "-color_range", "tv")
	}
	return append(a, muxer...), nil
}

// validBitrate accepts N, Nk, NM (N a positive number).
func validBitrate(s string) bool {
	n := strings.TrimRight(s, "kKmM")
	if len(s)-len(n) > 1 {
		return false
	}
	v, err := strconv.ParseFloat(n, 64)
	return err == nil && v > 0
}

// availableEncoders lists the video encoders of the ffmpeg on PATH (empty if it cannot tell).
func availableEncoders(ctx context.Context) map[string]bool {
	out, _ := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-encoders").Output()
	has := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && len(f[0]) == 6 && f[0][0] == 'V' {
			has[f[1]] = true
		}
	}
	return has
}
