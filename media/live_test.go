package media

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
)

// countSource yields frames whose first byte is the frame number, n frames (0 = endless).
type countSource struct {
	f    frame.Format
	n, i int
}

func (s *countSource) Format() frame.Format { return s.f }
func (s *countSource) Close() error         { return nil }
func (s *countSource) Read(ctx context.Context, dst *frame.Frame) error {
	if s.n > 0 && s.i >= s.n {
		return io.EOF
	}
	dst.Data[0] = byte(s.i)
	s.i++
	return nil
}

// TestLiveDropsOldestWhenBehind reads a 200 fps source every 20 ms: most frames are dropped
// and counted, the queue stays bounded and every frame read is recent.
func TestLiveDropsOldestWhenBehind(t *testing.T) {
	src := &countSource{f: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}}
	var reported atomic.Uint64
	l := NewLive(src, 200, 2, func(n uint64) { reported.Store(n) })
	defer l.Close()
	dst := frame.New(src.f)
	last := -1
	for i := 0; i < 10; i++ {
		if err := l.Read(context.Background(), dst); err != nil {
			t.Fatal(err)
		}
		if int(dst.Data[0]) <= last {
			t.Fatalf("frame %d after %d", dst.Data[0], last)
		}
		last = int(dst.Data[0])
		time.Sleep(20 * time.Millisecond)
	}
	if l.Dropped() < 10 {
		t.Errorf("dropped %d frames reading a 200 fps source at 50 fps", l.Dropped())
	}
	if len(l.ready) > 2 {
		t.Errorf("queue holds %d frames, bound 2", len(l.ready))
	}
	if l.Close(); reported.Load() != l.Dropped() {
		t.Errorf("onDrop reported %d, Dropped %d", reported.Load(), l.Dropped())
	}
}

// TestLiveDeliversEverythingWhenFastEnough and then reports the source's end.
func TestLiveDeliversEverythingWhenFastEnough(t *testing.T) {
	src := &countSource{f: frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}, n: 20}
	l := NewLive(src, 1000, 4, nil)
	defer l.Close()
	dst := frame.New(src.f)
	for i := 0; i < 20; i++ {
		if err := l.Read(context.Background(), dst); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if int(dst.Data[0]) != i {
			t.Fatalf("got frame %d, want %d", dst.Data[0], i)
		}
	}
	if err := l.Read(context.Background(), dst); !errors.Is(err, io.EOF) {
		t.Errorf("after the end: %v", err)
	}
	if l.Dropped() != 0 {
		t.Errorf("dropped %d", l.Dropped())
	}
}
