package frame

import (
	"fmt"
	"math"
)

// u8ToF32 maps a U8 sample v to float32(v)/255. It is computed once and only read afterwards.
var u8ToF32 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// q8 converts an F32 sample to U8: clamp to [0,1], then round(v*255) half up; NaN becomes 0.
// v*255 is exact in float64. Adding 2^52 rounds to an integer (half to even) in the low mantissa
// bits; for a float32 v the only exact tie is v = 0.5 (127.5 -> 128), where half-even and
// half-up agree, so this is round(v*255) without a float-to-int conversion.
func q8(v float32) uint8 {
	x := float64(v) * 255
	if x > 0 && x < 255 {
		return uint8(math.Float64bits(x + 0x1p52))
	}
	if x >= 255 {
		return 255
	}
	return 0 // negative, zero or NaN
}

// luma8 is Rec.601 luma of 8-bit RGB, rounded half up.
func luma8(r, g, b byte) byte {
	return byte((299*uint32(r) + 587*uint32(g) + 114*uint32(b) + 500) / 1000)
}

// lumaF is Rec.601 luma of float RGB.
func lumaF(r, g, b float32) float32 {
	return 0.299*r + 0.587*g + 0.114*b
}

// rowFunc converts one row of w pixels from src to dst.
type rowFunc func(dst, src []byte, w int)

// Convert writes src into dst, converting channels and element type. Width and height must
// match; both pitches are honoured. Channel conversions: gray->rgb(a) replicates, rgb->rgba adds
// alpha = max (255 or 1.0), rgba->rgb drops alpha, rgb(a)->gray uses Rec.601 luma
// (0.299R+0.587G+0.114B), rounded when the destination is U8. Element conversions: U8->F32 is
// v/255; F32->U8 clamps to [0,1] and rounds v*255 (half up), NaN becomes 0. Luma is computed in
// float when either side is F32, so the result does not depend on the order of the two steps.
// When the formats are equal the rows are copied. Index and PTS are copied. Convert does not
// allocate (except for the error on failure). dst and src may be the same frame only when their
// formats are equal.
func Convert(dst, src *Frame) error {
	if err := src.check("source"); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if err := dst.check("destination"); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if dst.Width != src.Width || dst.Height != src.Height {
		return fmt.Errorf("convert: size %dx%d to %dx%d: sizes must match", src.Width, src.Height, dst.Width, dst.Height)
	}
	dst.Index, dst.PTS = src.Index, src.PTS
	if dst.Format == src.Format {
		n := src.RowBytes()
		if dst.Pitch == src.Pitch && dst.Pitch == n {
			copy(dst.Data[:n*dst.Height], src.Data[:n*src.Height])
			return nil
		}
		for y := 0; y < dst.Height; y++ {
			copy(dst.Row(y), src.Row(y))
		}
		return nil
	}
	f := pickRow(src.Elem, src.Channels, dst.Elem, dst.Channels)
	w := dst.Width
	if dst.Pitch == dst.RowBytes() && src.Pitch == src.RowBytes() {
		// Packed on both sides: the whole image is one long row.
		f(dst.Data[:dst.RowBytes()*dst.Height], src.Data[:src.RowBytes()*src.Height], w*dst.Height)
		return nil
	}
	for y := 0; y < dst.Height; y++ {
		f(dst.Row(y), src.Row(y), w)
	}
	return nil
}

// pickRow returns the row kernel for a conversion between two different formats.
func pickRow(se Elem, sc int, de Elem, dc int) rowFunc {
	type key struct {
		se, de Elem
		sc, dc int
	}
	switch (key{se, de, sc, dc}) {
	// U8 -> U8
	case key{U8, U8, 1, 3}:
		return u8GrayToRGB
	case key{U8, U8, 1, 4}:
		return u8GrayToRGBA
	case key{U8, U8, 3, 1}:
		return u8RGBToGray
	case key{U8, U8, 3, 4}:
		return u8RGBToRGBA
	case key{U8, U8, 4, 1}:
		return u8RGBAToGray
	case key{U8, U8, 4, 3}:
		return u8RGBAToRGB
	// F32 -> F32
	case key{F32, F32, 1, 3}:
		return f32GrayToRGB
	case key{F32, F32, 1, 4}:
		return f32GrayToRGBA
	case key{F32, F32, 3, 1}:
		return f32RGBToGray
	case key{F32, F32, 3, 4}:
		return f32RGBToRGBA
	case key{F32, F32, 4, 1}:
		return f32RGBAToGray
	case key{F32, F32, 4, 3}:
		return f32RGBAToRGB
	// U8 -> F32
	case key{U8, F32, 1, 3}:
		return u8f32GrayToRGB
	case key{U8, F32, 1, 4}:
		return u8f32GrayToRGBA
	case key{U8, F32, 3, 1}:
		return u8f32RGBToGray
	case key{U8, F32, 3, 4}:
		return u8f32RGBToRGBA
	case key{U8, F32, 4, 1}:
		return u8f32RGBAToGray
	case key{U8, F32, 4, 3}:
		return u8f32RGBAToRGB
	// F32 -> U8
	case key{F32, U8, 1, 3}:
		return f32u8GrayToRGB
	case key{F32, U8, 1, 4}:
		return f32u8GrayToRGBA
	case key{F32, U8, 3, 1}:
		return f32u8RGBToGray
	case key{F32, U8, 3, 4}:
		return f32u8RGBToRGBA
	case key{F32, U8, 4, 1}:
		return f32u8RGBAToGray
	case key{F32, U8, 4, 3}:
		return f32u8RGBAToRGB
	}
	if se == U8 && de == F32 && sc == dc {
		return u8ToF32Row
	}
	if se == F32 && de == U8 && sc == dc {
		return f32ToU8Row
	}
	panic(fmt.Sprintf("frame: no conversion %v/%d -> %v/%d", se, sc, de, dc)) // unreachable after check
}

