//go:build cgo

package render

import (
	"context"
	"sync"
	"time"

	"github.com/scopenative/scope/session"
)

// frameFeed copies the newest frame out of the ring and converts it to RGBA on its own
// goroutine, so the window thread only uploads it. The session never waits for it.
type frameFeed struct {
	ring *session.Reader

	mu     sync.Mutex
	rgba   []byte // newest converted frame
	width  int
	height int
	number uint64
	pts    time.Duration
	fresh  bool // rgba changed since take
	closed bool // the writer ended the session
	shown  []time.Time
	audio  func([]float32)
}

// run polls the ring until ctx ends. audio, when set, receives new 48 kHz stereo samples.
func (f *frameFeed) run(ctx context.Context) {
	var fr session.Frame
	var back []byte
	pcm := make([]float32, 48000/10*2)
	for ctx.Err() == nil {
		got, err := f.ring.Next(&fr)
		if f.audio != nil {
			for {
				n, _ := f.ring.ReadAudio(pcm)
				if n == 0 {
					break
				}
				f.audio(pcm[:n*2])
			}
		}
		if err != nil || !got {
			closed := f.ring.Closed()
			f.mu.Lock()
			f.closed = closed
			f.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		n := fr.Width * fr.Height * 4
		if cap(back) < n {
			back = make([]byte, n)
		}
		back = back[:n]
		toRGBA(back, fr.Pix, fr.Channels)
		f.mu.Lock()
		back, f.rgba = f.rgba, back
		f.width, f.height, f.number, f.pts, f.fresh = fr.Width, fr.Height, fr.Number, fr.PTS, true
		f.mu.Unlock()
	}
}

// take returns the newest frame if it changed since the last take. The slice is valid until
// the next take.
func (f *frameFeed) take() (pix []byte, w, h int, number uint64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fresh {
		return nil, 0, 0, 0, false
	}
	f.fresh = false
	return f.rgba, f.width, f.height, f.number, true
}

func (f *frameFeed) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
