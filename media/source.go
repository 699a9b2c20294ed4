package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/scopenative/scope/frame"
)

// reader is what each kind of source implements; source wraps it with the shared logic
// (frame limit, Index/PTS, format conversion, closed state).
type reader interface {
	// format is the format read fills.
	format() frame.Format
	// rate is the source's own frame rate (num/den), or 0/0 when it has none.
	rate() (num, den int64)
	// read fills dst, whose format equals format() (any pitch), or returns io.EOF.
	read(ctx context.Context, dst *frame.Frame) error
	close() error
}

// source implements Source on top of a reader.
type source struct {
	r        reader
	fmt      frame.Format
	num, den int64  // frame rate used for PTS
	limit    uint64 // 0: none
	n        uint64 // frames read so far
	scratch  *frame.Frame
	err      error // sticky error (io.EOF included) once the reader has failed
	closed   bool
}

func newSource(r reader, opts SourceOptions) *source {
	num, den := r.rate()
	if num <= 0 || den <= 0 {
		fps := opts.FPS
		if fps == 0 {
			fps = defaultFPS
		}
		num, den = rational(fps)
	}
	return &source{r: r, fmt: r.format(), num: num, den: den, limit: uint64(opts.Frames)}
}

func (s *source) Format() frame.Format { return s.fmt }

func (s *source) Read(ctx context.Context, dst *frame.Frame) error {
	if s.closed {
		return errors.New("read from closed source")
	}
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.limit > 0 && s.n >= s.limit {
		return io.EOF
	}
	if err := checkFrame(dst); err != nil {
		return fmt.Errorf("read: destination %w", err)
	}
	target := dst
	if dst.Format != s.fmt {
		if dst.Width != s.fmt.Width || dst.Height != s.fmt.Height {
			return fmt.Errorf("read: destination is %v, source produces %v", dst.Format, s.fmt)
		}
		if s.scratch == nil {
			s.scratch = frame.New(s.fmt)
		}
		target = s.scratch
	}
	if err := s.r.read(ctx, target); err != nil {
		s.err = err
		return err
	}
	if target != dst {
		if err := frame.Convert(dst, target); err != nil {
			return fmt.Errorf("read: %w", err)
		}
	}
	dst.Index = s.n
	dst.PTS = pts(s.n, s.num, s.den)
	s.n++
	return nil
}

func (s *source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.r.close()
}

// Skipped returns how many missing images an image sequence opened with SkipGaps has stepped
// over so far; 0 for any other source.
func Skipped(src Source) int {
	if s, ok := src.(*source); ok {
		if k, ok := s.r.(interface{ skipped() int }); ok {
			return k.skipped()
		}
	}
	return 0
}

// checkFrame reports whether f can be read or written: valid format, pitch and data length.
func checkFrame(f *frame.Frame) error {
	if f == nil {
		return errors.New("frame is nil")
	}
	if err := f.Format.Validate(); err != nil {
		return err
	}
	if f.Pitch < f.RowBytes() {
		return fmt.Errorf("frame pitch %d < row bytes %d", f.Pitch, f.RowBytes())
	}
	if need := f.Pitch*(f.Height-1) + f.RowBytes(); len(f.Data) < need {
		return fmt.Errorf("frame data has %d bytes, %v with pitch %d needs %d", len(f.Data), f.Format, f.Pitch, need)
	}
	return nil
}

// pts returns the presentation time of frame n at num/den frames per second.
func pts(n uint64, num, den int64) time.Duration {
	// n*den*1e9/num, split into whole seconds and a remainder so that it cannot overflow for
	// any realistic n, num and den.
	if n < 1<<32 && den < 1<<31 && num < 1<<33 {
		t := int64(n) * den
		return time.Duration(t/num)*time.Second + time.Duration(t%num*int64(time.Second)/num)
	}
	return time.Duration(float64(n) * float64(den) * float64(time.Second) / float64(num))
}

// rational turns a frame rate into num/den: integers stay n/1, NTSC rates become n*1000/1001,
// anything else is rounded to 1/1000 and reduced.
func rational(fps float64) (num, den int64) {
	if fps <= 0 || math.IsNaN(fps) || math.IsInf(fps, 0) {
		return defaultFPS, 1
	}
	if r := math.Round(fps); math.Abs(fps-r) < 1e-9 {
		return int64(r), 1
	}
	if r := math.Round(fps * 1001 / 1000); math.Abs(fps-r*1000/1001) < 1e-5*fps {
		return int64(r) * 1000, 1001
	}
	num, den = int64(math.Round(fps*1000)), 1000
	if num == 0 {
		num = 1
	}
	g := gcd(num, den)
	return num / g, den / g
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// frameRate formats num/den for headers and command lines: "30" or "30000/1001".
func frameRate(num, den int64) string {
	if den == 1 {
		return fmt.Sprint(num)
	}
	return fmt.Sprintf("%d/%d", num, den)
}

// loopReader reopens a file input when it ends, so that it plays again from the start. An input
// that ends before its first frame ends the loop (instead of spinning).
type loopReader struct {
	cur  reader
	open func() (reader, error)
	got  bool // the current pass delivered a frame
}

func (l *loopReader) format() frame.Format   { return l.cur.format() }
func (l *loopReader) rate() (num, den int64) { return l.cur.rate() }
func (l *loopReader) close() error           { return l.cur.close() }

func (l *loopReader) read(ctx context.Context, dst *frame.Frame) error {
	err := l.cur.read(ctx, dst)
	if err != io.EOF || !l.got {
		l.got = l.got || err == nil
		return err
	}
	f := l.cur.format()
	l.cur.close()
	next, oerr := l.open()
	if oerr != nil {
		return fmt.Errorf("loop: reopen: %w", oerr)
	}
	l.cur, l.got = next, false
	if next.format() != f {
		return fmt.Errorf("loop: the input changed from %v to %v", f, next.format())
	}
	return l.read(ctx, dst)
}

// FrameRate returns the frame rate a source stamps its frames with (its own, else the one
// its options gave, else 30).
func FrameRate(src Source) float64 {
	switch s := src.(type) {
	case *source:
		return float64(s.num) / float64(s.den)
	case *Live:
		return FrameRate(s.src)
	}
	return defaultFPS
}
