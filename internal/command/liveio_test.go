package command_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/internal/plugintest"
)

// examplePlugins builds the named C examples into a fresh folder (quicker than all of them).
func examplePlugins(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		plugintest.Example(t, dir, n)
	}
	return dir
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH (scripts/setup.sh installs ffmpeg): %v", tool, err)
		}
	}
}

// ffmpegBG starts ffmpeg in the background, bounded by limit; wait returns its error.
func ffmpegBG(t *testing.T, limit time.Duration, args ...string) (wait func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-done })
	var res error
	waited := false
	return func() error {
		if !waited {
			waited = true
			if res = <-done; res != nil {
				res = fmt.Errorf("%w: %s", res, stderr.String())
			}
			done <- res
		}
		return res
	}
}

func ffmpegRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

func udpPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func probeDuration(t *testing.T, path, stream string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("%s has no %s stream duration (%q)", path, stream, out)
	}
	return d
}

// monoAudio decodes the first audio track of path to mono 48 kHz floats.
func monoAudio(t *testing.T, path string) []float32 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-map", "0:a:0", "-f", "f32le", "-ac", "1", "-ar", "48000", "-").Output()
	if err != nil {
		t.Fatalf("decode audio of %s: %v", path, err)
	}
	s := make([]float32, len(out)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return s
}

// TestStreamInvertLoopback: an ffmpeg sender streams a solid colour over UDP on 127.0.0.1;
// `scope run invert` reads that stream and streams its output to a second port, where an ffmpeg
// listener writes it to a file. The pixels that come back are the inverted colour (tolerance 4:
// two H.264 passes, both lossless 4:4:4, and two RGB <-> YUV conversions).
func TestStreamInvertLoopback(t *testing.T) {
	needFFmpeg(t)
	lib := examplePlugins(t, "invert")
	in := fmt.Sprintf("udp://127.0.0.1:%d", udpPort(t))
	out := fmt.Sprintf("udp://127.0.0.1:%d", udpPort(t))
	raw := filepath.Join(t.TempDir(), "back.rgb")
	listener := ffmpegBG(t, 30*time.Second, "-i", out+"?timeout=8000000", "-frames:v", "3", "-f", "rawvideo", "-pix_fmt", "rgb24", raw)
	ffmpegBG(t, 30*time.Second, "-re", "-f", "lavfi", "-i", "color=c=0x2850C8:s=64x48:r=25",
		"-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", "-g", "5", "-f", "mpegts", in+"?pkt_size=1316")
	time.Sleep(300 * time.Millisecond) // the listener binds its port
	code, stdout, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", out, "--frames", "50",
		"--crf", "0", "--pix-fmt", "yuv444p")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := listener(); err != nil {
		t.Fatalf("listener: %v", err)
	}
	b, err := os.ReadFile(raw)
	if err != nil || len(b) != 3*64*48*3 {
		t.Fatalf("read back %d bytes (%v), want 3 frames of 64x48", len(b), err)
	}
	want := [3]int{255 - 0x28, 255 - 0x50, 255 - 0xC8}
	for i := 0; i < len(b); i += 3 {
		for c := 0; c < 3; c++ {
			if d := int(b[i+c]) - want[c]; d > 4 || d < -4 {
				t.Fatalf("pixel %d = %v, want %v (inverted 2850C8)", i/3, b[i:i+3], want)
			}
		}
	}
}

