package session

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/scopenative/scope/frame"
)

// scribbler maps the ring file read-write, as another process of the same user can.
func scribbler(t testing.TB, path string) []byte {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	mem, err := syscall.Mmap(fd, 0, headerSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return mem
}

// put64 stores v at the offset of the field f of the header (or of a slot's metadata) in mem.
func put64(mem []byte, off uintptr, v uint64) { binary.NativeEndian.PutUint64(mem[off:], v) }
func put32(mem []byte, off uintptr, v uint32) { binary.NativeEndian.PutUint32(mem[off:], v) }

// metaOff is where slot i's metadata starts.
func metaOff(i int) uintptr { return metaOffset + uintptr(i)*unsafe.Sizeof(slotMeta{}) }

// wantFrame asserts that r returns frame number n, whole, with every byte v.
func wantFrame(t testing.TB, r *Reader, n uint64, f frame.Format, v byte) {
	t.Helper()
	var got Frame
	ok, err := r.Next(&got)
	if !ok || err != nil {
		t.Fatalf("no frame %d: %v", n, err)
	}
	if got.Number != n || got.Width != f.Width || got.Height != f.Height || got.Channels != f.Channels || len(got.Pix) != f.Width*f.Height*f.Channels {
		t.Fatalf("frame %d: got number %d %dx%d ch%d len %d", n, got.Number, got.Width, got.Height, got.Channels, len(got.Pix))
	}
	for i, b := range got.Pix {
		if b != v {
			t.Fatalf("frame %d: byte %d = %d, want %d", n, i, b, v)
		}
	}
}

// TestRingWriterIgnoresScribbledHeader: another process writes a huge slot size (and other
// garbage) into the header; the session's writer must neither panic nor be misled, and the
// next frame heals the ring for readers.
func TestRingWriterIgnoresScribbledHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring")
	w, err := CreateWriter(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f := frame.Format{Width: 8, Height: 4, Channels: 3, Elem: frame.U8}
	if err := w.Publish(fill(f, 1)); err != nil {
		t.Fatal(err)
	}
	mem := scribbler(t, path)
	put64(mem, unsafe.Offsetof(ringHeader{}.SlotSize), 1<<40)
	put64(mem, unsafe.Offsetof(ringHeader{}.Latest), 1<<62+1)
	put64(mem, unsafe.Offsetof(ringHeader{}.Generation), 99)
	put32(mem, unsafe.Offsetof(ringHeader{}.Slots), 0)
	put64(mem, unsafe.Offsetof(ringHeader{}.AudioWritten), 1<<63)
	for i := 0; i < MaxSlots; i++ {
		put64(mem, metaOff(i)+unsafe.Offsetof(slotMeta{}.Seq), 12345) // odd: "being written"
	}
	for i := byte(2); i <= 4; i++ {
		if err := w.Publish(fill(f, i)); err != nil {
			t.Fatalf("publish after the header was scribbled on: %v", err)
		}
	}
	w.PublishAudio([]float32{0.5, -0.5})
	r, err := OpenReader(path)
	if err != nil {
		t.Fatalf("the ring did not heal: %v", err)
	}
	defer r.Close()
	wantFrame(t, r, 4, f, 4)
	w.PublishAudio([]float32{0.25, -0.25})
	out := make([]float32, 4)
	if n, _ := r.ReadAudio(out); n != 1 || out[0] != 0.25 || out[1] != -0.25 {
		t.Errorf("audio after the header was scribbled on: %d frames %v", n, out[:2])
	}
}

// TestRingReaderRejectsBadHeader: a reader copies nothing a scribbled header or slot table
// points outside the mapping (or to an impossible format), and never panics on it.
func TestRingReaderRejectsBadHeader(t *testing.T) {
	f := frame.Format{Width: 8, Height: 4, Channels: 3, Elem: frame.U8}
	slot1 := metaOff(1) // frame 1 goes to slot 1 % 3
	cases := []struct {
		name string
		off  uintptr
		val  uint64
		is32 bool // a 32-bit field
	}{
		{"huge slot size", unsafe.Offsetof(ringHeader{}.SlotSize), 1 << 62, false},
		{"slot size past the file", unsafe.Offsetof(ringHeader{}.SlotSize), 1 << 30, false},
		{"zero slot size", unsafe.Offsetof(ringHeader{}.SlotSize), 0, false},
		{"zero slots", unsafe.Offsetof(ringHeader{}.Slots), 0, true},
		{"huge width", slot1 + unsafe.Offsetof(slotMeta{}.Width), 1<<32 - 1, true},
		{"huge height", slot1 + unsafe.Offsetof(slotMeta{}.Height), 1<<32 - 1, true},
		{"two channels", slot1 + unsafe.Offsetof(slotMeta{}.Channels), 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ring")
			w, err := CreateWriter(path, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			r, err := OpenReader(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := w.Publish(fill(f, 1)); err != nil {
				t.Fatal(err)
			}
			mem := scribbler(t, path)
			if c.is32 {
				put32(mem, c.off, uint32(c.val))
			} else {
				put64(mem, c.off, c.val)
			}
			var got Frame
			ok, err := r.Next(&got)
			if c.name == "zero slots" { // the reader kept the slot count it checked at open
				if !ok || err != nil || got.Number != 1 {
					t.Fatalf("frame 1 with the slot count zeroed after open: %v %v %+v", ok, err, got.Number)
				}
				return
			}
			if ok {
				t.Fatalf("returned a frame from a scribbled ring: %dx%d ch%d len %d", got.Width, got.Height, got.Channels, len(got.Pix))
			}
			// The writer's next frame heals the ring.
			if err := w.Publish(fill(f, 2)); err != nil {
				t.Fatal(err)
			}
			wantFrame(t, r, 2, f, 2)
		})
	}
}

// FuzzRingHeader overwrites the ring's header page (header and slot table) with arbitrary
// bytes between frames: the reader must not panic and may only return frames that are
// consistent, and the writer's next frame must read back exactly.
func FuzzRingHeader(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add(binary.NativeEndian.AppendUint64(nil, 1<<40), uint16(unsafe.Offsetof(ringHeader{}.SlotSize)))
	f.Add([]byte{0, 0, 0, 0}, uint16(unsafe.Offsetof(ringHeader{}.Slots)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0}, uint16(metaOff(1)+unsafe.Offsetof(slotMeta{}.Width)))
	f.Add(binary.NativeEndian.AppendUint64(nil, 2), uint16(unsafe.Offsetof(ringHeader{}.Latest)))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		off := int(at) % headerSize
		if len(data) > headerSize-off {
			data = data[:headerSize-off]
		}
		path := filepath.Join(t.TempDir(), "ring")
		w, err := CreateWriter(path, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		r, err := OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		fm := frame.Format{Width: 8, Height: 4, Channels: 3, Elem: frame.U8}
		if err := w.Publish(fill(fm, 1)); err != nil {
			t.Fatal(err)
		}
		copy(scribbler(t, path)[off:], data)

		var got Frame
		if ok, err := r.Next(&got); ok {
			if err != nil || (got.Channels != 1 && got.Channels != 3 && got.Channels != 4) || len(got.Pix) != got.Width*got.Height*got.Channels {
				t.Fatalf("inconsistent frame from a scribbled ring: %dx%d ch%d len %d (%v)", got.Width, got.Height, got.Channels, len(got.Pix), err)
			}
		}
		r.ReadAudio(make([]float32, 64))
		if r2, err := OpenReader(path); err == nil {
			r2.Next(&got)
			r2.ReadAudio(make([]float32, 64))
			r2.Close()
		}

		if err := w.Publish(fill(fm, 2)); err != nil {
			t.Fatalf("publish after the header was scribbled on: %v", err)
		}
		r3, err := OpenReader(path)
		if err != nil {
			t.Fatalf("the ring did not heal: %v", err)
		}
		defer r3.Close()
		wantFrame(t, r3, 2, fm, 2)
	})
}

// TestCreateWriterRefusesExistingPath: a symbolic link planted where the ring goes is neither
// followed nor truncated.
func TestCreateWriterRefusesExistingPath(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ring")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if w, err := CreateWriter(path, 3); err == nil || !errors.Is(err, fs.ErrExist) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("CreateWriter over a planted symlink: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target now holds %d bytes", len(b))
	}
}
