package loader

import (
	"errors"
	"fmt"
	"github.com/scopenative/scope/prompt"
	"math"
	"strconv"
	"strings"

	"github.com/scopenative/scope/abi"
)

// ParamType is a parameter's type, equal to the ABI's SCOPE_PARAM_* values.
type ParamType uint32

// Parameter types.
const (
	ParamBool   ParamType = ParamType(abi.ParamBool)
	ParamInt    ParamType = ParamType(abi.ParamInt)
	ParamFloat  ParamType = ParamType(abi.ParamFloat)
	ParamString ParamType = ParamType(abi.ParamString)
	ParamEnum   ParamType = ParamType(abi.ParamEnum)
	ParamColor  ParamType = ParamType(abi.ParamColor)
)

// String returns the type's name as the CLI and JSON show it.
func (t ParamType) String() string {
	switch t {
	case ParamBool:
		return "bool"
	case ParamInt:
		return "int"
	case ParamFloat:
		return "float"
	case ParamString:
		return "string"
	case ParamEnum:
		return "enum"
	case ParamColor:
		return "color"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// EnumOption is one option of an enum parameter.
type EnumOption struct {
	Key, Label string
}

// Param is the schema of one parameter.
type Param struct {
	Key, Label, Description string
	Type                    ParamType
	Index                   int // position in Pipeline.Params and in every Values
	LoadTime, Hidden        bool
	Category                string // "configuration" or "input"
	Order                   int
	Modes                   uint32 // mask of modes it applies to; 0 = all
	Min, Max, Step          float64
	Options                 []EnumOption
	Default                 Value
}

// OptionKeys lists an enum parameter's option keys.
func (p *Param) OptionKeys() []string {
	keys := make([]string, len(p.Options))
	for i, o := range p.Options {
		keys[i] = o.Key
	}
	return keys
}

// Range describes the allowed values for messages, e.g. "0..255" or "one of mean, max".
func (p *Param) Range() string {
	switch p.Type {
	case ParamInt:
		return fmt.Sprintf("%d..%d", int64(p.Min), int64(p.Max))
	case ParamFloat:
		return fmt.Sprintf("%g..%g", p.Min, p.Max)
	case ParamBool:
		return "true or false"
	case ParamEnum:
		return "one of " + strings.Join(p.OptionKeys(), ", ")
	case ParamColor:
		return ColorSyntax
	}
	return "any text"
}

// Value is one parameter value; the field that matches Type holds it.
type Value struct {
	Type   ParamType
	Bool   bool
	Int    int64
	Float  float64
	String string     // string and enum (the option key)
	Color  [4]float32 // RGBA 0..1
}

// Text formats the value the way Parse reads it.
func (v Value) Text() string {
	switch v.Type {
	case ParamBool:
		return strconv.FormatBool(v.Bool)
	case ParamInt:
		return strconv.FormatInt(v.Int, 10)
	case ParamFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case ParamColor:
		c := v.Color
		b := func(x float32) int { return int(math.Round(float64(x) * 255)) }
		if c[3] == 1 {
			return fmt.Sprintf("#%02x%02x%02x", b(c[0]), b(c[1]), b(c[2]))
		}
		return fmt.Sprintf("#%02x%02x%02x%02x", b(c[0]), b(c[1]), b(c[2]), b(c[3]))
	}
	return v.String
}

// JSON returns the value as a JSON-friendly Go value (bool, int64, float64, string).
func (v Value) JSON() any {
	switch v.Type {
	case ParamBool:
		return v.Bool
	case ParamInt:
		return v.Int
	case ParamFloat:
		return v.Float
	}
	return v.Text()
}

// Parse reads a value for this parameter from text (as typed on a command line, sent by the
// session's set op or by the preview) and checks it against the schema. Bools take
// true/false/1/0/on/off/yes/no; colors take the forms ParseColor reads. A number too large
// for its type is "out of range", never "not a number".
func (p *Param) Parse(text string) (Value, error) {
	v := Value{Type: p.Type}
	switch p.Type {
	case ParamBool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "1", "true", "on", "yes":
			v.Bool = true
		case "0", "false", "off", "no":
		default:
			return v, fmt.Errorf("%s: %q is not a bool; use true or false", p.Key, text)
		}
	case ParamInt:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return v, fmt.Errorf("%s: %s is out of range; allowed range %s", p.Key, strings.TrimSpace(text), p.Range())
		}
		if err != nil {
			return v, fmt.Errorf("%s: %q is not an integer; allowed range %s", p.Key, text, p.Range())
		}
		v.Int = n
	case ParamFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if errors.Is(err, strconv.ErrRange) {
			return v, fmt.Errorf("%s: %s is out of range; allowed range %s", p.Key, strings.TrimSpace(text), p.Range())
		}
		if err != nil || math.IsNaN(f) {
			return v, fmt.Errorf("%s: %q is not a number; allowed range %s", p.Key, text, p.Range())
		}
		v.Float = f
	case ParamString, ParamEnum:
		v.String = text
	case ParamColor:
		c, err := ParseColor(text)
		if err != nil {
			return v, fmt.Errorf("%s: %w", p.Key, err)
		}
		v.Color = c
	}
	return v, p.Check(v)
}

