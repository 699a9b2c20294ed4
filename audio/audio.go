// Package audio holds the host's audio plumbing that needs no device: a streaming resampler
// and up-mixer that turns what pipelines produce (interleaved float PCM at their own rate, 1 or
// 2 channels) into what the preview plays (48 kHz stereo), a WAV writer and reader for the
// headless path (`scope run --audio out.wav`), and a Goertzel-based frequency probe for tests.
//
// It has no cgo and no Ebitengine import: the scope binary uses it. Playback through malgo
// lives in audio/player, which only scope-preview imports.
package audio

import "math"

// Rate and Channels are the format the host plays and writes: 48 kHz stereo.
const (
	Rate     = 48000
	Channels = 2
)

// Converter resamples (linear interpolation) and up-mixes a stream of chunks to 48 kHz stereo,
// keeping its position across chunks so the output has no seams. A change of input rate or
// channel count restarts it. It is not safe for concurrent use.
type Converter struct {
	rate, channels int
	t              float64    // position of the next output sample, in input frames from the chunk start
	prev           [2]float32 // last input frame of the previous chunk (position -1)
	started        bool
	out            []float32
}

// Convert converts one chunk of interleaved samples (channels 1 or 2, any rate > 0) and
// returns 48 kHz stereo samples. The returned slice is reused by the next call.
func (c *Converter) Convert(in []float32, channels, rate int) []float32 {
	c.out = c.out[:0]
	if channels < 1 || channels > 2 || rate <= 0 {
		return c.out
	}
	n := len(in) / channels
	if n == 0 {
		return c.out
	}
	if rate != c.rate || channels != c.channels {
		c.rate, c.channels, c.started, c.t = rate, channels, false, 0
	}
	frame := func(i int) [2]float32 {
		if i < 0 {
			return c.prev
		}
		if channels == 1 {
			return [2]float32{in[i], in[i]}
		}
		return [2]float32{in[2*i], in[2*i+1]}
	}
	if !c.started {
		c.prev = frame(0)
		c.started = true
	}
	step := float64(rate) / Rate
	last := float64(n - 1)
	for c.t < last {
		i := int(math.Floor(c.t))
		f := float32(c.t - float64(i))
		a, b := frame(i), frame(i+1)
		c.out = append(c.out, a[0]+(b[0]-a[0])*f, a[1]+(b[1]-a[1])*f)
		c.t += step
	}
	c.t -= float64(n)
	c.prev = frame(n - 1)
	return c.out
}

// Goertzel returns the power of frequency freq (Hz) in mono samples at rate.
func Goertzel(samples []float32, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// DominantFrequency scans lo..hi Hz in steps of step Hz and returns the frequency with the
// most power in mono samples at rate.
func DominantFrequency(samples []float32, rate int, lo, hi, step float64) float64 {
	best, bestP := lo, -1.0
	for f := lo; f <= hi; f += step {
		if p := Goertzel(samples, rate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// Mono averages interleaved samples of the given channel count into one channel.
func Mono(samples []float32, channels int) []float32 {
	if channels <= 1 {
		return append([]float32(nil), samples...)
	}
	out := make([]float32, len(samples)/channels)
	for i := range out {
		var s float32
		for c := 0; c < channels; c++ {
			s += samples[i*channels+c]
		}
		out[i] = s / float32(channels)
	}
	return out
}
