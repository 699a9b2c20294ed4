package validate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"unicode"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/internal/crashscan"
	"github.com/scopenative/scope/loader"
)

// optionKeyPattern is what a parameter key must match; option keys are held to it as advice.
var optionKeyPattern = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// checkEnumKeys looks at the option keys of every enum parameter (keys are stored in users'
// settings and passed as the value, so they must be exactly what they look like).
func checkEnumKeys(_ string, p *planPipeline) outcome {
	enums, options := 0, 0
	var advice []string
	for _, q := range p.Params {
		if q.Type != loader.ParamEnum {
			continue
		}
		enums++
		labels := map[string]string{}
		folded := map[string]string{}
		for _, o := range q.Options {
			options++
			k := o.Key
			if strings.TrimSpace(k) != k {
				return fail("%q: option key %q has leading or trailing white space (keys are stored in settings and compared exactly)", q.Key, k)
			}
			if strings.IndexFunc(k, unicode.IsControl) >= 0 {
				return fail("%q: option key %q contains a control character", q.Key, k)
			}
			if !optionKeyPattern.MatchString(k) {
				advice = append(advice, fmt.Sprintf("%q: option key %q is not [a-z0-9_.-]+", q.Key, k))
			}
			if prev, dup := folded[strings.ToLower(k)]; dup {
				advice = append(advice, fmt.Sprintf("%q: option keys %q and %q differ only in case", q.Key, prev, k))
			}
			folded[strings.ToLower(k)] = k
			if prev, dup := labels[o.Label]; dup {
				advice = append(advice, fmt.Sprintf("%q: options %q and %q have the same label %q", q.Key, prev, k, o.Label))
			}
			labels[o.Label] = k
		}
	}
	if enums == 0 {
		return na()
	}
	if len(advice) > 0 {
		return warn("%s", strings.Join(advice, "; "))
	}
	return pass("%d enum parameter%s, %d option keys", enums, plural(enums), options)
}

// checkRanges warns about numeric parameters a user interface cannot present well (the
// loader has already refused the ones a host cannot use).
func checkRanges(_ string, p *planPipeline) outcome {
	numeric := 0
	var advice []string
	for _, q := range p.Params {
		if q.Type != loader.ParamInt && q.Type != loader.ParamFloat {
			continue
		}
		numeric++
		switch {
		case q.Min == q.Max:
			advice = append(advice, fmt.Sprintf("%q: min = max = %g, so it can take one value only", q.Key, q.Min))
		case q.Step > q.Max-q.Min:
			advice = append(advice, fmt.Sprintf("%q: step %g is larger than the range %s", q.Key, q.Step, q.Range()))
		case q.Type == loader.ParamInt && q.Step > 1 && math.Mod(float64(q.Default.Int)-q.Min, q.Step) != 0:
			advice = append(advice, fmt.Sprintf("%q: default %d is not on the step grid %g + k*%g", q.Key, q.Default.Int, q.Min, q.Step))
		case q.Type == loader.ParamFloat && (math.Abs(q.Min) > 1e15 || math.Abs(q.Max) > 1e15):
			advice = append(advice, fmt.Sprintf("%q: the range %s is too wide for a slider", q.Key, q.Range()))
		}
	}
	if numeric == 0 {
		return na()
	}
	if len(advice) > 0 {
		return warn("%s", strings.Join(advice, "; "))
	}
	return pass("%d numeric parameter%s with usable ranges", numeric, plural(numeric))
}

// field is one named value of a descriptor snapshot.
type field struct{ name, value string }

// element returns the address of element i of a sized-struct array (stride = the first
// element's struct_size), as the loader walks them.
func element(base uintptr, i int) uintptr {
	return base + uintptr(i)*uintptr(*(*uint32)(abi.Ptr(base)))
}

func cstr(p uintptr) string {
	if p == 0 {
		return "NULL"
	}
	s, _ := abi.GoString(p)
	return fmt.Sprintf("%q", s)
}

