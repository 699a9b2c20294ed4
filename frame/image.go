package frame

import (
	"image"
	"image/color"
)

// Image returns a copy of the frame as an 8-bit non-premultiplied RGBA image, for PNG or JPEG
// encoding. Gray is replicated, RGB gets alpha 255 (so png.Encode writes an opaque RGB file) and
// F32 samples are converted as by Convert. It allocates the image.
func (fr *Frame) Image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, fr.Width, fr.Height))
	view := &Frame{Format: Format{Width: fr.Width, Height: fr.Height, Channels: 4, Elem: U8}, Pitch: img.Stride, Data: img.Pix}
	if err := Convert(view, fr); err != nil {
		panic("frame.Image: " + err.Error())
	}
	return img
}

// FromImage returns a packed RGB U8 frame with the pixels of img; its origin is img.Bounds().Min.
// Alpha is dropped (the colour channels are taken non-premultiplied, as stored in a PNG) and
// 16-bit samples are reduced to 8 bits by >>8. It returns nil for an empty image.
func FromImage(img image.Image) *Frame {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 {
		return nil
	}
	dst := New(Format{Width: w, Height: h, Channels: 3, Elem: U8})
	// wrap views an 8-bit interleaved image as a Frame so Convert does the work.
	wrap := func(pix []byte, stride, channels int) *Frame {
		return &Frame{Format: Format{Width: w, Height: h, Channels: channels, Elem: U8}, Pitch: stride, Data: pix}
	}
	switch m := img.(type) {
	case *image.NRGBA:
		if Convert(dst, wrap(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4)) == nil {
			return dst
		}
	case *image.RGBA:
		if m.Opaque() && Convert(dst, wrap(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4)) == nil {
			return dst
		}
	case *image.Gray:
		if Convert(dst, wrap(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1)) == nil {
			return dst
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			row := dst.Row(y)
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[3*x], row[3*x+1], row[3*x+2] = r, g, bb
			}
		}
		return dst
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := dst.Row(y)
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				// Big-endian 16-bit samples: the high byte is >>8.
				row[3*x], row[3*x+1], row[3*x+2] = src[8*x], src[8*x+2], src[8*x+4]
			}
		}
		return dst
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := dst.Row(y)
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := src[2*x]
				row[3*x], row[3*x+1], row[3*x+2] = v, v, v
			}
		}
		return dst
	}
	for y := 0; y < h; y++ {
		row := dst.Row(y)
		for x := 0; x < w; x++ {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			row[3*x], row[3*x+1], row[3*x+2] = byte(c.R>>8), byte(c.G>>8), byte(c.B>>8)
		}
	}
	return dst
}