// Check reports whether v is an allowed value for this parameter.
func (p *Param) Check(v Value) error {
	if v.Type != p.Type {
		return fmt.Errorf("%s: got a %s value, the parameter is %s", p.Key, v.Type, p.Type)
	}
	switch p.Type {
	case ParamInt:
		if float64(v.Int) < p.Min || float64(v.Int) > p.Max {
			return fmt.Errorf("%s: %d is out of range; allowed range %s", p.Key, v.Int, p.Range())
		}
	case ParamFloat:
		if math.IsNaN(v.Float) || v.Float < p.Min || v.Float > p.Max {
			return fmt.Errorf("%s: %g is out of range; allowed range %s", p.Key, v.Float, p.Range())
		}
	case ParamEnum:
		for _, o := range p.Options {
			if o.Key == v.String {
				return nil
			}
		}
		return fmt.Errorf("%s: %q is not an option; use %s", p.Key, v.String, p.Range())
	case ParamString:
		if strings.IndexByte(v.String, 0) >= 0 {
			return fmt.Errorf("%s: text must not contain NUL bytes", p.Key)
		}
	case ParamColor:
		for _, c := range v.Color {
			if math.IsNaN(float64(c)) || c < 0 || c > 1 {
				return fmt.Errorf("%s: color components must be 0..1", p.Key)
			}
		}
	}
	return nil
}

// ColorSyntax lists the colour forms ParseColor reads, for messages and help.
const ColorSyntax = "#rrggbb, #rgb, #rrggbbaa, r,g,b[,a] (each 0..1) or rgb(r,g,b[,a]) (0..255, alpha 0..1)"

// colorExample ends every colour error: one example of each form.
const colorExample = "e.g. #ff8000, 1,0.5,0 or rgb(255,128,0)"