// snapPipeline copies everything a descriptor says into comparable fields.
func snapPipeline(ptr uintptr) []field {
	var d abi.PipelineDesc
	abi.ReadSized(ptr, &d)
	fs := []field{
		{"id", cstr(d.ID)}, {"name", cstr(d.Name)}, {"description", cstr(d.Description)}, {"version", cstr(d.Version)},
		{"flags", fmt.Sprint(d.Flags)}, {"memory", fmt.Sprint(d.Memory)}, {"threading", fmt.Sprint(d.Threading)},
		{"mode_count", fmt.Sprint(d.ModeCount)}, {"param_count", fmt.Sprint(d.ParamCount)},
		{"functions", fmt.Sprintf("%#x %#x %#x %#x", d.Create, d.Destroy, d.Prepare, d.CallFn)},
	}
	for i := 0; i < int(d.ModeCount) && d.Modes != 0; i++ {
		var m abi.ModeDesc
		abi.ReadSized(element(d.Modes, i), &m)
		fs = append(fs, field{fmt.Sprintf("modes[%d]", i), fmt.Sprintf("%+v", m)})
	}
	for i := 0; i < int(d.ParamCount) && d.Params != 0; i++ {
		var q abi.ParamDesc
		abi.ReadSized(element(d.Params, i), &q)
		name := fmt.Sprintf("params[%d] %s", i, cstr(q.Key))
		fs = append(fs,
			field{name + ".type", fmt.Sprint(q.Type)}, field{name + ".label", cstr(q.Label)},
			field{name + ".flags", fmt.Sprint(q.Flags)}, field{name + ".min_value", fmt.Sprint(q.MinValue)},
			field{name + ".max_value", fmt.Sprint(q.MaxValue)}, field{name + ".step", fmt.Sprint(q.Step)},
			field{name + ".default_number", fmt.Sprint(q.DefaultNumber)}, field{name + ".default_color", fmt.Sprint(q.DefaultColor)},
			field{name + ".option_count", fmt.Sprint(q.OptionCount)})
		if q.Type == abi.ParamString || q.Type == abi.ParamEnum {
			fs = append(fs, field{name + ".default_string", cstr(q.DefaultString)})
		}
		for j := 0; j < int(q.OptionCount) && q.Options != 0 && q.Type == abi.ParamEnum; j++ {
			var o abi.EnumOption
			abi.ReadSized(element(q.Options, j), &o)
			fs = append(fs, field{fmt.Sprintf("%s.options[%d]", name, j), cstr(o.Key) + " " + cstr(o.Label)})
		}
	}
	return fs
}

// diffFields names the first difference between two snapshots, or "".
func diffFields(before, after []field) string {
	for i := range before {
		if i >= len(after) {
			return fmt.Sprintf("%s disappeared", before[i].name)
		}
		if before[i] != after[i] {
			if before[i].name != after[i].name {
				return fmt.Sprintf("%s became %s", before[i].name, after[i].name)
			}
			return fmt.Sprintf("%s changed from %s to %s", before[i].name, before[i].value, after[i].value)
		}
	}
	if len(after) > len(before) {
		return fmt.Sprintf("%s appeared", after[len(before)].name)
	}
	return ""
}

// checkDefaults creates an instance with the defaults the descriptor declares, prepares and
// calls it once, destroys it, and checks that the descriptor still declares what it did:
// the host reads defaults and ranges once, so a plugin that changes them (or writes to its
// own tables) is showing users stale values.
func checkDefaults(e *env) outcome {
	l, o, ok := openRegistered(e)
	if !ok {
		return o
	}
	defer l.close()
	defer l.unregister()
	ptr := l.pipeline(e.u.Pipeline)
	if ptr == 0 {
		return fail("pipeline %q is missing when the library is registered again", e.u.Pipeline)
	}
	before := snapPipeline(ptr)
	ran, err := rawExercise(e, l, ptr)
	if d := diffFields(before, snapPipeline(ptr)); d != "" {
		return fail("the descriptor's %s after %s with the declared defaults", d, ran)
	}
	note := ""
	if err != nil {
		note = fmt.Sprintf(" (then %v; see sizes)", err)
	}
	var d abi.PipelineDesc
	abi.ReadSized(ptr, &d)
	return pass("the declared defaults and ranges of %d parameter%s are unchanged after %s%s", d.ParamCount, plural(int(d.ParamCount)), ran, note)
}

