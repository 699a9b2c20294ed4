package v4l2

import (
	"fmt"
	"math"
	"strings"
)

// Request is what a user asked of a camera; zero fields are "pick for me".
type Request struct {
	FourCC string  // "MJPG", "YUYV"... (case-insensitive)
	Size   Size    // exact size wanted
	FPS    float64 // rate wanted
}

// Choice is the mode Negotiate picked.
type Choice struct {
	FourCC string
	Size
	FPS float64 // 0 when the driver lists no rates
}

// Defaults a person would pick for a camera: 30 fps, at most 1920x1080.
const (
	defaultFPS     = 30
	defaultMaxArea = 1920 * 1080
)

// FFmpegFormat returns ffmpeg's -input_format name for a V4L2 fourcc ("" when ffmpeg has no
// name for it and should pick).
func FFmpegFormat(fourcc string) string {
	return map[string]string{"MJPG": "mjpeg", "JPEG": "mjpeg", "YUYV": "yuyv422", "UYVY": "uyvy422",
		"H264": "h264", "NV12": "nv12", "YU12": "yuv420p", "RGB3": "rgb24", "BGR3": "bgr24", "GREY": "gray"}[fourcc]
}

// Negotiate picks the device mode that best fits req. A format or size the device does not
// offer is an error that lists what it does offer. Without a size it takes the largest mode
// up to 1920x1080 that reaches the rate (30 fps by default); then the closest rate; then an
// uncompressed format over a compressed one.
func Negotiate(d Device, req Request) (Choice, error) {
	want := req.FPS
	if want == 0 {
		want = defaultFPS
	}
	type cand struct {
		c     Choice
		comp  bool
		score [4]float64 // lower is better, compared in order
	}
	var best *cand
	var offered []string
	for _, f := range d.Formats {
		offered = append(offered, f.FourCC)
		if req.FourCC != "" && !strings.EqualFold(req.FourCC, f.FourCC) {
			continue
		}
		for _, m := range f.Modes {
			if req.Size != (Size{}) && m.Size != req.Size {
				continue
			}
			rates := m.FPS
			if len(rates) == 0 {
				rates = []float64{0}
			}
			for _, r := range rates {
				k := cand{c: Choice{FourCC: f.FourCC, Size: m.Size, FPS: r}, comp: f.Compressed}
				area := float64(m.Width * m.Height)
				slow := 0.0
				if r > 0 && r < want-0.01 {
					slow = 1
				}
				big := 0.0
				if req.Size == (Size{}) && area > defaultMaxArea {
					big = 1
				}
				k.score = [4]float64{big, slow, -area, math.Abs(r - want)}
				if req.Size != (Size{}) {
					k.score = [4]float64{slow, math.Abs(r - want), 0, 0}
				}
				if f.Compressed {
					k.score[3] += 0.001 // ties go to uncompressed
				}
				if best == nil || less(k.score, best.score) {
					kk := k
					best = &kk
				}
			}
		}
	}
	if best != nil {
		return best.c, nil
	}
	if len(d.Formats) == 0 {
		return Choice{}, fmt.Errorf("%s (%s) offers no video formats", d.Path, d.Card)
	}
	if req.FourCC != "" && !containsFold(offered, req.FourCC) {
		return Choice{}, fmt.Errorf("%s (%s) has no %s format; it offers %s", d.Path, d.Card, strings.ToUpper(req.FourCC), strings.Join(offered, ", "))
	}
	var sizes []string
	for _, f := range d.Formats {
		if req.FourCC != "" && !strings.EqualFold(req.FourCC, f.FourCC) {
			continue
		}
		for _, m := range f.Modes {
			sizes = append(sizes, f.FourCC+" "+m.Size.String())
		}
	}
	return Choice{}, fmt.Errorf("%s (%s) has no %v mode; it offers %s", d.Path, d.Card, req.Size, strings.Join(sizes, ", "))
}

func less(a, b [4]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
