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
	"slices"
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

// maxNameLen is the longest file name (one path element) Linux allows, in bytes.
const maxNameLen = 255

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
		// A file name has at most 255 bytes: wider padding can name no file, and building
		// names with it would take gigabytes (or overflow).
		digits := base[loc[2]+1 : loc[3]]
		w, err := strconv.Atoi(digits)
		if err != nil || w > maxNameLen {
			return pattern{}, false, fmt.Errorf("sequence pattern %q: padding to %s digits is too wide; a file name has at most %d bytes", spec, digits, maxNameLen)
		}
		p.width = w
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

// numbers returns the numbers of the existing files that match the pattern, in order.
func (p pattern) numbers() ([]int, error) {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, e := range entries {
		if n, ok := p.number(e.Name()); ok {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return nil, fmt.Errorf("no files match %s", p.spec)
	}
	slices.Sort(nums)
	return nums, nil
}

// number returns the number in a file name (no directory) written by the pattern.
func (p pattern) number(name string) (int, bool) {
	num, ok := strings.CutPrefix(name, p.prefix)
	if !ok {
		return 0, false
	}
	if num, ok = strings.CutSuffix(num, p.suffix); !ok || num == "" {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || num[0] == '+' || filepath.Base(p.name(n)) != name {
		return 0, false
	}
	return n, true
}

// sequence reads numbered images from the lowest existing number upward. A number missing
// below the highest one found at open is a gap: an error naming the file, or (skipGaps) a step
// to the next existing number, counted. Past the highest, it goes on while files keep
// existing (a sequence may grow while it is read) and ends at the first missing one.
type sequence struct {
	p        pattern
	nums     []int // the numbers found at open, ascending
	i        int   // index in nums of the next number, len(nums) past the end
	next     int   // the next number to read
	skipGaps bool
	gaps     int // missing numbers stepped over
	limits   Limits
	f        frame.Format
	first    *frame.Frame // decoded at open, handed out by the first read
}

func openSequence(p pattern, opts SourceOptions) (*sequence, error) {
	nums, err := p.numbers()
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", p.spec, err)
	}
	img, err := decodeImageFile(p.name(nums[0]), opts.Limits, nil)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", p.spec, err)
	}
	return &sequence{p: p, nums: nums, next: nums[0], skipGaps: opts.SkipGaps, limits: opts.Limits, f: img.Format, first: img}, nil
}

func (s *sequence) format() frame.Format   { return s.f }
func (s *sequence) rate() (num, den int64) { return 0, 0 }
func (s *sequence) close() error           { s.first = nil; return nil }
func (s *sequence) skipped() int           { return s.gaps }

func (s *sequence) read(_ context.Context, dst *frame.Frame) error {
	img := s.first
	s.first = nil
	for s.i < len(s.nums) && s.nums[s.i] < s.next {
		s.i++
	}
	if s.i < len(s.nums) && s.nums[s.i] > s.next {
		// A gap: the next number is missing, a higher one exists.
		if !s.skipGaps {
			return fmt.Errorf("read %s: %s is missing (the sequence goes on at %s); add it, or skip missing images with --skip-gaps",
				s.p.spec, s.p.name(s.next), filepath.Base(s.p.name(s.nums[s.i])))
		}
		s.gaps += s.nums[s.i] - s.next
		s.next = s.nums[s.i]
	}
	name := s.p.name(s.next)
	if img == nil {
		var err error
		img, err = decodeImageFile(name, s.limits, &s.f)
		if errors.Is(err, fs.ErrNotExist) {
			if s.i < len(s.nums) {
				return fmt.Errorf("read %s: %s was removed while the sequence was read", s.p.spec, name)
			}
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
