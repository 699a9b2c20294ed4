package session

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/scopenative/scope/frame"
)

func TestHeaderLayoutFitsItsPage(t *testing.T) {
	if s := unsafe.Sizeof(ringHeader{}); s > metaOffset {
		t.Fatalf("ring header is %d bytes, more than the %d before the slot table", s, metaOffset)
	}
	if end := metaOffset + MaxSlots*unsafe.Sizeof(slotMeta{}); end > headerSize {
		t.Fatalf("slot table ends at %d, past the %d-byte header", end, headerSize)
	}
}

// fill returns a frame of format f whose every byte is v.
func fill(f frame.Format, v byte) *frame.Frame {
	fr := frame.New(f)
	for i := range fr.Data {
		fr.Data[i] = v
	}
	return fr
}

func newRing(t *testing.T, slots int) (*Writer, *Reader) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ring")
	w, err := CreateWriter(path, slots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	r, err := OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return w, r
}

func TestRingNewestFrame(t *testing.T) {
	w, r := newRing(t, 3)
	var got Frame
	if ok, err := r.Next(&got); ok || err != nil {
		t.Fatalf("empty ring returned a frame (%v)", err)
	}
	f := frame.Format{Width: 5, Height: 3, Channels: 3, Elem: frame.U8}
	for i := 1; i <= 5; i++ {
		fr := fill(f, byte(i))
		fr.PTS = time.Duration(i) * time.Millisecond
		if err := w.Publish(fr); err != nil {
			t.Fatal(err)
		}
	}
	ok, err := r.Next(&got)
	if !ok || err != nil {
		t.Fatalf("no frame: %v", err)
	}
	if got.Number != 5 || got.Width != 5 || got.Height != 3 || got.Channels != 3 || got.PTS != 5*time.Millisecond || len(got.Pix) != 45 {
		t.Fatalf("newest frame: %+v", got)
	}
	for _, b := range got.Pix {
		if b != 5 {
			t.Fatalf("pixel %d, want 5", b)
		}
	}
	if ok, _ := r.Next(&got); ok {
		t.Error("the same frame was returned twice")
	}
	if r.Closed() {
		t.Error("closed before the writer closed")
	}
}

func TestRingPaddedAndFloatFrames(t *testing.T) {
	w, r := newRing(t, 3)
	f := frame.Format{Width: 3, Height: 2, Channels: 1, Elem: frame.U8}
	fr := frame.NewWithPitch(f, 8)
	copy(fr.Row(0), []byte{1, 2, 3})
	copy(fr.Row(1), []byte{4, 5, 6})
	w.Publish(fr)
	var got Frame
	r.Next(&got)
	if string(got.Pix) != "\x01\x02\x03\x04\x05\x06" {
		t.Errorf("padded rows: %v", got.Pix)
	}
	ff := frame.New(frame.Format{Width: 2, Height: 1, Channels: 3, Elem: frame.F32})
	copy(ff.Float32Row(0), []float32{0, 0.5, 1, 1, 0.5, 0})
	w.Publish(ff)
	r.Next(&got)
	if got.Channels != 3 || string(got.Pix) != "\x00\x80\xff\xff\x80\x00" {
		t.Errorf("f32 frame: %+v", got)
	}
}

// TestRingGenerationChange publishes a larger format: the writer grows the file, the reader
// (mapped before) remaps and reads the new frames correctly.
func TestRingGenerationChange(t *testing.T) {
	w, r := newRing(t, 3)
	var got Frame
	w.Publish(fill(frame.Format{Width: 4, Height: 4, Channels: 3, Elem: frame.U8}, 7))
	r.Next(&got)
	gen := r.gen
	big := frame.Format{Width: 1920, Height: 1080, Channels: 4, Elem: frame.U8}
	w.Publish(fill(big, 9))
	ok, err := r.Next(&got)
	if !ok || err != nil {
		t.Fatalf("after growth: %v", err)
	}
	if r.gen == gen {
		t.Error("generation did not change")
	}
	if got.Width != 1920 || got.Channels != 4 || len(got.Pix) != 1920*1080*4 || got.Pix[len(got.Pix)-1] != 9 {
		t.Fatalf("big frame: %dx%d ch%d len %d", got.Width, got.Height, got.Channels, len(got.Pix))
	}
	// Back to a small format: new generation, no shrink, still right.
	w.Publish(fill(frame.Format{Width: 2, Height: 2, Channels: 1, Elem: frame.U8}, 3))
	r.Next(&got)
	if got.Width != 2 || string(got.Pix) != "\x03\x03\x03\x03" {
		t.Fatalf("small frame after big: %+v", got)
	}
}

