package frame

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"
)

func TestElemAndFormat(t *testing.T) {
	if U8.Size() != 1 || F32.Size() != 4 || U8.String() != "u8" || F32.String() != "f32" {
		t.Fatalf("elem: %d %d %q %q", U8.Size(), F32.Size(), U8, F32)
	}
	if U8 != 1 || F32 != 2 {
		t.Fatal("elem values must equal SCOPE_ELEMENT_U8/F32")
	}
	f := Format{Width: 1920, Height: 1080, Channels: 3, Elem: U8}
	if got := f.String(); got != "1920x1080 rgb u8" {
		t.Fatalf("String = %q", got)
	}
	if got := (Format{2, 3, 1, F32}).String(); got != "2x3 gray f32" {
		t.Fatalf("String = %q", got)
	}
	if got := (Format{2, 3, 4, F32}).String(); got != "2x3 rgba f32" {
		t.Fatalf("String = %q", got)
	}
	if f.RowBytes() != 5760 || (Format{10, 1, 4, F32}).RowBytes() != 160 {
		t.Fatal("RowBytes")
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    Format
		word string
	}{
		{Format{0, 1, 3, U8}, "width"},
		{Format{1, 0, 3, U8}, "height"},
		{Format{1, 1, 2, U8}, "channels"},
		{Format{1, 1, 3, 7}, "element"},
	} {
		err := c.f.Validate()
		if err == nil || !strings.Contains(err.Error(), c.word) {
			t.Errorf("Validate(%+v) = %v, want error naming %q", c.f, err, c.word)
		}
	}
}

func TestNewRowPitch(t *testing.T) {
	f := Format{Width: 3, Height: 2, Channels: 3, Elem: U8}
	fr := New(f)
	if fr.Pitch != 9 || len(fr.Data) != 18 {
		t.Fatalf("pitch %d len %d", fr.Pitch, len(fr.Data))
	}
	p := NewWithPitch(f, 16)
	if p.Pitch != 16 || len(p.Data) < 16+9 {
		t.Fatalf("pitch %d len %d", p.Pitch, len(p.Data))
	}
	r := p.Row(1)
	if len(r) != 9 || cap(r) != 9 {
		t.Fatalf("row len %d cap %d", len(r), cap(r))
	}
	r[0] = 42
	if p.Data[16] != 42 {
		t.Fatal("Row does not alias Data at y*Pitch")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewWithPitch with small pitch did not panic")
			}
		}()
		NewWithPitch(f, 8)
	}()
}

func TestFloat32Row(t *testing.T) {
	fr := NewWithPitch(Format{Width: 2, Height: 2, Channels: 3, Elem: F32}, 32)
	row := fr.Float32Row(1)
	if len(row) != 6 {
		t.Fatalf("len %d", len(row))
	}
	row[5] = 0.5
	if got := math.Float32frombits(uint32(fr.Data[32+20]) | uint32(fr.Data[32+21])<<8 | uint32(fr.Data[32+22])<<16 | uint32(fr.Data[32+23])<<24); got != 0.5 {
		t.Fatalf("Float32Row does not alias Data: %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Float32Row on u8 did not panic")
		}
	}()
	New(Format{1, 1, 1, U8}).Float32Row(0)
}

func TestEqualIgnoresPadding(t *testing.T) {
	f := Format{Width: 2, Height: 2, Channels: 1, Elem: U8}
	a := New(f)
	b := NewWithPitch(f, 5)
	copy(a.Data, []byte{1, 2, 3, 4})
	copy(b.Data, []byte{1, 2, 99, 99, 99, 3, 4})
	if !Equal(a, b) {
		t.Fatal("Equal should ignore padding")
	}
	b.Data[6] = 5
	if Equal(a, b) {
		t.Fatal("Equal should see a pixel difference")
	}
	if Equal(a, New(Format{Width: 2, Height: 2, Channels: 3, Elem: U8})) {
		t.Fatal("Equal should compare formats")
	}
}

func fill(fr *Frame, seed uint32) {
	x := seed*2654435761 + 1
	for y := 0; y < fr.Height; y++ {
		row := fr.Row(y)
		for i := range row {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			row[i] = byte(x)
		}
	}
}

func TestConvertRoundTripU8F32U8(t *testing.T) {
	for _, ch := range []int{1, 3, 4} {
		src := NewWithPitch(Format{Width: 37, Height: 5, Channels: ch, Elem: U8}, 37*ch+3)
		fill(src, uint32(ch))
		// Every value 0..255 appears in the first row.
		for i := range src.Row(0) {
			src.Row(0)[i] = byte(i)
		}
		src.Index, src.PTS = 7, time.Second
		mid := NewWithPitch(Format{Width: 37, Height: 5, Channels: ch, Elem: F32}, 37*ch*4+12)
		if err := Convert(mid, src); err != nil {
			t.Fatal(err)
		}
		if mid.Index != 7 || mid.PTS != time.Second {
			t.Fatal("Index/PTS not copied")
		}
		for i, v := range mid.Float32Row(0) {
			if want := float32(byte(i)) / 255; v != want {
				t.Fatalf("u8->f32 %d: %v want %v", i, v, want)
			}
		}
		back := New(src.Format)
		if err := Convert(back, mid); err != nil {
			t.Fatal(err)
		}
		if !Equal(back, src) {
			t.Fatalf("channels %d: u8->f32->u8 not exact", ch)
		}
	}
}

