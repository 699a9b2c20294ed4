package loader

import (
	"fmt"
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
		return "#rrggbb or #rrggbbaa"
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

// Parse reads a value for this parameter from text (as typed on a command line) and checks it
// against the schema. Bools take true/false/1/0/on/off/yes/no; colors take #rrggbb[aa].
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
		if err != nil {
			return v, fmt.Errorf("%s: %q is not an integer; allowed range %s", p.Key, text, p.Range())
		}
		v.Int = n
	case ParamFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return v, fmt.Errorf("%s: %q is not a number; allowed range %s", p.Key, text, p.Range())
		}
		v.Float = f
	case ParamString, ParamEnum:
		v.String = text
	case ParamColor:
		c, err := parseColor(text)
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

func parseColor(s string) ([4]float32, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(h) != 6 && len(h) != 8 {
		return [4]float32{}, fmt.Errorf("%q is not a color; use #rrggbb or #rrggbbaa", s)
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return [4]float32{}, fmt.Errorf("%q is not a color; use #rrggbb or #rrggbbaa", s)
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
