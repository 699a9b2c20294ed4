package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/v4l2"
)

// Live inputs (cameras, the screen, network streams) are read through an ffmpeg child that
// writes YUV4MPEG2 4:4:4 to a pipe: the stream header gives the size and rate once ffmpeg has
// seen the first frame, so nothing is probed beforehand (a stream listener or a camera cannot
// be opened twice) and the size goes through the same Limits check as a Y4M file.

// liveSchemes are the URL schemes read as live streams (no end, no seeking, low-latency demuxing).
var liveSchemes = map[string]bool{"rtsp": true, "rtsps": true, "srt": true, "rtmp": true, "rtmps": true,
	"udp": true, "rtp": true, "tcp": true}

// defaultOpenTimeout is how long a live input may take to deliver its first frame.
const defaultOpenTimeout = 10 * time.Second

// IsLive reports whether spec names a live input: a camera ("camera", "v4l2:..."), the screen
// ("screen..."), or a network stream (rtsp, srt, rtmp, udp, rtp, tcp URLs). Live inputs run at
// their own pace; OpenSource wraps them in a Live that drops the oldest frame when the pipeline
// is behind, so nothing is buffered without bound.
func IsLive(spec string) bool {
	return spec == "camera" || strings.HasPrefix(spec, "camera:") || strings.HasPrefix(spec, "v4l2:") ||
		spec == "screen" || strings.HasPrefix(spec, "screen:") || strings.HasPrefix(spec, "screen?") || liveSchemes[urlScheme(spec)]
}

// urlScheme returns the lower-case scheme of a URL spec, or "".
func urlScheme(spec string) string {
	if !isURL(spec) {
		return ""
	}
	return strings.ToLower(spec[:strings.Index(spec, "://")])
}

// liveInput is how ffmpeg opens one live input.
type liveInput struct {
	name  string   // the spec, for messages
	args  []string // ffmpeg input options and -i
	retry bool     // a device: reopen it when it fails (unplugged) instead of ending the run
	dev   string   // the device node, for a camera
}

// explain adds what ffmpeg's stderr tells about a device that failed to start: a busy
// camera says so and how to find who holds it.
func (in liveInput) explain(err error, stderr string) error {
	if in.dev != "" && strings.Contains(stderr, "Device or resource busy") {
		return fmt.Errorf("%w\ncamera %s is busy: another program is using it (close it, or find it with 'fuser %s')", err, in.dev, in.dev)
	}
	return err
}

// splitQuery cuts "base?k=v&k=v" into base and values; keys must be in allowed.
func splitQuery(spec string, allowed ...string) (string, url.Values, error) {
	base, q, ok := strings.Cut(spec, "?")
	if !ok {
		return base, url.Values{}, nil
	}
	// '+' is a plus here (region=WxH+X+Y), not a form-encoded space.
	vals, err := url.ParseQuery(strings.ReplaceAll(q, "+", "%2B"))
	if err != nil {
		return "", nil, fmt.Errorf("source %s: options after '?': %w", spec, err)
	}
	for k := range vals {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			return "", nil, fmt.Errorf("source %s: unknown option %q (known: %s)", spec, k, strings.Join(allowed, ", "))
		}
	}
	return base, vals, nil
}

// parseFPSOption checks an fps=N option.
func parseFPSOption(spec, s string) (string, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1000 {
		return "", fmt.Errorf("source %s: bad fps %q, want a number like 30", spec, s)
	}
	return s, nil
}

// cameraInput parses "camera", "camera:N" and "v4l2:/dev/videoN[?size=WxH&fps=F&format=F]"
// into the device and the request; devDir is where bare "camera" looks ("/dev").
func cameraInput(spec, devDir string) (string, v4l2.Request, error) {
	var req v4l2.Request
	base, q, err := splitQuery(spec, "size", "fps", "format")
	if err != nil {
		return "", req, err
	}
	var dev string
	switch {
	case base == "camera":
		if dev, err = v4l2.FirstCapture(devDir); err != nil {
			return "", req, fmt.Errorf("open source %s: %w", spec, err)
		}
	case strings.HasPrefix(base, "camera:"):
		n, err := strconv.Atoi(base[len("camera:"):])
		if err != nil || n < 0 {
			return "", req, fmt.Errorf("open source %s: want camera:N with N the number of /dev/videoN", spec)
		}
		dev = fmt.Sprintf("%s/video%d", devDir, n)
	default:
		dev = strings.TrimPrefix(base, "v4l2:")
		if dev == "" {
			return "", req, fmt.Errorf("open source %s: name the device, as in v4l2:/dev/video0", spec)
		}
	}
	if s := q.Get("size"); s != "" {
		w, h, err := parseSize(s)
		if err != nil {
			return "", req, fmt.Errorf("open source %s: %w", spec, err)
		}
		req.Size = v4l2.Size{Width: w, Height: h}
	}
	if s := q.Get("fps"); s != "" {
		if _, err := parseFPSOption(spec, s); err != nil {
			return "", req, err
		}
		req.FPS, _ = strconv.ParseFloat(s, 64)
	}
	req.FourCC = strings.ToUpper(q.Get("format"))
	return dev, req, nil
}

