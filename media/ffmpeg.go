package media

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/scopenative/scope/frame"
)

// tailBuffer keeps the last bytes written to it (a child's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// String returns the kept tail, trimmed, starting at a line boundary when it was cut.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.b
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}

// withTail appends the stderr tail to an error message when there is one.
func withTail(err error, tail *tailBuffer) error {
	if s := tail.String(); s != "" {
		return fmt.Errorf("%w; ffmpeg said:\n%s", err, s)
	}
	return err
}

// ffmpegInput returns the argument that names spec to ffmpeg: URLs as they are, local paths
// behind "file:" so that names with ':' or a leading '-' are not taken for protocols or options.
func ffmpegInput(spec string) string {
	if isURL(spec) {
		return spec
	}
	return "file:" + spec
}

// probeInfo is what OpenSource needs to know about a video before reading it.
type probeInfo struct {
	w, h     int
	num, den int64
	rotated  bool // displayed rotated by +-90 degrees: ffmpeg's autorotation swaps w and h
}

// probe asks ffprobe (or, without it, ffmpeg -i) for the size and rate of the first video stream.
func probe(ctx context.Context, spec string) (probeInfo, error) {
	var pi probeInfo
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return probeWithFFmpeg(ctx, spec)
	}
	var stderr tailBuffer
	stderr.max = 2048
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate:stream_tags=rotate:stream_side_data=rotation",
		"-of", "default=noprint_wrappers=1", ffmpegInput(spec))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return pi, withTail(fmt.Errorf("ffprobe: %w", err), &stderr)
	}
	var avg, real string
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "width":
			pi.w, _ = strconv.Atoi(v)
		case "height":
			pi.h, _ = strconv.Atoi(v)
		case "avg_frame_rate":
			avg = v
		case "r_frame_rate":
			real = v
		case "rotation", "TAG:rotate":
			if deg, err := strconv.ParseFloat(v, 64); err == nil {
				d := int(deg) % 360
				if d < 0 {
					d += 360
				}
				if d == 90 || d == 270 {
					pi.rotated = true
				}
			}
		}
	}
	if pi.w < 1 || pi.h < 1 {
		return pi, withTail(errors.New("no video stream found"), &stderr)
	}
	for _, r := range []string{avg, real} {
		n, d, ok := strings.Cut(r, "/")
		ni, err1 := strconv.ParseInt(n, 10, 64)
		di, err2 := strconv.ParseInt(d, 10, 64)
		if ok && err1 == nil && err2 == nil && ni > 0 && di > 0 {
			g := gcd(ni, di)
			pi.num, pi.den = ni/g, di/g
			break
		}
	}
	return pi, nil
}

var (
	ffmpegStreamSize = regexp.MustCompile(`Stream #\d+:\d+.*: Video: .*?, (\d+)x(\d+)`)
	ffmpegStreamFPS  = regexp.MustCompile(`, ([0-9.]+) fps`)
)

// probeWithFFmpeg parses the stream line that `ffmpeg -i spec` prints.
func probeWithFFmpeg(ctx context.Context, spec string) (probeInfo, error) {
	var pi probeInfo
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-i", ffmpegInput(spec))
	out, _ := cmd.CombinedOutput() // exits 1: no output file
	for _, line := range strings.Split(string(out), "\n") {
		m := ffmpegStreamSize.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pi.w, _ = strconv.Atoi(m[1])
		pi.h, _ = strconv.Atoi(m[2])
		if f := ffmpegStreamFPS.FindStringSubmatch(line); f != nil {
			if fps, err := strconv.ParseFloat(f[1], 64); err == nil && fps > 0 {
				pi.num, pi.den = rational(fps)
			}
		}
		return pi, nil
	}
	tail := &tailBuffer{max: 2048}
	tail.Write(out)
	return pi, withTail(errors.New("ffmpeg found no video stream"), tail)
}

// ffmpegReader reads rgb24 frames from an ffmpeg child's stdout.
type ffmpegReader struct {
	spec     string
	cmd      *exec.Cmd
	out      io.ReadCloser
	br       *bufio.Reader
	stderr   *tailBuffer
	f        frame.Format
	num, den int64
	done     bool // the child has been waited for
}

