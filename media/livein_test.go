package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
)

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startFFmpeg runs ffmpeg with args in the background for at most limit and kills it when the
// test ends.
func startFFmpeg(t testing.TB, limit time.Duration, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)...)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
}

// TestUDPStreamSource reads an MPEG-TS stream that an ffmpeg sender pushes to 127.0.0.1: no
// probing, the size comes from the stream, the colour survives H.264 within a tolerance of 6.
func TestUDPStreamSource(t *testing.T) {
	needFFmpeg(t)
	port := freeUDPPort(t)
	url := fmt.Sprintf("udp://127.0.0.1:%d", port)
	startFFmpeg(t, 20*time.Second, "-re", "-f", "lavfi", "-i", "color=c=0xC86432:s=96x64:r=25",
		"-c:v", "libx264", "-g", "5", "-tune", "zerolatency", "-pix_fmt", "yuv444p", "-qp", "0", "-f", "mpegts", url+"?pkt_size=1316")
	src := open(t, url, SourceOptions{Frames: 5, OpenTimeout: 10 * time.Second})
	if !IsLive(url) {
		t.Errorf("IsLive(%s) = false", url)
	}
	if f := src.Format(); f.Width != 96 || f.Height != 64 {
		t.Fatalf("format %v, want 96x64", f)
	}
	frames := readAll(t, src, 10)
	if len(frames) != 5 {
		t.Fatalf("%d frames, want 5 (Frames)", len(frames))
	}
	want := solidFrame(96, 64, 0xC8, 0x64, 0x32)
	if d := maxDiff(t, frames[4], want); d > 6 {
		t.Errorf("colour off by %d (got %v)", d, frames[4].Data[:3])
	}
}