// cameraArgs probes the camera, negotiates its mode and returns ffmpeg's input arguments. A
// missing, busy or forbidden device, or a mode it does not offer, is an error that says so.
func cameraArgs(spec, dev string, req v4l2.Request) (liveInput, error) {
	d, err := v4l2.Open(dev)
	if err != nil {
		return liveInput{}, fmt.Errorf("open source %s: %w", spec, err)
	}
	if !d.Capture() {
		what := "not a camera"
		if d.Output() {
			what = "an output device (a virtual camera to write to, not read from)"
		}
		return liveInput{}, fmt.Errorf("open source %s: %s (%s) is %s; list the cameras with 'scope devices'", spec, dev, d.Card, what)
	}
	c, err := v4l2.Negotiate(d, req)
	if err != nil {
		return liveInput{}, fmt.Errorf("open source %s: %w", spec, err)
	}
	args := []string{"-f", "v4l2", "-video_size", c.Size.String()}
	if c.FPS > 0 {
		args = append(args, "-framerate", strconv.FormatFloat(c.FPS, 'f', -1, 64))
	}
	if f := v4l2.FFmpegFormat(c.FourCC); f != "" {
		args = append(args, "-input_format", f)
	}
	return liveInput{name: spec, args: append(args, "-i", dev), retry: true, dev: dev}, nil
}

// screenInput parses "screen", "screen:DISPLAY" and the options region=WxH+X+Y, fps=F.
func screenInput(spec string, env func(string) string) (liveInput, error) {
	base, q, err := splitQuery(spec, "region", "fps")
	if err != nil {
		return liveInput{}, err
	}
	display := strings.TrimPrefix(strings.TrimPrefix(base, "screen"), ":")
	if base != "screen" && !strings.HasPrefix(base, "screen:") {
		return liveInput{}, fmt.Errorf("open source %s: want screen, screen:DISPLAY (screen::0) or screen?region=WxH+X+Y", spec)
	}
	if display == "" {
		display = env("DISPLAY")
	}
	if display == "" {
		return liveInput{}, fmt.Errorf("open source %s: no X display: set DISPLAY or name it, as in screen::0", spec)
	}
	fps := "30"
	if s := q.Get("fps"); s != "" {
		if fps, err = parseFPSOption(spec, s); err != nil {
			return liveInput{}, err
		}
	}
	args := []string{"-f", "x11grab", "-framerate", fps}
	if r := q.Get("region"); r != "" {
		size, off, _ := strings.Cut(r, "+")
		xs, ys, ok := strings.Cut(off, "+")
		x, err1 := strconv.Atoi(xs)
		y, err2 := strconv.Atoi(ys)
		if _, _, err := parseSize(size); err != nil || (off != "" && (!ok || err1 != nil || err2 != nil || x < 0 || y < 0)) {
			return liveInput{}, fmt.Errorf("open source %s: bad region %q, want WxH or WxH+X+Y like 1280x720+0+0", spec, r)
		}
		args = append(args, "-video_size", size)
		display = fmt.Sprintf("%s+%d,%d", display, x, y)
	}
	return liveInput{name: spec, args: append(args, "-i", display)}, nil
}

// streamInput is a network stream URL with low-latency demuxing.
func streamInput(spec string) liveInput {
	args := []string{"-fflags", "nobuffer", "-flags", "low_delay", "-probesize", "500000", "-analyzeduration", "1000000"}
	if s := urlScheme(spec); s == "rtsp" || s == "rtsps" {
		args = append(args, "-rtsp_transport", "tcp")
	}
	return liveInput{name: spec, args: append(args, "-i", spec)}
}

// openLive opens a live input and wraps it so that it is paced by the input and dropped, not
// queued, when the pipeline is behind. Devices are reopened when they fail.
func openLive(ctx context.Context, spec string, opts SourceOptions) (Source, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("cannot read %s: ffmpeg not found on PATH; install it (apt-get install ffmpeg)", spec)
	}
	env := opts.Env
	if env == nil {
		env = os.Getenv
	}
	var in liveInput
	var err error
	switch {
	case spec == "screen" || strings.HasPrefix(spec, "screen:") || strings.HasPrefix(spec, "screen?"):
		in, err = screenInput(spec, env)
	case isURL(spec):
		in = streamInput(spec)
	default:
		dir := opts.DevDir
		if dir == "" {
			dir = "/dev"
		}
		var dev string
		var req v4l2.Request
		if dev, req, err = cameraInput(spec, dir); err == nil {
			in, err = cameraArgs(spec, dev, req)
		}
	}
	if err != nil {
		return nil, err
	}
	timeout := opts.OpenTimeout
	if timeout == 0 {
		timeout = defaultOpenTimeout
	}
	open := func(ctx context.Context, scale *frame.Format) (reader, error) {
		return openY4MPipe(ctx, in, scale, timeout, opts)
	}
	r, err := open(ctx, nil)
	if err != nil {
		return nil, err
	}
	if in.retry {
		r = &retryReader{cur: r, open: open, onLost: opts.OnLost, wait: opts.RetryWait, name: spec}
	}
	return NewLive(newSource(r, opts), 0, 2, opts.OnDrop), nil
}