// rawExercise runs one create / prepare / call / destroy of the descriptor at ptr with the
// defaults it declares, through the raw library (the loader would use its own copy of the
// descriptor). It returns what it ran, e.g. "create, prepare, call and destroy".
func rawExercise(e *env, l *rawLib, ptr uintptr) (string, error) {
	var d abi.PipelineDesc
	abi.ReadSized(ptr, &d)
	// Values: the declared defaults, in our own memory.
	var keep [][]byte
	cs := func(p uintptr) uintptr {
		s, _ := abi.GoString(p)
		b := abi.CString(s)
		keep = append(keep, b)
		return uintptr(unsafe.Pointer(&b[0]))
	}
	values := make([]abi.Value, d.ParamCount)
	for i := range values {
		var q abi.ParamDesc
		abi.ReadSized(element(d.Params, i), &q)
		v := &values[i]
		v.Key, v.Type = cs(q.Key), q.Type
		switch q.Type {
		case abi.ParamBool:
			v.SetBool(q.DefaultNumber != 0)
		case abi.ParamInt:
			v.SetInt(int64(q.DefaultNumber))
		case abi.ParamFloat:
			v.SetFloat(q.DefaultNumber)
		case abi.ParamString, abi.ParamEnum:
			v.SetString(cs(q.DefaultString))
		case abi.ParamColor:
			v.SetColor(q.DefaultColor)
		}
	}
	params := abi.Params{StructSize: uint32(unsafe.Sizeof(abi.Params{})), Count: d.ParamCount}
	if len(values) > 0 {
		params.Values = uintptr(unsafe.Pointer(&values[0]))
	}
	var mode abi.ModeDesc
	for i := 0; i < int(d.ModeCount); i++ {
		var m abi.ModeDesc
		abi.ReadSized(element(d.Modes, i), &m)
		if i == 0 || m.IsDefault != 0 {
			mode = m
		}
	}
	eb := abi.NewErrorBuffer()
	args := abi.CreateArgs{StructSize: uint32(unsafe.Sizeof(abi.CreateArgs{})), Mode: mode.Mode, Pipeline: ptr, Params: uintptr(unsafe.Pointer(&params)), CUDADevice: -1}
	var inst uintptr
	e.tr.step("create with the declared defaults")
	st, _, _ := purego.SyscallN(d.Create, uintptr(unsafe.Pointer(&l.host.host)), uintptr(unsafe.Pointer(&args)), uintptr(unsafe.Pointer(&inst)), eb.Ptr())
	if s := abi.Status(int32(st)); s.Failed() {
		return "create", fmt.Errorf("create failed (%v): %s", s, eb.Message("(no message)"))
	}
	if inst == 0 {
		return "create", fmt.Errorf("create returned SCOPE_OK but no instance")
	}
	destroy := func() {
		e.tr.step("destroy")
		purego.SyscallN(d.Destroy, inst)
	}

	video := mode.Mode == abi.ModeVideo
	const w, h = 33, 17
	ports := 0
	if video {
		ports = max(1, int(d.InputPortCount))
	}
	formats := make([]abi.FrameFormat, ports)
	fptrs := make([]uintptr, ports)
	for i := range formats {
		formats[i] = abi.FrameFormat{StructSize: uint32(unsafe.Sizeof(abi.FrameFormat{})), Width: w, Height: h, Channels: 3, ElementType: abi.ElementU8, Memory: abi.MemoryHost}
		fptrs[i] = uintptr(unsafe.Pointer(&formats[i]))
	}
	prep := abi.PrepareArgs{StructSize: uint32(unsafe.Sizeof(abi.PrepareArgs{})), Mode: mode.Mode, Params: uintptr(unsafe.Pointer(&params)), InputPortCount: uint32(ports)}
	if ports > 0 {
		prep.InputFormats = uintptr(unsafe.Pointer(&fptrs[0]))
	}
	req := abi.Requirements{StructSize: uint32(unsafe.Sizeof(abi.Requirements{}))}
	e.tr.step("prepare (%dx%d rgb u8) with the declared defaults", w, h)
	st, _, _ = purego.SyscallN(d.Prepare, inst, uintptr(unsafe.Pointer(&prep)), uintptr(unsafe.Pointer(&req)), eb.Ptr())
	if s := abi.Status(int32(st)); s.Failed() {
		destroy()
		return "create, prepare and destroy", fmt.Errorf("prepare failed (%v): %s", s, eb.Message("(no message)"))
	}
	if req.InputMemory == abi.MemoryCUDA || req.OutputMemory == abi.MemoryCUDA {
		destroy()
		return "create, prepare and destroy (it asks for CUDA frames, so no call)", nil
	}

	// Frames as the requirements ask, zeros for content.
	elemOr := func(t uint32) uint32 {
		if t == 0 {
			return abi.ElementU8
		}
		return t
	}
	newFrame := func(fw, fh, ch, et uint32) abi.Frame {
		size := 1
		if et == abi.ElementF32 {
			size = 4
		}
		pitch := int(fw*ch) * size
		buf := make([]byte, pitch*int(fh)+1)
		keep = append(keep, buf)
		return abi.Frame{StructSize: uint32(unsafe.Sizeof(abi.Frame{})), Width: fw, Height: fh, Channels: ch, ElementType: et,
			Memory: abi.MemoryHost, Pitch: int64(pitch), Data: uintptr(unsafe.Pointer(&buf[0])), CUDADevice: -1}
	}
	inCh := uint32(3)
	if req.InputChannels != 0 {
		inCh = req.InputChannels
	}
	n := int(req.InputSize)
	if n == 0 {
		n = int(mode.InputSize)
	}
	n = min(max(n, 1), 1024)
	lists := make([]abi.FrameList, ports)
	var frames [][]abi.Frame
	var ptrs [][]uintptr
	for pi := range lists {
		fs := make([]abi.Frame, n)
		ps := make([]uintptr, n)
		for k := range fs {
			fs[k] = newFrame(w, h, inCh, elemOr(req.InputElementType))
			ps[k] = uintptr(unsafe.Pointer(&fs[k]))
		}
		frames, ptrs = append(frames, fs), append(ptrs, ps)
		lists[pi] = abi.FrameList{Frames: uintptr(unsafe.Pointer(&ps[0])), Count: uint32(n)}
	}
	call := abi.Call{StructSize: uint32(unsafe.Sizeof(abi.Call{})), Flags: abi.CallFirst, InputPortCount: uint32(ports), Params: uintptr(unsafe.Pointer(&params))}
	if ports > 0 {
		call.Inputs = uintptr(unsafe.Pointer(&lists[0]))
	}
	var out abi.Frame
	if d.Flags&abi.PipelineNoVideo == 0 {
		ow, oh, och := uint32(w), uint32(h), inCh // video: as the input
		if !video {
			ow, oh, och = mode.Width, mode.Height, 3
		}
		if req.OutputWidth != 0 {
			ow = req.OutputWidth
		}
		if req.OutputHeight != 0 {
			oh = req.OutputHeight
		}
		if req.OutputChannels != 0 {
			och = req.OutputChannels
		}
		out = newFrame(ow, oh, och, elemOr(req.OutputElementType))
		call.Output = uintptr(unsafe.Pointer(&out))
	}
	var audio abi.Audio
	if d.Flags&abi.PipelineProducesAudio != 0 {
		samples := make([]float32, 2*int(req.AudioMaxFrames)+2)
		audio = abi.Audio{StructSize: uint32(unsafe.Sizeof(abi.Audio{})), CapacityFrames: req.AudioMaxFrames, Samples: uintptr(unsafe.Pointer(&samples[0]))}
		call.Audio = uintptr(unsafe.Pointer(&audio))
		defer runtime.KeepAlive(samples)
	}
	e.tr.step("call (%dx%d rgb u8) with the declared defaults", w, h)
	st, _, _ = purego.SyscallN(d.CallFn, inst, uintptr(unsafe.Pointer(&call)), eb.Ptr())
	runtime.KeepAlive(frames)
	runtime.KeepAlive(ptrs)
	runtime.KeepAlive(keep)
	if s := abi.Status(int32(st)); s.Failed() {
		destroy()
		return "create, prepare, call and destroy", fmt.Errorf("call failed (%v): %s", s, eb.Message("(no message)"))
	}
	destroy()
	runtime.KeepAlive(values)
	return "create, prepare, call and destroy", nil
}

