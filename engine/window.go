package engine

import "github.com/scopenative/scope/frame"

// window is a stage's sliding window of input frames: a ring of size+1 reusable frames, so
// the next frame can be written while the newest `size` are still readable.
type window struct {
	format frame.Format
	size   int
	ring   []*frame.Frame
	head   int // index of the slot the next frame is written into
	count  int // committed frames, at most size
}

// resize makes the window hold `size` frames of format f, keeping what it can.
func (w *window) resize(f frame.Format, size int) {
	if f == w.format && size == w.size {
		return
	}
	if f != w.format {
		w.ring, w.count, w.head = nil, 0, 0
	}
	// Keep the newest frames, oldest first, then grow or shrink the ring around them.
	var kept []*frame.Frame
	if w.count > 0 {
		kept = w.frames(nil)
		if len(kept) > size {
			kept = kept[len(kept)-size:]
		}
	}
	ring := make([]*frame.Frame, size+1)
	copy(ring, kept)
	for i := range ring {
		if ring[i] == nil {
			ring[i] = frame.New(f)
		}
	}
	w.format, w.size, w.ring, w.count, w.head = f, size, ring, len(kept), len(kept)%len(ring)
}

// slot returns the frame the next input is written into; commit makes it part of the window.
func (w *window) slot() *frame.Frame { return w.ring[w.head] }

// commit adds the frame written into slot() as the newest. The first frame fills the whole
// window (as refWindow does), so a window of N gives one output per input from the start.
func (w *window) commit() {
	if w.count == 0 && w.size > 1 {
		first := w.ring[w.head]
		for i := 1; i < w.size; i++ {
			frame.Convert(w.ring[(w.head+i)%len(w.ring)], first) // same format: a copy
		}
		w.head = (w.head + w.size) % len(w.ring)
		w.count = w.size
		return
	}
	w.head = (w.head + 1) % len(w.ring)
	if w.count < w.size {
		w.count++
	}
}

// full reports whether the window holds `size` frames.
func (w *window) full() bool { return w.size > 0 && w.count == w.size }

// frames appends the window's frames, oldest first, to dst[:0] and returns it.
func (w *window) frames(dst []*frame.Frame) []*frame.Frame {
	dst = dst[:0]
	n := len(w.ring)
	for i := w.count; i > 0; i-- {
		dst = append(dst, w.ring[(w.head-i+n)%n])
	}
	return dst
}
