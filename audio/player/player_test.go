//go:build cgo

package player

import (
	"testing"
	"time"
)

// TestNullBackendDeliversEveryFrame pushes 0.3 s of audio into a player on miniaudio's null
// backend and checks that exactly that many frames reach the device, then silence.
func TestNullBackendDeliversEveryFrame(t *testing.T) {
	p, err := New(Options{Null: true, Buffer: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("null backend: %v", err)
	}
	defer p.Close()
	const frames = Rate * 3 / 10
	samples := make([]float32, frames*Channels)
	for i := range samples {
		samples[i] = 0.25
	}
	if d := p.Push(samples); d != 0 {
		t.Fatalf("dropped %d frames of a push that fits", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Delivered() < frames && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.Delivered(); got != frames {
		t.Fatalf("delivered %d frames, want %d", got, frames)
	}
	// Starved now: the device keeps running on silence.
	s0 := p.Silent()
	time.Sleep(100 * time.Millisecond)
	if p.Silent() <= s0 {
		t.Error("no silence while starved")
	}
	if p.Delivered() != frames {
		t.Errorf("delivered %d after starving, want %d", p.Delivered(), frames)
	}

	// Paused: queued audio stays queued, silence plays.
	p.SetPaused(true)
	p.Push(samples[:2*Rate/10])
	time.Sleep(100 * time.Millisecond)
	if p.Delivered() != frames || p.Queued() != Rate/10 {
		t.Errorf("paused: delivered %d queued %d", p.Delivered(), p.Queued())
	}
	p.SetPaused(false)
}

// TestBoundedBuffer checks that a full buffer drops the oldest frames instead of growing.
func TestBoundedBuffer(t *testing.T) {
	p, err := New(Options{Null: true, Buffer: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("null backend: %v", err)
	}
	defer p.Close()
	p.SetPaused(true)
	one := make([]float32, Rate/10*Channels) // 100 ms
	p.Push(one)
	if d := p.Push(one); d != Rate/10 {
		t.Errorf("second push dropped %d, want %d", d, Rate/10)
	}
	if q := p.Queued(); q != Rate/10 {
		t.Errorf("queued %d, want %d (the bound)", q, Rate/10)
	}
}
