package pluginhost

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// arena is the shared memory one child's frames live in: an anonymous memfd (no name in
// any file system, so no other user can open, replace or race it) that the parent allocates,
// sizes and seals before the child sees it. The seals (no shrink, no grow, no new seals)
// matter: a child that could shrink the file would make the parent's next access to the
// mapping die of SIGBUS.
type arena struct {
	fd  int
	mem []byte
}

// newArena allocates and maps size bytes.
func newArena(size int) (*arena, error) {
	fd, err := unix.MemfdCreate("scope-frames", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("frame arena: memfd_create: %w", err)
	}
	fail := func(what string, err error) (*arena, error) {
		syscall.Close(fd)
		return nil, fmt.Errorf("frame arena of %d bytes: %s: %w", size, what, err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return fail("ftruncate", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return fail("seal", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	return &arena{fd: fd, mem: mem}, nil
}

// mapArena maps an arena descriptor received from the parent (in the child) and closes the
// descriptor. It checks that the file is at least size bytes long.
func mapArena(fd, size int) (*arena, error) {
	defer syscall.Close(fd) // the mapping keeps the memory; a run maps one buffer per frame
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("frame arena: %w", err)
	}
	if st.Size < int64(size) || size <= 0 {
		return nil, fmt.Errorf("frame arena: %d bytes, want %d", st.Size, size)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("frame arena: mmap: %w", err)
	}
	return &arena{fd: -1, mem: mem}, nil
}

// close unmaps the arena and closes its descriptor.
func (a *arena) close() {
	if a == nil {
		return
	}
	if a.mem != nil {
		_ = unix.Munmap(a.mem)
		a.mem = nil
	}
	if a.fd >= 0 {
		syscall.Close(a.fd)
		a.fd = -1
	}
}
