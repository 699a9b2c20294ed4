package loader_test

import (
	"math"
	"strings"
	"testing"

	"github.com/scopenative/scope/loader"
)

// TestParseColor reads every documented colour form and refuses the rest with a message that
// names the text and shows an example.
func TestParseColor(t *testing.T) {
	for _, c := range []struct {
		text string
		want [4]float32
	}{
		{"#ff8000", [4]float32{1, 128.0 / 255, 0, 1}},
		{"FF8000", [4]float32{1, 128.0 / 255, 0, 1}},
		{"#00ff0080", [4]float32{0, 1, 0, 128.0 / 255}},
		{"#f80", [4]float32{1, 136.0 / 255, 0, 1}},
		{"#f808", [4]float32{1, 136.0 / 255, 0, 136.0 / 255}},
		{"0.2,0.4,0.6", [4]float32{0.2, 0.4, 0.6, 1}},
		{" 0.2, 0.4, 0.6, 0.5 ", [4]float32{0.2, 0.4, 0.6, 0.5}},
		{"1,0,0", [4]float32{1, 0, 0, 1}},
		{"rgb(255,128,0)", [4]float32{1, 128.0 / 255, 0, 1}},
		{"RGB(255, 128, 0)", [4]float32{1, 128.0 / 255, 0, 1}},
		{"rgba(255,0,0,0.5)", [4]float32{1, 0, 0, 0.5}},
		{"rgb(100% 50% 0% / 25%)", [4]float32{1, 0.5, 0, 0.25}},
	} {
		got, err := loader.ParseColor(c.text)
		if err != nil || got != c.want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", c.text, got, err, c.want)
		}
	}
	for _, c := range []struct{ text, why string }{
		{"green", "hex colors have 3, 4, 6 or 8 digits"},
		{"#ggg", "not hex digits"},
		{"0.2,0.4", "r,g,b[,a] takes 3 or 4 components, got 2"},
		{"0.2,0.4,1.6", "components must be numbers 0..1"},
		{"0.2,NaN,0.6", "components must be numbers 0..1"},
		{"255,128,0", "components must be numbers 0..1"},
		{"50%,0,0", "components must be numbers 0..1"},
		{"rgb(256,0,0)", "rgb() components must be 0..255"},
		{"rgb(1,2)", "rgb() takes 3 or 4 components, got 2"},
		{"rgba(1,2,3,2)", "alpha must be 0..1"},
		{"rgb(1,2,3", "rgb( needs its closing )"},
		{"", "hex colors"},
	} {
		_, err := loader.ParseColor(c.text)
		if err == nil {
			t.Errorf("ParseColor(%q) accepted", c.text)
			continue
		}
		msg := err.Error()
		for _, part := range []string{`"` + c.text + `" is not a color`, c.why, "e.g. #ff8000, 1,0.5,0 or rgb(255,128,0)"} {
			if !strings.Contains(msg, part) {
				t.Errorf("ParseColor(%q) error %q lacks %q", c.text, msg, part)
			}
		}
	}
}

// TestParseOutOfRange: a number too large for its type is out of range, not "not a number";
// NaN is not a number; Inf is out of range.
func TestParseOutOfRange(t *testing.T) {
	wide := &loader.Param{Key: "wide", Type: loader.ParamFloat, Min: -1e300, Max: 1e300}
	count := &loader.Param{Key: "count", Type: loader.ParamInt, Min: 0, Max: 10}
	for _, c := range []struct {
		p          *loader.Param
		text, want string
	}{
		{wide, "1.8e308", "wide: 1.8e308 is out of range; allowed range -1e+300..1e+300"},
		{wide, "-1.8e308", "wide: -1.8e308 is out of range; allowed range -1e+300..1e+300"},
		{wide, "Inf", "wide: +Inf is out of range; allowed range -1e+300..1e+300"},
		{wide, "NaN", `wide: "NaN" is not a number; allowed range -1e+300..1e+300`},
		{count, "99999999999999999999", "count: 99999999999999999999 is out of range; allowed range 0..10"},
		{count, "ten", `count: "ten" is not an integer; allowed range 0..10`},
	} {
		_, err := c.p.Parse(c.text)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%s=%s) = %v, want %q", c.p.Key, c.text, err, c.want)
		}
	}
}

// TestParsePrompt: commas stay in the text; the weight after the last :: must be finite and
// >= 0 (NaN and Inf used to pass).
func TestParsePrompt(t *testing.T) {
	for _, c := range []struct {
		text string
		want loader.Prompt
	}{
		{"red, blue", loader.Prompt{Text: "red, blue", Weight: 1}},
		{"red, blue::0.5", loader.Prompt{Text: "red, blue", Weight: 0.5}},
		{"a::b::2", loader.Prompt{Text: "a::b", Weight: 2}},
		{"x:: 0", loader.Prompt{Text: "x", Weight: 0}},
	} {
		got, err := loader.ParsePrompt(c.text)
		if err != nil || got != c.want {
			t.Errorf("ParsePrompt(%q) = %+v, %v; want %+v", c.text, got, err, c.want)
		}
	}
	for _, text := range []string{"x::NaN", "x::Inf", "x::-Inf", "x::-1", "x::1e39", "x::", "x::lots"} {
		_, err := loader.ParsePrompt(text)
		if err == nil || !strings.Contains(err.Error(), "must be a finite number >= 0 (e.g. \"x::0.5\")") {
			t.Errorf("ParsePrompt(%q) = %v, want the weight refused with an example", text, err)
		}
	}
	for _, p := range []loader.Prompt{{Text: "x", Weight: float32(math.NaN())}, {Text: "x", Weight: float32(math.Inf(1))}, {Text: "x", Weight: -1}, {Text: "a\x00b", Weight: 1}} {
		if p.Check() == nil {
			t.Errorf("Check(%+v) accepted", p)
		}
	}
}

// FuzzParseColor: any text is a colour with components 0..1 or an error, never a panic, and an
// accepted colour survives Text and Parse again (to 8-bit precision).
func FuzzParseColor(f *testing.F) {
	for _, s := range []string{"#ff8000", "#f80", "0.2,0.4,0.6", "rgb(255,128,0)", "rgba(1,2,3,50%)", "rgb(", ",,,", "#", "1e400,0,0"} {
		f.Add(s)
	}
	p := &loader.Param{Key: "tint", Type: loader.ParamColor}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := p.Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "tint: ") {
				t.Fatalf("error %q does not name the parameter", err)
			}
			return
		}
		for _, c := range v.Color {
			if !(c >= 0 && c <= 1) {
				t.Fatalf("ParseColor(%q) = %v: component outside 0..1", s, v.Color)
			}
		}
		again, err := p.Parse(v.Text())
		if err != nil {
			t.Fatalf("Text() %q of %q does not parse: %v", v.Text(), s, err)
		}
		for i := range again.Color {
			if math.Abs(float64(again.Color[i]-v.Color[i])) > 0.5/255+1e-6 {
				t.Fatalf("%q -> %q -> %v, was %v", s, v.Text(), again.Color, v.Color)
			}
		}
	})
}
