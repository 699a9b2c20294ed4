//go:build cgo

package render

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/session"
)

// frameSource is where frames come from: the session's ring (session.Reader) or, for a
// session on another machine, its HTTP frame stream (apiclient.Frames).
type frameSource interface {
	Next(dst *session.Frame) (bool, error)
	ReadAudio(dst []float32) (n int, skipped int)
	Closed() bool
}

// frameFeed reads the session's ring. Frames are read on demand: the window takes the newest
// one when it is about to draw, so a frame the window never shows is neither copied nor
// converted (the session publishes 60 a second; a software-GL window may draw 15). The ring
// is seqlocked, so the session never waits for the reader. A goroutine polls the audio and
// whether the session closed the ring.
type frameFeed struct {
	ring frameSource

	mu     sync.Mutex // guards ring (Next and ReadAudio come from two goroutines)
	raw    session.Frame
	rgba   []byte // the last taken frame as RGBA, reused
	closed atomic.Bool
	audio  func([]float32)
}

// run polls audio and the ring's closed flag until ctx ends. audio, when set, receives new
// 48 kHz stereo samples.
func (f *frameFeed) run(ctx context.Context) {
	pcm := make([]float32, 48000/10*2)
	every := 50 * time.Millisecond
	if f.audio != nil {
		every = 2 * time.Millisecond
	}
	for ctx.Err() == nil {
		if f.audio != nil {
			for {
				f.mu.Lock()
				n, _ := f.ring.ReadAudio(pcm)
				f.mu.Unlock()
				if n == 0 {
					break
				}
				f.audio(pcm[:n*2])
			}
		}
		f.mu.Lock() // Next may remap the ring
		f.closed.Store(f.ring.Closed())
		f.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// take returns the newest frame as RGBA if one arrived since the last take. The slice is
// valid until the next take (it is reused). It is a copy even for RGBA frames: a torn read
// in a later Next may overwrite f.raw, and S saves the frame shown.
func (f *frameFeed) take() (pix []byte, w, h int, number uint64, ok bool) {
	f.mu.Lock()
	got, err := f.ring.Next(&f.raw)
	f.mu.Unlock()
	if err != nil || !got {
		return nil, 0, 0, 0, false
	}
	fr := &f.raw
	n := fr.Width * fr.Height * 4
	if cap(f.rgba) < n {
		f.rgba = make([]byte, n)
	}
	f.rgba = f.rgba[:n]
	toRGBA(f.rgba, fr.Pix, fr.Channels)
	return f.rgba, fr.Width, fr.Height, fr.Number, true
}

func (f *frameFeed) isClosed() bool { return f.closed.Load() }
