package engine

import (
	"errors"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// Instance is what the engine runs a stage through: a *loader.Instance in this process, or
// a *pluginhost.Instance in a plugin host child (an isolated node). Like a loader instance,
// it is called from the run's goroutine only, except InFlight.
type Instance interface {
	Pipeline() *loader.Pipeline
	File() string // the plugin file, as given to the loader
	Mode() loader.Mode
	CUDADevice() int // the CUDA device ordinal it was created for, -1 for none
	Values() loader.Values
	SetParams(loader.Values) error
	Prepare([]frame.Format) (loader.Requirements, error)
	PrepareOn([]frame.Format, uint32) (loader.Requirements, error)
	Call(*loader.CallArgs) error
	InFlight() (loader.InFlight, bool)
	Close()
}

// bypass reports whether err comes from an instance that cannot run now but whose stage
// keeps the run going (an isolated instance that crashed, restarts or is disabled): the
// stage then passes its input through. reported is true when the instance has reported the
// cause already (the engine does not hand it to OnError again).
func bypass(err error) (ok, reported bool) {
	if err == nil {
		return false, false // without the errors.As below, which allocates
	}
	var b interface{ Bypass() (reported bool) }
	if errors.As(err, &b) {
		return true, b.Bypass()
	}
	return false, false
}

// errBypass stands for a call the engine does not make: the stage's prepare found its
// instance unable to run this tick.
var errBypass = bypassed{}

type bypassed struct{}

func (bypassed) Error() string           { return "the stage's instance cannot run this tick" }
func (bypassed) Bypass() (reported bool) { return true }

// isolated is implemented by instances that run in a plugin host child.
type isolated interface {
	Restarts() int
	State() string
	LastFault() string
}

// isolation fills the isolation fields of a stage's stats.
func isolation(in Instance, s *StageStats) {
	if iso, ok := in.(isolated); ok {
		s.Isolated, s.Restarts, s.State, s.LastFault = true, iso.Restarts(), iso.State(), iso.LastFault()
	}
}
