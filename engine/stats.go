package engine

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Stats summarises a run.
type Stats struct {
	Frames  int           // output frames delivered to the (first) sink
	Errors  int           // calls that failed (their frame was dropped at that node)
	Late    int           // root frames that started more than one interval late (with FPS set)
	Elapsed time.Duration // wall time of the run
	Stages  []StageStats
	Sinks   []SinkStats // per sink, in graph order (graph runs)
	// Transfers counts the frames moved between host and CUDA memory (zero without a Device).
	Transfers Transfers
}

// StageStats are one pipeline node's call timings and queues.
type StageStats struct {
	ID     string // pipeline id
	Name   string // node name (the pipeline id in a chain)
	Calls  int
	Errors int
	Mean   time.Duration // mean time per call (in Live: over the last ~16 calls)
	// Quantiles of the time per call, within 1.6% (log-spaced histogram), never above the slowest call.
	P50, P95, P99 time.Duration
	FPS           float64 // calls per second of the run so far
	Queue         int     // frames waiting on the node's input ports now
	MaxQueue      int     // the most frames that ever waited on one of its ports
	Dropped       int     // frames skipped on its ports (live runs: a newer frame was there)
	// Bypassed counts the frames the node passed its input through (or held its last frame)
	// because its isolated instance had crashed, was restarting or was disabled.
	Bypassed int
	// Isolated is true when the node runs in a plugin host child; Restarts counts the
	// restarts started and State is running, restarting or disabled.
	Isolated bool
	Restarts int
	State    string
	// LastFault describes the newest fault of the isolated node: plugin file, pipeline,
	// call, signal or timeout ("" when none).
	LastFault string
}

// SinkStats are one sink's counters.
type SinkStats struct {
	Name    string
	Frames  int
	Dropped int // frames skipped at the sink (live runs)
	Queue   int // frames waiting now
	// End-to-end latency, from the moment a root produced a frame's data to its write.
	Latency       time.Duration // of the last frame
	P50, P95, P99 time.Duration
	Max           time.Duration
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
		name := st.ID
		if st.Name != "" && st.Name != st.ID {
			name = st.Name + " (" + st.ID + ")"
		}
		fmt.Fprintf(&b, " | %s %.3f ms mean, %.3f/%.3f/%.3f ms p50/p95/p99", name, ms(st.Mean), ms(st.P50), ms(st.P95), ms(st.P99))
		if st.Errors > 0 {
			fmt.Fprintf(&b, ", %d errors", st.Errors)
		}
		if st.Dropped > 0 {
			fmt.Fprintf(&b, ", %d dropped", st.Dropped)
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
	for _, sk := range s.Sinks {
		fmt.Fprintf(&b, " | sink %s %d frames, latency %.1f/%.1f ms p50/p99", sk.Name, sk.Frames, ms(sk.P50), ms(sk.P99))
		if sk.Dropped > 0 {
			fmt.Fprintf(&b, ", %d dropped", sk.Dropped)
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

// snapshot gathers the counters of a graph run. final is the end-of-run summary (whole-run
// means); otherwise Mean is the recent moving average, as the live display wants.
func (e *Engine) snapshot(start time.Time, final bool) Stats {
	elapsed := time.Since(start)
	e.flow.mu.Lock()
	type qs struct{ n, max, dropped int }
	depth := map[*node]qs{}
	for _, n := range e.nodes {
		var q qs
		for _, in := range n.in {
			if in != nil {
				q.n += in.n
				q.max = max(q.max, in.maxN)
				q.dropped += in.dropped
			}
		}
		depth[n] = q
	}
	e.flow.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Late: e.live.Late, Elapsed: elapsed}
	firstSink := true
	for _, n := range e.nodes {
		q := depth[n]
		switch {
		case n.isSink:
			sk := SinkStats{Name: n.name, Frames: n.frames, Dropped: q.dropped, Queue: q.n, Latency: n.lastLat,
				P50: n.latency.quantile(0.5), P95: n.latency.quantile(0.95), P99: n.latency.quantile(0.99), Max: n.latency.max}
			s.Sinks = append(s.Sinks, sk)
			if firstSink {
				s.Frames, firstSink = n.frames, false
			}
		}
	}
	s.Stages = make([]StageStats, len(e.stages))
	for i, st := range e.stages {
		q := depth[st.node]
		ss := StageStats{ID: st.id, Name: st.name, Calls: st.calls, Errors: st.errors, Mean: st.times.mean(),
			P50: st.times.quantile(0.5), P95: st.times.quantile(0.95), P99: st.times.quantile(0.99),
			Queue: q.n, MaxQueue: q.max, Dropped: q.dropped, Bypassed: st.bypassed}
		isolation(st.inst, &ss)
		if !final {
			ss.Mean = st.recent
		}
		if elapsed > 0 {
			ss.FPS = float64(st.calls) / elapsed.Seconds()
		}
		s.Errors += st.errors
		s.Stages[i] = ss
	}
	return s
}
