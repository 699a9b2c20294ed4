package loader

import (
	"strconv"
	"sync/atomic"
	"time"
)

// Call names, as InFlight reports them and crash lines print them.
const (
	OpCreate  = "create"
	OpPrepare = "prepare"
	OpCall    = "call"
	OpDestroy = "destroy"
)

// opNames is indexed by the op codes a flight record stores (0 = none in flight).
var opNames = [...]string{"", OpCreate, OpPrepare, OpCall, OpDestroy}

const (
	opNone = iota
	opCreate
	opPrepare
	opCall
	opDestroy
)

// InFlight describes a plugin function the host is inside of right now.
type InFlight struct {
	File     string    // the plugin file, as given to Open
	Pipeline string    // pipeline id
	Op       string    // OpCreate, OpPrepare, OpCall or OpDestroy
	Frame    uint64    // the instance's call index (scope_call.call_index) of this or the next call
	Since    time.Time // when the host entered the function
}

// String is "call of pipeline copy (plugins/copy.so) on frame 3".
func (f InFlight) String() string {
	return f.Op + " of pipeline " + f.Pipeline + " (" + f.File + ") on frame " + strconv.FormatUint(f.Frame, 10)
}

// flight is an instance's record of the plugin function it is in. It is written by the
// goroutine calling the instance and read by any other (a watchdog), so every field is atomic;
// setting it allocates nothing.
type flight struct {
	op    atomic.Uint32
	frame atomic.Uint64
	since atomic.Int64 // unix nanoseconds
	slot  crashSlot    // the crash line for this instance's calls (see crashline*.go)
}

// enter records that the calling goroutine is about to call op on frame n. Every enter is
// followed by leave once the plugin function returns.
func (in *Instance) enter(op uint32, n uint64) {
	in.flight.frame.Store(n)
	in.flight.since.Store(time.Now().UnixNano())
	in.flight.op.Store(op)
	in.flight.slot.arm(opNames[op], n)
}

// leave records that the plugin function entered last has returned.
func (in *Instance) leave() {
	in.flight.slot.disarm()
	in.flight.op.Store(opNone)
}

// InFlight reports the plugin function the instance is inside of, if any. It is safe to call
// from any goroutine while another one uses the instance: a watchdog uses it to name a call
// that does not return.
func (in *Instance) InFlight() (InFlight, bool) {
	op := in.flight.op.Load()
	if op == opNone {
		return InFlight{}, false
	}
	return InFlight{
		File:     in.p.lib.path,
		Pipeline: in.p.ID,
		Op:       opNames[op],
		Frame:    in.flight.frame.Load(),
		Since:    time.Unix(0, in.flight.since.Load()),
	}, true
}
