package crosslang_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/session"
)

// invertPlugins are the four invert examples: library name and pipeline id.
var invertPlugins = []struct{ lib, id string }{
	{"invert", "invert"},
	{"invert-cpp", "invert-cpp"},
	{"invert-rust", "invert-rust"},
	{"invert-go", "invert-go"},
}

// invertSample is the examples' documented formula, floor(v*(1-i) + (255-v)*i + 0.5) in
// float64, each operation rounded separately (the float64 conversions forbid FMA).
func invertSample(v byte, i float64) byte {
	f := float64(v)
	return byte(math.Min(math.Floor(float64(f*(1-i))+float64((255-f)*i)+0.5), 255))
}

// randomFrame is a frame of pseudo-random bytes with rows `pad` bytes longer than needed
// (the padding is filled too: a plugin must not read it into the output).
func randomFrame(w, h, ch, pad int, seed uint32) *frame.Frame {
	f := frame.NewWithPitch(frame.Format{Width: w, Height: h, Channels: ch, Elem: frame.U8}, w*ch+pad)
	x := seed
	for i := range f.Data {
		x = x*1664525 + 1013904223
		f.Data[i] = byte(x >> 24)
	}
	return f
}

// runOnce creates an instance of pipeline id from lib with `params` (key=value), prepares it
// for `in` and calls it once, returning the output frame.
func runOnce(t *testing.T, lib *loader.Library, id string, in *frame.Frame, params ...string) (*frame.Frame, error) {
	t.Helper()
	p := lib.Pipeline(id)
	if p == nil {
		t.Fatalf("%s has no pipeline %s", lib.Path(), id)
	}
	vals := p.Defaults()
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		if err := vals.Set(p, k, v); err != nil {
			t.Fatal(err)
		}
	}
	inst, err := p.NewInstance(0, vals)
	if err != nil {
		t.Fatalf("%s: create: %v", id, err)
	}
	defer inst.Close()
	req, err := inst.Prepare([]frame.Format{in.Format})
	if err != nil {
		t.Fatalf("%s: prepare: %v", id, err)
	}
	if req.Output != in.Format {
		t.Fatalf("%s: output %v for input %v", id, req.Output, in.Format)
	}
	out := frame.NewWithPitch(req.Output, req.Output.RowBytes()+3)
	return out, inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out})
}

