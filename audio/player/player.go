//go:build cgo

package player

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gen2brain/malgo"
)

// Rate and Channels are what the player plays: 48 kHz stereo float32.
const (
	Rate     = 48000
	Channels = 2
)

// BackendNull is miniaudio's null backend. malgo v0.11.24's BackendNull constant is wrong
// (it says 13); miniaudio's enum has it at 14.
const BackendNull = malgo.Backend(14)

// Options configure a Player.
type Options struct {
	// Null plays into miniaudio's null backend (no sound card; for tests and headless runs).
	Null bool
	// Buffer bounds the queued audio; older samples are dropped when it is full. Zero: 250 ms.
	Buffer time.Duration
}

// Player plays pushed audio. Push, SetPaused and the counters are safe from any goroutine.
type Player struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device

	mu     sync.Mutex
	buf    []float32 // ring of capacity frames * Channels
	head   int       // index (in frames) of the oldest queued frame
	queued int       // queued frames
	paused bool

	delivered atomic.Uint64 // frames handed to the device from the buffer
	silent    atomic.Uint64 // frames of silence handed to the device (paused or starved)
	dropped   atomic.Uint64 // frames dropped because the buffer was full
}

// New opens the default playback device (or the null backend) at 48 kHz stereo float32 and
// starts it.
func New(opts Options) (*Player, error) {
	if opts.Buffer <= 0 {
		opts.Buffer = 250 * time.Millisecond
	}
	capFrames := int(opts.Buffer.Seconds() * Rate)
	p := &Player{buf: make([]float32, capFrames*Channels)}
	var backends []malgo.Backend
	if opts.Null {
		backends = []malgo.Backend{BackendNull}
	}
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: init context: %w", err)
	}
	p.ctx = ctx
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatF32
	cfg.Playback.Channels = Channels
	cfg.SampleRate = Rate
	cfg.Alsa.NoMMap = 1
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: p.fill})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("audio: open playback device: %w", err)
	}
	p.dev = dev
	if err := dev.Start(); err != nil {
		p.Close()
		return nil, fmt.Errorf("audio: start playback: %w", err)
	}
	return p, nil
}

// fill is the device callback: it copies queued frames into out and pads with silence.
func (p *Player) fill(out, _ []byte, frames uint32) {
	n := int(frames)
	p.mu.Lock()
	take := 0
	if !p.paused {
		take = min(n, p.queued)
	}
	capFrames := len(p.buf) / Channels
	for i := 0; i < take; i++ {
		j := ((p.head + i) % capFrames) * Channels
		for c := 0; c < Channels; c++ {
			binary.LittleEndian.PutUint32(out[(i*Channels+c)*4:], math.Float32bits(p.buf[j+c]))
		}
	}
	p.head = (p.head + take) % capFrames
	p.queued -= take
	p.mu.Unlock()
	clear(out[take*Channels*4 : n*Channels*4])
	p.delivered.Add(uint64(take))
	p.silent.Add(uint64(n - take))
}

// Push queues interleaved stereo samples. When the buffer is full the oldest queued frames
// are dropped (the buffer never grows); it returns how many were dropped.
func (p *Player) Push(samples []float32) int {
	frames := len(samples) / Channels
	capFrames := len(p.buf) / Channels
	p.mu.Lock()
	defer p.mu.Unlock()
	dropped := 0
	if frames > capFrames {
		dropped += frames - capFrames
		samples = samples[(frames-capFrames)*Channels:]
		frames = capFrames
	}
	if over := p.queued + frames - capFrames; over > 0 {
		p.head = (p.head + over) % capFrames
		p.queued -= over
		dropped += over
	}
	tail := (p.head + p.queued) % capFrames
	for i := 0; i < frames; i++ {
		j := ((tail + i) % capFrames) * Channels
		p.buf[j], p.buf[j+1] = samples[i*Channels], samples[i*Channels+1]
	}
	p.queued += frames
	p.dropped.Add(uint64(dropped))
	return dropped
}

// SetPaused makes the device play silence (keeping what is queued) or resume.
func (p *Player) SetPaused(paused bool) {
	p.mu.Lock()
	p.paused = paused
	p.mu.Unlock()
}

// Queued returns the frames waiting to be played.
func (p *Player) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// Delivered returns the frames of pushed audio handed to the device so far.
func (p *Player) Delivered() uint64 { return p.delivered.Load() }

// Silent returns the frames of silence handed to the device (paused or starved).
func (p *Player) Silent() uint64 { return p.silent.Load() }

// Dropped returns the frames dropped because the buffer was full.
func (p *Player) Dropped() uint64 { return p.dropped.Load() }

// Close stops the device and releases miniaudio.
func (p *Player) Close() error {
	if p.dev != nil {
		p.dev.Uninit()
		p.dev = nil
	}
	if p.ctx != nil {
		_ = p.ctx.Uninit()
		p.ctx.Free()
		p.ctx = nil
	}
	return nil
}