func openFFmpeg(ctx context.Context, spec string, opts SourceOptions) (*ffmpegReader, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("cannot read %s: ffmpeg not found on PATH; install it (apt-get install ffmpeg) or use PNG/Y4M input", spec)
	}
	pi, err := probe(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", spec, err)
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error"}
	if pi.rotated {
		pi.w, pi.h = pi.h, pi.w
	}
	if err := opts.Limits.check(spec, pi.w, pi.h, rgbBytes); err != nil {
		return nil, err
	}
	if !pi.rotated {
		// Keep the size ffprobe reported even if ffmpeg would rotate by 180 or on a tag
		// ffprobe did not show.
		args = append(args, "-noautorotate")
	}
	args = append(args, "-i", ffmpegInput(spec), "-map", "0:v:0")
	if opts.Frames > 0 {
		args = append(args, "-frames:v", strconv.Itoa(opts.Frames))
	}
	args = append(args, "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	r := &ffmpegReader{
		spec:   spec,
		stderr: &tailBuffer{max: 4096},
		f:      frame.Format{Width: pi.w, Height: pi.h, Channels: 3, Elem: frame.U8},
		num:    pi.num,
		den:    pi.den,
	}
	r.cmd = exec.CommandContext(ctx, "ffmpeg", args...)
	r.cmd.Stderr = r.stderr
	r.out, err = r.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", spec, err)
	}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot read %s: start ffmpeg: %w", spec, err)
	}
	r.br = bufio.NewReaderSize(r.out, 1<<20)
	return r, nil
}

func (r *ffmpegReader) format() frame.Format   { return r.f }
func (r *ffmpegReader) rate() (num, den int64) { return r.num, r.den }

func (r *ffmpegReader) read(_ context.Context, dst *frame.Frame) error {
	if r.done {
		return io.EOF
	}
	var err error
	if n := r.f.RowBytes(); dst.Pitch == n {
		_, err = io.ReadFull(r.br, dst.Data[:n*r.f.Height])
	} else {
		for y := 0; y < r.f.Height && err == nil; y++ {
			_, err = io.ReadFull(r.br, dst.Row(y))
			if y > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		}
	}
	switch err {
	case nil:
		return nil
	case io.EOF:
		return r.finish(nil)
	case io.ErrUnexpectedEOF:
		return r.finish(errors.New("truncated frame"))
	}
	return fmt.Errorf("read %s: %w", r.spec, err)
}

// finish waits for the child after its output ended. It returns io.EOF when the child
// succeeded and cause is nil, else an error with the child's stderr tail.
func (r *ffmpegReader) finish(cause error) error {
	r.done = true
	werr := r.cmd.Wait()
	if werr == nil && cause == nil {
		return io.EOF
	}
	err := cause
	if werr != nil {
		err = fmt.Errorf("ffmpeg: %w", werr)
		if cause != nil {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
	}
	return withTail(fmt.Errorf("read %s: %w", r.spec, err), r.stderr)
}

func (r *ffmpegReader) close() error {
	if r.done {
		return nil
	}
	r.done = true
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait() // "signal: killed" is expected
	return nil
}

func (s *ffmpegSink) Write(f *frame.Frame) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return fmt.Errorf("write %s: sink is closed", s.spec)
	}
	if err := checkSize(f, s.w, s.h); err != nil {
		return fmt.Errorf("write %s: %w", s.spec, err)
	}
	b, err := s.conv.packedRGB(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.spec, err)
	}
	if _, err := s.in.Write(b); err != nil {
		// The child is gone or stopped reading: its exit status and stderr say why.
		s.in.Close()
		s.closeAudio()
		werr := s.cmd.Wait()
		s.closed = true
		if werr != nil {
			err = fmt.Errorf("ffmpeg: %w", werr)
		}
		s.err = withTail(fmt.Errorf("write %s: %w", s.spec, err), s.stderr)
		return s.err
	}
	return nil
}

// Close ends the input and waits for ffmpeg to finish the file.
func (s *ffmpegSink) Close() error {
	if s.closed {
		if s.err != nil {
			return s.err
		}
		return nil
	}
	s.closed = true
	cerr := s.in.Close()
	s.closeAudio()
	if werr := s.cmd.Wait(); werr != nil {
		s.err = withTail(fmt.Errorf("write %s: ffmpeg: %w", s.spec, werr), s.stderr)
		return s.err
	}
	if cerr != nil {
		return fmt.Errorf("write %s: %w", s.spec, cerr)
	}
	return nil
}
