package loader

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/scopenative/scope/abi"
)

// Mode is a pipeline mode: text (generates frames) or video (transforms input frames).
type Mode uint32

// Modes, equal to the ABI's SCOPE_MODE_* values.
const (
	ModeText  Mode = Mode(abi.ModeText)
	ModeVideo Mode = Mode(abi.ModeVideo)
)

// String returns "text" or "video".
func (m Mode) String() string {
	switch m {
	case ModeText:
		return "text"
	case ModeVideo:
		return "video"
	}
	return fmt.Sprintf("mode(%d)", uint32(m))
}

// ParseMode parses "text" or "video".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "text":
		return ModeText, nil
	case "video":
		return ModeVideo, nil
	}
	return 0, fmt.Errorf("unknown mode %q: use text or video", s)
}

// ModeInfo is one mode a pipeline supports, with its defaults.
type ModeInfo struct {
	Mode      Mode
	Default   bool
	Width     int // default output width; 0 = follow the input
	Height    int // default output height; 0 = follow the input
	InputSize int // default frames per call
}

// Pipeline is the schema of one registered pipeline.
type Pipeline struct {
	ID, Name, Description, Version, Author, DocsURL string

	SupportsPrompts bool
	ProducesAudio   bool
	ProducesVideo   bool
	// Nondeterministic is true when the pipeline declares SCOPE_PIPELINE_NONDETERMINISTIC:
	// its output depends on randomness or wall time, not only on inputs and parameters.
	Nondeterministic bool
	Modes            []ModeInfo
	// Memory is the mask of abi.MemoryHost / abi.MemoryCUDA the pipeline accepts.
	Memory uint32
	// Serial is true when the pipeline declares SCOPE_THREADING_SERIAL.
	Serial     bool
	InputPorts []string
	Params     []*Param

	lib    *Library
	serial sync.Mutex // held around calls when Serial
	desc   abi.PipelineDesc
	ptr    uintptr // the plugin's descriptor, passed back in create args
}

// Library returns the library the pipeline was registered by.
func (p *Pipeline) Library() *Library { return p.lib }

// DefaultMode returns the mode marked as default.
func (p *Pipeline) DefaultMode() ModeInfo {
	for _, m := range p.Modes {
		if m.Default {
			return m
		}
	}
	return p.Modes[0]
}

// ModeInfo returns the entry for mode m and whether the pipeline supports it.
func (p *Pipeline) ModeInfo(m Mode) (ModeInfo, bool) {
	for _, mi := range p.Modes {
		if mi.Mode == m {
			return mi, true
		}
	}
	return ModeInfo{}, false
}

// Param returns the parameter with this key, or nil.
func (p *Pipeline) Param(key string) *Param {
	for _, q := range p.Params {
		if q.Key == key {
			return q
		}
	}
	return nil
}

// ParamKeys lists the parameter keys in declaration order.
func (p *Pipeline) ParamKeys() []string {
	keys := make([]string, len(p.Params))
	for i, q := range p.Params {
		keys[i] = q.Key
	}
	return keys
}

// Defaults returns every parameter's default value, indexed like Params.
func (p *Pipeline) Defaults() Values {
	v := make(Values, len(p.Params))
	for i, q := range p.Params {
		v[i] = q.Default
	}
	return v
}

// ValidationError describes a descriptor the loader refuses.
type ValidationError struct {
	File     string // plugin file as given to Open
	Pipeline string // pipeline id, or "#index" when the id itself is bad
	Field    string // e.g. `params[1] "intensity".min_value`
	Problem  string
}

func (e *ValidationError) Error() string {
	where := e.File
	if e.Pipeline != "" {
		where += ": pipeline " + e.Pipeline
	}
	if e.Field != "" {
		where += ": " + e.Field
	}
	return "invalid plugin " + where + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	keyPattern = regexp.MustCompile(`^[a-z0-9_.-]+$`)
)

