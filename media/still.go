package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scopenative/scope/frame"
)

// decodeImageFile reads a PNG or JPEG file (image/png and image/jpeg register the decoders) into a
// packed RGB U8 frame (alpha dropped, 16-bit reduced by >>8), with decodeImage.
func decodeImageFile(path string, limits Limits, want *frame.Format) (*frame.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeImage(f, path, limits, want)
}

// decodeImage decodes the PNG or JPEG in rs; name names it in errors. It reads the header
// first and refuses, before decoding, an image over limits or (when want is not nil) of another
// size than *want, so that a small file claiming a huge size is never decoded.
func decodeImage(rs io.ReadSeeker, name string, limits Limits, want *frame.Format) (*frame.Frame, error) {
	br := bufio.NewReaderSize(rs, 64<<10)
	cfg, _, err := image.DecodeConfig(br)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	if want != nil && (cfg.Width != want.Width || cfg.Height != want.Height) {
		return nil, fmt.Errorf("%s is %dx%d, the sequence started at %dx%d", name, cfg.Width, cfg.Height, want.Width, want.Height)
	}
	if err := limits.checkImageConfig(name, cfg); err != nil {
		return nil, err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	br.Reset(rs)
	img, _, err := image.Decode(br)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("decode %s: the header says %dx%d, the image is %dx%d", name, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	fr := frame.FromImage(img)
	if fr == nil {
		return nil, fmt.Errorf("decode %s: empty image", name)
	}
	return fr, nil
}

// still is one decoded image, yielded once (Frames 0) or repeatedly (the frame limit, or the
// caller with Repeat, stops it).
type still struct {
	img    *frame.Frame
	repeat bool
	done   bool
}

func openStill(path string, opts SourceOptions) (*still, error) {
	img, err := decodeImageFile(path, opts.Limits, nil)
	var le *LimitError
	if errors.As(err, &le) {
		return nil, err // already says "open source PATH"
	}
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	return &still{img: img, repeat: opts.Frames > 0 || opts.Repeat}, nil
}

func (s *still) format() frame.Format   { return s.img.Format }
func (s *still) rate() (num, den int64) { return 0, 0 }
func (s *still) close() error           { return nil }

func (s *still) read(_ context.Context, dst *frame.Frame) error {
	if s.done {
		return io.EOF
	}
	s.done = !s.repeat
	return frame.Convert(dst, s.img)
}

// imageEncoder writes frames as PNG or JPEG, reusing its image buffers between frames.
type imageEncoder struct {
	jpeg  bool
	png   png.Encoder
	pool  pngPool
	gray  *image.Gray
	nrgba *image.NRGBA
	rgb   packer
}

func newImageEncoder(path string, level png.CompressionLevel) *imageEncoder {
	ext := strings.ToLower(filepath.Ext(path))
	e := &imageEncoder{jpeg: ext == ".jpg" || ext == ".jpeg"}
	e.png = png.Encoder{CompressionLevel: level, BufferPool: &e.pool}
	return e
}

// pngPool is a png.EncoderBufferPool holding one buffer (sinks are not used concurrently).
type pngPool struct{ b *png.EncoderBuffer }

func (p *pngPool) Get() *png.EncoderBuffer  { b := p.b; p.b = nil; return b }
func (p *pngPool) Put(b *png.EncoderBuffer) { p.b = b }

// image returns f as an 8-bit image: Gray for 1 channel, opaque NRGBA for 3 (so PNG stores RGB
// with exactly the frame's values), NRGBA with alpha for 4 (RGB for JPEG, which has no alpha).
func (e *imageEncoder) image(f *frame.Frame) (image.Image, error) {
	r := image.Rect(0, 0, f.Width, f.Height)
	if f.Channels == 1 {
		if e.gray == nil || e.gray.Rect != r {
			e.gray = image.NewGray(r)
		}
		view := &frame.Frame{Format: frame.Format{Width: f.Width, Height: f.Height, Channels: 1, Elem: frame.U8}, Pitch: e.gray.Stride, Data: e.gray.Pix}
		return e.gray, frame.Convert(view, f)
	}
	if e.jpeg && f.Channels == 4 {
		rgb, err := e.rgb.rgb(f)
		if err != nil {
			return nil, err
		}
		f = rgb
	}
	if e.nrgba == nil || e.nrgba.Rect != r {
		e.nrgba = image.NewNRGBA(r)
	}
	view := &frame.Frame{Format: frame.Format{Width: f.Width, Height: f.Height, Channels: 4, Elem: frame.U8}, Pitch: e.nrgba.Stride, Data: e.nrgba.Pix}
	return e.nrgba, frame.Convert(view, f)
}

// writeFile encodes f into path (created or truncated).
func (e *imageEncoder) writeFile(path string, f *frame.Frame) (err error) {
	img, err := e.image(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(out, 256<<10)
	if e.jpeg {
		err = jpeg.Encode(bw, img, &jpeg.Options{Quality: 95})
	} else {
		err = e.png.Encode(bw, img)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// stillSink keeps a copy of the last frame written and encodes it into its file on Close, so
// `--frames 10 --output out.png` shows the final state.
type stillSink struct {
	path   string
	last   *frame.Frame
	count  int
	closed bool
}

func createStillSink(path string) (*stillSink, error) {
	if err := checkParentDir(path); err != nil {
		return nil, fmt.Errorf("create sink %s: %w", path, err)
	}
	return &stillSink{path: path}, nil
}

// checkParentDir fails early when the directory a file would go into does not exist.
func checkParentDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

func (s *stillSink) Write(f *frame.Frame) error {
	if s.closed {
		return fmt.Errorf("write %s: sink is closed", s.path)
	}
	if err := checkFrame(f); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if s.last == nil || s.last.Format != f.Format {
		s.last = frame.New(f.Format)
	}
	if err := frame.Convert(s.last, f); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.count++
	return nil
}

// Close writes the last frame; it is an error if no frame was written.
func (s *stillSink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.last == nil {
		return fmt.Errorf("write %s: no frame was written", s.path)
	}
	err := newImageEncoder(s.path, png.DefaultCompression).writeFile(s.path, s.last)
	s.last = nil
	return err
}
