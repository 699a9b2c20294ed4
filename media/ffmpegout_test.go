package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/frame"
)

// decodeAudio returns the mono 48 kHz samples of path's first audio track.
func decodeAudio(t testing.TB, path string) []float32 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-map", "0:a:0",
		"-f", "f32le", "-ac", "1", "-ar", "48000", "-").Output()
	if err != nil {
		t.Fatalf("decode audio of %s: %v", path, err)
	}
	s := make([]float32, len(out)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return s
}

// streamDuration returns the duration ffprobe gives a stream ("v" or "a") of path, in seconds.
func streamDuration(t testing.TB, path, kind string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", kind+":0", "-show_entries",
		"stream=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe %s %s duration %q: %v", path, kind, out, err)
	}
	return d
}

// TestFFV1Lossless: --codec ffv1 with a planar RGB pixel format keeps every pixel exactly.
func TestFFV1Lossless(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "lossless.mkv")
	frames := testFrames(t, 64, 48, 3)
	sink, err := CreateSink(context.Background(), path, frames[0].Format, SinkOptions{Codec: "ffv1", PixFmt: "gbrp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := sink.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, open(t, path, SourceOptions{}), 10)
	if len(got) != 3 {
		t.Fatalf("%d frames", len(got))
	}
	for i := range got {
		if d := maxDiff(t, got[i], frames[i]); d != 0 {
			t.Errorf("frame %d differs by %d through ffv1/gbrp", i, d)
		}
	}
}

// TestEncodeOptionErrors: contradictory or unknown options are refused before ffmpeg starts.
func TestEncodeOptionErrors(t *testing.T) {
	needFFmpeg(t)
	f := frame.Format{Width: 16, Height: 16, Channels: 3, Elem: frame.U8}
	dir := t.TempDir()
	for _, c := range []struct {
		opts SinkOptions
		want string
	}{
		{SinkOptions{CRF: 20, CRFSet: true, Bitrate: "2M"}, "give --crf or --bitrate, not both"},
		{SinkOptions{Codec: "nosuchcodec"}, `unknown codec "nosuchcodec": use one of h264`},
		{SinkOptions{Bitrate: "fast"}, `bitrate "fast": want bits per second`},
		{SinkOptions{CRF: 99, CRFSet: true}, "crf 99: want 0 (lossless) to 51"},
		{SinkOptions{Codec: "ffv1", CRF: 3, CRFSet: true}, "--crf does not apply to ffv1"},
	} {
		_, err := CreateSink(context.Background(), filepath.Join(dir, "x.mp4"), f, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.opts, err, c.want)
		}
	}
}

// TestStreamEncodeDefaults: streams get low-latency settings, files quality ones.
func TestStreamEncodeDefaults(t *testing.T) {
	needFFmpeg(t)
	ctx := context.Background()
	has := availableEncoders(ctx)
	if !has["libx264"] {
		t.Skip("no libx264 in this ffmpeg")
	}
	join := func(spec string, o SinkOptions) string {
		a, err := encodeArgs(ctx, spec, 64, 48, o)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(a, " ")
	}
	for spec, want := range map[string]string{
		"srt://127.0.0.1:9000":    "-c:v libx264 -preset veryfast -tune zerolatency -g 60 -bf 0 -crf 23 -pix_fmt yuv420p -colorspace smpte170m -color_range tv -f mpegts -muxdelay 0",
		"rtmp://127.0.0.1/live/x": "-tune zerolatency -g 60 -bf 0 -crf 23 -pix_fmt yuv420p -colorspace smpte170m -color_range tv -f flv",
		"/tmp/x/live.m3u8":        "-tune zerolatency -g 60 -bf 0 -crf 23 -pix_fmt yuv420p -colorspace smpte170m -color_range tv -f hls -hls_time 1",
		"/tmp/x/out.mp4":          "-c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p",
		"v4l2:/dev/video10":       "-pix_fmt yuv420p -f v4l2",
	} {
		if got := join(spec, SinkOptions{}); !strings.Contains(got, want) {
			t.Errorf("%s: %s\nwant %s", spec, got, want)
		}
	}
	if got := join("udp://127.0.0.1:9", SinkOptions{Bitrate: "3M"}); !strings.Contains(got, "-b:v 3M -maxrate 3M -bufsize 3M") || strings.Contains(got, "-crf") {
		t.Errorf("bitrate: %s", got)
	}
	if got := join("out.mp4", SinkOptions{CRF: 0, CRFSet: true, PixFmt: "yuv444p"}); !strings.Contains(got, "-crf 0 -pix_fmt yuv444p") {
		t.Errorf("lossless: %s", got)
	}
}