// TestLiveOpenTimeout: a stream that never comes is an error after OpenTimeout, not a hang.
func TestLiveOpenTimeout(t *testing.T) {
	needFFmpeg(t)
	url := fmt.Sprintf("udp://127.0.0.1:%d", freeUDPPort(t))
	start := time.Now()
	_, err := OpenSource(context.Background(), url, SourceOptions{OpenTimeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no video within 500ms") || !strings.Contains(err.Error(), url) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestScreenCapture grabs a region of an Xvfb screen started with a white root window.
func TestScreenCapture(t *testing.T) {
	needFFmpeg(t)
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb not installed (scripts/setup.sh installs it)")
	}
	if out, _ := exec.Command("ffmpeg", "-hide_banner", "-devices").Output(); !strings.Contains(string(out), "x11grab") {
		t.Skip("this ffmpeg has no x11grab")
	}
	// -displayfd lets Xvfb pick a free display (other tests may run their own) and say which,
	// here into a file (a pipe end from os.Pipe is non-blocking and Xvfb's write can fail).
	numFile, err := os.Create(filepath.Join(t.TempDir(), "display"))
	if err != nil {
		t.Fatal(err)
	}
	defer numFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	x := exec.CommandContext(ctx, xvfb, "-displayfd", "3", "-screen", "0", "320x240x24", "-wr", "-noreset", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{numFile}
	x.Cancel = func() error { return x.Process.Signal(syscall.SIGTERM) } // lets Xvfb remove its lock file
	if err := x.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); x.Wait() })
	var line []byte
	for i := 0; len(line) == 0 || line[len(line)-1] != '\n'; i++ {
		if i == 200 {
			t.Fatalf("Xvfb gave no display number in 10s (%q)", line)
		}
		time.Sleep(50 * time.Millisecond)
		line, _ = os.ReadFile(numFile.Name())
	}
	n := len(line)
	num := strings.TrimSpace(string(line[:n]))
	display := ":" + num
	for i := 0; ; i++ { // wait until it accepts connections (its socket may be abstract or a file)
		c, err := net.Dial("unix", "@/tmp/.X11-unix/X"+num)
		if err != nil {
			c, err = net.Dial("unix", "/tmp/.X11-unix/X"+num)
		}
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("Xvfb %s accepts no connection: %v", display, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	src := open(t, "screen:"+display+"?region=64x48+10+20&fps=10", SourceOptions{Frames: 2})
	if f := src.Format(); f.Width != 64 || f.Height != 48 {
		t.Fatalf("format %v, want the 64x48 region", f)
	}
	frames := readAll(t, src, 5)
	if len(frames) != 2 {
		t.Fatalf("%d frames", len(frames))
	}
	if d := maxDiff(t, frames[1], solidFrame(64, 48, 255, 255, 255)); d > 3 {
		t.Errorf("the white root window reads off by %d", d)
	}
	// No DISPLAY at all is a clear error.
	_, err = OpenSource(context.Background(), "screen", SourceOptions{Env: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "no X display: set DISPLAY") {
		t.Errorf("no display: %v", err)
	}
}

// TestLiveSpecErrors: bad options and missing devices name the thing and the fix.
func TestLiveSpecErrors(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	for spec, want := range map[string]string{
		"v4l2:/dev/video-none-here":      "/dev/video-none-here does not exist",
		"v4l2:/dev/video0?size=big":      `bad size "big"`,
		"v4l2:/dev/video0?zoom=2":        `unknown option "zoom" (known: size, fps, format)`,
		"v4l2:" + dir + "/video0?fps=-1": `bad fps "-1"`,
		"camera":                         "no camera found",
		"camera:x":                       "want camera:N",
		"screen?region=10x10+a+b":        `bad region "10x10+a+b"`,
	} {
		_, err := OpenSource(context.Background(), spec, SourceOptions{DevDir: dir, Env: func(string) string { return ":0" }})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", spec, err, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "video2"), nil, 0o644)
	if _, err := OpenSource(context.Background(), "camera:2", SourceOptions{DevDir: dir}); err == nil || !strings.Contains(err.Error(), "not a V4L2 device") {
		t.Errorf("plain file: %v", err)
	}
	if _, err := OpenSource(context.Background(), "camera", SourceOptions{Loop: true}); err == nil || !strings.Contains(err.Error(), "--loop is for files") {
		t.Errorf("loop on live: %v", err)
	}
}

// TestRealCamera reads two frames from the first camera when the machine has one.
func TestRealCamera(t *testing.T) {
	needFFmpeg(t)
	if m, _ := filepath.Glob("/dev/video*"); len(m) == 0 {
		t.Skip("no /dev/video* on this machine (as in CI): no camera to read")
	}
	src, err := OpenSource(context.Background(), "camera", SourceOptions{Frames: 2})
	if err != nil {
		t.Skipf("no usable camera: %v", err)
	}
	defer src.Close()
	if n := len(readAll(t, src, 2)); n != 2 {
		t.Errorf("%d frames from the camera", n)
	}
}

// fakeReader yields n frames whose first byte is base+i, then fails with err (io.EOF at the end).
type fakeReader struct {
	f      frame.Format
	base   byte
	n, i   int
	err    error
	closed bool
}

func (r *fakeReader) format() frame.Format { return r.f }
func (r *fakeReader) rate() (int64, int64) { return 0, 0 }
func (r *fakeReader) close() error         { r.closed = true; return nil }
func (r *fakeReader) read(_ context.Context, dst *frame.Frame) error {
	if r.i >= r.n {
		return r.err
	}
	dst.Data[0] = r.base + byte(r.i)
	r.i++
	return nil
}

// TestRetryReaderReopensLostCamera: a camera that fails mid-run is reported, reopened at the
// run's size once it is back, and frames continue; the reader did not end the run.
func TestRetryReaderReopensLostCamera(t *testing.T) {
	f := frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8}
	first := &fakeReader{f: f, base: 0, n: 2, err: errors.New("No such device")}
	var mu sync.Mutex
	var lost []string
	var scaled []*frame.Format
	tries := 0
	r := &retryReader{name: "v4l2:/dev/video0", cur: first, wait: time.Millisecond,
		onLost: func(err error) { mu.Lock(); lost = append(lost, err.Error()); mu.Unlock() },
		open: func(_ context.Context, scale *frame.Format) (reader, error) {
			scaled = append(scaled, scale)
			if tries++; tries < 3 {
				return nil, errors.New("/dev/video0 does not exist")
			}
			return &fakeReader{f: f, base: 100, n: 2, err: io.EOF}, nil
		}}
	dst := frame.New(f)
	var got []byte
	for {
		if err := r.read(context.Background(), dst); err != nil {
			t.Fatalf("read after %v: %v", got, err)
		}
		got = append(got, dst.Data[0])
		if len(got) == 4 {
			break
		}
	}
	if string(got) != string([]byte{0, 1, 100, 101}) {
		t.Errorf("frames %v, want 0 1 then 100 101 after the reconnect", got)
	}
	if !first.closed {
		t.Error("the lost reader was not closed")
	}
	if len(lost) != 3 || !strings.Contains(lost[0], "lost v4l2:/dev/video0: No such device; trying again") ||
		!strings.Contains(lost[1], "still unavailable: /dev/video0 does not exist") {
		t.Errorf("reports %q", lost)
	}
	for _, s := range scaled {
		if s == nil || *s != f {
			t.Errorf("reopened with scale %v, want the run's %v", s, f)
		}
	}
	// A cancelled run stops retrying.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &retryReader{name: "x", cur: &fakeReader{f: f, err: errors.New("gone")}, wait: time.Hour,
		open: func(context.Context, *frame.Format) (reader, error) {
			t.Error("reopened after cancel")
			return nil, nil
		}}
	if err := r2.read(ctx, dst); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestLoopY4M plays a 3-frame Y4M file three times over with Loop.
func TestLoopY4M(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "three.y4m")
	var frames []*frame.Frame
	for i := 0; i < 3; i++ {
		frames = append(frames, solidFrame(8, 8, byte(40*i+20), 0, 0))
	}
	writeAll(t, path, 30, frames...)
	got := readAll(t, open(t, path, SourceOptions{Loop: true, Frames: 8}), 20)
	if len(got) != 8 {
		t.Fatalf("%d frames, want 8", len(got))
	}
	for i, f := range got {
		if want := byte(40*(i%3) + 20); absDiff(f.Data[0], want) > 2 || f.Index != uint64(i) {
			t.Errorf("frame %d: red %d index %d, want %d, %d", i, f.Data[0], f.Index, want, i)
		}
	}
	// Without Loop the file ends after 3.
	if n := len(readAll(t, open(t, path, SourceOptions{}), 20)); n != 3 {
		t.Errorf("%d frames without loop", n)
	}
}

func absDiff(a, b byte) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestBusyCameraExplained: ffmpeg's EBUSY on a camera becomes a message naming the device
// and how to find the program that holds it.
func TestBusyCameraExplained(t *testing.T) {
	in := liveInput{name: "camera", dev: "/dev/video0"}
	err := in.explain(errors.New("cannot read camera: y4m header: EOF"), "[video4linux2,v4l2 @ 0x1] ioctl(VIDIOC_STREAMON): Device or resource busy")
	if !strings.Contains(err.Error(), "camera /dev/video0 is busy: another program is using it (close it, or find it with 'fuser /dev/video0')") {
		t.Errorf("err %v", err)
	}
	if err := in.explain(errors.New("x"), "Invalid argument"); err.Error() != "x" {
		t.Errorf("other errors are kept as they are: %v", err)
	}
}
