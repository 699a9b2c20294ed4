package loader_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// TestPoolCoversEveryItemOnce runs For at odd counts and grains on pools of several sizes and
// checks that every item is visited exactly once and every range honours the grain.
func TestPoolCoversEveryItemOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := loader.NewPool(workers)
		for _, tc := range []struct{ count, grain uint32 }{{1, 1}, {2, 1}, {7, 0}, {1079, 1}, {1080, 16}, {33, 64}} {
			hits := make([]atomic.Int32, tc.count)
			var short atomic.Int32
			p.For(tc.count, tc.grain, func(b, e uint32) {
				if e-b < max(tc.grain, 1) && e != tc.count {
					short.Add(1)
				}
				for i := b; i < e; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if n := hits[i].Load(); n != 1 {
					t.Fatalf("workers %d, count %d grain %d: item %d ran %d times", workers, tc.count, tc.grain, i, n)
				}
			}
			if short.Load() != 0 {
				t.Errorf("workers %d, count %d grain %d: %d ranges shorter than the grain", workers, tc.count, tc.grain, short.Load())
			}
		}
		p.Close()
	}
}

// TestPoolUsesWorkers checks that a pool of 4 really runs ranges on more than one goroutine
// at once (a pool that ran everything inline would pass the coverage test).
func TestPoolUsesWorkers(t *testing.T) {
	p := loader.NewPool(4)
	defer p.Close()
	var running, peak atomic.Int32
	p.For(64, 1, func(b, e uint32) {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
	})
	if peak.Load() < 2 {
		t.Fatalf("at most %d range ran at once on a pool of 4", peak.Load())
	}
}

