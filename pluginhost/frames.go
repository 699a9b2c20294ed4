package pluginhost

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/scopenative/scope/frame"
)

// Frames allocates host frames in shared memory. An isolated instance whose Options.Frames
// is the allocator a frame came from passes that frame to its child as it is (the child maps
// the buffer once), so a run whose frames all come from one Frames copies nothing into or
// out of its children; any other frame is copied through the instance's scratch arena.
// It is safe for concurrent use.
type Frames struct {
	mu   sync.Mutex
	next uint64
	bufs []*sharedBuf
}

// sharedBuf is one allocated frame's arena.
type sharedBuf struct {
	id   uint64
	a    *arena
	base uintptr
}

// NewFrames returns an empty allocator.
func NewFrames() *Frames { return &Frames{} }

// New allocates a frame of format f with packed rows in a fresh sealed memfd.
func (s *Frames) New(f frame.Format) (*frame.Frame, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("shared frame: %w", err)
	}
	size := f.RowBytes() * f.Height
	a, err := newArena(size)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.next++
	b := &sharedBuf{id: s.next, a: a, base: uintptr(unsafe.Pointer(&a.mem[0]))}
	s.bufs = append(s.bufs, b)
	s.mu.Unlock()
	return &frame.Frame{Format: f, Pitch: f.RowBytes(), Data: a.mem[:size:size]}, nil
}

// find returns the buffer holding data and data's offset in it.
func (s *Frames) find(data []byte) (*sharedBuf, int, bool) {
	if s == nil || len(data) == 0 {
		return nil, 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bufs {
		if p >= b.base && p-b.base+uintptr(len(data)) <= uintptr(len(b.a.mem)) {
			return b, int(p - b.base), true
		}
	}
	return nil, 0, false
}

// Close unmaps every frame (which must no longer be used). Children keep their own
// mappings until they exit.
func (s *Frames) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bufs {
		b.a.close()
	}
	s.bufs = nil
}
