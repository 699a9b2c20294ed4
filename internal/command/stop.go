package command

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/engine"
)

// stopGraceFlag is how long `scope run` waits for a stopped run to return.
func stopGraceFlag() cli.Flag {
	return &cli.DurationFlag{Name: "stop-grace", Value: 5 * time.Second,
		Usage: "after SIGINT, SIGTERM or the session's stop, wait this long for the run to end; then exit anyway, naming the plugin call that is stuck"}
}

// watchStop makes a stop that the run cannot honour end the process. Nothing in-process can
// interrupt a plugin call that never returns, so grace after ctx ends (SIGINT, SIGTERM, the
// session's stop op, the preview closing) it prints the call the chain is stuck in and exits
// with ExitFailure, without finishing the output. The returned func ends the watch: call it
// when the engine's Run returns (finishing the output afterwards is never cut short). It may
// be called more than once.
func (a *app) watchStop(ctx context.Context, grace time.Duration, eng *engine.Engine) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
			return
		case <-t.C:
		}
		fmt.Fprintf(a.io.Err, "error: the run did not stop within %v of the stop request: %s; exiting without finishing the output\n", grace, stuckIn(eng))
		os.Exit(ExitFailure)
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// stuckIn says what a run that does not stop is inside of. It asks from a goroutine of its own
// and waits at most a second: the engine's lock may be held by a stuck plugin function too.
func stuckIn(eng *engine.Engine) string {
	ch := make(chan string, 1)
	go func() {
		f, ok := eng.InFlight()
		if !ok {
			ch <- "no plugin call is in flight (a source or sink is stuck)"
			return
		}
		ch <- fmt.Sprintf("%s has not returned after %.1fs", f, time.Since(f.Since).Seconds())
	}()
	select {
	case s := <-ch:
		return s
	case <-time.After(time.Second):
		return "a plugin function holding the chain's lock has not returned"
	}
}