// ---- element conversion, same channels ----

func u8ToF32Row(dst, src []byte, _ int) {
	d := asFloat32(dst)[:len(src)]
	t := &u8ToF32
	for len(src) >= 4 && len(d) >= 4 { // unrolled: about 1.3x faster than one at a time
		d[0], d[1], d[2], d[3] = t[src[0]], t[src[1]], t[src[2]], t[src[3]]
		src, d = src[4:], d[4:]
	}
	for i, v := range src {
		d[i] = t[v]
	}
}

func f32ToU8Row(dst, src []byte, _ int) {
	s := asFloat32(src)
	dst = dst[:len(s)]
	for len(s) >= 4 && len(dst) >= 4 {
		dst[0], dst[1], dst[2], dst[3] = q8(s[0]), q8(s[1]), q8(s[2]), q8(s[3])
		s, dst = s[4:], dst[4:]
	}
	for i, v := range s {
		dst[i] = q8(v)
	}
}

// ---- U8 -> U8 channel conversion ----

func u8GrayToRGB(dst, src []byte, w int) {
	s, d := src[:w], dst[:3*w]
	for len(s) > 0 && len(d) >= 3 {
		v := s[0]
		d[0], d[1], d[2] = v, v, v
		s, d = s[1:], d[3:]
	}
}

func u8GrayToRGBA(dst, src []byte, w int) {
	s, d := src[:w], dst[:4*w]
	for len(s) > 0 && len(d) >= 4 {
		v := s[0]
		d[0], d[1], d[2], d[3] = v, v, v, 255
		s, d = s[1:], d[4:]
	}
}

func u8RGBToGray(dst, src []byte, w int) {
	s, d := src[:3*w], dst[:w]
	for len(s) >= 3 && len(d) > 0 {
		d[0] = luma8(s[0], s[1], s[2])
		s, d = s[3:], d[1:]
	}
}

func u8RGBToRGBA(dst, src []byte, w int) {
	s, d := src[:3*w], dst[:4*w]
	for len(s) >= 3 && len(d) >= 4 {
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 255
		s, d = s[3:], d[4:]
	}
}

func u8RGBAToGray(dst, src []byte, w int) {
	s, d := src[:4*w], dst[:w]
	for len(s) >= 4 && len(d) > 0 {
		d[0] = luma8(s[0], s[1], s[2])
		s, d = s[4:], d[1:]
	}
}

func u8RGBAToRGB(dst, src []byte, w int) {
	s, d := src[:4*w], dst[:3*w]
	for len(s) >= 4 && len(d) >= 3 {
		d[0], d[1], d[2] = s[0], s[1], s[2]
		s, d = s[4:], d[3:]
	}
}

// ---- F32 -> F32 channel conversion ----

func f32GrayToRGB(dst, src []byte, w int) {
	s, d := asFloat32(src)[:w], asFloat32(dst)[:3*w]
	for len(s) > 0 && len(d) >= 3 {
		v := s[0]
		d[0], d[1], d[2] = v, v, v
		s, d = s[1:], d[3:]
	}
}

func f32GrayToRGBA(dst, src []byte, w int) {
	s, d := asFloat32(src)[:w], asFloat32(dst)[:4*w]
	for len(s) > 0 && len(d) >= 4 {
		v := s[0]
		d[0], d[1], d[2], d[3] = v, v, v, 1
		s, d = s[1:], d[4:]
	}
}

func f32RGBToGray(dst, src []byte, w int) {
	s, d := asFloat32(src)[:3*w], asFloat32(dst)[:w]
	for len(s) >= 3 && len(d) > 0 {
		d[0] = lumaF(s[0], s[1], s[2])
		s, d = s[3:], d[1:]
	}
}

