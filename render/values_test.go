//go:build !cgo

// These tests only run without cgo: with cgo the package links Ebitengine, whose init panics
// without a display.

package render

import (
	"strings"
	"testing"

	"github.com/scopenative/scope/session"
)

func TestFormatNumber(t *testing.T) {
	cases := []struct {
		p    session.ParamSchema
		v    float64
		want string
	}{
		{session.ParamSchema{Type: "int", Min: 0, Max: 255, Step: 1}, 127.6, "128"},
		{session.ParamSchema{Type: "int", Min: 0, Max: 255, Step: 1}, 300, "255"},
		{session.ParamSchema{Type: "int", Min: 0, Max: 100, Step: 10}, 44, "40"},
		{session.ParamSchema{Type: "float", Min: 0, Max: 1, Step: 0.01}, 0.4567, "0.46"},
		{session.ParamSchema{Type: "float", Min: 20, Max: 20000, Step: 1}, 440.4, "440"},
		{session.ParamSchema{Type: "float", Min: 0, Max: 1}, 0.12345, "0.123"},
		{session.ParamSchema{Type: "float", Min: -1, Max: 1, Step: 0.5}, -2, "-1.0"},
	}
	for _, c := range cases {
		if got := formatNumber(c.p, c.v); got != c.want {
			t.Errorf("formatNumber(%+v, %v) = %q, want %q", c.p, c.v, got, c.want)
		}
	}
}

func TestColors(t *testing.T) {
	c := parseColor("#ff800040")
	if c[0] != 1 || c[1] != 128.0/255 || c[2] != 0 || c[3] != 64.0/255 {
		t.Errorf("parseColor: %v", c)
	}
	if s := formatColor(c); s != "#ff800040" {
		t.Errorf("formatColor: %s", s)
	}
	if s := formatColor(parseColor("#102030")); s != "#102030" {
		t.Errorf("opaque round trip: %s", s)
	}
	if c := parseColor("junk"); c != [4]float64{0.5, 0.5, 0.5, 1} {
		t.Errorf("unreadable colour: %v", c)
	}
}

func TestSortedParamsAndKinds(t *testing.T) {
	ps := []session.ParamSchema{
		{Key: "a", Category: "configuration", Order: 0, Type: "int"},
		{Key: "b", Category: "input", Order: 2, Type: "string"},
		{Key: "c", Category: "input", Order: 1, Type: "enum"},
		{Key: "h", Hidden: true, Type: "bool"},
	}
	got := sortedParams(ps)
	if len(got) != 3 || got[0].Key != "c" || got[1].Key != "b" || got[2].Key != "a" {
		t.Errorf("order: %+v", got)
	}
	for typ, want := range map[string]widgetKind{"int": wSlider, "float": wSlider, "bool": wToggle, "enum": wEnum, "string": wText, "color": wColor} {
		if kindOf(typ) != want {
			t.Errorf("kindOf(%s) = %v", typ, kindOf(typ))
		}
	}
}

func TestToRGBA(t *testing.T) {
	dst := make([]byte, 8)
	toRGBA(dst, []byte{1, 2, 3, 4, 5, 6}, 3)
	if string(dst) != "\x01\x02\x03\xff\x04\x05\x06\xff" {
		t.Errorf("rgb: %v", dst)
	}
	toRGBA(dst, []byte{9, 7}, 1)
	if string(dst) != "\x09\x09\x09\xff\x07\x07\x07\xff" {
		t.Errorf("gray: %v", dst)
	}
}

func TestPromptBox(t *testing.T) {
	ps, err := parsePrompts(" red::0.7 | blue ")
	if err != nil || len(ps) != 2 || ps[0] != (session.Prompt{Text: "red", Weight: 0.7}) || ps[1] != (session.Prompt{Text: "blue", Weight: 1}) {
		t.Fatalf("parse: %+v %v", ps, err)
	}
	if s := formatPrompts(ps); s != "red::0.7 | blue" {
		t.Errorf("format: %q", s)
	}
	// The CLI's rule (prompt.Parse): a weight is a finite number >= 0.
	for _, bad := range []string{"x::-1", "x::NaN", "x::Inf", "x::1e39", "x::lots"} {
		if _, err := parsePrompts(bad); err == nil || !strings.Contains(err.Error(), "finite number >= 0") {
			t.Errorf("parsePrompts(%q) = %v, want the weight refused", bad, err)
		}
	}
}

// TestToRGBAWords checks the four-pixels-at-a-time path (and its tail) against the plain loop.
func TestToRGBAWords(t *testing.T) {
	for _, px := range []int{1, 3, 4, 5, 7, 8, 33} {
		src := make([]byte, px*3)
		for i := range src {
			src[i] = byte(i*37 + 11)
		}
		want := make([]byte, px*4)
		for i := 0; i < px; i++ {
			copy(want[i*4:], src[i*3:i*3+3])
			want[i*4+3] = 255
		}
		got := make([]byte, px*4)
		toRGBA(got, src, 3)
		if string(got) != string(want) {
			t.Errorf("%d pixels:\n got %v\nwant %v", px, got, want)
		}
	}
}

func BenchmarkToRGBA1080p(b *testing.B) {
	src := make([]byte, 1920*1080*3)
	dst := make([]byte, 1920*1080*4)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		toRGBA(dst, src, 3)
	}
}

func TestNodeStatLines(t *testing.T) {
	stages := []session.StageInfo{
		{Pipeline: session.PipelineSchema{ID: "invert"}, Node: "invert", MeanMS: 1.234, P95MS: 2.5, FPS: 59.6},
		{Pipeline: session.PipelineSchema{ID: "crossfade"}, Node: "fade", MeanMS: 0.5, P95MS: 0.75, FPS: 30, Queue: 2, Dropped: 17},
		{Pipeline: session.PipelineSchema{ID: "fx"}, Node: "fx", MeanMS: 0.1, P95MS: 0.2, FPS: 30, Isolated: true, State: "restarting", Restarts: 2,
			LastFault: "crash.so: pipeline fx: call (frame 50): SIGSEGV"},
		{Pipeline: session.PipelineSchema{ID: "calm"}, Node: "calm", MeanMS: 0.1, P95MS: 0.2, FPS: 30, Isolated: true, State: "running"},
	}
	sinks := []session.SinkInfo{{Name: "file", LatencyMS: 12.34, P99MS: 20}}
	got := nodeStatLines(stages, sinks)
	want := []string{
		"invert 1.23 ms (p95 2.50) 60/s",
		"fade: crossfade 0.50 ms (p95 0.75) 30/s | q 2, dropped 17",
		"fx 0.10 ms (p95 0.20) 30/s | isolated, restarting, 2 restarts",
		"  crash.so: pipeline fx: call (frame 50): SIGSEGV",
		"calm 0.10 ms (p95 0.20) 30/s",
		"file latency 12.3 ms (p99 20.0)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("overlay lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
