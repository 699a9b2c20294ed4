package media

import (
	"context"
	"fmt"
	"strings"

	"github.com/scopenative/scope/frame"
)

// testsrc is a deterministic moving pattern: colour bars on the top two thirds, a colour ramp
// that scrolls left under them, a box that bounces around and changes colour, and the frame
// index as 16 black/white cells (most significant bit first) in the top-left corner. Everything
// is a function of the frame index and the size only. Per frame it copies precomputed rows and
// draws the box and the cells, without allocating.
type testsrc struct {
	f      frame.Format
	n      uint64 // next frame index
	barsH  int    // rows [0, barsH) are bars
	bars   []byte // one packed row of bars
	band   []byte // (H-barsH) rows of 2*W pixels: the ramp, periodic with period W
	step   int    // ramp scroll per frame, pixels
	box    int    // box side
	bx, by int    // box speed, pixels per frame
	cell   int    // side of one index cell; 0 when they do not fit
}

func openTestsrc(spec string, opts SourceOptions) (*testsrc, error) {
	size, _ := strings.CutPrefix(spec, "testsrc")
	size = strings.TrimPrefix(size, ":")
	if strings.HasPrefix(spec, "testsrc:") && size == "" {
		return nil, fmt.Errorf("open source %q: missing size after ':', want testsrc or testsrc:WxH", spec)
	}
	w, h, err := generatedSize(spec, size, opts)
	if err != nil {
		return nil, err
	}
	return newTestsrc(w, h), nil
}

func newTestsrc(w, h int) *testsrc {
	t := &testsrc{f: frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.U8}}
	t.barsH = h * 2 / 3
	if t.barsH == 0 {
		t.barsH = h
	}
	// 75% colour bars: white, yellow, cyan, green, magenta, red, blue.
	colours := [7][3]byte{{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0}, {191, 0, 191}, {191, 0, 0}, {0, 0, 191}}
	t.bars = make([]byte, 3*w)
	for x := 0; x < w; x++ {
		c := colours[x*7/w]
		copy(t.bars[3*x:], c[:])
	}
	// Ramp: hue along x (period w), brightness along y.
	bh := h - t.barsH
	t.band = make([]byte, bh*2*w*3)
	for y := 0; y < bh; y++ {
		lum := 255 - 191*y/max(bh, 1)
		row := t.band[y*2*w*3:]
		for x := 0; x < 2*w; x++ {
			r, g, b := hue(((x % w) * 1536) / w)
			row[3*x] = byte(int(r) * lum / 255)
			row[3*x+1] = byte(int(g) * lum / 255)
			row[3*x+2] = byte(int(b) * lum / 255)
		}
	}
	t.step = max(1, w/240)
	t.box = max(1, min(w, h)/6)
	t.bx = max(1, w/160)
	t.by = max(1, h/120)
	t.cell = max(2, h/45)
	if t.cell > h || t.cell > w {
		t.cell = 0
	}
	return t
}

// hue maps h in [0,1536) to a fully saturated colour.
func hue(h int) (r, g, b byte) {
	s, f := h/256, byte(h%256)
	switch s {
	case 0:
		return 255, f, 0
	case 1:
		return 255 - f, 255, 0
	case 2:
		return 0, 255, f
	case 3:
		return 0, 255 - f, 255
	case 4:
		return f, 0, 255
	}
	return 255, 0, 255 - f
}

// bounce maps a position that grows without bound to [0, span] going back and forth.
func bounce(p uint64, span int) int {
	if span <= 0 {
		return 0
	}
	p %= uint64(2 * span)
	if p > uint64(span) {
		p = uint64(2*span) - p
	}
	return int(p)
}

func (t *testsrc) format() frame.Format   { return t.f }
func (t *testsrc) rate() (num, den int64) { return 0, 0 }
func (t *testsrc) close() error           { return nil }

func (t *testsrc) read(_ context.Context, dst *frame.Frame) error {
	i := t.n
	t.n++
	w, h := t.f.Width, t.f.Height
	rb := 3 * w
	for y := 0; y < t.barsH; y++ {
		copy(dst.Row(y), t.bars)
	}
	off := int(i*uint64(t.step)%uint64(w)) * 3
	for y := t.barsH; y < h; y++ {
		band := t.band[(y-t.barsH)*2*rb:]
		copy(dst.Row(y), band[off:off+rb])
	}
	// The box.
	x0 := bounce(i*uint64(t.bx), w-t.box)
	y0 := bounce(i*uint64(t.by), h-t.box)
	r, g, b := hue(int(i * 37 % 1536))
	for y := y0; y < y0+t.box; y++ {
		row := dst.Row(y)[3*x0 : 3*(x0+t.box)]
		for x := 0; x+2 < len(row); x += 3 {
			row[x], row[x+1], row[x+2] = r, g, b
		}
	}
	// The index, 16 bits, most significant first, as many as fit.
	if c := t.cell; c > 0 {
		bits := min(16, w/c)
		for y := 0; y < c; y++ {
			row := dst.Row(y)
			for k := 0; k < bits; k++ {
				v := byte(0)
				if i>>(15-k)&1 != 0 {
					v = 255
				}
				cellRow := row[3*k*c : 3*(k+1)*c]
				for x := range cellRow {
					cellRow[x] = v
				}
			}
		}
	}
	return nil
}