// readPipelines copies and validates every descriptor of a registered library.
func (l *Library) readPipelines() error {
	n, _, _ := puregoCall(l.entry.PipelineCount)
	count := int(uint32(n))
	seen := map[string]int{}
	for i := 0; i < count; i++ {
		ptr, _, _ := puregoCall(l.entry.GetPipeline, uintptr(i))
		v := &validator{file: l.path, pipeline: fmt.Sprintf("#%d", i), newerMinor: l.entry.ABIMinor > abi.VersionMinor}
		if ptr == 0 {
			return v.fail("", fmt.Sprintf("get_pipeline(%d) returned NULL although pipeline_count is %d", i, count))
		}
		p, err := v.readPipeline(ptr)
		if err != nil {
			return err
		}
		if j, dup := seen[p.ID]; dup {
			return v.fail("id", fmt.Sprintf("duplicate pipeline id %q (also pipeline #%d)", p.ID, j))
		}
		seen[p.ID] = i
		p.lib = l
		l.pipelines = append(l.pipelines, p)
	}
	return nil
}

// validator turns plugin descriptors into schema values, failing on the first problem.
type validator struct {
	file, pipeline string
	// newerMinor is true for a plugin built against a newer minor version of the ABI: flag
	// bits this host does not know are then new, safe-to-ignore flags rather than garbage.
	newerMinor bool
}

// unknownBits returns the bits of flags outside known that the host must refuse: none for a
// plugin of a newer minor (the ABI promises new flags are safe to ignore), all otherwise.
func (v *validator) unknownBits(flags, known uint32) uint32 {
	if v.newerMinor {
		return 0
	}
	return flags &^ known
}

func (v *validator) fail(field, problem string) error {
	return fmt.Errorf("%w", &ValidationError{File: v.file, Pipeline: v.pipeline, Field: field, Problem: problem})
}

// str reads a string field; required strings must be non-NULL and non-empty.
func (v *validator) str(field string, p uintptr, required bool) (string, error) {
	if p == 0 {
		if required {
			return "", v.fail(field, "is NULL; it is required")
		}
		return "", nil
	}
	s, ok := abi.GoString(p)
	if !ok {
		return "", v.fail(field, fmt.Sprintf("has no NUL terminator within %d bytes", abi.MaxCString))
	}
	if !utf8.ValidString(s) {
		return "", v.fail(field, fmt.Sprintf("is not valid UTF-8: %q", s))
	}
	if required && s == "" {
		return "", v.fail(field, "is empty; it is required")
	}
	return s, nil
}

func (v *validator) readPipeline(ptr uintptr) (*Pipeline, error) {
	p := &Pipeline{ptr: ptr}
	d := &p.desc
	if size := abi.ReadSized(ptr, d); size < uint32(unsafe.Sizeof(*d)) {
		return nil, v.fail("struct_size", fmt.Sprintf("is %d; ABI %d.0 needs at least %d (set it to sizeof(scope_pipeline_desc))", size, abi.VersionMajor, unsafe.Sizeof(*d)))
	}
	var err error
	if p.ID, err = v.str("id", d.ID, true); err != nil {
		return nil, err
	}
	if !idPattern.MatchString(p.ID) {
		return nil, v.fail("id", fmt.Sprintf("%q must match [a-z0-9][a-z0-9_.-]*", p.ID))
	}
	v.pipeline = fmt.Sprintf("%q", p.ID)
	if p.Name, err = v.str("name", d.Name, true); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		ptr  uintptr
		dst  *string
	}{{"description", d.Description, &p.Description}, {"version", d.Version, &p.Version}, {"author", d.Author, &p.Author}, {"docs_url", d.DocsURL, &p.DocsURL}} {
		if *f.dst, err = v.str(f.name, f.ptr, false); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		ptr  uintptr
	}{{"create", d.Create}, {"destroy", d.Destroy}, {"prepare", d.Prepare}, {"call", d.CallFn}} {
		if f.ptr == 0 {
			return nil, v.fail(f.name, "is NULL; every pipeline needs create, destroy, prepare and call")
		}
	}
	known := abi.PipelineSupportsPrompts | abi.PipelineProducesAudio | abi.PipelineNoVideo | abi.PipelineNondeterministic
	if bad := v.unknownBits(d.Flags, known); bad != 0 {
		return nil, v.fail("flags", fmt.Sprintf("has unknown bits %#x", bad))
	}
	p.SupportsPrompts = d.Flags&abi.PipelineSupportsPrompts != 0
	p.ProducesAudio = d.Flags&abi.PipelineProducesAudio != 0
	p.ProducesVideo = d.Flags&abi.PipelineNoVideo == 0
	p.Nondeterministic = d.Flags&abi.PipelineNondeterministic != 0
	if !p.ProducesVideo && !p.ProducesAudio {
		return nil, v.fail("flags", "SCOPE_PIPELINE_NO_VIDEO without SCOPE_PIPELINE_PRODUCES_AUDIO: the pipeline would produce nothing")
	}
	p.Memory = d.Memory
	if p.Memory == 0 {
		p.Memory = abi.MemoryHost
	}
	if p.Memory&^(abi.MemoryHost|abi.MemoryCUDA) != 0 {
		return nil, v.fail("memory", fmt.Sprintf("has unknown bits %#x", p.Memory&^(abi.MemoryHost|abi.MemoryCUDA)))
	}
	switch d.Threading {
	case abi.ThreadingInstance:
	case abi.ThreadingSerial:
		p.Serial = true
	default:
		return nil, v.fail("threading", fmt.Sprintf("is %d; use SCOPE_THREADING_INSTANCE or SCOPE_THREADING_SERIAL", d.Threading))
	}
	if err := v.modes(p); err != nil {
		return nil, err
	}
	if err := v.ports(p); err != nil {
		return nil, err
	}
	if err := v.params(p); err != nil {
		return nil, err
	}
	return p, nil
}