func open(t *testing.T, name string) *loader.Library {
	t.Helper()
	lib, err := loader.Open(library(t, name), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	return lib
}

// TestInvertAgreesAcrossLanguages runs the same pixel checks against the C, C++, Rust and Go
// invert examples: intensities 1, 0 and 0.5 on random frames of odd sizes, 1, 3 and 4
// channels, padded rows, small ones and ones split across the host's thread pool. Every language must produce the formula's bytes, so they agree byte
// for byte with each other.
func TestInvertAgreesAcrossLanguages(t *testing.T) {
	opened := map[string]*loader.Library{}
	for _, pl := range invertPlugins {
		opened[pl.id] = open(t, pl.lib)
	}
	shapes := []struct{ w, h, ch, pad int }{
		{37, 23, 3, 0}, {1, 1, 3, 0}, {33, 17, 3, 5}, {5, 3, 4, 1}, {17, 9, 1, 3}, {64, 2, 4, 0},
		// Big enough that every SDK splits the rows across the host's thread pool.
		{641, 257, 3, 7}, {513, 130, 4, 0},
	}
	for _, intensity := range []string{"1", "0", "0.5"} {
		i, _ := strconv.ParseFloat(intensity, 64)
		for n, s := range shapes {
			name := fmt.Sprintf("intensity=%s/%dx%dx%d+%d", intensity, s.w, s.h, s.ch, s.pad)
			t.Run(name, func(t *testing.T) {
				in := randomFrame(s.w, s.h, s.ch, s.pad, uint32(n*7919+1))
				var first *frame.Frame
				for _, pl := range invertPlugins {
					out, err := runOnce(t, opened[pl.id], pl.id, in, "intensity="+intensity)
					if err != nil {
						t.Fatalf("%s: %v", pl.id, err)
					}
					for y := 0; y < s.h; y++ {
						src, dst := in.Row(y), out.Row(y)
						for x := range src {
							want := invertSample(src[x], i)
							if s.ch == 4 && x%4 == 3 {
								want = src[x] // alpha is copied
							}
							if dst[x] != want {
								t.Fatalf("%s: pixel %d row %d byte %d = %d, want %d (input %d)", pl.id, x/s.ch, y, x%s.ch, dst[x], want, src[x])
							}
						}
					}
					if first == nil {
						first = out
					} else if !frame.Equal(first, out) {
						t.Fatalf("%s differs from %s", pl.id, invertPlugins[0].id)
					}
				}
			})
		}
	}
}

// TestPanicAndThrowFailOneFrame: a Rust panic, a C++ exception and a Go panic each fail that
// one call with SCOPE_ERROR and the message, and the same instance works on the next call.
func TestPanicAndThrowFailOneFrame(t *testing.T) {
	for _, c := range []struct {
		lib, id, key, onValue, offValue, want string
	}{
		{"invert-rust", "panic-test", "panic", "true", "false", "panic: panic-test was asked to panic (call 0)"},
		{"invert-cpp", "throw-test", "throw", "true", "false", "boom from C++"},
		{"gray-go", "actions-go", "action", "panic", "ok", "panic: boom from Go"},
	} {
		t.Run(c.id, func(t *testing.T) {
			lib := open(t, c.lib)
			p := lib.Pipeline(c.id)
			vals := p.Defaults()
			if err := vals.Set(p, c.key, c.onValue); err != nil {
				t.Fatal(err)
			}
			inst, err := p.NewInstance(0, vals)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close()
			in := randomFrame(7, 5, 3, 0, 42)
			req, err := inst.Prepare([]frame.Format{in.Format})
			if err != nil {
				t.Fatal(err)
			}
			out := frame.New(req.Output)
			err = inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out})
			var pe *loader.PluginError
			if !errors.As(err, &pe) {
				t.Fatalf("call: %v, want a *loader.PluginError", err)
			}
			if pe.Status != abi.Error || !strings.HasPrefix(pe.Message, c.want) || pe.Pipeline != c.id || pe.Op != "call" {
				t.Fatalf("error %+v, want status %v and a message starting %q", pe, abi.Error, c.want)
			}
			// The instance survives and the next call succeeds.
			if err := vals.Set(p, c.key, c.offValue); err != nil {
				t.Fatal(err)
			}
			if err := inst.SetParams(vals); err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Prepare([]frame.Format{in.Format}); err != nil {
				t.Fatal(err)
			}
			if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out}); err != nil {
				t.Fatalf("the call after the failure: %v", err)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the engine goroutine to write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scope runs the CLI in-process with a hermetic environment (env adds to it) and returns
// the exit code, stdout and stderr.
func scope(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := command.Main(context.Background(), append([]string{"scope"}, args...), command.IO{
		In: strings.NewReader(""), Out: &out, Err: &errb, Env: hermetic(t, env),
	})
	return code, out.String(), errb.String()
}

// hermetic is an environment with its own SCOPE_HOME and session folder, plus env.
func hermetic(t *testing.T, env map[string]string) func(string) string {
	base := map[string]string{"SCOPE_HOME": t.TempDir(), "XDG_RUNTIME_DIR": t.TempDir(), "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}
	for k, v := range env {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

// TestPanicAndThrowThroughScopeRun runs a panicking Rust pipeline and a throwing C++ one
// under `scope run`: while the parameter is on, frames fail with the message on stderr; the
// session goes on, and frames flow again once it is off, until the run's 40 frames are out. A pipeline that fails every frame
// makes the run give up with exit status 1.
func TestPanicAndThrowThroughScopeRun(t *testing.T) {
	for _, c := range []struct{ lib, id, key, want string }{
		{"invert-rust", "panic-test", "panic", "panic: panic-test was asked to panic"},
		{"invert-cpp", "throw-test", "throw", "boom from C++"},
	} {
		t.Run(c.id, func(t *testing.T) {
			lib := library(t, c.lib)
			rt := t.TempDir()
			env := map[string]string{"XDG_RUNTIME_DIR": rt}
			type result struct {
				code           int
				stdout, stderr string
			}
			var stderr syncBuffer
			done := make(chan result, 1)
			getenv := hermetic(t, env)
			go func() {
				var out syncBuffer
				code := command.Main(context.Background(), []string{"scope", "run", c.id, "--plugin", lib,
					"--input", "testsrc:33x17", "--fps", "30", "--frames", "40", "--param", c.key + "=false"},
					command.IO{In: strings.NewReader(""), Out: &out, Err: &stderr, Env: getenv})
				done <- result{code, out.String(), stderr.String()}
			}()

			client := dialSession(t, rt, done)
			defer client.Close()
			ctx := context.Background()
			waitStats(t, client, "frames to flow", func(s session.LiveStats) bool { return s.Frames >= 3 })
			if _, err := client.Set(ctx, 0, c.key, "true"); err != nil {
				t.Fatal(err)
			}
			// A few failures (well below the 30 in a row that end a headless run).
			waitStats(t, client, "failed frames", func(s session.LiveStats) bool { return s.Errors >= 3 })
			if _, err := client.Set(ctx, 0, c.key, "false"); err != nil {
				t.Fatal(err)
			}
			info, err := client.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			resumed := info.Stats.Frames
			waitStats(t, client, "frames after the failures", func(s session.LiveStats) bool { return s.Frames >= resumed+3 })
			// The run ends by itself after 40 good frames.
			r := <-done
			if r.code != 0 {
				t.Fatalf("exit %d, want 0 (the session survives): %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "(frame dropped)") {
				t.Errorf("stderr lacks %q and (frame dropped):\n%s", c.want, r.stderr)
			}

			// Failing every frame: the CLI gives up after 30 in a row, with the message.
			code, _, errOut := scope(t, nil, "run", c.id, "--plugin", lib, "--input", "testsrc:33x17", "--frames", "50", "--param", c.key+"=true")
			if code != command.ExitFailure || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "giving up after 30 failed frames") {
				t.Errorf("always failing: exit %d, stderr:\n%s", code, errOut)
			}
		})
	}
}

// dialSession waits for the one session in the runtime folder rt and connects to it; it fails
// the test if the run ends first.
func dialSession[T any](t *testing.T, rt string, done <-chan T) *session.Client {
	t.Helper()
	dir := session.Dir(filepath.Join(rt, "scope"))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("the run ended before its session appeared: %+v", r)
		default:
		}
		if list, err := dir.List(); err == nil && len(list) == 1 {
			c, err := session.DialInfo(list[0])
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no session appeared in 20 s")
	return nil
}

// waitStats polls the session's live stats until ok says yes (20 s at most).
func waitStats(t *testing.T, c *session.Client, what string, ok func(session.LiveStats) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last session.LiveStats
	for time.Now().Before(deadline) {
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if last = info.Stats; ok(last) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: stats %+v after 20 s", what, last)
}

// TestMixedChain loads two Go plugins (two Go runtimes), the C plugin, the Rust one and the
// C++ one into one `scope run` chain and runs it for 500 frames (10,000 with
// SCOPE_LONG_TESTS=1), then checks one frame's pixels against the chain's formula.
func TestMixedChain(t *testing.T) {
	frames := 500
	if os.Getenv("SCOPE_LONG_TESTS") == "1" {
		frames = 10000
	}
	chain := "invert-go,gray-go,invert,invert-rust,invert-cpp"
	args := []string{"run", chain}
	for _, name := range []string{"invert-go", "gray-go", "invert", "invert-rust", "invert-cpp"} {
		args = append(args, "--plugin", library(t, name))
	}
	start := time.Now()
	code, stdout, stderr := scope(t, nil, append(args, "--input", "testsrc:33x17", "--frames", strconv.Itoa(frames))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, fmt.Sprintf("%d frames", frames)) || strings.Contains(stderr, "warning") {
		t.Fatalf("stdout %q, stderr %q", stdout, stderr)
	}
	t.Logf("%d frames through %s in %v: %s", frames, chain, time.Since(start), strings.TrimSpace(stdout))

	// One frame of known pixels: gray-go writes Rec.601 luma to R, G and B; the three inverts
	// after it leave 255 - luma(inverted input).
	dir := t.TempDir()
	src := randomImage(37, 23)
	in, out := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.png")
	plugintest.WritePNG(t, in, src)
	if code, _, stderr := scope(t, nil, append(args, "--input", in, "--frames", "1", "--output", out)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := plugintest.ReadPNG(t, out)
	for y := 0; y < 23; y++ {
		for x := 0; x < 37; x++ {
			s := src.NRGBAAt(x, y)
			r, g, b := 255-int(s.R), 255-int(s.G), 255-int(s.B)
			luma := byte((299*r + 587*g + 114*b + 500) / 1000)
			want := 255 - luma
			c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			if c.R != want || c.G != want || c.B != want {
				t.Fatalf("pixel (%d,%d) = %v, want %d (input %v)", x, y, c, want, s)
			}
		}
	}
}

// randomImage is an opaque image of pseudo-random colors.
func randomImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(12345)
	for i := 0; i < len(img.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			x = x*1664525 + 1013904223
			img.Pix[i+c] = byte(x >> 24)
		}
		img.Pix[i+3] = 255
	}
	return img
}