// ParseColor reads a colour as people type it and returns RGBA with components 0..1:
//
//	#rrggbb, #rrggbbaa, #rgb, #rgba   hex, the # optional (#f80 is #ff8800; alpha defaults to opaque)
//	r,g,b or r,g,b,a                  components 0..1 (0.2,0.4,0.6), as the ABI stores them
//	rgb(r,g,b), rgba(r,g,b,a)         CSS: r, g, b 0..255 or 0%..100%, alpha 0..1 or a percentage;
//	                                  commas or spaces between them, "/" before alpha
//
// Case and surrounding spaces do not matter. The error names the text and shows an example.
func ParseColor(s string) ([4]float32, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	bad := func(why string) ([4]float32, error) {
		return [4]float32{}, fmt.Errorf("%q is not a color: %s; use %s, %s", s, why, ColorSyntax, colorExample)
	}
	if inner, ok := cssFunction(t); ok {
		if !strings.HasSuffix(inner, ")") {
			return bad("rgb( needs its closing )")
		}
		inner = strings.TrimSuffix(inner, ")")
		fields := strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == '/' || r == ' ' || r == '\t' })
		if len(fields) != 3 && len(fields) != 4 {
			return bad(fmt.Sprintf("rgb() takes 3 or 4 components, got %d", len(fields)))
		}
		c := [4]float32{3: 1}
		for i, f := range fields {
			scale := 255.0
			if i == 3 {
				scale = 1
			}
			x, err := colorComponent(f, scale)
			if err != nil {
				if i == 3 {
					return bad("alpha must be 0..1 or 0%..100%")
				}
				return bad("rgb() components must be 0..255 or 0%..100%")
			}
			c[i] = x
		}
		return c, nil
	}
	if strings.Contains(t, ",") {
		fields := strings.Split(t, ",")
		if len(fields) != 3 && len(fields) != 4 {
			return bad(fmt.Sprintf("r,g,b[,a] takes 3 or 4 components, got %d", len(fields)))
		}
		c := [4]float32{3: 1}
		for i, f := range fields {
			x, err := colorComponent(f, 1)
			if err != nil || strings.HasSuffix(strings.TrimSpace(f), "%") {
				return bad("r,g,b[,a] components must be numbers 0..1")
			}
			c[i] = x
		}
		return c, nil
	}
	h := strings.TrimPrefix(t, "#")
	if len(h) == 3 || len(h) == 4 { // #rgb[a]: every digit doubled
		var b strings.Builder
		for _, r := range h {
			b.WriteRune(r)
			b.WriteRune(r)
		}
		h = b.String()
	}
	if len(h) != 6 && len(h) != 8 {
		return bad("hex colors have 3, 4, 6 or 8 digits")
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return bad("not hex digits")
	}
	if len(h) == 6 {
		n = n<<8 | 0xff
	}
	var c [4]float32
	for i := 0; i < 4; i++ {
		c[i] = float32((n>>(24-8*i))&0xff) / 255
	}
	return c, nil
}

// cssFunction returns what follows "rgb(" or "rgba(" (the closing parenthesis included).
func cssFunction(t string) (string, bool) {
	for _, name := range []string{"rgba(", "rgb("} {
		if rest, ok := strings.CutPrefix(t, name); ok {
			return rest, true
		}
	}
	return "", false
}

// colorComponent reads one component, a number 0..scale or a percentage 0%..100%, as 0..1.
func colorComponent(f string, scale float64) (float32, error) {
	f = strings.TrimSpace(f)
	if pct, ok := strings.CutSuffix(f, "%"); ok {
		f, scale = pct, 100
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
	if err != nil || math.IsNaN(x) || x < 0 || x > scale {
		return 0, fmt.Errorf("color component %q is out of range 0..%g", f, scale)
	}
	return float32(x / scale), nil
}

// Values holds one value per parameter of a pipeline, indexed like Pipeline.Params.
type Values []Value

// Set parses text for the parameter with this key and stores it. The error lists the valid
// keys when the key is unknown, or the allowed range when the value is bad.
func (vs Values) Set(p *Pipeline, key, text string) error {
	q := p.Param(key)
	if q == nil {
		return UnknownParamError(p, key)
	}
	v, err := q.Parse(text)
	if err != nil {
		return err
	}
	vs[q.Index] = v
	return nil
}

// Clone returns a copy of vs.
func (vs Values) Clone() Values { return append(Values(nil), vs...) }

// UnknownParamError is the error for a key the pipeline does not have.
func UnknownParamError(p *Pipeline, key string) error {
	if len(p.Params) == 0 {
		return fmt.Errorf("%s has no parameter %q: it takes no parameters", p.ID, key)
	}
	return fmt.Errorf("%s has no parameter %q; valid keys: %s", p.ID, key, strings.Join(p.ParamKeys(), ", "))
}

// ParsePrompt reads one prompt as typed on a command line or in the preview's prompt box:
// TEXT, or TEXT::WEIGHT where WEIGHT (after the last "::") is a finite number >= 0; the weight
// defaults to 1. The text is kept as it is, commas included: one call reads one prompt.
func ParsePrompt(s string) (Prompt, error) {
	text, weight, err := prompt.Parse(s)
	return Prompt{Text: text, Weight: weight}, err
}

// Check reports whether the prompt can go to a plugin: a finite weight >= 0 and text without
// NUL bytes. The session's prompts op checks what it receives with it.
func (p Prompt) Check() error {
	return prompt.Check(p.Text, p.Weight)
}