// y4mPipeReader is a y4mReader over an ffmpeg child's stdout.
type y4mPipeReader struct {
	*y4mReader
	cmd    *exec.Cmd
	stderr *tailBuffer
	name   string
	done   bool
}

// openY4MPipe starts ffmpeg on in and reads the stream header, waiting at most timeout for the
// first frame. scale, when set, makes ffmpeg scale to that size (a reopened device keeps the
// size the run started with).
func openY4MPipe(ctx context.Context, in liveInput, scale *frame.Format, timeout time.Duration, opts SourceOptions) (*y4mPipeReader, error) {
	args := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error"}, in.args...)
	args = append(args, "-map", "0:v:0", "-an")
	if scale != nil {
		args = append(args, "-vf", fmt.Sprintf("scale=%d:%d", scale.Width, scale.Height))
	}
	if opts.Frames > 0 {
		args = append(args, "-frames:v", strconv.Itoa(opts.Frames))
	}
	args = append(args, "-f", "yuv4mpegpipe", "-pix_fmt", "yuv444p", "-")
	p := &y4mPipeReader{stderr: &tailBuffer{max: 4096}, name: in.name}
	p.cmd = exec.CommandContext(ctx, "ffmpeg", args...)
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", in.name, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot read %s: start ffmpeg: %w", in.name, err)
	}
	type result struct {
		r   *y4mReader
		err error
	}
	got := make(chan result, 1)
	go func() {
		r, err := newY4MReader(out, in.name, opts.Limits)
		got <- result{r, err}
	}()
	select {
	case res := <-got:
		if res.err != nil {
			p.kill()
			var le *LimitError
			if errors.As(res.err, &le) {
				return nil, res.err
			}
			return nil, in.explain(withTail(fmt.Errorf("cannot read %s: %w", in.name, res.err), p.stderr), p.stderr.String())
		}
		p.y4mReader = res.r
		return p, nil
	case <-time.After(timeout):
		p.kill()
		<-got
		return nil, withTail(fmt.Errorf("cannot read %s: no video within %v (is the sender or device running, and is this the right address?)", in.name, timeout), p.stderr)
	case <-ctx.Done():
		p.kill()
		<-got
		return nil, fmt.Errorf("cannot read %s: %w", in.name, ctx.Err())
	}
}

func (p *y4mPipeReader) kill() {
	if p.done {
		return
	}
	p.done = true
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func (p *y4mPipeReader) read(ctx context.Context, dst *frame.Frame) error {
	err := p.y4mReader.read(ctx, dst)
	if err == nil {
		return nil
	}
	if p.done {
		return err
	}
	p.done = true
	werr := p.cmd.Wait()
	if err == io.EOF && werr == nil {
		return io.EOF
	}
	if werr != nil {
		err = fmt.Errorf("%w (ffmpeg: %w)", err, werr)
	}
	return withTail(err, p.stderr)
}

func (p *y4mPipeReader) close() error {
	p.kill()
	return nil
}

// retryReader reopens a device that failed (a camera unplugged mid-run): it reports the loss
// through onLost and tries again every wait until the device is back or ctx ends. The reopened
// device is scaled to the size the run started with.
type retryReader struct {
	name   string
	cur    reader
	open   func(ctx context.Context, scale *frame.Format) (reader, error)
	onLost func(error)
	wait   time.Duration
}

func (r *retryReader) format() frame.Format   { return r.cur.format() }
func (r *retryReader) rate() (num, den int64) { return r.cur.rate() }
func (r *retryReader) close() error           { return r.cur.close() }

func (r *retryReader) read(ctx context.Context, dst *frame.Frame) error {
	for {
		err := r.cur.read(ctx, dst)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f := r.cur.format()
		r.cur.close()
		if r.onLost != nil {
			r.onLost(fmt.Errorf("lost %s: %w; trying again", r.name, err))
		}
		wait := r.wait
		if wait == 0 {
			wait = time.Second
		}
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			next, err := r.open(ctx, &f)
			if err == nil {
				r.cur = next
				break
			}
			if r.onLost != nil {
				r.onLost(fmt.Errorf("%s still unavailable: %w", r.name, err))
			}
		}
	}
}
