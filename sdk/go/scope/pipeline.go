package scope

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Pipeline describes one pipeline: its identity, modes, parameters and constructor. Pass it
// to Register from an init function. Zero values are the defaults noted on each field.
type Pipeline struct {
	// ID is the stable id, unique across plugins: [a-z0-9][a-z0-9_.-]*. Required.
	ID string
	// Name is the human name, e.g. "Invert Colors". Required.
	Name string
	// Description is one sentence for the UI; "" = none.
	Description string
	// Version of the pipeline; "" = the plugin's (Info.Version).
	Version string
	// Author; "" = none.
	Author string
	// DocsURL links to documentation; "" = none.
	DocsURL string
	// Modes the pipeline supports, with their defaults. Exactly one may be marked Default; if
	// none is, the first one is. Empty = one video mode taking one frame per call.
	Modes []Mode
	// Params in display and value order: Params values arrive in this order.
	Params []Param
	// Memory kinds call accepts, as a mask; 0 = MemoryHost.
	Memory Memory
	// Flags: SupportsPrompts, ProducesAudio, NoVideo, Nondeterministic.
	Flags PipelineFlags
	// Threading: ThreadingInstance (default) or ThreadingSerial.
	Threading Threading
	// InputPorts names the video input ports; nil = one port, "video".
	InputPorts []string
	// New creates an instance (the ABI's create). ctx.Params holds every parameter with
	// load-time values final; it is valid during New only. Required.
	New func(ctx *CreateContext) (Instance, error)
}

// Mode is one mode a pipeline supports, with its defaults (Scope's ModeDefaults).
type Mode struct {
	Kind      ModeKind // ModeText or ModeVideo
	Default   bool     // the mode used when the user names none
	Width     int      // default output width; 0 = follow the input
	Height    int      // default output height; 0 = follow the input
	InputSize int      // default frames per call (video); 0 in text mode
}

// VideoMode returns a video mode taking inputSize frames per call.
func VideoMode(inputSize int) Mode { return Mode{Kind: ModeVideo, InputSize: inputSize} }

// TextMode returns a text mode generating frames of width x height.
func TextMode(width, height int) Mode { return Mode{Kind: ModeText, Width: width, Height: height} }

// AsDefault returns m marked as the default mode.
func (m Mode) AsDefault() Mode { m.Default = true; return m }

// Instance is one running instance of a pipeline, made by Pipeline.New. The host calls it
// from one goroutine at a time, but not always the same OS thread: keep no thread-bound
// state (runtime.LockOSThread, thread-local C state) between calls.
type Instance interface {
	// Prepare tells the host what the next Call needs. It runs before every Call: keep it
	// cheap. A zero Requirements asks for the mode's defaults. An error skips the tick.
	Prepare(ctx *PrepareContext) (Requirements, error)
	// Call processes one tick: read ctx.Inputs, write every pixel of ctx.Output. An error
	// drops this frame; the host goes on with the next one. Call is never reached before a
	// successful Prepare (the SDK returns StatusBadState instead).
	Call(ctx *CallContext) error
	// Close releases everything the instance holds and stops its goroutines (the ABI's
	// destroy). It is called once; the instance is not used afterwards.
	Close()
}

// Info names the plugin library (the scope_plugin table).
type Info struct {
	// Name of the library, e.g. "scope-examples-go". "" = the last element of the main
	// module's path.
	Name string
	// Version of the library, e.g. "1.0.0". "" = the main module's version, or "0.0.0" when
	// it has none (a local build).
	Version string
	// Description; "" = none.
	Description string
}

// pipeline is a registered, validated Pipeline.
type pipeline struct {
	Pipeline
	index map[string]int // parameter key -> position in Params (and in the values the host passes)
}

// Register adds a pipeline to this library. Call it from an init function of package main
// (or of a package main imports), once per pipeline: the host reads the pipelines when it
// loads the library, after every init has run.
//
// A mistake in the description (a bad id, a default outside its range, a duplicate key...) is
// not a panic, which would kill the host while it loads the library: it is kept, and the
// host's register_pipelines call fails with a message naming it. Register panics when called
// after the host has registered the library, because the pipeline table must not change
// while the host holds it.
func Register(p Pipeline) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.loaded {
		panic("scope: Register called after the host loaded the plugin; call it from an init function")
	}
	pp, err := newPipeline(p)
	if err == nil {
		for _, q := range registry.pipelines {
			if q.ID == p.ID {
				err = fmt.Errorf("pipeline %q: registered twice", p.ID)
			}
		}
	}
	if err != nil {
		registry.errs = append(registry.errs, err)
		return
	}
	registry.pipelines = append(registry.pipelines, pp)
}

