package loader_test

import (
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// TestInFlightNamesHungCall: while a call never returns, another goroutine can ask the
// instance which plugin function it is in, so a watchdog can name it.
func TestInFlightNamesHungCall(t *testing.T) {
	path := testPlugin(t, "HANG_CALL_AT=1")
	lib, err := loader.Open(path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Neither the library nor the instance is closed: a thread stays inside the plugin.
	in, err := lib.Pipeline("copy").NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := in.InFlight(); ok {
		t.Fatalf("an idle instance reports %v in flight", f)
	}
	src := frame.New(frame.Format{Width: 4, Height: 2, Channels: 3, Elem: frame.U8})
	req, err := in.Prepare([]frame.Format{src.Format})
	if err != nil {
		t.Fatal(err)
	}
	args := &loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: frame.New(req.Output)}
	if err := in.Call(args); err != nil {
		t.Fatal(err)
	}
	if f, ok := in.InFlight(); ok {
		t.Fatalf("after call 0 returned, %v is reported in flight", f)
	}
	before := time.Now()
	go in.Call(args) // call 1 hangs
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, ok := in.InFlight()
		if ok {
			if f.File != path || f.Pipeline != "copy" || f.Op != loader.OpCall || f.Frame != 1 {
				t.Fatalf("in flight: %+v, want call of copy in %s on frame 1", f, path)
			}
			if f.Since.Before(before.Add(-time.Second)) || f.Since.After(time.Now()) {
				t.Errorf("in flight since %v, the call started after %v", f.Since, before)
			}
			if want := "call of pipeline copy (" + path + ") on frame 1"; f.String() != want {
				t.Errorf("String() = %q, want %q", f.String(), want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung call never showed as in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
