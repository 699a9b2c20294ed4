package pluginhost_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/pluginhost"
)

// fdCount is how many descriptors this process has open.
func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// rssBytes is this process's resident set.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n * int64(os.Getpagesize())
}

// A plugin that crashes every 100 frames, paced at one frame per millisecond: the instance
// keeps being restarted, the frames between crashes are delivered, and the parent's
// descriptors and memory do not grow. SCOPE_LONG_TESTS=1 runs the full 10,000 frames.
func TestSoakCrashEvery100Frames(t *testing.T) {
	frames := 1000
	if os.Getenv("SCOPE_LONG_TESTS") == "1" {
		frames = 10000
	}
	opts := options(t)
	opts.MaxFaults = 1 << 20 // a crash every 100 ms would otherwise be a crash loop
	in := start(t, testPlugin(t, "SEGV_CALL_AT=99"), opts)
	c := newCaller(t, in)
	var fds []int
	var rsz []int64
	delivered, faults, restarting := 0, 0, 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; i < frames; i++ {
		<-tick.C
		err := c.tick()
		var fe *pluginhost.FaultError
		switch {
		case err == nil:
			delivered++
		case errors.As(err, &fe):
			faults++
			if fe.Event.Signal != "SIGSEGV" || fe.Event.Frame != 99 {
				t.Fatalf("frame %d: %v", i, err)
			}
		case errors.Is(err, pluginhost.ErrRestarting):
			restarting++
		default:
			t.Fatalf("frame %d: %v", i, err)
		}
		if i%100 == 50 && err == nil && in.State() == pluginhost.StateRunning { // no restart in progress
			fds = append(fds, fdCount(t))
			rsz = append(rsz, rssBytes(t))
		}
	}
	t.Logf("%d frames: %d delivered, %d faults, %d while restarting; fds %v; rss %v", frames, delivered, faults, restarting, fds, rsz)
	if want := (delivered + faults) / 100; faults < want-1 {
		t.Fatalf("%d faults, want about %d", faults, want)
	}
	if in.Restarts() < faults-1 {
		t.Fatalf("%d restarts for %d faults", in.Restarts(), faults)
	}
	// Restarts take a few ms here; the crashing frames and those few are all that is lost.
	if delivered < frames*85/100 {
		t.Fatalf("only %d of %d frames delivered", delivered, frames)
	}
	// Sampled after the first crashes, and at the end: no descriptor is leaked per restart,
	// and memory does not grow with the restarts.
	if first, last := fds[2], fds[len(fds)-1]; last > first {
		t.Fatalf("descriptors grew from %d to %d over the run: %v", first, last, fds)
	}
	if first, last := rsz[2], rsz[len(rsz)-1]; last > first+16<<20 {
		t.Fatalf("resident memory grew from %d to %d over the run: %v", first, last, rsz)
	}
}