// SetInfo sets the library's name, version and description. Call it from an init function;
// it panics after the host has read them.
func SetInfo(info Info) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.infoRead {
		panic("scope: SetInfo called after the host read the plugin table; call it from an init function")
	}
	registry.info = info
}

// newPipeline validates p and copies what the caller could still change.
func newPipeline(p Pipeline) (*pipeline, error) {
	fail := func(format string, args ...any) (*pipeline, error) {
		return nil, fmt.Errorf("pipeline %q: %s", p.ID, fmt.Sprintf(format, args...))
	}
	if !validID(p.ID, true) {
		return fail("id must match [a-z0-9][a-z0-9_.-]*")
	}
	if p.Name == "" {
		return fail("name is empty")
	}
	if p.New == nil {
		return fail("New is nil")
	}
	if strings.ContainsRune(p.Name+p.Description+p.Version+p.Author+p.DocsURL+strings.Join(p.InputPorts, ""), 0) {
		return fail("text contains a NUL byte")
	}
	for _, port := range p.InputPorts {
		if port == "" {
			return fail("an input port name is empty")
		}
	}
	p.Modes = append([]Mode(nil), p.Modes...)
	if len(p.Modes) == 0 {
		p.Modes = []Mode{VideoMode(1)}
	}
	defaults := 0
	for _, m := range p.Modes {
		if m.Kind != ModeText && m.Kind != ModeVideo {
			return fail("mode kind %d is neither ModeText nor ModeVideo", m.Kind)
		}
		if m.Width < 0 || m.Height < 0 || m.InputSize < 0 || m.Width > math.MaxUint32 || m.Height > math.MaxUint32 || m.InputSize > math.MaxUint32 {
			return fail("mode sizes must be in 0..2^32-1")
		}
		if m.Default {
			defaults++
		}
	}
	switch defaults {
	case 0:
		p.Modes[0].Default = true
	case 1:
	default:
		return fail("%d modes are marked Default; mark one", defaults)
	}
	p.Params = append([]Param(nil), p.Params...)
	pp := &pipeline{index: make(map[string]int, len(p.Params))}
	for i, prm := range p.Params {
		if err := checkParam(prm); err != nil {
			return fail("param %q: %v", prm.key, err)
		}
		if _, dup := pp.index[prm.key]; dup {
			return fail("param %q: duplicate key", prm.key)
		}
		pp.index[prm.key] = i
		p.Params[i].options = append([]Option(nil), prm.options...)
	}
	p.InputPorts = append([]string(nil), p.InputPorts...)
	if p.Memory == 0 {
		p.Memory = MemoryHost
	}
	pp.Pipeline = p
	return pp, nil
}

// checkParam validates one parameter description.
func checkParam(p Param) error {
	if !validID(p.key, false) {
		return errors.New("key must match [a-z0-9_.-]+")
	}
	switch p.typ {
	case ParamBool, ParamInt, ParamFloat:
		if math.IsNaN(p.min) || math.IsInf(p.min, 0) || math.IsNaN(p.max) || math.IsInf(p.max, 0) || p.min > p.max {
			return fmt.Errorf("min %v and max %v must be finite with min <= max", p.min, p.max)
		}
		if !(p.number >= p.min && p.number <= p.max) {
			return fmt.Errorf("default %v is outside [%v, %v]", p.number, p.min, p.max)
		}
	case ParamString, ParamColor:
	case ParamEnum:
		if len(p.options) == 0 {
			return errors.New("an enum needs at least one option")
		}
		found := false
		seen := make(map[string]bool, len(p.options))
		for _, o := range p.options {
			if !validID(o.Key, false) {
				return fmt.Errorf("option key %q must match [a-z0-9_.-]+", o.Key)
			}
			if seen[o.Key] {
				return fmt.Errorf("duplicate option %q", o.Key)
			}
			seen[o.Key] = true
			found = found || o.Key == p.str
		}
		if !found {
			return fmt.Errorf("default %q is not an option", p.str)
		}
	default:
		return fmt.Errorf("unknown type %d (make parameters with Float, Int, Bool, String, Enum or Color)", p.typ)
	}
	labels := ""
	for _, o := range p.options {
		labels += o.Label
	}
	if strings.ContainsRune(p.label+p.description+p.str+labels, 0) {
		return errors.New("text contains a NUL byte")
	}
	return nil
}

// validID reports whether s is a non-empty [a-z0-9_.-]+, starting with [a-z0-9] if firstAlnum.
func validID(s string, firstAlnum bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (firstAlnum && i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}
