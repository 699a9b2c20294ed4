package media

import (
	"fmt"
	"os"

	"github.com/scopenative/scope/frame"
)

// nullSink discards frames (it still checks them, so a bad frame is reported).
type nullSink struct{ closed bool }

func (s *nullSink) Write(f *frame.Frame) error {
	if s.closed {
		return fmt.Errorf("write null: sink is closed")
	}
	if err := checkFrame(f); err != nil {
		return fmt.Errorf("write null: %w", err)
	}
	return nil
}

func (s *nullSink) Close() error { s.closed = true; return nil }

// rawSink appends each frame as packed rgb24 bytes (W*H*3, no header).
type rawSink struct {
	path string
	file *os.File
	w, h int
	conv packer
}

func createRawSink(path string, format frame.Format) (*rawSink, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create sink: %w", err)
	}
	return &rawSink{path: path, file: file, w: format.Width, h: format.Height}, nil
}

func (s *rawSink) Write(f *frame.Frame) error {
	if s.file == nil {
		return fmt.Errorf("write %s: sink is closed", s.path)
	}
	if err := checkSize(f, s.w, s.h); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	b, err := s.conv.packedRGB(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if _, err := s.file.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

func (s *rawSink) Close() error {
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
