package media

import (
	"fmt"

	"github.com/scopenative/scope/frame"
)

// packer converts frames to RGB U8 for sinks that need it, reusing one buffer.
type packer struct {
	buf *frame.Frame
}

// rgb returns f itself if it is RGB U8 (any pitch), else f converted into p's buffer.
func (p *packer) rgb(f *frame.Frame) (*frame.Frame, error) {
	want := frame.Format{Width: f.Width, Height: f.Height, Channels: 3, Elem: frame.U8}
	if f.Format == want {
		return f, nil
	}
	return p.convert(f, want)
}

// packedRGB returns the frame as packed rgb24 bytes (W*H*3), converting or repacking into p's
// buffer when f is not already packed RGB U8.
func (p *packer) packedRGB(f *frame.Frame) ([]byte, error) {
	want := frame.Format{Width: f.Width, Height: f.Height, Channels: 3, Elem: frame.U8}
	n := want.RowBytes() * want.Height
	if f.Format == want && f.Pitch == want.RowBytes() {
		return f.Data[:n], nil
	}
	b, err := p.convert(f, want)
	if err != nil {
		return nil, err
	}
	return b.Data[:n], nil
}

func (p *packer) convert(f *frame.Frame, want frame.Format) (*frame.Frame, error) {
	if p.buf == nil || p.buf.Format != want {
		p.buf = frame.New(want)
	}
	if err := frame.Convert(p.buf, f); err != nil {
		return nil, err
	}
	return p.buf, nil
}

// checkSize reports an error unless f is a usable frame of size w x h.
func checkSize(f *frame.Frame, w, h int) error {
	if err := checkFrame(f); err != nil {
		return err
	}
	if f.Width != w || f.Height != h {
		return fmt.Errorf("frame is %dx%d, this output was created for %dx%d", f.Width, f.Height, w, h)
	}
	return nil
}
