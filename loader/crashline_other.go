//go:build !(linux && amd64)

package loader

// crashSlot is a no-op where the loader has no signal trampoline: a crash in a plugin shows
// the Go runtime's report alone.
type crashSlot struct{}

func installCrashLines() bool { return false }

func (*crashSlot) claim(file, id string)   {}
func (*crashSlot) release()                {}
func (*crashSlot) arm(op string, n uint64) {}
func (*crashSlot) disarm()                 {}
