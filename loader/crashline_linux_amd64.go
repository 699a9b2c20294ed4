//go:build linux && amd64

package loader

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Crash lines: a plugin that segfaults inside a call kills the process with Go's "signal
// arrived during cgo execution" dump, which names no plugin. So the loader puts a small
// assembly trampoline (crashline_linux_amd64.s) in front of the Go runtime's handlers for
// SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT. When such a signal arrives with the program
// counter outside the Go executable's code, the trampoline writes the crash line of each
// plugin function in progress (prepared before each call: plugin file, pipeline, call, frame)
// to stderr, one write(2) each, then jumps to the Go handler, which prints its dump and exits
// as before. A fault in Go code goes straight to the Go handler (Go turns it into a panic).
//
// Lines are not matched to the faulting thread: telling threads apart costs a gettid(2) per
// call (measured: 0.5 us, as much as the call itself). A run's engine has one call in flight
// at a time, so a crash in `scope run` prints exactly one line; a process running several
// calls at once prints one line per call in flight.
//
// The table is process-wide because signal handlers are: it is the loader's one piece of
// global mutable state, written only through crashSlot and read only by the trampoline.

const (
	crashEntries = 64  // instances with a crash line at once; the others run without one
	crashLineMax = 496 // bytes of one line (an entry is 512 bytes; the .s file knows)
)

// crashEntry is one crash line. Its layout is read by the trampoline: armed at 0, n at 8,
// line at 16.
type crashEntry struct {
	armed int64 // 1 while the plugin function runs
	n     int64 // bytes of line in use
	line  [crashLineMax]byte
}

var (
	crashTable  [crashEntries]crashEntry
	crashTextLo uintptr     // the Go executable's code, [lo, hi)
	crashTextHi uintptr     //
	crashPrev   [65]uintptr // the handler the trampoline chains to, per signal
	crashState  struct {
		once sync.Once
		ok   bool // the trampoline is installed
		mu   sync.Mutex
		used [crashEntries]bool
	}
)

// crashTrampoline is the signal handler (never called from Go).
func crashTrampoline()

// crashTrampolineAddr returns crashTrampoline's ABI0 entry, the address the kernel jumps to.
func crashTrampolineAddr() uintptr

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on linux/amd64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// installCrashLines puts the trampoline in front of the Go runtime's crash handlers, once.
// Open calls it before loading any plugin: a plugin embedding a Go runtime installs its
// handlers over these and forwards only the faults outside its own Go code, so a nil
// dereference its SDK recovers from prints no crash line.
func installCrashLines() bool {
	crashState.once.Do(func() {
		lo, hi, err := textBounds(crashTrampolineAddr())
		if err != nil {
			return
		}
		crashTextLo, crashTextHi = lo, hi
		for _, sig := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGABRT} {
			var old kernelSigaction
			if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 || old.handler <= 1 {
				continue // not Go's: leave it
			}
			crashPrev[sig] = old.handler
			act := old
			act.handler = crashTrampolineAddr()
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
		}
		crashState.ok = true
	})
	return crashState.ok
}

// textBounds returns the executable mapping of /proc/self/maps that holds pc.
func textBounds(pc uintptr) (lo, hi uintptr, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, fmt.Errorf("crash lines: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rng, _, _ := strings.Cut(sc.Text(), " ")
		a, b, ok := strings.Cut(rng, "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(a, 16, 64)
		h, err2 := strconv.ParseUint(b, 16, 64)
		if err1 == nil && err2 == nil && uintptr(l) <= pc && pc < uintptr(h) {
			return uintptr(l), uintptr(h), nil
		}
	}
	return 0, 0, fmt.Errorf("crash lines: no mapping of /proc/self/maps holds the host's code at %#x", pc)
}

// crashSlot is an instance's entry in the crash table (none when the table is full or the
// trampoline could not be installed: the instance then runs without a crash line).
type crashSlot struct {
	e      *crashEntry
	prefix []byte // "scope: plugin crashed: FILE, pipeline ID, in "
}

// claim takes a free entry for the instance of pipeline id from file.
func (s *crashSlot) claim(file, id string) {
	if !installCrashLines() {
		return
	}
	crashState.mu.Lock()
	defer crashState.mu.Unlock()
	for i := range crashState.used {
		if !crashState.used[i] {
			crashState.used[i] = true
			s.e = &crashTable[i]
			break
		}
	}
	if s.e == nil {
		return
	}
	p := "scope: plugin crashed: " + file + ", pipeline " + id + ", in "
	if room := crashLineMax - len(OpPrepare) - len(crashLineTail) - 20 - 1; len(p) > room {
		p = p[:room]
	}
	s.prefix = []byte(p)
}

const crashLineTail = ", frame "

// release gives the entry back.
func (s *crashSlot) release() {
	if s.e == nil {
		return
	}
	atomic.StoreInt64(&s.e.armed, 0)
	crashState.mu.Lock()
	crashState.used[(uintptr(unsafe.Pointer(s.e))-uintptr(unsafe.Pointer(&crashTable[0])))/unsafe.Sizeof(crashEntry{})] = false
	crashState.mu.Unlock()
	s.e = nil
}

// arm writes the line for op on frame n and marks the plugin function as running.
func (s *crashSlot) arm(op string, n uint64) {
	if s.e == nil {
		return
	}
	b := append(s.e.line[:0], s.prefix...)
	b = append(b, op...)
	b = append(b, crashLineTail...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, '\n')
	atomic.StoreInt64(&s.e.n, int64(len(b)))
	atomic.StoreInt64(&s.e.armed, 1)
}

// disarm marks the plugin function as returned.
func (s *crashSlot) disarm() {
	if s.e == nil {
		return
	}
	atomic.StoreInt64(&s.e.armed, 0)
}
