package engine

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Stats summarises a run.
type Stats struct {
	Frames  int           // output frames delivered to the sink
	Errors  int           // ticks dropped because a pipeline failed
	Late    int           // ticks that started more than one interval late (with FPS set)
	Elapsed time.Duration // wall time of the run
	Stages  []StageStats
	// Transfers counts the frames moved between host and CUDA memory (zero without a Device).
	Transfers Transfers
}

// StageStats are one pipeline's call timings.
type StageStats struct {
	ID     string
	Calls  int
	Errors int
	// Bypassed counts the ticks the stage passed its input through because its isolated
	// instance had crashed, was restarting or was disabled.
	Bypassed int
	// Isolated is true when the stage runs in a plugin host child; Restarts counts the
	// child's restarts and State is its state (running, restarting, disabled).
	Isolated bool
	Restarts int
	State    string
	Mean     time.Duration // mean time per call
	P99      time.Duration // 99th percentile, within 1.6% (log-spaced histogram), never above the slowest call
}

// FPS is the achieved output rate.
func (s Stats) FPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Frames) / s.Elapsed.Seconds()
}

// Summary is the one-line report printed at the end of a run.
func (s Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d frames in %.2fs (%.1f fps)", s.Frames, s.Elapsed.Seconds(), s.FPS())
	for _, st := range s.Stages {
		fmt.Fprintf(&b, " | %s %.3f ms mean, %.3f ms p99", st.ID, ms(st.Mean), ms(st.P99))
		if st.Errors > 0 {
			fmt.Fprintf(&b, ", %d errors", st.Errors)
		}
		if st.Bypassed > 0 {
			fmt.Fprintf(&b, ", %d passed through", st.Bypassed)
		}
		if st.Isolated {
			fmt.Fprintf(&b, ", isolated (%d restarts", st.Restarts)
			if st.State != "running" {
				b.WriteString(", " + st.State)
			}
			b.WriteString(")")
		}
	}
	if s.Late > 0 {
		fmt.Fprintf(&b, " | %d late ticks", s.Late)
	}
	if t := s.Transfers; t.Uploads+t.Downloads > 0 {
		fmt.Fprintf(&b, " | PCIe: %d frames up, %d down", t.Uploads, t.Downloads)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// histogram records call durations in log-spaced buckets: exact below 128 ns, then 64
// buckets per power of two (each at most 1/64 of its value wide) up to the largest
// time.Duration, so recording allocates nothing, no call is too slow to count, and a quantile
// is within 1.6% of the true value. The slowest call is kept exactly, and no quantile is
// reported above it.
type histogram struct {
	buckets [histBuckets]uint32
	n       int
	sum     time.Duration
	max     time.Duration
}

const (
	histLinear  = 128                              // values below this many ns have a bucket each
	histSubBits = 6                                // 64 buckets per power of two above
	histBuckets = histLinear + (63-7)<<histSubBits // powers 2^7 .. 2^62: a Duration is below 2^63
)

// histIndex is the bucket of a duration of v ns.
func histIndex(v uint64) int {
	if v < histLinear {
		return int(v)
	}
	k := bits.Len64(v) - 1 // v in [2^k, 2^(k+1)), k >= 7
	sub := (v >> (k - histSubBits)) & (1<<histSubBits - 1)
	return histLinear + (k-7)<<histSubBits + int(sub)
}

// histUpper is the exclusive upper edge, in ns, of bucket i.
func histUpper(i int) uint64 {
	if i < histLinear {
		return uint64(i) + 1
	}
	k := (i-histLinear)>>histSubBits + 7
	sub := uint64((i - histLinear) & (1<<histSubBits - 1))
	return (1<<histSubBits + sub + 1) << (k - histSubBits)
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.buckets[histIndex(uint64(d))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the largest duration of the bucket holding the q-quantile, or the slowest
// call if that is lower.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	seen := 0
	for i, c := range h.buckets {
		seen += int(c)
		if seen >= rank {
			if u := histUpper(i) - 1; u <= uint64(h.max) {
				return time.Duration(u)
			}
			break
		}
	}
	return h.max
}
