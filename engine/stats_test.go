package engine

import (
	"math"
	"testing"
	"time"
)

// TestP99OfSlowCalls is the run that printed "4206 ms mean, 1000.010 ms p99": with calls of
// seconds, p99 must be seconds too, not the old histogram's 1 s cap.
func TestP99OfSlowCalls(t *testing.T) {
	var h histogram
	for i := 0; i < 99; i++ {
		h.add(4 * time.Second)
	}
	h.add(24 * time.Second)
	if got := h.mean(); got != 4200*time.Millisecond {
		t.Errorf("mean %v, want 4.2s", got)
	}
	if got := h.quantile(0.99); got < 4*time.Second || got > 4*time.Second+4*time.Second/64 {
		t.Errorf("p99 %v, want 4s within 1/64", got)
	}
	if got := h.quantile(1); got != 24*time.Second {
		t.Errorf("p100 %v, want the slowest call, 24s, exactly", got)
	}
	// An hour-long call is still counted where it belongs.
	h.add(time.Hour)
	if got := h.quantile(1); got != time.Hour {
		t.Errorf("p100 %v after a 1h call, want 1h", got)
	}
}

// TestP99Resolution checks fast calls: exact below 128 ns, within 1/64 above, and never
// above the slowest call.
func TestP99Resolution(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 100, 127, 128, 129, 10 * time.Microsecond, 250 * time.Microsecond, 16 * time.Millisecond, 999 * time.Millisecond, time.Second, 61 * time.Second, math.MaxInt64} {
		var h histogram
		for i := 0; i < 10; i++ {
			h.add(d)
		}
		if got := h.quantile(0.99); got != d {
			t.Errorf("10 calls of %v: p99 %v, want %v (no quantile above the slowest call)", d, got, d)
		}
	}
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond) // 1 ms .. 1 s
	}
	want := 990 * time.Millisecond
	if got := h.quantile(0.99); got < want || got > want+want/64 {
		t.Errorf("p99 of 1..1000 ms = %v, want %v within 1/64", got, want)
	}
	h.add(-time.Second) // a clock step back counts as 0, not as a panic
	if got := h.quantile(0); got != 0 {
		t.Errorf("p0 after a negative duration = %v, want 0", got)
	}
}

// FuzzHistIndex checks that every duration lands in a bucket that holds it and is at most
// 1/64 of it wide, so quantiles are within 1.6%.
func FuzzHistIndex(f *testing.F) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 10_000, 1_000_000_000, 1<<62 + 12345, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		v &= math.MaxInt64 // a time.Duration
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("%d ns: bucket %d outside 0..%d", v, i, histBuckets-1)
		}
		lo := uint64(0)
		if i > 0 {
			lo = histUpper(i - 1)
		}
		hi := histUpper(i)
		if v < lo || v >= hi {
			t.Fatalf("%d ns in bucket %d = [%d, %d)", v, i, lo, hi)
		}
		if w := hi - lo; v >= histLinear && w > v/64+1 {
			t.Fatalf("%d ns: bucket %d is %d ns wide, more than 1/64", v, i, w)
		}
	})
}