func f32RGBToRGBA(dst, src []byte, w int) {
	s, d := asFloat32(src)[:3*w], asFloat32(dst)[:4*w]
	for len(s) >= 3 && len(d) >= 4 {
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 1
		s, d = s[3:], d[4:]
	}
}

func f32RGBAToGray(dst, src []byte, w int) {
	s, d := asFloat32(src)[:4*w], asFloat32(dst)[:w]
	for len(s) >= 4 && len(d) > 0 {
		d[0] = lumaF(s[0], s[1], s[2])
		s, d = s[4:], d[1:]
	}
}

func f32RGBAToRGB(dst, src []byte, w int) {
	s, d := asFloat32(src)[:4*w], asFloat32(dst)[:3*w]
	for len(s) >= 4 && len(d) >= 3 {
		d[0], d[1], d[2] = s[0], s[1], s[2]
		s, d = s[4:], d[3:]
	}
}

// ---- U8 -> F32 with channel conversion ----

func u8f32GrayToRGB(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:w], asFloat32(dst)[:3*w]
	for len(s) > 0 && len(d) >= 3 {
		v := t[s[0]]
		d[0], d[1], d[2] = v, v, v
		s, d = s[1:], d[3:]
	}
}

func u8f32GrayToRGBA(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:w], asFloat32(dst)[:4*w]
	for len(s) > 0 && len(d) >= 4 {
		v := t[s[0]]
		d[0], d[1], d[2], d[3] = v, v, v, 1
		s, d = s[1:], d[4:]
	}
}

func u8f32RGBToGray(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:3*w], asFloat32(dst)[:w]
	for len(s) >= 3 && len(d) > 0 {
		d[0] = lumaF(t[s[0]], t[s[1]], t[s[2]])
		s, d = s[3:], d[1:]
	}
}

func u8f32RGBToRGBA(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:3*w], asFloat32(dst)[:4*w]
	for len(s) >= 3 && len(d) >= 4 {
		d[0], d[1], d[2], d[3] = t[s[0]], t[s[1]], t[s[2]], 1
		s, d = s[3:], d[4:]
	}
}

func u8f32RGBAToGray(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:4*w], asFloat32(dst)[:w]
	for len(s) >= 4 && len(d) > 0 {
		d[0] = lumaF(t[s[0]], t[s[1]], t[s[2]])
		s, d = s[4:], d[1:]
	}
}

func u8f32RGBAToRGB(dst, src []byte, w int) {
	t := &u8ToF32
	s, d := src[:4*w], asFloat32(dst)[:3*w]
	for len(s) >= 4 && len(d) >= 3 {
		d[0], d[1], d[2] = t[s[0]], t[s[1]], t[s[2]]
		s, d = s[4:], d[3:]
	}
}

// ---- F32 -> U8 with channel conversion ----

func f32u8GrayToRGB(dst, src []byte, w int) {
	s, d := asFloat32(src)[:w], dst[:3*w]
	for len(s) > 0 && len(d) >= 3 {
		v := q8(s[0])
		d[0], d[1], d[2] = v, v, v
		s, d = s[1:], d[3:]
	}
}

func f32u8GrayToRGBA(dst, src []byte, w int) {
	s, d := asFloat32(src)[:w], dst[:4*w]
	for len(s) > 0 && len(d) >= 4 {
		v := q8(s[0])
		d[0], d[1], d[2], d[3] = v, v, v, 255
		s, d = s[1:], d[4:]
	}
}

func f32u8RGBToGray(dst, src []byte, w int) {
	s, d := asFloat32(src)[:3*w], dst[:w]
	for len(s) >= 3 && len(d) > 0 {
		d[0] = q8(lumaF(s[0], s[1], s[2]))
		s, d = s[3:], d[1:]
	}
}

func f32u8RGBToRGBA(dst, src []byte, w int) {
	s, d := asFloat32(src)[:3*w], dst[:4*w]
	for len(s) >= 3 && len(d) >= 4 {
		d[0], d[1], d[2], d[3] = q8(s[0]), q8(s[1]), q8(s[2]), 255
		s, d = s[3:], d[4:]
	}
}

func f32u8RGBAToGray(dst, src []byte, w int) {
	s, d := asFloat32(src)[:4*w], dst[:w]
	for len(s) >= 4 && len(d) > 0 {
		d[0] = q8(lumaF(s[0], s[1], s[2]))
		s, d = s[4:], d[1:]
	}
}

func f32u8RGBAToRGB(dst, src []byte, w int) {
	s, d := asFloat32(src)[:4*w], dst[:3*w]
	for len(s) >= 4 && len(d) >= 3 {
		d[0], d[1], d[2] = q8(s[0]), q8(s[1]), q8(s[2])
		s, d = s[4:], d[3:]
	}
}
