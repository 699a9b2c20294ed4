package media

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/scopenative/scope/frame"
)

// solid is a constant colour. It keeps one packed row and copies it into every row of dst.
type solid struct {
	f   frame.Format
	row []byte
}

func openSolid(spec string, opts SourceOptions) (*solid, error) {
	rest := strings.TrimPrefix(spec, "solid:")
	colour, size, _ := strings.Cut(rest, ":")
	colour = strings.TrimPrefix(colour, "#")
	c, err := hex.DecodeString(colour)
	if err != nil || len(c) != 3 {
		return nil, fmt.Errorf("open source %q: bad colour %q, want 6 hex digits RRGGBB (solid:RRGGBB or solid:RRGGBB:WxH)", spec, colour)
	}
	if strings.Count(rest, ":") == 1 && size == "" {
		return nil, fmt.Errorf("open source %q: missing size after ':', want solid:RRGGBB:WxH", spec)
	}
	w, h, err := generatedSize(spec, size, opts)
	if err != nil {
		return nil, err
	}
	s := &solid{f: frame.Format{Width: w, Height: h, Channels: 3, Elem: frame.U8}, row: make([]byte, 3*w)}
	for x := 0; x < w; x++ {
		copy(s.row[3*x:], c)
	}
	return s, nil
}

func (s *solid) format() frame.Format   { return s.f }
func (s *solid) rate() (num, den int64) { return 0, 0 }
func (s *solid) close() error           { return nil }

func (s *solid) read(_ context.Context, dst *frame.Frame) error {
	// Row by row from the one cached row: faster than doubling copies inside dst, which would
	// read back from memory what was just written.
	for y := 0; y < s.f.Height; y++ {
		copy(dst.Row(y), s.row)
	}
	return nil
}