func TestConvertClampNaNRounding(t *testing.T) {
	in := []float32{-1, 0, 1, 2, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		0.5, 1.5 / 255, 127.49 / 255, 0.999, 0.75, float32(math.Copysign(0, -1)), 1e30, -1e30}
	want := []byte{0, 0, 255, 255, 0, 255, 0, 128, 2, 127, 255, 191, 0, 255, 0}
	src := New(Format{Width: len(in), Height: 1, Channels: 1, Elem: F32})
	copy(src.Float32Row(0), in)
	dst := New(Format{Width: len(in), Height: 1, Channels: 1, Elem: U8})
	if err := Convert(dst, src); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		// Reference: clamp then round(v*255) in float64.
		v := float64(in[i])
		ref := 0.0
		if v > 0 {
			ref = math.Round(math.Min(v, 1) * 255)
		}
		if dst.Data[i] != want[i] || dst.Data[i] != byte(ref) {
			t.Errorf("f32 %v -> %d, want %d (ref %v)", in[i], dst.Data[i], want[i], ref)
		}
	}
}

func TestQ8MatchesReference(t *testing.T) {
	// Every 97th float32 bit pattern (both signs), against clamp + math.Round(v*255).
	for i := uint64(0); i < 1<<32; i += 97 {
		v := math.Float32frombits(uint32(i))
		x := float64(v) * 255
		var want byte
		switch {
		case x >= 255:
			want = 255
		case x > 0:
			want = byte(math.Round(x))
		}
		if got := q8(v); got != want {
			t.Fatalf("q8(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestConvertChannels(t *testing.T) {
	u8 := func(ch int, px ...byte) *Frame {
		f := New(Format{Width: len(px) / ch, Height: 1, Channels: ch, Elem: U8})
		copy(f.Data, px)
		return f
	}
	conv := func(src *Frame, ch int) []byte {
		t.Helper()
		dst := NewWithPitch(Format{Width: src.Width, Height: 1, Channels: ch, Elem: U8}, src.Width*ch+1)
		if err := Convert(dst, src); err != nil {
			t.Fatal(err)
		}
		return dst.Row(0)
	}
	check := func(name string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("gray->rgb", conv(u8(1, 10, 200), 3), []byte{10, 10, 10, 200, 200, 200})
	check("gray->rgba", conv(u8(1, 10, 200), 4), []byte{10, 10, 10, 255, 200, 200, 200, 255})
	check("rgb->rgba", conv(u8(3, 1, 2, 3, 4, 5, 6), 4), []byte{1, 2, 3, 255, 4, 5, 6, 255})
	check("rgba->rgb", conv(u8(4, 1, 2, 3, 9, 4, 5, 6, 0), 3), []byte{1, 2, 3, 4, 5, 6})
	// Rec.601: 0.299*255 = 76.245 -> 76, 0.587*255 = 149.685 -> 150, 0.114*255 = 29.07 -> 29.
	check("rgb->gray", conv(u8(3, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30), 1), []byte{76, 150, 29, 255, 18})
	check("rgba->gray", conv(u8(4, 255, 0, 0, 7, 0, 0, 255, 1), 1), []byte{76, 29})

	// Exhaustive-ish check of u8 luma against the float reference.
	src := New(Format{Width: 4096, Height: 1, Channels: 3, Elem: U8})
	fill(src, 99)
	g := conv(src, 1)
	for i := range g {
		r, gg, b := float64(src.Data[3*i]), float64(src.Data[3*i+1]), float64(src.Data[3*i+2])
		// Exact: (299r+587g+114b)/1000 with ties rounded up.
		if want := byte(math.Floor((299*r+587*gg+114*b)/1000 + 0.5)); g[i] != want {
			t.Fatalf("luma(%v,%v,%v) = %d, want %d", r, gg, b, g[i], want)
		}
	}
}

func TestConvertAllPairsConsistent(t *testing.T) {
	// For every format pair, converting directly must equal going through rgba f32 first
	// when the destination is f32, and must match the per-pixel reference otherwise.
	const w, h = 13, 3
	for _, sc := range []int{1, 3, 4} {
		for _, se := range []Elem{U8, F32} {
			src8 := NewWithPitch(Format{w, h, sc, U8}, w*sc+5)
			fill(src8, uint32(sc))
			src := src8
			if se == F32 {
				src = NewWithPitch(Format{w, h, sc, F32}, w*sc*4+8)
				if err := Convert(src, src8); err != nil {
					t.Fatal(err)
				}
			}
			for _, dc := range []int{1, 3, 4} {
				for _, de := range []Elem{U8, F32} {
					dst := NewWithPitch(Format{w, h, dc, de}, w*dc*de.Size()+4)
					if err := Convert(dst, src); err != nil {
						t.Fatalf("%v -> %v: %v", src.Format, dst.Format, err)
					}
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							want := refPixel(src8, x, y, dc)
							for c := 0; c < dc; c++ {
								var got float64
								if de == U8 {
									got = float64(dst.Row(y)[x*dc+c])
								} else {
									got = float64(dst.Float32Row(y)[x*dc+c]) * 255
								}
								tol := 1e-3
								if de == U8 && dc == 1 && sc != 1 {
									tol = 0.5 + 1e-3 // rounding of luma
								}
								if math.Abs(got-want[c]) > tol {
									t.Fatalf("%v -> %v at (%d,%d)c%d: got %v want %v", src.Format, dst.Format, x, y, c, got, want[c])
								}
							}
						}
					}
				}
			}
		}
	}
}

// refPixel is the reference conversion of one pixel of an u8 frame to dc channels, on the 0..255 scale.
func refPixel(src *Frame, x, y, dc int) []float64 {
	p := src.Row(y)[x*src.Channels:]
	var r, g, b, a float64
	switch src.Channels {
	case 1:
		r, g, b, a = float64(p[0]), float64(p[0]), float64(p[0]), 255
	case 3:
		r, g, b, a = float64(p[0]), float64(p[1]), float64(p[2]), 255
	case 4:
		r, g, b, a = float64(p[0]), float64(p[1]), float64(p[2]), float64(p[3])
	}
	switch dc {
	case 1:
		if src.Channels == 1 {
			return []float64{r}
		}
		return []float64{0.299*r + 0.587*g + 0.114*b}
	case 3:
		return []float64{r, g, b}
	}
	return []float64{r, g, b, a}
}

func TestConvertErrors(t *testing.T) {
	a := New(Format{2, 2, 3, U8})
	if err := Convert(New(Format{3, 2, 3, U8}), a); err == nil || !strings.Contains(err.Error(), "size") {
		t.Fatalf("size mismatch: %v", err)
	}
	short := &Frame{Format: Format{2, 2, 3, U8}, Pitch: 6, Data: make([]byte, 11)}
	if err := Convert(short, a); err == nil {
		t.Fatal("short data accepted")
	}
	bad := &Frame{Format: Format{2, 2, 3, U8}, Pitch: 5, Data: make([]byte, 100)}
	if err := Convert(bad, a); err == nil || !strings.Contains(err.Error(), "pitch") {
		t.Fatalf("small pitch: %v", err)
	}
}

func TestConvertNoAlloc(t *testing.T) {
	src := New(Format{64, 8, 3, U8})
	dst := NewWithPitch(Format{64, 8, 4, F32}, 64*16+16)
	back := New(Format{64, 8, 3, U8})
	n := testing.AllocsPerRun(20, func() {
		_ = Convert(dst, src)
		_ = Convert(back, dst)
		_ = Convert(back, src)
	})
	if n != 0 {
		t.Fatalf("Convert allocates %v times", n)
	}
}

func TestImageAndFromImage(t *testing.T) {
	src := NewWithPitch(Format{5, 4, 3, U8}, 20)
	fill(src, 5)
	img := src.Image()
	if !img.Opaque() {
		t.Fatal("rgb frame image not opaque")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	back := FromImage(dec)
	if !Equal(back, src) {
		t.Fatal("frame -> PNG -> frame not exact")
	}

	// Alpha is dropped, not applied.
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 10})
	n.SetNRGBA(1, 0, color.NRGBA{1, 2, 3, 255})
	if got := FromImage(n).Data; !bytes.Equal(got, []byte{200, 100, 50, 1, 2, 3}) {
		t.Fatalf("NRGBA: %v", got)
	}
	// 16-bit is reduced by >>8.
	n16 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	n16.SetNRGBA64(0, 0, color.NRGBA64{0xABCD, 0x1234, 0xFFFF, 0x8000})
	if got := FromImage(n16).Data; !bytes.Equal(got, []byte{0xAB, 0x12, 0xFF}) {
		t.Fatalf("NRGBA64: %x", got)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{0x7F01})
	if got := FromImage(g16).Data; !bytes.Equal(got, []byte{0x7F, 0x7F, 0x7F}) {
		t.Fatalf("Gray16: %x", got)
	}
	// Sub-images keep their own origin.
	sub := img.SubImage(image.Rect(1, 1, 3, 3))
	sf := FromImage(sub)
	if sf.Width != 2 || sf.Height != 2 || !bytes.Equal(sf.Row(0), src.Row(1)[3:9]) {
		t.Fatal("sub-image offset")
	}
	// Paletted goes through the generic path.
	p := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.RGBA{9, 8, 7, 255}})
	if got := FromImage(p).Data; !bytes.Equal(got, []byte{9, 8, 7}) {
		t.Fatalf("Paletted: %v", got)
	}
	// f32 frames convert.
	f := New(Format{1, 1, 1, F32})
	f.Float32Row(0)[0] = 0.5
	if got := f.Image().Pix; !bytes.Equal(got, []byte{128, 128, 128, 255}) {
		t.Fatalf("f32 gray Image: %v", got)
	}
}
