package media

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/scopenative/scope/frame"
)

// YUV4MPEG2 colour handling. The writer stores 4:4:4 full-range BT.601 ("JPEG") YCbCr and says
// so with XCOLORRANGE=FULL; the reader uses the same matrix, and the limited-range (16..235)
// variant when the header says XCOLORRANGE=LIMITED or nothing, as ffmpeg does. Chroma is
// upsampled by replication (siting is ignored).

// Fixed-point RGB -> YCbCr coefficients (full range, x 65536).
const (
	yR, yG, yB    = 19595, 38470, 7471    // 0.299, 0.587, 0.114
	cbR, cbG, cbB = -11059, -21709, 32768 // -0.168736, -0.331264, 0.5
	crR, crG, crB = 32768, -27439, -5329  // 0.5, -0.418688, -0.081312
)

// yuvTables turns 8-bit Y, Cb, Cr into RGB with fixed point (x 65536) lookups.
type yuvTables struct {
	y          [256]int32 // includes the rounding half
	rV, gU, gV [256]int32
	bU         [256]int32
}

func newYUVTables(full bool) *yuvTables {
	t := &yuvTables{}
	ys, cs, y0 := 1.0, 1.0, 0.0
	if !full {
		ys, cs, y0 = 255.0/219, 255.0/224, 16
	}
	for i := 0; i < 256; i++ {
		y := (float64(i) - y0) * ys
		c := (float64(i) - 128) * cs
		t.y[i] = int32(math.Round(y*65536)) + 1<<15
		t.rV[i] = int32(math.Round(1.402 * c * 65536))
		t.gU[i] = int32(math.Round(-0.344136 * c * 65536))
		t.gV[i] = int32(math.Round(-0.714136 * c * 65536))
		t.bU[i] = int32(math.Round(1.772 * c * 65536))
	}
	return t
}

// clamp8 shifts a x65536 fixed-point value down and clamps it to 0..255.
func clamp8(v int32) byte {
	return byte(max(min(v>>16, 255), 0))
}

// y4mReader reads 8-bit YUV4MPEG2 (C420*, C422, C444, Cmono) and converts to RGB U8.
type y4mReader struct {
	path     string
	file     *os.File
	br       *bufio.Reader
	f        frame.Format
	num, den int64
	hs, vs   uint // chroma subsampling shifts; mono: no chroma planes
	mono     bool
	cw, ch   int
	buf      []byte // one frame's planes
	tab      *yuvTables
}

func openY4M(path string, limits Limits) (*y4mReader, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	r, err := newY4MReader(file, path, limits)
	if err != nil {
		file.Close()
		return nil, err
	}
	r.file = file
	return r, nil
}

// y4mBufSize is the reader's buffer: a stream header longer than this is refused.
const y4mBufSize = 1 << 20

// newY4MReader parses the stream header from rd and checks its size against limits before
// allocating anything of that size; path names the stream in errors.
func newY4MReader(rd io.Reader, path string, limits Limits) (*y4mReader, error) {
	br := bufio.NewReaderSize(rd, y4mBufSize)
	raw, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: y4m header: no end of line in the first %d bytes (not a YUV4MPEG2 file?)", path, y4mBufSize)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: y4m header: %w", path, err)
	}
	line := string(raw)
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "YUV4MPEG2" {
		return nil, fmt.Errorf("read %s: not a YUV4MPEG2 file (header %q)", path, strings.TrimSpace(truncate(line, 40)))
	}
	r := &y4mReader{path: path, br: br}
	w, h, colour, full := 0, 0, "420jpeg", false
	for _, tok := range fields[1:] {
		val := tok[1:]
		switch tok[0] {
		case 'W':
			w, err = strconv.Atoi(val)
		case 'H':
			h, err = strconv.Atoi(val)
		case 'F':
			n, d, ok := strings.Cut(val, ":")
			var ni, di int
			if ni, err = strconv.Atoi(n); err == nil && ok {
				di, err = strconv.Atoi(d)
			}
			if err == nil && ni > 0 && di > 0 {
				r.num, r.den = int64(ni), int64(di)
				g := gcd(r.num, r.den)
				r.num, r.den = r.num/g, r.den/g
			}
		case 'C':
			colour = val
		case 'X':
			switch strings.ToUpper(val) {
			case "COLORRANGE=FULL":
				full = true
			case "COLORRANGE=LIMITED":
				full = false
			}
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: y4m header field %q: %w", path, tok, err)
		}
	}
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("read %s: y4m header has no valid size (W%d H%d)", path, w, h)
	}
	perPixel := int64(rgbBytes + 3) // planes (4:4:4 at most) and the RGB frame
	switch colour {
	case "420jpeg", "420paldv", "420mpeg2", "420":
		r.hs, r.vs = 1, 1
	case "422":
		r.hs = 1
	case "444":
	case "mono":
		r.mono = true
		perPixel = rgbBytes + 1
	default:
		return nil, fmt.Errorf("read %s: unsupported y4m colour space C%s (want 8-bit C420jpeg, C420paldv, C420mpeg2, C420, C422, C444 or Cmono)", path, colour)
	}
	if err := limits.check(path, w, h, perPixel); err != nil {
		return nil, err
	}
	r.f = frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.U8}
	size := w * h
	if !r.mono {
		r.cw, r.ch = (w+(1<<r.hs)-1)>>r.hs, (h+(1<<r.vs)-1)>>r.vs
		size += 2 * r.cw * r.ch
	}
	r.buf = make([]byte, size)
	r.tab = newYUVTables(full)
	return r, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (r *y4mReader) format() frame.Format   { return r.f }