// TestAudioThroughChain: a file with a 1 kHz track goes through invert into an mp4 that keeps
// the track, as long as the video and at the same frequency; the video keeps its 25 fps.
func TestAudioThroughChain(t *testing.T) {
	needFFmpeg(t)
	lib := examplePlugins(t, "invert")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.mp4"), filepath.Join(dir, "out.mp4")
	ffmpegRun(t, "-f", "lavfi", "-i", "testsrc=s=64x48:r=25:d=2", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", in)
	code, stdout, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if v, a := probeDuration(t, out, "v:0"), probeDuration(t, out, "a:0"); math.Abs(v-2) > 0.05 || math.Abs(a-2) > 0.08 {
		t.Errorf("video %.3fs, audio %.3fs; want both 2s", v, a)
	}
	s := monoAudio(t, out)
	if f := audio.DominantFrequency(s[4800:len(s)-4800], 48000, 500, 1500, 1); math.Abs(f-1000) > 2 {
		t.Errorf("tone at %v Hz, want 1000", f)
	}
	// An output that cannot carry the track says so.
	code, _, stderr = scope(t, lib, "run", "invert", "--input", in, "--output", filepath.Join(dir, "last.png"))
	if code != 0 || !strings.Contains(stderr, "has an audio track, but "+filepath.Join(dir, "last.png")+" cannot carry audio") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestToneMuxedIntoVideo: the tone pipeline's audio goes into the mp4 it writes.
func TestToneMuxedIntoVideo(t *testing.T) {
	needFFmpeg(t)
	lib := examplePlugins(t, "tone")
	dir := t.TempDir()
	out := filepath.Join(dir, "tone.mp4")
	code, stdout, stderr := scope(t, lib, "run", "tone", "--frames", "60", "--param", "frequency=441", "--output", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if a := probeDuration(t, out, "a:0"); math.Abs(a-2) > 0.08 {
		t.Errorf("audio %.3fs, want 2s (60 frames at 30 fps)", a)
	}
	s := monoAudio(t, out)
	if f := audio.DominantFrequency(s[4800:len(s)-4800], 48000, 200, 800, 1); math.Abs(f-441) > 2 {
		t.Errorf("tone at %v Hz, want 441", f)
	}
	code, _, stderr = scope(t, lib, "run", "tone", "--frames", "5", "--output", filepath.Join(dir, "t.gif"))
	if code != 0 || !strings.Contains(stderr, "tone produces audio, but") || !strings.Contains(stderr, "cannot carry audio") {
		t.Errorf("gif: exit %d, stderr %q", code, stderr)
	}
}

// TestAVSyncClickFlash: a clip with a white flash and a click at the same instant (1 s) goes
// through invert into an mp4; the flash (now a black frame) and the click stay within one
// frame of each other.
func TestAVSyncClickFlash(t *testing.T) {
	needFFmpeg(t)
	lib := examplePlugins(t, "invert")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "clickflash.mkv"), filepath.Join(dir, "out.mp4")
	ffmpegRun(t, "-f", "lavfi", "-i", "color=c=black:s=64x48:r=30:d=3,drawbox=c=white:t=fill:enable='between(n,30,30)'",
		"-f", "lavfi", "-i", "aevalsrc='if(between(t,1,1.004),0.9,0)':s=48000:d=3", "-c:v", "ffv1", "-c:a", "pcm_s16le", in)
	code, stdout, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Video: the darkest frame (the inverted flash), by its presentation time.
	vb, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", out, "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	fsize := 64 * 48
	darkest, low := -1, 1<<30
	for i := 0; i+fsize <= len(vb); i += fsize {
		sum := 0
		for _, v := range vb[i : i+fsize] {
			sum += int(v)
		}
		if sum < low {
			darkest, low = i/fsize, sum
		}
	}
	tv := float64(darkest) / 30
	// Audio: the first loud sample.
	s := monoAudio(t, out)
	ta := -1.0
	for i, v := range s {
		if math.Abs(float64(v)) > 0.3 {
			ta = float64(i) / 48000
			break
		}
	}
	if darkest < 0 || ta < 0 {
		t.Fatalf("flash frame %d, click at %v", darkest, ta)
	}
	if d := math.Abs(tv - ta); d >= 1.0/30 {
		t.Errorf("flash at %.4fs, click at %.4fs: off by %.1f ms, over one frame", tv, ta, d*1000)
	}
	t.Logf("flash at %.4fs, click at %.4fs", tv, ta)
}

// TestDevicesFromRecordings lists recorded devices: a webcam with its modes and the default
// scope picks, its metadata node, a virtual camera.
func TestDevicesFromRecordings(t *testing.T) {
	rec := filepath.Join("..", "..", "v4l2", "testdata")
	code, stdout, stderr := scope(t, t.TempDir(), "devices", "--replay", filepath.Join(rec, "c920-video0.json"),
		"--replay", filepath.Join(rec, "c920-video1-meta.json"), "--replay", filepath.Join(rec, "loopback-video10.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"/dev/video0  HD Pro Webcam C920 (uvcvideo, usb-0000:00:14.0-1)  camera",
		"MJPG Motion-JPEG          1920x1080@30/24/15 1280x720@30/24/15 640x480@30/24/15",
		"YUYV YUYV 4:2:2           1920x1080@5 1280x720@10/5 640x480@30/24/15",
		"default: MJPG 1920x1080@30  (--input v4l2:/dev/video0)",
		"/dev/video1  HD Pro Webcam C920 (uvcvideo, usb-0000:00:14.0-1)  other (no video formats)",
		"/dev/video10  Scope (v4l2 loopback, platform:v4l2loopback-000)  virtual-camera",
		"YU12 Planar YUV 4:2:0     any size from 48x32 to 8192x8192",
		"use: --output v4l2:/dev/video10",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	code, stdout, _ = scope(t, t.TempDir(), "devices", "--json", "--replay", filepath.Join(rec, "loopback-video10.json"))
	if code != 0 || !strings.Contains(stdout, `"kind": "virtual-camera"`) || !strings.Contains(stdout, `"FourCC": "YU12"`) {
		t.Errorf("json: exit %d\n%s", code, stdout)
	}
}

// TestLiveInputErrors: a camera that is not there and a bad codec are clear usage errors.
func TestLiveInputErrors(t *testing.T) {
	needFFmpeg(t)
	lib := examplePlugins(t, "invert")
	code, _, stderr := scope(t, lib, "run", "invert", "--input", "v4l2:/dev/video-missing", "--frames", "1")
	if code == 0 || !strings.Contains(stderr, "/dev/video-missing does not exist") {
		t.Errorf("missing camera: exit %d, %q", code, stderr)
	}
	code, _, stderr = scope(t, lib, "run", "invert", "--frames", "2", "--output", filepath.Join(t.TempDir(), "o.mp4"), "--codec", "bogus")
	if code == 0 || !strings.Contains(stderr, `unknown codec "bogus"`) {
		t.Errorf("bad codec: exit %d, %q", code, stderr)
	}
	code, _, stderr = scope(t, lib, "run", "invert", "--input", "camera", "--loop", "--frames", "1")
	if code == 0 || !strings.Contains(stderr, "--loop is for files") {
		t.Errorf("loop camera: exit %d, %q", code, stderr)
	}
}
