package media

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Limits bounds the frames a source may produce, so that a header claiming an absurd size (a
// Y4M "W4294967295", a 20000 x 20000 PNG bomb of a few kilobytes, a probed stream) is refused
// with a clear error before anything that large is allocated. Every source checks its size
// against them when it is opened. A zero field takes its default (DefaultLimits).
type Limits struct {
	MaxWidth, MaxHeight int // largest width and height, pixels
	// MaxBytes is the most memory a source may allocate to hold one frame while opening or
	// reading it: the RGB frame itself plus any decoder buffer (a 16-bit RGBA PNG decodes into
	// 8 bytes per pixel before it becomes 3).
	MaxBytes int64
}

// Default limits: 16384 x 16384, and a memory budget that fits the worst decoder at that size.
const (
	DefaultMaxWidth  = 16384
	DefaultMaxHeight = 16384
	// budgetPerPixel is the memory budget per pixel of the size limit: more than the worst
	// source needs (8 decoder bytes + 3 frame bytes), so that raising the size with SizeLimits
	// (--max-frame-size) is enough to open any image of that size.
	budgetPerPixel = 16
)

// DefaultLimits returns the limits a zero Limits stands for: 16384 x 16384 and 4 GiB.
func DefaultLimits() Limits { return SizeLimits(DefaultMaxWidth, DefaultMaxHeight) }

// SizeLimits returns limits of w x h pixels with a memory budget that fits any source of that
// size. This is what `scope run --max-frame-size WxH` sets.
func SizeLimits(w, h int) Limits {
	return Limits{MaxWidth: w, MaxHeight: h, MaxBytes: budgetPerPixel * int64(w) * int64(h)}
}

// ParseLimits reads the WxH of a --max-frame-size flag into SizeLimits(W, H).
func ParseLimits(s string) (Limits, error) {
	w, h, err := parseSize(s)
	if err != nil {
		return Limits{}, fmt.Errorf("max frame size: %w", err)
	}
	return SizeLimits(w, h), nil
}

// orDefault fills zero fields with the defaults.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxWidth == 0 {
		l.MaxWidth = d.MaxWidth
	}
	if l.MaxHeight == 0 {
		l.MaxHeight = d.MaxHeight
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = d.MaxBytes
	}
	return l
}

// LimitError says that a source's frames are larger than its Limits allow. Its message names
// the size and the limit, and says how to raise it.
type LimitError struct {
	Source        string // the source spec (or the file, for an image of a sequence)
	Width, Height int    // the size the header claims
	Bytes         int64  // the memory opening it would take (0 when the size alone is over)
	Limits        Limits // the limits it broke (defaults filled in)
}

// Error says what is too large and how to raise the limit.
func (e *LimitError) Error() string {
	raise := fmt.Sprintf("if the input really is that large, raise the limit with --max-frame-size %dx%d (SourceOptions.Limits in the Go API)",
		max(e.Width, e.Limits.MaxWidth), max(e.Height, e.Limits.MaxHeight))
	if e.Bytes > 0 {
		return fmt.Sprintf("open source %s: a %dx%d frame needs %s of memory, over the budget of %s; %s",
			e.Source, e.Width, e.Height, humanBytes(e.Bytes), humanBytes(e.Limits.MaxBytes), raise)
	}
	return fmt.Sprintf("open source %s: frame size %dx%d is over the limit of %dx%d; %s",
		e.Source, e.Width, e.Height, e.Limits.MaxWidth, e.Limits.MaxHeight, raise)
}

// humanBytes writes n in KiB, MiB or GiB with one decimal.
func humanBytes(n int64) string {
	switch f := float64(n); {
	case f < 1<<20:
		return fmt.Sprintf("%.1f KiB", f/(1<<10))
	case f < 1<<30:
		return fmt.Sprintf("%.1f MiB", f/(1<<20))
	default:
		return fmt.Sprintf("%.1f GiB", f/(1<<30))
	}
}

// check reports whether a w x h source that allocates bytesPerPixel bytes per pixel to hold a
// frame fits the limits. It never overflows, whatever w and h a header claims.
func (l Limits) check(spec string, w, h int, bytesPerPixel int64) error {
	l = l.orDefault()
	if w < 1 || h < 1 {
		return fmt.Errorf("open source %s: bad frame size %dx%d", spec, w, h)
	}
	if w > l.MaxWidth || h > l.MaxHeight {
		return &LimitError{Source: spec, Width: w, Height: h, Limits: l}
	}
	// w*h*bytesPerPixel may overflow int64 when the size limits were raised a lot: compare in
	// floating point first (exact enough for a limit), then compute.
	if float64(w)*float64(h)*float64(bytesPerPixel) > float64(l.MaxBytes) {
		need := int64(math.MaxInt64)
		if f := float64(w) * float64(h) * float64(bytesPerPixel); f < math.MaxInt64/2 {
			need = int64(f)
		}
		return &LimitError{Source: spec, Width: w, Height: h, Bytes: need, Limits: l}
	}
	return nil
}

// rgbBytes is what every source allocates per pixel at least: one packed RGB U8 frame.
const rgbBytes = 3

// decodedBytesPerPixel is the memory image.Decode allocates per pixel for an image of colour
// model m (the pixel types of image/png and image/jpeg), plus the RGB frame it becomes.
func decodedBytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 1 + rgbBytes
	case color.Gray16Model:
		return 2 + rgbBytes
	case color.YCbCrModel:
		return 3 + rgbBytes // 4:4:4 at worst
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4 + rgbBytes
	}
	if _, ok := m.(color.Palette); ok {
		return 1 + rgbBytes
	}
	return 8 + rgbBytes // RGBA64, NRGBA64 and anything unknown
}

// checkImageConfig applies the limits to an image header read with image.DecodeConfig.
func (l Limits) checkImageConfig(spec string, c image.Config) error {
	return l.check(spec, c.Width, c.Height, decodedBytesPerPixel(c.ColorModel))
}
