package pluginhost

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// A child that could shrink the arena would make the parent's next access to it die of
// SIGBUS: the parent seals it before passing it on.
func TestArenaIsSealedAgainstResizing(t *testing.T) {
	a, err := newArena(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	// What the child gets is another descriptor of the same file.
	fd, err := unix.Dup(a.fd)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{0, 1 << 20} {
		if err := unix.Ftruncate(fd, size); !errors.Is(err, unix.EPERM) {
			t.Errorf("ftruncate to %d: %v, want EPERM (sealed)", size, err)
		}
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE); !errors.Is(err, unix.EPERM) {
		t.Errorf("adding a write seal: %v, want EPERM (seals are sealed)", err)
	}
	a.mem[len(a.mem)-1] = 1       // still mapped and writable
	m, err := mapArena(fd, 1<<17) // closes fd
	if err == nil {
		m.close()
		t.Fatal("mapping more than the arena holds succeeded")
	}
}
