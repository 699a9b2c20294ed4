package engine_test

import (
	"context"
	"math"
	"testing"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// TestOnAudio runs the tone example and checks that OnAudio sees each call's audio: the
// rate and channels the plugin set, sample_rate/fps frames per call, and a sine whose phase
// continues across calls.
func TestOnAudio(t *testing.T) {
	lib := open(t, "tone")
	in := instance(t, lib, "tone", loader.ModeText, "frequency=441", "volume=0.5")
	var calls, frames int
	var all []float32
	e, err := engine.New(engine.Config{Stages: []engine.Instance{in}, Frames: 10,
		OnAudio: func(stage int, a *loader.Audio) {
			calls++
			if stage != 0 || a.SampleRate != 44100 || a.Channels != 1 || a.Frames != 1470 {
				t.Errorf("call %d: stage %d, %d Hz, %d ch, %d frames", calls, stage, a.SampleRate, a.Channels, a.Frames)
			}
			frames += a.Frames
			all = append(all, a.Samples[:a.Frames*a.Channels]...)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls != 10 || frames != 14700 {
		t.Fatalf("%d calls, %d frames; want 10, 14700", calls, frames)
	}
	// Continuous phase: every sample is the ideal sine (no reset at call boundaries).
	for i, s := range all {
		want := 0.5 * math.Sin(2*math.Pi*441*float64(i)/44100)
		if math.Abs(float64(s)-want) > 1e-3 {
			t.Fatalf("sample %d = %v, want %v (phase broken at a call boundary?)", i, s, want)
		}
	}
}

// TestSetPrompts changes the prompts of a running chain between ticks.
func TestSetPrompts(t *testing.T) {
	lib := open(t, "temporal")
	in := instance(t, lib, "prompt-color", loader.ModeText, "width=2", "height=2")
	var e *engine.Engine
	var firsts []byte
	// Serial: the prompt set from OnFrame must reach the very next call.
	e, err := engine.New(engine.Config{Stages: []engine.Instance{in}, Frames: 4, Serial: true,
		Prompts: []loader.Prompt{{Text: "red", Weight: 1}},
		OnFrame: func(f *frame.Frame) {
			firsts = append(firsts, f.Data[0])
			if f.Index == 1 {
				e.SetPrompts([]loader.Prompt{{Text: "blue", Weight: 1}})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(firsts) != 4 || firsts[0] < 200 || firsts[1] < 200 || firsts[2] > 50 || firsts[3] > 50 {
		t.Errorf("red channel per frame %v: want red, red, then blue frames", firsts)
	}
	if p := e.Prompts(); len(p) != 1 || p[0].Text != "blue" {
		t.Errorf("Prompts() = %+v", p)
	}
}
