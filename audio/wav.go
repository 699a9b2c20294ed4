package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// WAVWriter writes 16-bit PCM WAV files. The header's sizes are patched on Close.
type WAVWriter struct {
	f        *os.File
	w        *bufio.Writer
	channels int
	frames   int64
	buf      []byte
}

// CreateWAV creates a 16-bit PCM WAV file at path.
func CreateWAV(path string, rate, channels int) (*WAVWriter, error) {
	if rate <= 0 || channels < 1 || channels > 8 {
		return nil, fmt.Errorf("create %s: bad format %d Hz, %d channels", path, rate, channels)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	w := &WAVWriter{f: f, w: bufio.NewWriterSize(f, 64<<10), channels: channels}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	if _, err := w.w.Write(h); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

// Write appends interleaved float samples (clamped to -1..1) in the file's channel count.
func (w *WAVWriter) Write(samples []float32) error {
	if cap(w.buf) < 2*len(samples) {
		w.buf = make([]byte, 2*len(samples))
	}
	b := w.buf[:2*len(samples)]
	for i, s := range samples {
		v := math.Round(float64(s) * 32767)
		v = max(-32768, min(32767, v))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v)))
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	w.frames += int64(len(samples) / w.channels)
	return nil
}

// Frames returns the sample frames written so far.
func (w *WAVWriter) Frames() int64 { return w.frames }

// Close flushes, patches the sizes in the header and closes the file.
func (w *WAVWriter) Close() error {
	if w.f == nil {
		return nil
	}
	defer func() { w.f = nil }()
	data := w.frames * int64(w.channels) * 2
	err := w.w.Flush()
	var h [4]byte
	binary.LittleEndian.PutUint32(h[:], uint32(36+data))
	if _, e := w.f.WriteAt(h[:], 4); e != nil && err == nil {
		err = e
	}
	binary.LittleEndian.PutUint32(h[:], uint32(data))
	if _, e := w.f.WriteAt(h[:], 40); e != nil && err == nil {
		err = e
	}
	if e := w.f.Close(); e != nil && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("finish wav: %w", err)
	}
	return nil
}

// ReadWAV reads a 16-bit PCM WAV file into interleaved float samples.
func ReadWAV(path string) (samples []float32, rate, channels int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read wav: %w", err)
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, 0, fmt.Errorf("read %s: not a WAV file", path)
	}
	var bits int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 {
				return nil, 0, 0, fmt.Errorf("read %s: only PCM WAV is supported", path)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 {
				return nil, 0, 0, fmt.Errorf("read %s: %d-bit samples; only 16-bit is supported", path, bits)
			}
			samples = make([]float32, len(body)/2)
			for i := range samples {
				samples[i] = float32(int16(binary.LittleEndian.Uint16(body[2*i:]))) / 32768
			}
			return samples, rate, channels, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, 0, fmt.Errorf("read %s: %w", path, errors.Join(io.ErrUnexpectedEOF, errors.New("no data chunk")))
}
