package engine

import (
	"fmt"
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
	Mean   time.Duration // mean time per call
	P99    time.Duration // 99th percentile, to the histogram's 10 us resolution
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

// histogram records durations in 10 us buckets up to 1 s (and one overflow bucket), so
// recording allocates nothing and p99 is exact to the bucket width.
type histogram struct {
	buckets [100001]uint32
	n       int
	sum     time.Duration
}

const bucketWidth = 10 * time.Microsecond

func (h *histogram) add(d time.Duration) {
	i := int(d / bucketWidth)
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i]++
	h.n++
	h.sum += d
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the upper edge of the bucket holding the q-quantile.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	seen := 0
	for i, c := range h.buckets {
		seen += int(c)
		if seen >= rank {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return time.Duration(len(h.buckets)) * bucketWidth
}