// element returns the address of element i of a sized-struct array (stride = first element's
// struct_size).
func element(base uintptr, i int) uintptr {
	stride := uintptr(*(*uint32)(abi.Ptr(base)))
	return base + uintptr(i)*stride
}

func (v *validator) modes(p *Pipeline) error {
	d := &p.desc
	if d.ModeCount == 0 || d.Modes == 0 {
		return v.fail("modes", "no modes: declare at least one of SCOPE_MODE_TEXT, SCOPE_MODE_VIDEO")
	}
	if d.ModeCount > 2 {
		return v.fail("mode_count", fmt.Sprintf("is %d; there are only two modes", d.ModeCount))
	}
	if first := *(*uint32)(abi.Ptr(d.Modes)); first < uint32(unsafe.Sizeof(abi.ModeDesc{})) {
		return v.fail("modes[0].struct_size", fmt.Sprintf("is %d; needs at least %d", first, unsafe.Sizeof(abi.ModeDesc{})))
	}
	defaults := 0
	for i := 0; i < int(d.ModeCount); i++ {
		var m abi.ModeDesc
		abi.ReadSized(element(d.Modes, i), &m)
		field := fmt.Sprintf("modes[%d]", i)
		mode := Mode(m.Mode)
		if mode != ModeText && mode != ModeVideo {
			return v.fail(field+".mode", fmt.Sprintf("is %d; use SCOPE_MODE_TEXT or SCOPE_MODE_VIDEO", m.Mode))
		}
		if _, dup := p.ModeInfo(mode); dup {
			return v.fail(field+".mode", fmt.Sprintf("%s is declared twice", mode))
		}
		if mode == ModeVideo && m.InputSize == 0 {
			return v.fail(field+".input_size", "is 0; video mode needs at least one input frame per call")
		}
		if mode == ModeText && (m.Width == 0 || m.Height == 0) {
			return v.fail(field, "text mode needs a default width and height (there is no input to follow)")
		}
		if m.Width > 1<<15 || m.Height > 1<<15 || m.InputSize > 1024 {
			return v.fail(field, fmt.Sprintf("defaults %dx%d input_size %d are out of range (max 32768x32768, 1024 frames)", m.Width, m.Height, m.InputSize))
		}
		if m.IsDefault != 0 {
			defaults++
		}
		p.Modes = append(p.Modes, ModeInfo{Mode: mode, Default: m.IsDefault != 0, Width: int(m.Width), Height: int(m.Height), InputSize: int(m.InputSize)})
	}
	if defaults != 1 {
		return v.fail("modes", fmt.Sprintf("%d modes are marked is_default; exactly one must be", defaults))
	}
	return nil
}

