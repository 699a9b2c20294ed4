package media

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/scopenative/scope/frame"
)

// pattern is a numbered file name like dir/%05d.png: dir, then prefix, the number padded with
// zeros to width digits (0: no padding), then suffix.
type pattern struct {
	spec           string
	dir            string
	prefix, suffix string
	width          int
}

var patternVerb = regexp.MustCompile(`%(0[1-9][0-9]*)?d`)

// parsePattern recognises a printf-style %d or %0Nd in the file name part of spec. ok is false
// when spec has no such verb (a '%' alone, as in an URL-escaped name, is an ordinary path).
func parsePattern(spec string) (p pattern, ok bool, err error) {
	locs := patternVerb.FindAllStringIndex(spec, -1)
	if len(locs) == 0 {
		return pattern{}, false, nil
	}
	if len(locs) > 1 {
		return pattern{}, false, fmt.Errorf("sequence pattern %q has %d number verbs, want one (like %%05d)", spec, len(locs))
	}
	dir, base := filepath.Split(spec)
	if strings.Contains(dir, "%") {
		return pattern{}, false, fmt.Errorf("sequence pattern %q: the number must be in the file name, not the directory", spec)
	}
	loc := patternVerb.FindStringSubmatchIndex(base)
	p = pattern{spec: spec, dir: filepath.Clean(dir), prefix: base[:loc[0]], suffix: base[loc[1]:]}
	if loc[2] >= 0 {
		p.width, _ = strconv.Atoi(base[loc[2]+1 : loc[3]])
	}
	switch strings.ToLower(filepath.Ext(p.suffix)) {
	case ".png", ".jpg", ".jpeg":
	default:
		return pattern{}, false, fmt.Errorf("sequence pattern %q: unsupported image type %q, want .png or .jpg", spec, filepath.Ext(p.suffix))
	}
	if strings.Contains(p.prefix+p.suffix, "%") {
		return pattern{}, false, fmt.Errorf("sequence pattern %q: stray '%%' in the file name", spec)
	}
	return p, true, nil
}

// name returns the file name of number n.
func (p pattern) name(n int) string {
	num := strconv.Itoa(n)
	if len(num) < p.width {
		num = strings.Repeat("0", p.width-len(num)) + num
	}
	return filepath.Join(p.dir, p.prefix+num+p.suffix)
}

// first returns the lowest number whose file exists.
func (p pattern) first() (int, error) {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return 0, err
	}
	best := -1
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), p.prefix)
		if !ok {
			continue
		}
		if num, ok = strings.CutSuffix(num, p.suffix); !ok || num == "" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || num[0] == '+' || filepath.Base(p.name(n)) != e.Name() {
			continue
		}
		if best < 0 || n < best {
			best = n
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("no files match %s", p.spec)
	}
	return best, nil
}

// sequence reads numbered images from the lowest existing number upward until a gap.
type sequence struct {
	p      pattern
	next   int
	limits Limits
	f      frame.Format
	first  *frame.Frame // decoded at open, handed out by the first read
}

func openSequence(p pattern, opts SourceOptions) (*sequence, error) {
	n, err := p.first()
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", p.spec, err)
	}
	img, err := decodeImageFile(p.name(n), opts.Limits, nil)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", p.spec, err)
	}
	return &sequence{p: p, next: n, limits: opts.Limits, f: img.Format, first: img}, nil
}

func (s *sequence) format() frame.Format   { return s.f }
func (s *sequence) rate() (num, den int64) { return 0, 0 }
func (s *sequence) close() error           { s.first = nil; return nil }

func (s *sequence) read(_ context.Context, dst *frame.Frame) error {
	img := s.first
	s.first = nil
	name := s.p.name(s.next)
	if img == nil {
		var err error
		img, err = decodeImageFile(name, s.limits, &s.f)
		if errors.Is(err, fs.ErrNotExist) {
			return io.EOF
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.p.spec, err)
		}
	}
	s.next++
	return frame.Convert(dst, img)
}

// sequenceSink writes one image per frame, numbered from 0.
type sequenceSink struct {
	p      pattern
	n      int
	enc    *imageEncoder
	closed bool
}

func createSequenceSink(p pattern) (*sequenceSink, error) {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create sink %s: %w", p.spec, err)
	}
	// Fast compression: a sequence is written in real time.
	return &sequenceSink{p: p, enc: newImageEncoder(p.suffix, png.BestSpeed)}, nil
}

func (s *sequenceSink) Write(f *frame.Frame) error {
	if s.closed {
		return fmt.Errorf("write %s: sink is closed", s.p.spec)
	}
	if err := checkFrame(f); err != nil {
		return fmt.Errorf("write %s: %w", s.p.spec, err)
	}
	if err := s.enc.writeFile(s.p.name(s.n), f); err != nil {
		return err
	}
	s.n++
	return nil
}

func (s *sequenceSink) Close() error {
	s.closed = true
	return nil
}
