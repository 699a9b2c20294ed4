// Command gray is a second Go plugin for the SDK's end-to-end test (e2e_test.go): loaded into one
// process beside examples/go/invert, it shows that two Go c-shared plugins, each with its own Go
// runtime, work side by side. Its pipelines:
//
//	gray-go     Rec.601 luma, (299 R + 587 G + 114 B + 500) / 1000, written to R, G and B;
//	            alpha copied; 1-channel frames copied.
//	actions-go  Exercises the SDK's boundary: by its `action` enum it panics, returns an
//	            error with the `code` and `message` parameters, or fills the output with the
//	            `tint` color. Its Prepare refuses 2-channel input.
package main

import (
	"math"

	"github.com/scopenative/scope/sdk/go/scope"
)

func init() {
	scope.SetInfo(scope.Info{Name: "gray-go-test", Version: "0.1.0"})
	scope.Register(scope.Pipeline{
		ID:   "gray-go",
		Name: "Grayscale (Go test)",
		New:  func(*scope.CreateContext) (scope.Instance, error) { return gray{}, nil },
	})
	scope.Register(scope.Pipeline{
		ID:    "actions-go",
		Name:  "Actions (Go test)",
		Modes: []scope.Mode{scope.VideoMode(1).AsDefault(), scope.TextMode(64, 48)},
		Params: []scope.Param{
			scope.Enum("action", "panic", scope.Option{Key: "panic", Label: "Panic"},
				scope.Option{Key: "error", Label: "Return an error"}, scope.Option{Key: "ok"}),
			scope.Int("code", -1, -6, -1).Label("Status code"),
			scope.String("message", "refused"),
			scope.Color("tint", scope.RGBA{R: 0.25, G: 0.5, B: 0.75, A: 1}).Category(scope.CategoryInput),
			scope.Bool("flag", false).Hidden().LoadTime(),
		},
		New: func(ctx *scope.CreateContext) (scope.Instance, error) {
			ctx.Host.Logf(scope.LogInfo, "actions-go: created in mode %d", ctx.Mode)
			return &actions{}, nil
		},
	})
}

type gray struct{}

func (gray) Prepare(*scope.PrepareContext) (scope.Requirements, error) {
	return scope.Requirements{}, nil
}

func (gray) Call(ctx *scope.CallContext) error {
	in, out := ctx.Input(0), ctx.Output
	if in == nil || out == nil || in.Format() != out.Format() || in.Element != scope.ElementU8 {
		return scope.Errorf(scope.StatusUnsupported, "gray-go: needs 8-bit frames of one shape")
	}
	ch := in.Channels
	for y := 0; y < in.Height; y++ {
		src, dst := in.Row(y), out.Row(y)
		if ch < 3 {
			copy(dst, src)
			continue
		}
		for x := 0; x < len(src); x += ch {
			l := byte((299*uint32(src[x]) + 587*uint32(src[x+1]) + 114*uint32(src[x+2]) + 500) / 1000)
			dst[x], dst[x+1], dst[x+2] = l, l, l
			if ch == 4 {
				dst[x+3] = src[x+3]
			}
		}
	}
	return nil
}

func (gray) Close() {}

type actions struct{}

func (*actions) Prepare(ctx *scope.PrepareContext) (scope.Requirements, error) {
	if len(ctx.Inputs) > 0 && ctx.Inputs[0].Channels == 2 {
		return scope.Requirements{}, scope.Errorf(scope.StatusUnsupported, "actions-go: 2 channels")
	}
	return scope.Requirements{InputSize: 1}, nil
}

func (*actions) Call(ctx *scope.CallContext) error {
	switch ctx.Params.String("action", "") {
	case "panic":
		panic("boom from Go")
	case "error":
		return scope.Errorf(scope.Status(ctx.Params.Int("code", -1)), "%s", ctx.Params.String("message", ""))
	case "ok":
		out := ctx.Output
		t := ctx.Params.Color("tint", scope.RGBA{})
		px := []byte{unit(t.R), unit(t.G), unit(t.B), unit(t.A)}
		for y := 0; y < out.Height; y++ {
			row := out.Row(y)
			for x := 0; x < len(row); x++ {
				row[x] = px[x%out.Channels]
			}
		}
	}
	return nil
}

func (*actions) Close() {}

// unit maps 0..1 to 0..255, rounded.
func unit(v float32) byte { return byte(math.Floor(float64(v)*255 + 0.5)) }

func main() {}