func (v *validator) ports(p *Pipeline) error {
	d := &p.desc
	if d.InputPortCount == 0 {
		if _, ok := p.ModeInfo(ModeVideo); ok {
			p.InputPorts = []string{"video"}
		}
		return nil
	}
	if d.InputPorts == 0 {
		return v.fail("input_ports", fmt.Sprintf("is NULL but input_port_count is %d", d.InputPortCount))
	}
	if d.InputPortCount > 16 {
		return v.fail("input_port_count", fmt.Sprintf("is %d; at most 16", d.InputPortCount))
	}
	for i := 0; i < int(d.InputPortCount); i++ {
		name, err := v.str(fmt.Sprintf("input_ports[%d]", i), *(*uintptr)(abi.Ptr(d.InputPorts + uintptr(i)*unsafe.Sizeof(uintptr(0)))), true)
		if err != nil {
			return err
		}
		p.InputPorts = append(p.InputPorts, name)
	}
	return nil
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func (v *validator) params(p *Pipeline) error {
	d := &p.desc
	if d.ParamCount == 0 {
		return nil
	}
	if d.Params == 0 {
		return v.fail("params", fmt.Sprintf("is NULL but param_count is %d", d.ParamCount))
	}
	if d.ParamCount > 1024 {
		return v.fail("param_count", fmt.Sprintf("is %d; at most 1024", d.ParamCount))
	}
	if first := *(*uint32)(abi.Ptr(d.Params)); first < uint32(unsafe.Sizeof(abi.ParamDesc{})) {
		return v.fail("params[0].struct_size", fmt.Sprintf("is %d; needs at least %d (set it to sizeof(scope_param_desc))", first, unsafe.Sizeof(abi.ParamDesc{})))
	}
	seen := map[string]int{}
	for i := 0; i < int(d.ParamCount); i++ {
		var pd abi.ParamDesc
		abi.ReadSized(element(d.Params, i), &pd)
		field := fmt.Sprintf("params[%d]", i)
		key, err := v.str(field+".key", pd.Key, true)
		if err != nil {
			return err
		}
		field = fmt.Sprintf("params[%d] %q", i, key)
		if !keyPattern.MatchString(key) {
			return v.fail(field+".key", "must match [a-z0-9_.-]+")
		}
		if j, dup := seen[key]; dup {
			return v.fail(field+".key", fmt.Sprintf("duplicate parameter key (also params[%d])", j))
		}
		seen[key] = i
		q := &Param{Key: key, Index: i, Type: ParamType(pd.Type), Order: int(pd.Order)}
		if q.Label, err = v.str(field+".label", pd.Label, false); err != nil {
			return err
		}
		if q.Label == "" {
			q.Label = key
		}
		if q.Description, err = v.str(field+".description", pd.Description, false); err != nil {
			return err
		}
		if bad := v.unknownBits(pd.Flags, abi.ParamLoadTime|abi.ParamHidden); bad != 0 {
			return v.fail(field+".flags", fmt.Sprintf("has unknown bits %#x", bad))
		}
		q.LoadTime = pd.Flags&abi.ParamLoadTime != 0
		q.Hidden = pd.Flags&abi.ParamHidden != 0
		switch pd.Category {
		case abi.CategoryConfiguration:
			q.Category = "configuration"
		case abi.CategoryInput:
			q.Category = "input"
		default:
			return v.fail(field+".category", fmt.Sprintf("is %d; use SCOPE_CATEGORY_CONFIGURATION or SCOPE_CATEGORY_INPUT", pd.Category))
		}
		if pd.Modes&^(abi.ModeText|abi.ModeVideo) != 0 {
			return v.fail(field+".modes", fmt.Sprintf("has unknown bits %#x", pd.Modes&^(abi.ModeText|abi.ModeVideo)))
		}
		q.Modes = pd.Modes
		if err := v.paramValue(q, &pd, field); err != nil {
			return err
		}
		p.Params = append(p.Params, q)
	}
	return nil
}

// paramValue checks the type-specific fields of a parameter and fills its range and default.
func (v *validator) paramValue(q *Param, pd *abi.ParamDesc, field string) error {
	q.Default.Type = q.Type
	switch q.Type {
	case ParamBool:
		if !finite(pd.DefaultNumber) || (pd.DefaultNumber != 0 && pd.DefaultNumber != 1) {
			return v.fail(field+".default_number", fmt.Sprintf("is %v; a bool default is 0 or 1", pd.DefaultNumber))
		}
		q.Default.Bool = pd.DefaultNumber == 1
	case ParamInt, ParamFloat:
		for _, f := range []struct {
			name string
			x    float64
		}{{"min_value", pd.MinValue}, {"max_value", pd.MaxValue}, {"step", pd.Step}, {"default_number", pd.DefaultNumber}} {
			if !finite(f.x) {
				return v.fail(field+"."+f.name, fmt.Sprintf("is %v; bounds, step and default must be finite numbers", f.x))
			}
		}
		if pd.MinValue > pd.MaxValue {
			return v.fail(field+".min_value", fmt.Sprintf("min %v > max %v", pd.MinValue, pd.MaxValue))
		}
		if pd.Step < 0 {
			return v.fail(field+".step", fmt.Sprintf("is %v; must be >= 0", pd.Step))
		}
		if pd.DefaultNumber < pd.MinValue || pd.DefaultNumber > pd.MaxValue {
			return v.fail(field+".default_number", fmt.Sprintf("default %v is outside the range %v..%v", pd.DefaultNumber, pd.MinValue, pd.MaxValue))
		}
		q.Min, q.Max, q.Step = pd.MinValue, pd.MaxValue, pd.Step
		if q.Type == ParamInt {
			const maxExact = 1 << 53
			for _, x := range []float64{pd.MinValue, pd.MaxValue, pd.DefaultNumber, pd.Step} {
				if x != math.Trunc(x) || math.Abs(x) > maxExact {
					return v.fail(field, fmt.Sprintf("int parameter has a non-integral or too large bound, step or default (%v)", x))
				}
			}
			if q.Step == 0 {
				q.Step = 1
			}
			q.Default.Int = int64(pd.DefaultNumber)
		} else {
			q.Default.Float = pd.DefaultNumber
		}
	case ParamString:
		s, err := v.str(field+".default_string", pd.DefaultString, false)
		if err != nil {
			return err
		}
		q.Default.String = s
	case ParamEnum:
		if pd.OptionCount == 0 || pd.Options == 0 {
			return v.fail(field+".options", "an enum parameter needs at least one option")
		}
		if pd.OptionCount > 4096 {
			return v.fail(field+".option_count", fmt.Sprintf("is %d; at most 4096", pd.OptionCount))
		}
		if first := *(*uint32)(abi.Ptr(pd.Options)); first < uint32(unsafe.Sizeof(abi.EnumOption{})) {
			return v.fail(field+".options[0].struct_size", fmt.Sprintf("is %d; needs at least %d", first, unsafe.Sizeof(abi.EnumOption{})))
		}
		seen := map[string]bool{}
		for j := 0; j < int(pd.OptionCount); j++ {
			var o abi.EnumOption
			abi.ReadSized(element(pd.Options, j), &o)
			of := fmt.Sprintf("%s.options[%d]", field, j)
			key, err := v.str(of+".key", o.Key, true)
			if err != nil {
				return err
			}
			if seen[key] {
				return v.fail(of+".key", fmt.Sprintf("duplicate option key %q", key))
			}
			seen[key] = true
			label, err := v.str(of+".label", o.Label, false)
			if err != nil {
				return err
			}
			if label == "" {
				label = key
			}
			q.Options = append(q.Options, EnumOption{Key: key, Label: label})
		}
		def, err := v.str(field+".default_string", pd.DefaultString, true)
		if err != nil {
			return err
		}
		if !seen[def] {
			return v.fail(field+".default_string", fmt.Sprintf("unknown enum default %q; options are %s", def, strings.Join(q.OptionKeys(), ", ")))
		}
		q.Default.String = def
	case ParamColor:
		for j, c := range pd.DefaultColor {
			if math.IsNaN(float64(c)) || c < 0 || c > 1 {
				return v.fail(fmt.Sprintf("%s.default_color[%d]", field, j), fmt.Sprintf("is %v; color components are 0..1", c))
			}
		}
		q.Default.Color = pd.DefaultColor
	default:
		return v.fail(field+".type", fmt.Sprintf("unknown parameter type %d", pd.Type))
	}
	return nil
}
