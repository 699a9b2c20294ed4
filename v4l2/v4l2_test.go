package v4l2

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func replay(t *testing.T, name string) Device {
	t.Helper()
	tr, err := LoadTranscript("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Probe(tr.Path, tr.Ioctl)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestProbeWebcam decodes a UVC webcam's recorded answers: names, capture capability, both
// formats with their sizes (largest first) and rates (highest first).
func TestProbeWebcam(t *testing.T) {
	d := replay(t, "c920-video0")
	if d.Path != "/dev/video0" || d.Driver != "uvcvideo" || d.Card != "HD Pro Webcam C920" || d.Bus != "usb-0000:00:14.0-1" {
		t.Errorf("identity %+v", d)
	}
	if !d.Capture() || d.Output() || d.Loopback() {
		t.Errorf("caps %#x: capture %v output %v loopback %v", d.Caps, d.Capture(), d.Output(), d.Loopback())
	}
	if len(d.Formats) != 2 {
		t.Fatalf("formats %+v", d.Formats)
	}
	y, m := d.Formats[0], d.Formats[1]
	if y.FourCC != "YUYV" || y.Compressed || y.Description != "YUYV 4:2:2" || m.FourCC != "MJPG" || !m.Compressed {
		t.Errorf("formats %+v / %+v", y, m)
	}
	want := []Mode{{Size{1920, 1080}, []float64{5}}, {Size{1280, 720}, []float64{10, 5}}, {Size{640, 480}, []float64{30, 24, 15}}}
	if y.Stepwise || m.Stepwise {
		t.Error("discrete sizes marked stepwise")
	}
	if !reflect.DeepEqual(y.Modes, want) {
		t.Errorf("YUYV modes %+v, want %+v", y.Modes, want)
	}
	if len(m.Modes) != 3 || m.Modes[0].Size != (Size{1920, 1080}) || !reflect.DeepEqual(m.Modes[0].FPS, []float64{30, 24, 15}) {
		t.Errorf("MJPG modes %+v", m.Modes)
	}
}

// TestProbeMetadataNode: the second node a UVC camera makes carries metadata only; it is
// neither a capture nor an output device and lists no formats.
func TestProbeMetadataNode(t *testing.T) {
	d := replay(t, "c920-video1-meta")
	if d.Capture() || d.Output() || len(d.Formats) != 0 {
		t.Errorf("metadata node %+v", d)
	}
}

// TestProbeLoopback decodes a v4l2loopback device: an output device with a stepwise size range.
func TestProbeLoopback(t *testing.T) {
	d := replay(t, "loopback-video10")
	if !d.Output() || d.Capture() || !d.Loopback() || d.Card != "Scope" {
		t.Errorf("loopback %+v caps %#x", d, d.Caps)
	}
	if len(d.Formats) != 1 || d.Formats[0].FourCC != "YU12" {
		t.Fatalf("formats %+v", d.Formats)
	}
	if !d.Formats[0].Stepwise {
		t.Error("loopback sizes are not marked stepwise")
	}
	if got := d.Formats[0].Modes; len(got) != 2 || got[0].Size != (Size{8192, 8192}) || got[1].Size != (Size{48, 32}) {
		t.Errorf("stepwise modes %+v, want max 8192x8192 and min 48x32", got)
	}
}

// TestReplayRefusesUnrecordedCall: a transcript answers only what was recorded.
func TestReplayRefusesUnrecordedCall(t *testing.T) {
	tr := &Transcript{Path: "x"}
	if err := tr.Ioctl(reqQueryCap, make([]byte, capabilitySize)); !errors.Is(err, ErrNotRecorded) {
		t.Errorf("err %v, want ErrNotRecorded", err)
	}
	if _, err := Probe("/dev/video9", tr.Ioctl); err == nil || !strings.Contains(err.Error(), "/dev/video9: not a V4L2 device") {
		t.Errorf("probe err %v", err)
	}
}

func TestNegotiate(t *testing.T) {
	d := replay(t, "c920-video0")
	cases := []struct {
		req  Request
		want Choice
	}{
		// Default: the largest mode up to 1080p at 30 fps is MJPG (YUYV does 5 fps there).
		{Request{}, Choice{"MJPG", Size{1920, 1080}, 30}},
		// A size both formats offer at the wanted rate: uncompressed wins the tie.
		{Request{Size: Size{640, 480}}, Choice{"YUYV", Size{640, 480}, 30}},
		{Request{Size: Size{640, 480}, FPS: 15}, Choice{"YUYV", Size{640, 480}, 15}},
		// YUYV asked for: the largest YUYV mode that reaches 30 fps.
		{Request{FourCC: "yuyv"}, Choice{"YUYV", Size{640, 480}, 30}},
		// A rate it cannot reach in YUYV at 720p: MJPG reaches it.
		{Request{Size: Size{1280, 720}, FPS: 30}, Choice{"MJPG", Size{1280, 720}, 30}},
		{Request{FourCC: "YUYV", Size: Size{1280, 720}}, Choice{"YUYV", Size{1280, 720}, 10}},
	}
	for _, c := range cases {
		got, err := Negotiate(d, c.req)
		if err != nil || got != c.want {
			t.Errorf("Negotiate(%+v) = %+v, %v; want %+v", c.req, got, err, c.want)
		}
	}
	if _, err := Negotiate(d, Request{FourCC: "H264"}); err == nil || !strings.Contains(err.Error(), "has no H264 format; it offers YUYV, MJPG") {
		t.Errorf("missing format: %v", err)
	}
	if _, err := Negotiate(d, Request{Size: Size{800, 600}}); err == nil || !strings.Contains(err.Error(), "no 800x600 mode; it offers YUYV 1920x1080") {
		t.Errorf("missing size: %v", err)
	}
	if _, err := Negotiate(replay(t, "c920-video1-meta"), Request{}); err == nil || !strings.Contains(err.Error(), "offers no video formats") {
		t.Errorf("metadata node: %v", err)
	}
}

// TestListRealDevices lists the machine's own devices when it has any.
func TestListRealDevices(t *testing.T) {
	l := List("/dev")
	if len(l) == 0 {
		t.Skip("no /dev/video* on this machine (as in CI): the recorded transcripts cover probing")
	}
	for _, d := range l {
		if d.Err == nil && d.Path == "" {
			t.Errorf("device without a path: %+v", d)
		}
	}
}

// TestListEmptyDir and FirstCapture say that nothing was found.
func TestFirstCaptureNone(t *testing.T) {
	dir := t.TempDir()
	if _, err := FirstCapture(dir); err == nil || !strings.Contains(err.Error(), "no camera found") {
		t.Errorf("err %v", err)
	}
	os.WriteFile(dir+"/video3", nil, 0o644) // a plain file: opens, but is no V4L2 device
	l := List(dir)
	if len(l) != 1 || l[0].Err == nil || !strings.Contains(l[0].Err.Error(), "not a V4L2 device") {
		t.Errorf("list %+v", l)
	}
}
