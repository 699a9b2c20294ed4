package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// outage is an error of an instance that cannot run now (as an isolated instance's fault,
// restart and disabled errors are).
type outage struct{ reported bool }

func (o outage) Error() string           { return "the plugin host child crashed" }
func (o outage) Bypass() (reported bool) { return o.reported }

// flaky is an instance whose calls (and prepares) fail with an outage on chosen ticks.
type flaky struct {
	*loader.Instance
	tick     int
	call     map[int]outage // by tick
	prepare  map[int]outage
	prepared int
}

func (f *flaky) Prepare(in []frame.Format) (loader.Requirements, error) {
	f.prepared++
	if o, ok := f.prepare[f.prepared-1]; ok {
		return loader.Requirements{}, o
	}
	return f.Instance.Prepare(in)
}

// Restarts and State make it look isolated to the engine's stats.
func (f *flaky) Restarts() int { return len(f.call) }
func (f *flaky) State() string { return "running" }
func (f *flaky) LastFault() string {
	if len(f.call) == 0 {
		return ""
	}
	return "flaky: the last outage"
}

func (f *flaky) Call(a *loader.CallArgs) error {
	f.tick++
	if o, ok := f.call[f.tick-1]; ok {
		return o
	}
	return f.Instance.Call(a)
}

// A stage whose isolated instance crashes or restarts passes its input through: invert
// followed by a flaky invert delivers every frame, the flaky stage's outage ticks carrying
// the first stage's (inverted) frame, the others the original; only unreported causes go to
// OnError, and the stats count the passed-through ticks.
func TestOutageStagePassesItsInputThrough(t *testing.T) {
	lib := open(t, "invert")
	first := instance(t, lib, "invert", loader.ModeVideo)
	second := &flaky{Instance: instance(t, lib, "invert", loader.ModeVideo),
		call:    map[int]outage{3: {reported: false}, 4: {reported: true}},
		prepare: map[int]outage{7: {reported: true}}}
	sink := &collectSink{}
	var reported []error
	e, err := engine.New(engine.Config{Stages: []engine.Instance{first, second}, Sink: sink, Frames: 10,
		Source:  &counterSource{format: frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8}},
		OnError: func(_ int, err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.frames) != 10 {
		t.Fatalf("%d frames delivered, want all 10", len(sink.frames))
	}
	// Prepare 7 is the prepare of tick 7 (one per tick); calls 3 and 4 are ticks 3 and 4.
	for i, f := range sink.frames {
		want := byte(i) // inverted twice
		if i == 3 || i == 4 || i == 7 {
			want = 255 - byte(i) // inverted once: the second stage passed it through
		}
		if got := f.Row(0)[0]; got != want {
			t.Errorf("frame %d: %d, want %d", i, got, want)
		}
	}
	if len(reported) != 1 || !errors.As(reported[0], new(outage)) {
		t.Fatalf("OnError saw %v, want the one unreported outage", reported)
	}
	if got := stats.Stages[1].Bypassed; got != 3 {
		t.Fatalf("stats count %d passed-through ticks, want 3", got)
	}
	if st := stats.Stages[1]; !st.Isolated || st.Restarts != 2 || st.State != "running" || st.LastFault != "flaky: the last outage" || stats.Stages[0].Isolated {
		t.Fatalf("stage stats %+v / %+v: want only the second isolated, with 2 restarts", stats.Stages[0], st)
	}
	if s := stats.Summary(); !strings.Contains(s, "3 passed through, isolated (2 restarts)") {
		t.Fatalf("summary %q does not show the isolated stage", s)
	}
	if stats.Errors != 0 || stats.Stages[1].Errors != 0 {
		t.Fatalf("errors %d/%d: an outage is not a dropped tick", stats.Errors, stats.Stages[1].Errors)
	}
}