// TestUDPStreamSinkRoundTrip sends frames to 127.0.0.1 with the stream sink (x264 lossless,
// 4:4:4) and reads them back with the stream source.
func TestUDPStreamSinkRoundTrip(t *testing.T) {
	needFFmpeg(t)
	url := fmt.Sprintf("udp://127.0.0.1:%d", freeUDPPort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type opened struct {
		src Source
		err error
	}
	got := make(chan opened, 1)
	go func() {
		src, err := OpenSource(ctx, url, SourceOptions{Frames: 3})
		got <- opened{src, err}
	}()
	want := solidFrame(64, 48, 30, 140, 220)
	sink, err := CreateSink(ctx, url, want.Format, SinkOptions{FPS: 25, CRF: 0, CRFSet: true, PixFmt: "yuv444p"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var src Source
	for src == nil {
		select {
		case o := <-got:
			if o.err != nil {
				t.Fatal(o.err)
			}
			src = o.src
		case <-time.After(40 * time.Millisecond):
			if err := sink.Write(want); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer src.Close()
	done := make(chan struct{})
	go func() { // keep sending while the source reads
		for {
			select {
			case <-done:
				return
			case <-time.After(40 * time.Millisecond):
				sink.Write(want)
			}
		}
	}()
	frames := readAll(t, src, 3)
	close(done)
	if len(frames) != 3 {
		t.Fatalf("%d frames", len(frames))
	}
	if d := maxDiff(t, frames[2], want); d > 3 {
		t.Errorf("colour off by %d through lossless x264 4:4:4 (got %v)", d, frames[2].Data[:3])
	}
}

// TestHLSSink writes an HLS playlist with segments and plays it back.
func TestHLSSink(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "live.m3u8")
	frames := make([]*frame.Frame, 50)
	for i := range frames {
		frames[i] = solidFrame(64, 48, 200, 40, 40)
	}
	writeAll(t, path, 25, frames...)
	pl, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(pl, []byte("#EXTM3U")) || !bytes.Contains(pl, []byte(".ts")) {
		t.Fatalf("playlist %q: %v", pl, err)
	}
	got := readAll(t, open(t, path, SourceOptions{}), 100)
	if len(got) < 25 {
		t.Fatalf("%d frames back from the playlist", len(got))
	}
	if d := maxDiff(t, got[len(got)-1], frames[0]); d > 8 {
		t.Errorf("colour off by %d", d)
	}
}

// TestVirtualCameraMissing says how to make the v4l2loopback device.
func TestVirtualCameraMissing(t *testing.T) {
	needFFmpeg(t)
	f := frame.Format{Width: 16, Height: 16, Channels: 3, Elem: frame.U8}
	_, err := CreateSink(context.Background(), "v4l2:/dev/video87", f, SinkOptions{})
	if err == nil || !strings.Contains(err.Error(), "no virtual camera at /dev/video87; load v4l2loopback with 'sudo modprobe v4l2loopback video_nr=87") ||
		!strings.Contains(err.Error(), "which makes /dev/video87") {
		t.Errorf("err %v", err)
	}
	if _, err := os.Stat("/dev/null"); err == nil {
		// A device that is no V4L2 node at all.
		if _, err := checkVirtualCamera("v4l2:/dev/null"); err == nil || !strings.Contains(err.Error(), "not a V4L2 device") {
			t.Errorf("/dev/null: %v", err)
		}
	}
}

// TestRealVirtualCamera writes to a v4l2loopback device when the machine has one.
func TestRealVirtualCamera(t *testing.T) {
	needFFmpeg(t)
	matches, _ := filepath.Glob("/dev/video*")
	for _, m := range matches {
		if _, err := checkVirtualCamera(m); err == nil {
			writeAll(t, "v4l2:"+m, 30, testFrames(t, 64, 48, 5)...)
			return
		}
	}
	t.Skip("no v4l2loopback device on this machine (as in CI): sudo modprobe v4l2loopback makes one")
}

// TestCarriesAudio names the outputs that can hold an audio track.
func TestCarriesAudio(t *testing.T) {
	for spec, want := range map[string]bool{"out.mp4": true, "out.mkv": true, "rtmp://h/x": true, "srt://h:1": true,
		"live.m3u8": true, "null": false, "out.png": false, "out.y4m": false, "out.gif": false,
		"out/%05d.png": false, "v4l2:/dev/video10": false, "/dev/video3": false, "out.raw": false} {
		if got := CarriesAudio(spec); got != want {
			t.Errorf("CarriesAudio(%s) = %v", spec, got)
		}
	}
}

// TestSinkMuxesPCM: audio given to WriteAudio (a 441 Hz tone, one frame's worth per frame)
// ends up in the mp4 at that frequency and with the video's duration.
func TestSinkMuxesPCM(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "tone.mp4")
	f := solidFrame(64, 48, 10, 20, 30)
	sink, err := CreateSink(context.Background(), path, f.Format, SinkOptions{FPS: 30, Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	as, ok := sink.(AudioSink)
	if !ok {
		t.Fatal("an mp4 sink with Audio is no AudioSink")
	}
	pcm := make([]float32, 2*1600)
	n := 0
	for i := 0; i < 60; i++ {
		for j := 0; j < 1600; j++ {
			v := float32(0.5 * math.Sin(2*math.Pi*441*float64(n)/48000))
			pcm[2*j], pcm[2*j+1] = v, v
			n++
		}
		if err := as.WriteAudio(pcm); err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if d := streamDuration(t, path, "a"); math.Abs(d-2) > 0.05 {
		t.Errorf("audio lasts %.3fs, want 2s", d)
	}
	s := decodeAudio(t, path)
	if fr := audio.DominantFrequency(s[4800:len(s)-4800], 48000, 300, 600, 1); math.Abs(fr-441) > 2 {
		t.Errorf("tone at %v Hz, want 441", fr)
	}
}

// TestSinkAudioFromInput: the audio track of the input goes into the output, cut to the video.
func TestSinkAudioFromInput(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mkv")
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=64x48:r=30:d=3",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=3", "-c:v", "ffv1", "-c:a", "pcm_s16le", in).CombinedOutput(); err != nil {
		t.Fatalf("make input: %v %s", err, out)
	}
	if !HasAudio(context.Background(), in) {
		t.Fatal("HasAudio(in) = false")
	}
	out := filepath.Join(dir, "out.mp4")
	src := open(t, in, SourceOptions{Frames: 45})
	writeAll2(t, out, SinkOptions{FPS: 30, AudioFrom: in}, readAll(t, src, 100))
	if d := streamDuration(t, out, "a"); math.Abs(d-1.5) > 0.06 {
		t.Errorf("audio lasts %.3fs, want the video's 1.5s", d)
	}
	s := decodeAudio(t, out)
	if fr := audio.DominantFrequency(s[4800:len(s)-4800], 48000, 800, 1200, 1); math.Abs(fr-1000) > 2 {
		t.Errorf("tone at %v Hz, want 1000", fr)
	}
	if HasAudio(context.Background(), filepath.Join(dir, "none.mp4")) {
		t.Error("HasAudio of a missing file")
	}
}

// writeAll2 writes frames to spec with opts.
func writeAll2(t testing.TB, spec string, opts SinkOptions, frames []*frame.Frame) {
	t.Helper()
	sink, err := CreateSink(context.Background(), spec, frames[0].Format, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := sink.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}