// TestPoolNestedForDoesNotDeadlock calls For from inside every range, two levels deep, on a
// small pool whose workers are all busy with the outer job.
func TestPoolNestedForDoesNotDeadlock(t *testing.T) {
	p := loader.NewPool(2)
	defer p.Close()
	var total atomic.Int64
	done := make(chan struct{})
	go func() {
		p.For(16, 1, func(b, e uint32) {
			for range e - b {
				p.For(16, 1, func(b2, e2 uint32) {
					for range e2 - b2 {
						p.For(4, 1, func(b3, e3 uint32) { total.Add(int64(e3 - b3)) })
					}
				})
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("nested For did not finish in 10s: deadlock")
	}
	if got := total.Load(); got != 16*16*4 {
		t.Fatalf("nested For ran %d innermost items, want %d", got, 16*16*4)
	}
}

// runRows runs the pool plugin's "rows" pipeline once on in with a pool of `workers` and
// returns the output frame (of pitch outPitch).
func runRows(t *testing.T, lib string, workers int, nested bool, in *frame.Frame, outPitch int) *frame.Frame {
	t.Helper()
	pool := loader.NewPool(workers)
	defer pool.Close()
	l, err := loader.Open(lib, loader.Options{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := l.Pipeline("rows")
	vals := p.Defaults()
	if nested {
		if err := vals.Set(p, "nested", "true"); err != nil {
			t.Fatal(err)
		}
	}
	inst, err := p.NewInstance(0, vals)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if _, err := inst.Prepare([]frame.Format{in.Format}); err != nil {
		t.Fatal(err)
	}
	out := frame.NewWithPitch(in.Format, outPitch)
	for i := range out.Data {
		out.Data[i] = 0xA5 // padding sentinel
	}
	if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParallelForMatchesSerial is the pool's correctness test through the ABI: a plugin that
// splits its rows with scope_parallel_for gives byte-identical output (pixels and untouched
// padding) with 1 and with 4 workers, at odd sizes and padded pitches, nested or not.
func TestParallelForMatchesSerial(t *testing.T) {
	lib := plugintest.BuildC(t, filepath.Join(t.TempDir(), "poolplugin.so"), []string{filepath.Join("testdata", "poolplugin.c")})
	for _, tc := range []struct{ w, h, ch, inPad, outPad int }{
		{1, 1, 3, 0, 0}, {37, 23, 3, 64, 128}, {641, 17, 4, 0, 192}, {99, 101, 1, 128, 64}, {1920, 8, 3, 0, 0},
	} {
		f := frame.Format{Width: tc.w, Height: tc.h, Channels: tc.ch, Elem: frame.U8}
		in := frame.NewWithPitch(f, f.RowBytes()+tc.inPad)
		for i := range in.Data {
			in.Data[i] = byte(i*31 + i/7)
		}
		for _, nested := range []bool{false, true} {
			name := fmt.Sprintf("%dx%dx%d/pad%d,%d/nested=%v", tc.w, tc.h, tc.ch, tc.inPad, tc.outPad, nested)
			serial := runRows(t, lib, 1, nested, in, f.RowBytes()+tc.outPad)
			pooled := runRows(t, lib, 4, nested, in, f.RowBytes()+tc.outPad)
			if !bytes.Equal(serial.Data, pooled.Data) {
				t.Errorf("%s: 4 workers differ from 1 worker", name)
			}
			// The serial run is itself right: spot-check the formula and the padding.
			for y := 0; y < tc.h; y++ {
				row := serial.Data[y*serial.Pitch:]
				for x := 0; x < f.RowBytes(); x++ {
					want := (255 - in.Data[y*in.Pitch+x]) ^ byte(y*7+x)
					if row[x] != want {
						t.Fatalf("%s: byte (%d,%d) = %d, want %d", name, x, y, row[x], want)
					}
				}
				for x := f.RowBytes(); x < serial.Pitch; x++ {
					if row[x] != 0xA5 {
						t.Fatalf("%s: padding byte %d of row %d was written", name, x, y)
					}
				}
			}
		}
	}
}

// TestHostReportsWorkerCount checks scope_host.worker_count reaches the plugin as the pool's
// size.
func TestHostReportsWorkerCount(t *testing.T) {
	lib := plugintest.BuildC(t, filepath.Join(t.TempDir(), "poolplugin.so"), []string{filepath.Join("testdata", "poolplugin.c")})
	for _, n := range []int{1, 3} {
		pool := loader.NewPool(n)
		l, err := loader.Open(lib, loader.Options{Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := l.Pipeline("workers").NewInstance(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := frame.New(frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8})
		out := frame.New(f.Format)
		if _, err := inst.Prepare([]frame.Format{f.Format}); err != nil {
			t.Fatal(err)
		}
		if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{f}}, Output: out}); err != nil {
			t.Fatal(err)
		}
		if out.Data[0] != byte(n) {
			t.Errorf("pool of %d: plugin saw worker_count %d", n, out.Data[0])
		}
		inst.Close()
		l.Close()
		pool.Close()
	}
}

// FuzzPoolFor checks, for any count, grain and pool size, that For visits every item exactly
// once in ranges that honour the grain.
func FuzzPoolFor(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint8(1))
	f.Add(uint16(1080), uint16(11), uint8(2))
	f.Add(uint16(7), uint16(0), uint8(5))
	f.Add(uint16(65535), uint16(65535), uint8(3))
	pools := map[int]*loader.Pool{}
	f.Fuzz(func(t *testing.T, count, grain uint16, workers uint8) {
		n := int(workers%8) + 1
		p, ok := pools[n]
		if !ok {
			p = loader.NewPool(n)
			pools[n] = p
		}
		hits := make([]atomic.Int32, count)
		var bad atomic.Int32
		p.For(uint32(count), uint32(grain), func(b, e uint32) {
			if b >= e || e > uint32(count) || (e-b < max(uint32(grain), 1) && e != uint32(count)) {
				bad.Add(1)
				return
			}
			for i := b; i < e; i++ {
				hits[i].Add(1)
			}
		})
		if bad.Load() != 0 {
			t.Fatalf("count %d grain %d workers %d: %d bad ranges", count, grain, n, bad.Load())
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("count %d grain %d workers %d: item %d ran %d times", count, grain, n, i, hits[i].Load())
			}
		}
	})
}
