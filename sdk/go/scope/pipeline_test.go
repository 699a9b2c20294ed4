package scope

import (
	"strings"
	"testing"
)

func newOK(*CreateContext) (Instance, error) { return nil, nil }

// TestNewPipeline checks the validation Register applies, one mistake per case.
func TestNewPipeline(t *testing.T) {
	good := Pipeline{ID: "a", Name: "A", New: newOK}
	with := func(f func(p *Pipeline)) Pipeline { p := good; f(&p); return p }
	tests := []struct {
		name string
		p    Pipeline
		err  string // "" = valid
	}{
		{"minimal", good, ""},
		{"bad id", with(func(p *Pipeline) { p.ID = "Bad" }), "id must match"},
		{"id starts with dash", with(func(p *Pipeline) { p.ID = "-a" }), "id must match"},
		{"no name", with(func(p *Pipeline) { p.Name = "" }), "name is empty"},
		{"no New", with(func(p *Pipeline) { p.New = nil }), "New is nil"},
		{"two defaults", with(func(p *Pipeline) { p.Modes = []Mode{VideoMode(1).AsDefault(), TextMode(1, 1).AsDefault()} }), "2 modes are marked Default"},
		{"bad mode", with(func(p *Pipeline) { p.Modes = []Mode{{Kind: 7}} }), "mode kind 7"},
		{"default out of range", with(func(p *Pipeline) { p.Params = []Param{Float("x", 2, 0, 1)} }), `param "x": default 2 is outside [0, 1]`},
		{"min > max", with(func(p *Pipeline) { p.Params = []Param{Int("x", 0, 1, -1)} }), "min <= max"},
		{"duplicate key", with(func(p *Pipeline) { p.Params = []Param{Bool("x", true), Bool("x", false)} }), "duplicate key"},
		{"bad key", with(func(p *Pipeline) { p.Params = []Param{Bool("X Y", true)} }), "key must match"},
		{"enum default", with(func(p *Pipeline) { p.Params = []Param{Enum("e", "c", Option{Key: "a"}, Option{Key: "b"})} }), `default "c" is not an option`},
		{"enum empty", with(func(p *Pipeline) { p.Params = []Param{Enum("e", "a")} }), "at least one option"},
		{"enum duplicate", with(func(p *Pipeline) { p.Params = []Param{Enum("e", "a", Option{Key: "a"}, Option{Key: "a"})} }), "duplicate option"},
		{"zero Param", with(func(p *Pipeline) { p.Params = []Param{{}} }), "key must match"},
		{"NUL", with(func(p *Pipeline) { p.Description = "a\x00b" }), "NUL"},
		{"all types", with(func(p *Pipeline) {
			p.Params = []Param{Float("f", 0.5, 0, 1), Int("i", 3, 0, 10), Bool("b", true), String("s", "hi"),
				Enum("e", "b", Option{Key: "a"}, Option{Key: "b", Label: "B"}), Color("c", RGBA{1, 0, 0, 1}).LoadTime().Hidden()}
		}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp, err := newPipeline(tc.p)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			case tc.err == "" && (len(pp.Modes) == 0 || !pp.Modes[0].Default || pp.Memory != MemoryHost):
				t.Fatalf("defaults not filled in: %+v", pp.Pipeline)
			}
		})
	}
}

// TestNewPipelineCopies checks that a registered pipeline does not change with the caller's slices.
func TestNewPipelineCopies(t *testing.T) {
	params := []Param{Float("x", 0, 0, 1)}
	pp, err := newPipeline(Pipeline{ID: "a", Name: "A", New: newOK, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	params[0] = Bool("y", false)
	if pp.Params[0].Key() != "x" || pp.index["x"] != 0 {
		t.Fatalf("registered params changed with the caller's slice: %+v", pp.Params)
	}
}

// TestParamBuilders checks that the chained methods set what they say and return copies.
func TestParamBuilders(t *testing.T) {
	base := Float("x", 0.5, 0, 1)
	p := base.Label("X").Description("d").Order(3).Step(0.1).Category(CategoryInput).Modes(ModeVideo).LoadTime().Hidden()
	if base.label != "" || base.flags != 0 {
		t.Fatalf("chaining changed the original: %+v", base)
	}
	if p.label != "X" || p.description != "d" || p.order != 3 || p.step != 0.1 || p.category != CategoryInput ||
		p.modes != ModeVideo || p.flags != flagLoadTime|flagHidden || p.Type() != ParamFloat {
		t.Fatalf("builder fields: %+v", p)
	}
	if b := Bool("b", true); b.number != 1 || b.max != 1 {
		t.Fatalf("Bool: %+v", b)
	}
	if i := Int("i", 2, -1, 5); i.number != 2 || i.min != -1 || i.max != 5 || i.step != 1 {
		t.Fatalf("Int: %+v", i)
	}
}
