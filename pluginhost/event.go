package pluginhost

import (
	"fmt"
	"strings"
	"time"
)

// Fault kinds, as Event.Kind names them.
const (
	FaultSignal  = "signal"  // the child died of a signal (or the Go runtime's report of one)
	FaultExit    = "exit"    // the child exited by itself
	FaultTimeout = "timeout" // a call missed its deadline; the child was killed
	FaultMemory  = "memory"  // the child's resident memory passed the limit; it was killed
	FaultLost    = "lost"    // the control socket failed for another reason
)

// Event is one fault of an isolated instance, or what became of it.
type Event struct {
	Time     time.Time
	File     string // the plugin file
	Pipeline string // pipeline id
	Op       string // the call the fault happened in: create, prepare or call ("" between calls)
	Frame    uint64 // the child instance's call index of that call
	Kind     string // FaultSignal, FaultExit, FaultTimeout, FaultMemory or FaultLost
	Signal   string // FaultSignal: "SIGSEGV"
	ExitCode int    // FaultExit
	Deadline time.Duration
	RSS      int64    // FaultMemory: the child's resident (non-shared) bytes
	Limit    int64    // FaultMemory: the limit
	Log      []string // the plugin's last log lines, oldest first
	Stderr   string   // the child's last stderr line before a crash report
	// Disabled is true when this fault made the crash loop limit: the node runs no more.
	Disabled bool
	// Restarts is how many restarts the instance had before this fault.
	Restarts int
}

// Reason is the fault in words: "crashed with SIGSEGV", "missed its 200ms deadline".
func (e Event) Reason() string {
	switch e.Kind {
	case FaultSignal:
		return "crashed with " + e.Signal
	case FaultExit:
		return fmt.Sprintf("exited with status %d", e.ExitCode)
	case FaultTimeout:
		return fmt.Sprintf("missed its %v deadline (killed)", e.Deadline)
	case FaultMemory:
		return fmt.Sprintf("used %s resident memory, over its %s limit (killed)", mib(e.RSS), mib(e.Limit))
	}
	return "lost its plugin host process"
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// String is the event as the run log prints it:
//
//	isolated copy (plugins/copy.so): call on frame 50 crashed with SIGSEGV; restarting; last log lines: "WARN frame 50: ..."
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "isolated %s (%s): ", e.Pipeline, e.File)
	if e.Op != "" {
		fmt.Fprintf(&b, "%s on frame %d ", e.Op, e.Frame)
	}
	b.WriteString(e.Reason())
	if e.Disabled {
		b.WriteString("; disabled: it faulted too often (see crash-loop limits)")
	} else {
		b.WriteString("; restarting")
	}
	if len(e.Log) > 0 {
		q := make([]string, len(e.Log))
		for i, l := range e.Log {
			q[i] = fmt.Sprintf("%q", l)
		}
		b.WriteString("; last log lines: " + strings.Join(q, ", "))
	} else if e.Stderr != "" {
		fmt.Fprintf(&b, "; last stderr line: %q", e.Stderr)
	}
	return b.String()
}
