// Command invert-go is the Go twin of the C invert example (examples/c/invert): a plugin
// library with one pipeline, invert-go, that inverts colors with a strength `intensity` in
// 0..1. Its output is byte-identical to the C and C++ examples: a 256-entry table maps each
// 8-bit value v to floor(v*(1-i) + (255-v)*i + 0.5), computed in float64 and rebuilt only when
// the intensity changes; alpha (the 4th channel) is copied.
//
// Build it as a shared library:
//
//	go build -buildmode=c-shared -o invert-go.so .
package main

import (
	"math"

	"github.com/scopenative/scope/sdk/go/scope"
)

func init() {
	scope.SetInfo(scope.Info{Name: "invert-go", Version: "1.0.0", Description: "Invert Colors, written in Go"})
	scope.Register(scope.Pipeline{
		ID:          "invert-go",
		Name:        "Invert Colors (Go)",
		Description: "Inverts the colors of input video frames",
		Version:     "1.0.0",
		Modes:       []scope.Mode{scope.VideoMode(1)},
		Params: []scope.Param{
			scope.Float("intensity", 1.0, 0, 1).
				Label("Intensity").
				Order(1).
				Description("How strongly to invert the colors (0 = original, 1 = fully inverted)"),
		},
		New: func(ctx *scope.CreateContext) (scope.Instance, error) { return &invert{host: ctx.Host}, nil },
	})
}

// invert is one instance. The host calls it from one goroutine at a time, so it needs no lock.
type invert struct {
	host      scope.Host // for its thread pool
	table     [256]byte
	intensity float64
	built     bool
}

// Prepare asks for one frame per call, 8-bit in host memory (the defaults: the host converts
// anything else for us), and refuses channel counts the loop does not handle.
func (p *invert) Prepare(ctx *scope.PrepareContext) (scope.Requirements, error) {
	if len(ctx.Inputs) > 0 {
		if ch := ctx.Inputs[0].Channels; ch != 1 && ch != 3 && ch != 4 {
			return scope.Requirements{}, scope.Errorf(scope.StatusUnsupported, "1, 3 or 4 channels, got %d", ch)
		}
	}
	return scope.Requirements{InputSize: 1}, nil
}

// Call maps every color sample through the table. Rows are stepped by pitch (Frame.Row),
// never by width.
func (p *invert) Call(ctx *scope.CallContext) error {
	in, out := ctx.Input(0), ctx.Output
	if in == nil || out == nil {
		return scope.Errorf(scope.StatusInvalidArgument, "needs one input frame and an output frame")
	}
	if in.Memory != scope.MemoryHost || in.Element != scope.ElementU8 || in.Format() != out.Format() {
		return scope.Errorf(scope.StatusUnsupported, "needs 8-bit host frames of one shape, got %+v -> %+v", in.Format(), out.Format())
	}
	if ch := in.Channels; ch != 1 && ch != 3 && ch != 4 {
		return scope.Errorf(scope.StatusUnsupported, "1, 3 or 4 channels, got %d", ch)
	}
	p.update(ctx.Params.Float("intensity", 1.0))

	// Rows split across the host's thread pool, in ranges of about 64 KiB. At intensity 1
	// (the default) a row is a plain 255 - v (v ^ 0xFF); other intensities use the table.
	ch := in.Channels
	full := p.intensity == 1 && ch != 4
	p.host.ParallelFor(in.Height, 65536/max(in.RowBytes(), 1)+1, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src, dst := in.Row(y), out.Row(y)
			if full {
				dst = dst[:len(src)]
				for x, v := range src {
					dst[x] = v ^ 0xFF
				}
				continue
			}
			for x := 0; x < len(src); x += ch {
				switch ch {
				case 1:
					dst[x] = p.table[src[x]]
				case 3:
					dst[x], dst[x+1], dst[x+2] = p.table[src[x]], p.table[src[x+1]], p.table[src[x+2]]
				case 4:
					dst[x], dst[x+1], dst[x+2], dst[x+3] = p.table[src[x]], p.table[src[x+1]], p.table[src[x+2]], src[x+3]
				}
			}
		}
	})
	return nil
}

// Close has nothing to release.
func (p *invert) Close() {}

// update rebuilds the table when the intensity changes: the C example's formula, rounded
// half up, with the intensity clamped to 0..1 (NaN counts as 0). The explicit float64
// conversions keep the compiler from fusing a multiply and an add (Go may use FMA on some
// CPUs), so every platform rounds exactly like the C example.
func (p *invert) update(i float64) {
	if !(i >= 0) {
		i = 0
	}
	i = math.Min(i, 1)
	if p.built && i == p.intensity {
		return
	}
	for v := 0; v < 256; v++ {
		f := float64(v)
		p.table[v] = byte(math.Min(math.Floor(float64(f*(1-i))+float64((255-f)*i)+0.5), 255))
	}
	p.intensity, p.built = i, true
}

func main() {} // required by -buildmode=c-shared, never called
