package session

import (
	"fmt"
	"image"
	"image/png"
	"os"
)

// Image returns the frame as an image (sharing no memory with it).
func (f *Frame) Image() image.Image {
	r := image.Rect(0, 0, f.Width, f.Height)
	switch f.Channels {
	case 1:
		img := image.NewGray(r)
		copy(img.Pix, f.Pix)
		return img
	case 4:
		img := image.NewNRGBA(r)
		copy(img.Pix, f.Pix)
		return img
	}
	img := image.NewNRGBA(r)
	for i, j := 0, 0; i+2 < len(f.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = f.Pix[i], f.Pix[i+1], f.Pix[i+2], 255
	}
	return img
}

// WritePNG writes the frame to path as PNG.
func WritePNG(path string, f *Frame) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, f.Image()); err != nil {
		out.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return out.Close()
}
