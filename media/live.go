package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopenative/scope/frame"
)

// Live plays a source in real time for an interactive session: a goroutine reads it at its
// own rate into a bounded queue, and when the pipeline is slower than the source the oldest
// queued frame is dropped and counted (as Scope does for live inputs), so frames never pile
// up and the pipeline always gets recent ones. The queue never grows.
type Live struct {
	src    Source
	period time.Duration
	onDrop func(total uint64)

	start   sync.Once
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	ready   chan *frame.Frame // queued frames, oldest first
	free    chan *frame.Frame // buffers to read into
	done    chan struct{}     // closed when the reader stops
	err     error             // why it stopped (set before done closes)
	dropped atomic.Uint64
}

// NewLive wraps src: it is read at fps frames per second (0 = as fast as it delivers, for
// sources that pace themselves), keeping at most depth frames (at least 1) queued. onDrop,
// if set, is called with the running total whenever a frame is dropped.
func NewLive(src Source, fps float64, depth int, onDrop func(total uint64)) *Live {
	depth = max(depth, 1)
	l := &Live{src: src, onDrop: onDrop, ready: make(chan *frame.Frame, depth),
		free: make(chan *frame.Frame, depth+1), done: make(chan struct{})}
	if fps > 0 {
		l.period = time.Duration(float64(time.Second) / fps)
	}
	for i := 0; i < depth+1; i++ {
		l.free <- frame.New(src.Format())
	}
	return l
}

// Format returns the source's format.
func (l *Live) Format() frame.Format { return l.src.Format() }

// Dropped returns how many frames were dropped so far.
func (l *Live) Dropped() uint64 { return l.dropped.Load() }

// run reads the source until it ends or ctx is cancelled.
func (l *Live) run(ctx context.Context) {
	defer l.wg.Done()
	defer close(l.done)
	next := time.Now()
	for {
		var buf *frame.Frame
		select {
		case buf = <-l.free:
		default:
			buf = l.dropOldest() // every buffer is queued: the pipeline is behind
		}
		if err := l.src.Read(ctx, buf); err != nil {
			l.err = err
			return
		}
		select {
		case l.ready <- buf:
		default:
			old := l.dropOldest()
			l.free <- old
			l.ready <- buf
		}
		if l.period > 0 {
			next = next.Add(l.period)
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					l.err = ctx.Err()
					return
				case <-time.After(d):
				}
			} else {
				next = time.Now()
			}
		}
	}
}

// dropOldest takes the oldest queued frame out of the queue and counts it as dropped.
func (l *Live) dropOldest() *frame.Frame {
	f := <-l.ready
	n := l.dropped.Add(1)
	if l.onDrop != nil {
		l.onDrop(n)
	}
	return f
}

// Read copies the oldest queued frame into dst, waiting for one if the queue is empty. It
// returns the source's error (io.EOF at its end) once the queue is drained.
func (l *Live) Read(ctx context.Context, dst *frame.Frame) error {
	l.start.Do(func() {
		var rctx context.Context
		rctx, l.cancel = context.WithCancel(context.Background())
		l.wg.Add(1)
		go l.run(rctx)
	})
	var f *frame.Frame
	select {
	case f = <-l.ready:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.done:
		select {
		case f = <-l.ready:
		default:
			return l.err
		}
	}
	err := frame.Convert(dst, f)
	l.free <- f
	return err
}

// Close stops the reader and closes the source.
func (l *Live) Close() error {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	return l.src.Close()
}
