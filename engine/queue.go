package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/frame"
)

// buf is a frame shared by reference: the node that filled it and every consumer holding it
// (queues, windows) own one reference each; the last release returns it to its pool.
type buf struct {
	f      *frame.Frame
	refs   atomic.Int32
	pool   *pool
	origin time.Time // when the root produced the data this frame derives from
}

func (b *buf) retain() { b.refs.Add(1) }

func (b *buf) release() {
	if b.refs.Add(-1) == 0 {
		b.pool.put(b)
	}
}

// pool recycles the frames of one output (or one port's conversions). It allocates only when
// no free frame of the wanted format is left: in steady state, never.
type pool struct {
	mu    sync.Mutex
	free  []*buf
	alloc func(frame.Format) *frame.Frame // Config.NewFrame; nil: frame.New
}

// get returns a frame of format f holding one reference.
func (p *pool) get(f frame.Format) *buf {
	p.mu.Lock()
	for len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		if b.f.Format == f {
			p.mu.Unlock()
			b.refs.Store(1)
			return b
		}
		// A frame of a format no longer produced is left to the collector.
	}
	p.mu.Unlock()
	var fr *frame.Frame
	if p.alloc != nil {
		fr = p.alloc(f)
	}
	if fr == nil {
		fr = frame.New(f)
	}
	b := &buf{f: fr, pool: p}
	b.refs.Store(1)
	return b
}

func (p *pool) put(b *buf) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// queue is one edge: a bounded FIFO of frames from one producer to one input port. Guarded
// by flow.mu.
type queue struct {
	ring    []*buf
	head, n int
	to      *node
	from    *node // the producer; nil once an edit took the edge off it
	closed  bool  // the producer is done
	discard bool  // the consumer is done: frames pushed are dropped at once
	dropped int   // frames dropped on this edge (live runs)
	maxN    int   // deepest the queue has been
}

// push appends b. A full queue (live runs only reach it) drops its oldest frame and returns
// it for the caller to release.
func (q *queue) push(b *buf) (old *buf) {
	if q.n == len(q.ring) {
		old = q.pop()
		q.dropped++
	}
	q.ring[(q.head+q.n)%len(q.ring)] = b
	q.n++
	if q.n > q.maxN {
		q.maxN = q.n
	}
	return old
}

// pop removes and returns the oldest frame; the queue must not be empty.
func (q *queue) pop() *buf {
	b := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return b
}

// refWindow is a port's sliding window: the last `size` frames, oldest first, by reference.
// The first frame fills the whole window (frame 0 stands in for the frames before it), so a
// pipeline with a window of N gives one output per input from the first frame on, and output
// k is computed from inputs k-N+1..k (clamped to 0): N in, N out, aligned.
type refWindow struct {
	size  int
	ring  []*buf
	head  int // slot of the oldest frame
	count int // 0 (empty) or size
}

// push adds b (taking over one reference) as the newest frame.
func (w *refWindow) push(b *buf) {
	if w.count == 0 {
		if len(w.ring) < w.size {
			w.ring = make([]*buf, w.size)
		}
		for i := 0; i < w.size; i++ {
			w.ring[i] = b
		}
		for i := 1; i < w.size; i++ {
			b.retain()
		}
		w.head, w.count = 0, w.size
		return
	}
	old := w.ring[w.head]
	w.ring[w.head] = b
	w.head = (w.head + 1) % w.size
	old.release()
}

// resize changes the window to size frames, keeping the newest; a larger window is filled
// at its old end with the oldest frame it holds.
func (w *refWindow) resize(size int) {
	if size == w.size {
		return
	}
	if w.count == 0 {
		w.size = size
		return
	}
	kept := make([]*buf, 0, size)
	for i := 0; i < w.count; i++ {
		kept = append(kept, w.ring[(w.head+i)%w.size])
	}
	for len(kept) > size {
		kept[0].release()
		kept = kept[1:]
	}
	for len(kept) < size {
		kept[0].retain()
		kept = append([]*buf{kept[0]}, kept...)
	}
	w.ring, w.size, w.head, w.count = kept, size, 0, size
}

// clear releases every frame.
func (w *refWindow) clear() {
	for i := 0; i < w.count; i++ {
		w.ring[(w.head+i)%w.size].release()
		w.ring[(w.head+i)%w.size] = nil
	}
	w.count, w.head = 0, 0
}

// newest returns the newest frame; the window must not be empty.
func (w *refWindow) newest() *buf { return w.ring[(w.head+w.size-1)%w.size] }

// frames appends the window's frames, oldest first, to dst[:0] and returns it.
func (w *refWindow) frames(dst []*frame.Frame) []*frame.Frame {
	dst = dst[:0]
	for i := 0; i < w.count; i++ {
		dst = append(dst, w.ring[(w.head+i)%w.size].f)
	}
	return dst
}
