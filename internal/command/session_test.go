package command_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/internal/command"
)

// TestToneAudioFile runs the tone example headless with --audio: the WAV is 48 kHz stereo,
// as long as the video, and its dominant frequency is the parameter's.
func TestToneAudioFile(t *testing.T) {
	dir := plugins(t)
	for _, freq := range []float64{1000, 3000} {
		out := filepath.Join(t.TempDir(), "tone.wav")
		code, stdout, stderr := scope(t, dir, "run", "tone", "--frames", "60", "--audio", out,
			"--param", "frequency="+strconv.FormatFloat(freq, 'f', -1, 64))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "wrote "+out) {
			t.Errorf("stdout: %s", stdout)
		}
		samples, rate, ch, err := audio.ReadWAV(out)
		if err != nil || rate != 48000 || ch != 2 {
			t.Fatalf("wav: %d Hz %d ch %v", rate, ch, err)
		}
		// 60 frames at the tone's 30 fps = 2 s.
		if frames := len(samples) / 2; math.Abs(float64(frames)-96000) > 4 {
			t.Errorf("%d frames, want ~96000 (2 s)", frames)
		}
		mono := audio.Mono(samples, 2)
		if got := audio.DominantFrequency(mono, rate, 20, 8000, 5); math.Abs(got-freq) > 5 {
			t.Errorf("frequency=%v: dominant frequency %v", freq, got)
		}
	}
}

func TestAudioFlagNeedsAnAudioPipeline(t *testing.T) {
	code, _, stderr := scope(t, plugins(t), "run", "color-generator", "--audio", filepath.Join(t.TempDir(), "x.wav"))
	if code != command.ExitUsage || !strings.Contains(stderr, "no pipeline of the chain produces audio") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestSessionsCommandEmpty(t *testing.T) {
	xdg := t.TempDir()
	var out, errb bytes.Buffer
	env := map[string]string{"XDG_RUNTIME_DIR": xdg, "SCOPE_HOME": t.TempDir()}
	io := command.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Env: func(k string) string { return env[k] }}
	if code := command.Main(context.Background(), []string{"scope", "sessions", "--json"}, io); code != 0 || strings.TrimSpace(out.String()) != "[]" {
		t.Errorf("sessions --json: %d %q %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := command.Main(context.Background(), []string{"scope", "sessions"}, io); code != 0 || !strings.Contains(out.String(), "no running sessions") {
		t.Errorf("sessions: %d %q", code, out.String())
	}
	errb.Reset()
	if code := command.Main(context.Background(), []string{"scope", "preview"}, io); code != command.ExitUsage || !strings.Contains(errb.String(), "no running session") {
		t.Errorf("preview with no session: %d %s", code, errb.String())
	}
}