// TestRingTornReads runs a writer as fast as it can against a reader on a two-slot ring, the
// worst case for overlap: every frame the reader returns must be whole (all bytes equal to
// the frame's number) and numbers must only grow.
func TestRingTornReads(t *testing.T) {
	w, r := newRing(t, 2)
	f := frame.Format{Width: 64, Height: 64, Channels: 3, Elem: frame.U8}
	frames := [2]*frame.Frame{fill(f, 0), fill(f, 0)}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; !stop.Load(); n++ {
			fr := frames[n%2]
			for i := range fr.Data {
				fr.Data[i] = byte(n)
			}
			w.Publish(fr)
		}
	}()
	var got Frame
	var last uint64
	reads := 0
	deadline := time.Now().Add(3 * time.Second)
	for reads < 300 && time.Now().Before(deadline) {
		ok, err := r.Next(&got)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		reads++
		if got.Number <= last {
			t.Fatalf("frame %d after %d", got.Number, last)
		}
		last = got.Number
		want := byte(got.Number)
		for i, b := range got.Pix {
			if b != want {
				t.Fatalf("torn frame %d: byte %d is %d", got.Number, i, b)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads < 5 {
		t.Errorf("only %d frames read", reads)
	}
	t.Logf("%d whole frames read, %d torn copies discarded, writer at %d", reads, r.Retries(), r.Latest())
}

func TestRingAudio(t *testing.T) {
	w, r := newRing(t, 3)
	in := make([]float32, 2*1000)
	for i := range in {
		in[i] = float32(i)
	}
	w.PublishAudio(in[:1200])
	w.PublishAudio(in[1200:])
	out := make([]float32, 4000)
	n, skipped := r.ReadAudio(out)
	if n != 1000 || skipped != 0 {
		t.Fatalf("read %d frames, skipped %d; want 1000, 0", n, skipped)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("sample %d = %v, want %v", i, out[i], in[i])
		}
	}
	if n, _ := r.ReadAudio(out); n != 0 {
		t.Errorf("read %d frames with nothing new", n)
	}
	// A reader far behind skips ahead instead of reading overwritten audio.
	long := make([]float32, 2*audioCapacity)
	w.PublishAudio(long)
	w.PublishAudio(long)
	_, skipped = r.ReadAudio(out)
	if skipped == 0 {
		t.Error("a reader two ring lengths behind skipped nothing")
	}
}

func TestRingClose(t *testing.T) {
	w, r := newRing(t, 3)
	w.Publish(fill(frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}, 1))
	w.Close()
	if !r.Closed() {
		t.Error("reader does not see the session end")
	}
	var got Frame
	if ok, _ := r.Next(&got); !ok || got.Number != 1 {
		t.Error("the last frame is not readable after the writer closed")
	}
}

// BenchmarkPublish1080p measures what publishing adds to a session per 1080p RGB frame.
func BenchmarkPublish1080p(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ring")
	w, err := CreateWriter(path, DefaultSlots)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	fr := fill(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8}, 1)
	w.Publish(fr)
	b.SetBytes(int64(len(fr.Data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Publish(fr)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkRead1080p measures a reader's copy of the newest 1080p RGB frame.
func BenchmarkRead1080p(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ring")
	w, _ := CreateWriter(path, DefaultSlots)
	defer w.Close()
	r, _ := OpenReader(path)
	defer r.Close()
	fr := fill(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8}, 1)
	var got Frame
	b.SetBytes(int64(len(fr.Data)))
	for b.Loop() {
		w.Publish(fr)
		r.Next(&got)
	}
}

// TestRingSkipsSlotBeingWritten holds a slot's sequence number odd, as the writer does while
// copying: the reader must not return that slot's frame.
func TestRingSkipsSlotBeingWritten(t *testing.T) {
	w, r := newRing(t, 3)
	f := frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}
	w.Publish(fill(f, 1))
	m := metaAt(w.mem, 1) // frame 1 lives in slot 1 % 3
	atomic.AddUint64(&m.Seq, 1)
	var got Frame
	if ok, _ := r.Next(&got); ok {
		t.Fatal("returned a frame whose slot is being written")
	}
	if r.Retries() == 0 {
		t.Error("no retry counted")
	}
	atomic.AddUint64(&m.Seq, 1)
	if ok, _ := r.Next(&got); !ok || got.Number != 1 {
		t.Fatal("frame not returned once complete")
	}
	// A slot whose number does not match Latest (the writer lapped it) is refused too.
	w.Publish(fill(f, 2))
	m2 := metaAt(w.mem, 2)
	m2.Number = 99
	if ok, _ := r.Next(&got); ok {
		t.Fatal("returned a frame from a lapped slot")
	}
}

// BenchmarkCopy1080p is the baseline for BenchmarkPublish1080p: the same bytes copied into
// ordinary memory.
func BenchmarkCopy1080p(b *testing.B) {
	fr := fill(frame.Format{Width: 1920, Height: 1080, Channels: 3, Elem: frame.U8}, 1)
	dst := make([]byte, len(fr.Data))
	b.SetBytes(int64(len(fr.Data)))
	for b.Loop() {
		copy(dst, fr.Data)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}
