package audio

import (
	"math"
	"path/filepath"
	"testing"
)

func sine(freq float64, rate, n, channels int) []float32 {
	out := make([]float32, n*channels)
	for i := 0; i < n; i++ {
		v := float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := 0; c < channels; c++ {
			out[i*channels+c] = v
		}
	}
	return out
}

// TestConverterResamplesAndUpmixes feeds 44.1 kHz mono in uneven chunks: the output is 48 kHz
// stereo, the right length, the same on both channels, and keeps the pitch.
func TestConverterResamplesAndUpmixes(t *testing.T) {
	in := sine(1000, 44100, 44100, 1)
	var c Converter
	var out []float32
	for i := 0; i < len(in); {
		n := min(len(in)-i, 1000+i%777)
		out = append(out, c.Convert(in[i:i+n], 1, 44100)...)
		i += n
	}
	frames := len(out) / 2
	if frames < Rate-2 || frames > Rate+2 {
		t.Fatalf("%d output frames for 1 s of input, want ~%d", frames, Rate)
	}
	for i := 0; i < frames; i++ {
		if out[2*i] != out[2*i+1] {
			t.Fatalf("frame %d: left %v right %v", i, out[2*i], out[2*i+1])
		}
	}
	mono := Mono(out, 2)
	if f := DominantFrequency(mono, Rate, 100, 5000, 5); math.Abs(f-1000) > 5 {
		t.Errorf("dominant frequency %v, want 1000", f)
	}
	// No seams: the resampled sine stays smooth across chunk boundaries.
	for i := 1; i < len(mono); i++ {
		if d := math.Abs(float64(mono[i] - mono[i-1])); d > 0.5*2*math.Pi*1000/Rate*1.05 {
			t.Fatalf("jump %v at frame %d", d, i)
		}
	}
}

func TestConverterStereoPassThrough(t *testing.T) {
	var c Converter
	in := []float32{0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.4}
	out := append([]float32(nil), c.Convert(in, 2, Rate)...)
	out = append(out, c.Convert([]float32{0.5, -0.5}, 2, Rate)...)
	want := []float32{0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.4}
	if len(out) != len(want) {
		t.Fatalf("got %v", out)
	}
	for i := range want {
		if math.Abs(float64(out[i]-want[i])) > 1e-6 {
			t.Fatalf("got %v want %v", out, want)
		}
	}
}

func TestWAVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	w, err := CreateWAV(path, Rate, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := sine(440, Rate, 4800, 2)
	w.Write(in[:3000])
	w.Write(in[3000:])
	w.Write([]float32{2, -2}) // clamped
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, ch, err := ReadWAV(path)
	if err != nil || rate != Rate || ch != 2 || len(got) != len(in)+2 {
		t.Fatalf("read: %d Hz %d ch %d samples %v", rate, ch, len(got), err)
	}
	for i := range in {
		if math.Abs(float64(got[i]-in[i])) > 1.0/32000 {
			t.Fatalf("sample %d: %v vs %v", i, got[i], in[i])
		}
	}
	if got[len(in)] < 0.999 || got[len(in)+1] > -0.999 {
		t.Errorf("clamping: %v %v", got[len(in)], got[len(in)+1])
	}
}
