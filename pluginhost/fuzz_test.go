package pluginhost

import (
	"testing"

	"github.com/scopenative/scope/frame"
)

// FuzzFrameAt: whatever slot a call message names, the child either refuses it or builds a
// frame that lies inside its arena and is as large as its format needs.
func FuzzFrameAt(f *testing.F) {
	f.Add(0, 21, 7, 3, 3, 1)
	f.Add(60, 24, 7, 3, 3, 1)
	f.Add(-1, 21, 7, 3, 3, 1)
	f.Add(0, 0, 7, 3, 3, 1)
	f.Add(4000, 64, 16, 100, 4, 2)
	f.Add(1<<62, 1<<40, 1<<20, 1<<20, 3, 1)
	f.Add(0, 1<<62, 7, 3, 3, 1) // a pitch whose product overflows
	a, err := newArena(4096)
	if err != nil {
		f.Fatal(err)
	}
	defer a.close()
	s := &server{mem: map[uint64]*arena{0: a}}
	f.Fuzz(func(t *testing.T, off, pitch, w, h, ch, elem int) {
		sl := slot{Off: off, Pitch: pitch, Format: frame.Format{Width: w, Height: h, Channels: ch, Elem: frame.Elem(elem)}}
		fr, err := s.frameAt(sl)
		if err != nil {
			return
		}
		if len(fr.Data) < sl.need() || off < 0 || off+len(fr.Data) > len(a.mem) {
			t.Fatalf("slot %+v: a frame of %d bytes at %d in a %d-byte arena", sl, len(fr.Data), off, len(a.mem))
		}
		if fr.Pitch < fr.RowBytes() {
			t.Fatalf("slot %+v: pitch %d below the row's %d bytes", sl, fr.Pitch, fr.RowBytes())
		}
	})
}