// Value generation for param-fuzz and the other checks.

// fuzzStrings are the texts string parameters get: empty, non-ASCII, long, multi-line.
var fuzzStrings = []string{"", "a red car", "héllo wörld ✓ 日本語", strings.Repeat("long text ", 100), "two\nlines", "\"quotes\" and \\backslash"}

// boundValue returns q's lowest (hi false) or highest value.
func boundValue(q *loader.Param, hi bool) loader.Value {
	v := loader.Value{Type: q.Type}
	switch q.Type {
	case loader.ParamBool:
		v.Bool = hi
	case loader.ParamInt:
		v.Int = int64(q.Min)
		if hi {
			v.Int = int64(q.Max)
		}
	case loader.ParamFloat:
		v.Float = q.Min
		if hi {
			v.Float = q.Max
		}
	case loader.ParamString:
		if hi {
			v.String = strings.Repeat("ä", 2000)
		}
	case loader.ParamEnum:
		v.String = q.Options[0].Key
		if hi {
			v.String = q.Options[len(q.Options)-1].Key
		}
	case loader.ParamColor:
		if hi {
			v.Color = [4]float32{1, 1, 1, 1}
		}
	}
	return v
}

// randomValue returns a random allowed value of q.
func randomValue(q *loader.Param, r *rand.Rand) loader.Value {
	v := loader.Value{Type: q.Type}
	switch q.Type {
	case loader.ParamBool:
		v.Bool = r.IntN(2) == 1
	case loader.ParamInt:
		x := math.Floor(q.Min + r.Float64()*(q.Max-q.Min+1))
		v.Int = int64(math.Min(math.Max(x, q.Min), q.Max))
	case loader.ParamFloat:
		v.Float = math.Min(math.Max(q.Min+r.Float64()*(q.Max-q.Min), q.Min), q.Max)
	case loader.ParamString:
		v.String = fuzzStrings[r.IntN(len(fuzzStrings))]
	case loader.ParamEnum:
		v.String = q.Options[r.IntN(len(q.Options))].Key
	case loader.ParamColor:
		for i := range v.Color {
			v.Color[i] = r.Float32()
		}
	}
	return v
}

// runtimeSet returns base with every runtime (not load-time) parameter set by f.
func runtimeSet(params []*loader.Param, base loader.Values, f func(q *loader.Param) loader.Value) loader.Values {
	out := base.Clone()
	for i, q := range params {
		if !q.LoadTime {
			out[i] = f(q)
		}
	}
	return out
}

// describe formats the values of the parameters for a message, e.g. "strength=10 edge=hard";
// long texts are shortened.
func describe(params []*loader.Param, values loader.Values, loadTime bool) string {
	var parts []string
	for i, q := range params {
		if q.LoadTime != loadTime {
			continue
		}
		t := values[i].Text()
		if q.Type == loader.ParamString || q.Type == loader.ParamEnum {
			t = strconv.Quote(t)
		}
		parts = append(parts, q.Key+"="+crashscan.Clip(t, 24))
	}
	if len(parts) == 0 {
		return "no parameters"
	}
	return crashscan.Clip(strings.Join(parts, " "), 240)
}