func (r *y4mReader) rate() (num, den int64) { return r.num, r.den }

func (r *y4mReader) close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

func (r *y4mReader) read(_ context.Context, dst *frame.Frame) error {
	line, err := r.br.ReadSlice('\n')
	if err == io.EOF && len(line) == 0 {
		return io.EOF
	}
	for errors.Is(err, bufio.ErrBufferFull) { // very long frame parameters: skip them
		_, err = r.br.ReadSlice('\n')
	}
	if err != nil {
		return fmt.Errorf("read %s: frame header: %w", r.path, err)
	}
	if !bytes.HasPrefix(line, []byte("FRAME")) {
		return fmt.Errorf("read %s: bad frame header %q", r.path, truncate(string(line), 40))
	}
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("read %s: truncated frame", r.path)
		}
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	w, h := r.f.Width, r.f.Height
	t := r.tab
	if r.mono {
		for y := 0; y < h; y++ {
			yr := r.buf[y*w : (y+1)*w]
			d := dst.Row(y)[:3*w]
			for x, yv := range yr {
				v := clamp8(t.y[yv])
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
		return nil
	}
	cb := r.buf[w*h:]
	cr := cb[r.cw*r.ch:]
	for y := 0; y < h; y++ {
		yr := r.buf[y*w : (y+1)*w]
		co := (y >> r.vs) * r.cw
		ur, vr := cb[co:co+r.cw], cr[co:co+r.cw]
		d := dst.Row(y)[:3*w]
		hs := r.hs
		for x, yv := range yr {
			if len(d) < 3 {
				break
			}
			yy := t.y[yv]
			c := x >> hs
			if c >= len(ur) || c >= len(vr) {
				break
			}
			u, v := ur[c], vr[c]
			d[0] = clamp8(yy + t.rV[v])
			d[1] = clamp8(yy + t.gU[u] + t.gV[v])
			d[2] = clamp8(yy + t.bU[u])
			d = d[3:]
		}
	}
	return nil
}

// y4mWriter writes a C444 full-range YUV4MPEG2 stream.
type y4mWriter struct {
	w    io.Writer
	f    frame.Format
	buf  []byte // "FRAME\n" and the three planes
	conv packer
}

// newY4MWriter writes the stream header for w x h frames at num/den fps.
func newY4MWriter(w io.Writer, width, height int, num, den int64) (*y4mWriter, error) {
	hdr := fmt.Sprintf("YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C444 XCOLORRANGE=FULL\n", width, height, num, den)
	if _, err := io.WriteString(w, hdr); err != nil {
		return nil, err
	}
	n := width * height
	yw := &y4mWriter{w: w, f: frame.Format{Width: width, Height: height, Channels: 3, Elem: frame.U8}, buf: make([]byte, 6+3*n)}
	copy(yw.buf, "FRAME\n")
	return yw, nil
}

func (yw *y4mWriter) write(f *frame.Frame) error {
	if err := checkSize(f, yw.f.Width, yw.f.Height); err != nil {
		return err
	}
	rgb, err := yw.conv.rgb(f)
	if err != nil {
		return err
	}
	w, h := yw.f.Width, yw.f.Height
	n := w * h
	planes := yw.buf[6:]
	yp, up, vp := planes[:n], planes[n:2*n], planes[2*n:3*n]
	for y := 0; y < h; y++ {
		s := rgb.Row(y)[:3*w]
		yr := yp[y*w : (y+1)*w]
		ur, vr := up[y*w:y*w+len(yr)], vp[y*w:y*w+len(yr)]
		for x := range yr {
			if len(s) < 3 {
				break
			}
			r, g, b := int32(s[0]), int32(s[1]), int32(s[2])
			s = s[3:]
			// Y is within 0..255; Cb and Cr within 1..256 (256 for a pure blue or red).
			yr[x] = byte((yR*r + yG*g + yB*b + 1<<15) >> 16)
			ur[x] = byte(min((cbR*r+cbG*g+cbB*b+128<<16+1<<15)>>16, 255))
			vr[x] = byte(min((crR*r+crG*g+crB*b+128<<16+1<<15)>>16, 255))
		}
	}
	_, err = yw.w.Write(yw.buf)
	return err
}

// y4mSink writes a .y4m file.
type y4mSink struct {
	path string
	file *os.File
	yw   *y4mWriter
}

func createY4MSink(path string, format frame.Format, opts SinkOptions) (*y4mSink, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create sink: %w", err)
	}
	num, den := rational(opts.FPS)
	yw, err := newY4MWriter(file, format.Width, format.Height, num, den)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &y4mSink{path: path, file: file, yw: yw}, nil
}

func (s *y4mSink) Write(f *frame.Frame) error {
	if s.file == nil {
		return fmt.Errorf("write %s: sink is closed", s.path)
	}
	if err := s.yw.write(f); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

func (s *y4mSink) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}
