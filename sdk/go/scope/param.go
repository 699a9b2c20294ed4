package scope

// Param describes one parameter of a pipeline. Make one with Float, Int, Bool, String, Enum or
// Color, then refine it with the chained methods, which return a modified copy:
//
//	scope.Float("intensity", 1.0, 0, 1).Label("Intensity").Description("How strongly to invert")
//
// Keys are stable ids ([a-z0-9_.-]+): hosts store settings by key, so never rename one.
// Register checks every Param (ranges, defaults, options) and reports mistakes through
// the host when it registers the plugin.
type Param struct {
	typ         ParamType
	key         string
	label       string
	description string
	flags       uint32
	category    Category
	order       int
	modes       ModeKind
	min, max    float64
	step        float64
	number      float64
	str         string
	options     []Option
	color       RGBA
}

// Option is one choice of an Enum parameter.
type Option struct {
	Key   string // stable key ([a-z0-9_.-]+), stored in settings and passed as the value
	Label string // UI text; "" shows the key
}

// RGBA is a color; each channel is 0..1.
type RGBA struct {
	R, G, B, A float32
}

// Float returns a FLOAT parameter in [min, max] (a slider). Read it with Params.Float.
func Float(key string, def, min, max float64) Param {
	return Param{typ: ParamFloat, key: key, number: def, min: min, max: max}
}

// Int returns an INT parameter in [min, max] with step 1. Read it with Params.Int.
func Int(key string, def, min, max int64) Param {
	return Param{typ: ParamInt, key: key, number: float64(def), min: float64(min), max: float64(max), step: 1}
}

// Bool returns a BOOL parameter (a checkbox). Read it with Params.Bool.
func Bool(key string, def bool) Param {
	p := Param{typ: ParamBool, key: key, max: 1}
	if def {
		p.number = 1
	}
	return p
}

// String returns a STRING parameter (a prompt, a path...). Read it with Params.String.
func String(key, def string) Param {
	return Param{typ: ParamString, key: key, str: def}
}

// Enum returns an ENUM parameter whose value is the key of one option, never an index, so
// options can be reordered and added without breaking saved settings. Read it with
// Params.String.
func Enum(key, def string, options ...Option) Param {
	return Param{typ: ParamEnum, key: key, str: def, options: append([]Option(nil), options...)}
}

// Color returns a COLOR parameter with a default RGBA. Read it with Params.Color.
func Color(key string, def RGBA) Param {
	return Param{typ: ParamColor, key: key, color: def}
}

// Key returns the parameter's key.
func (p Param) Key() string { return p.key }

// Type returns the parameter's type.
func (p Param) Type() ParamType { return p.typ }

// Label sets the short UI label (default: the key).
func (p Param) Label(s string) Param { p.label = s; return p }

// Description sets the tooltip / help text.
func (p Param) Description(s string) Param { p.description = s; return p }

// Order sets the display order; lower comes first.
func (p Param) Order(n int) Param { p.order = n; return p }

// Step sets the UI step of an INT or FLOAT parameter (FLOAT default: continuous).
func (p Param) Step(step float64) Param { p.step = step; return p }

// Category sets where the control appears (default CategoryConfiguration).
func (p Param) Category(c Category) Param { p.category = c; return p }

// Modes limits the parameter to these modes (default: every mode).
func (p Param) Modes(modes ...ModeKind) Param {
	p.modes = 0
	for _, m := range modes {
		p.modes |= m
	}
	return p
}

// LoadTime makes it a load-time parameter: passed to New only, shown disabled while
// streaming; changing it means a new instance.
func (p Param) LoadTime() Param { p.flags |= flagLoadTime; return p }

// Hidden hides the parameter from user interfaces.
func (p Param) Hidden() Param { p.flags |= flagHidden; return p }
