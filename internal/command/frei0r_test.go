package command_test

// Tests of the frei0r bridge (examples/c/frei0r): with frei0r plugins installed, every
// frei0r filter and source is a pipeline "frei0r.<name>" with mapped parameters; invert0r
// equals our invert; every filter and source runs at 640x360 and at an odd size (each in a
// child process, so a plugin that crashes is reported instead of killing the test).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// frei0rFolders are the folders the bridge searches (SCOPE_FREI0R_PATH alone when set, else
// FREI0R_PATH and the standard folders), as far as this test needs them.
func frei0rFolders() []string {
	var dirs []string
	if only, ok := os.LookupEnv("SCOPE_FREI0R_PATH"); ok {
		return strings.Split(only, ":")
	}
	for _, d := range strings.Split(os.Getenv("FREI0R_PATH"), ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".frei0r-1", "lib"))
	}
	return append(dirs, "/usr/local/lib/frei0r-1", "/usr/lib/frei0r-1", "/usr/lib/x86_64-linux-gnu/frei0r-1",
		"/usr/lib/aarch64-linux-gnu/frei0r-1", "/usr/lib64/frei0r-1")
}

// requireFrei0r skips the test when no frei0r plugin is installed where the bridge looks.
func requireFrei0r(t *testing.T) {
	t.Helper()
	for _, d := range frei0rFolders() {
		if d == "" {
			continue
		}
		if libs, _ := filepath.Glob(filepath.Join(d, "*.so")); len(libs) > 0 {
			return
		}
		if libs, _ := filepath.Glob(filepath.Join(d, "*", "*.so")); len(libs) > 0 {
			return
		}
	}
	t.Skipf("no frei0r plugins installed (looked in %s): apt-get install frei0r-plugins",
		strings.Join(frei0rFolders(), ", "))
}

// frei0rPipelines lists the frei0r.* pipelines that `scope pipelines --json` reports.
func frei0rPipelines(t *testing.T, lib string) map[string]command.PipelineJSON {
	t.Helper()
	code, stdout, stderr := scope(t, lib, "pipelines", "--json")
	if code != 0 {
		t.Fatalf("scope pipelines --json: exit %d: %s", code, stderr)
	}
	var got struct {
		Pipelines []command.PipelineJSON `json:"pipelines"`
		Failed    []struct{ Plugin, Error string }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	for _, f := range got.Failed {
		if filepath.Base(f.Plugin) == "frei0r.so" {
			t.Fatalf("the frei0r bridge failed to load: %s", f.Error)
		}
	}
	out := map[string]command.PipelineJSON{}
	for _, p := range got.Pipelines {
		if strings.HasPrefix(p.ID, "frei0r.") {
			out[p.ID] = p
		}
	}
	return out
}

// frei0rKind is "filter", "source" or "mixer".
func frei0rKind(p command.PipelineJSON) string {
	switch {
	case len(p.InputPorts) > 1:
		return "mixer"
	case len(p.Modes) > 0 && p.Modes[0].Mode == "text":
		return "source"
	}
	return "filter"
}

func TestFrei0rPipelinesAndParams(t *testing.T) {
	requireFrei0r(t)
	ps := frei0rPipelines(t, plugins(t))
	kinds := map[string]int{}
	types := map[string]int{}
	keyRE := regexp.MustCompile(`^[a-z0-9_.-]+$`)
	for id, p := range ps {
		kinds[frei0rKind(p)]++
		if p.Name == "" || p.Version == "" {
			t.Errorf("%s: name %q, version %q", id, p.Name, p.Version)
		}
		for _, q := range p.Params {
			types[q.Type]++
			if !keyRE.MatchString(q.Key) || q.Label == "" {
				t.Errorf("%s: parameter key %q, label %q", id, q.Key, q.Label)
			}
			if q.Type == "float" && (*q.Min != 0 || *q.Max != 1) && !q.LoadTime {
				t.Errorf("%s.%s: float range %v..%v, want 0..1", id, q.Key, *q.Min, *q.Max)
			}
		}
		switch frei0rKind(p) {
		case "mixer":
			if p.InputPorts[0] != "video" || p.InputPorts[1] != "video2" {
				t.Errorf("%s: input ports %v", id, p.InputPorts)
			}
		case "source":
			if len(p.Params) < 2 || p.Params[0].Key != "width" || !p.Params[0].LoadTime || p.Params[1].Key != "height" ||
				p.Params[0].Default != 640.0 || p.Params[1].Default != 360.0 || p.Modes[0].Width != 640 {
				t.Errorf("%s: a source needs load-time width/height 640x360 first, got %+v", id, p.Params)
			}
		}
	}
	t.Logf("%d frei0r pipelines: %v; parameter types %v", len(ps), kinds, types)
	if kinds["filter"] == 0 {
		t.Fatalf("no frei0r filters registered although frei0r plugins are installed")
	}

	// Spot checks on plugins of Debian's frei0r-plugins 1.8 (each only if installed).
	param := func(id, key string) (command.ParamJSON, bool) {
		for _, q := range ps[id].Params {
			if q.Key == key {
				return q, true
			}
		}
		return command.ParamJSON{}, false
	}
	if p, ok := ps["frei0r.invert0r"]; ok {
		if frei0rKind(p) != "filter" || len(p.Params) != 0 || p.Description == "" || p.Author == "" {
			t.Errorf("frei0r.invert0r described as %+v", p)
		}
	}
	if _, ok := ps["frei0r.c0rners"]; ok { // position "Corner 1" -> corner_1_x, corner_1_y
		x, okx := param("frei0r.c0rners", "corner_1_x")
		y, oky := param("frei0r.c0rners", "corner_1_y")
		if !okx || !oky || x.Type != "float" || y.Type != "float" || x.Label != "Corner 1 X" {
			t.Errorf("c0rners position not split into two floats: %+v", ps["frei0r.c0rners"].Params)
		}
	}
	if _, ok := ps["frei0r.flippo"]; ok {
		if q, ok := param("frei0r.flippo", "x_axis"); !ok || q.Type != "bool" || q.Default != false {
			t.Errorf("flippo x_axis: %+v", q)
		}
	}
	if _, ok := ps["frei0r.colordistance"]; ok {
		if q, ok := param("frei0r.colordistance", "color"); !ok || q.Type != "color" || q.Default != "#808080" {
			t.Errorf("colordistance color: %+v", q)
		}
	}
	if _, ok := ps["frei0r.cairoblend"]; ok {
		if q, ok := param("frei0r.cairoblend", "blend_mode"); !ok || q.Type != "string" || q.Default != "normal" {
			t.Errorf("cairoblend blend_mode: %+v", q)
		}
	}
	if p, ok := ps["frei0r.addition"]; ok && frei0rKind(p) != "mixer" {
		t.Errorf("frei0r.addition is not listed as a mixer: ports %v", p.InputPorts)
	}
}

func TestFrei0rInvert0rEqualsInvert(t *testing.T) {
	requireFrei0r(t)
	lib := plugins(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	src := randomImage() // 37x23: also exercises the padding to 40x24 and the crop back
	plugintest.WritePNG(t, in, src)
	ours, theirs := filepath.Join(dir, "invert.png"), filepath.Join(dir, "invert0r.png")
	if code, _, stderr := scope(t, lib, "run", "invert", "--input", in, "--output", ours, "--param", "intensity=1"); code != 0 {
		t.Fatalf("invert: exit %d: %s", code, stderr)
	}
	code, _, stderr := scope(t, lib, "run", "frei0r.invert0r", "--input", in, "--output", theirs)
	if code == 2 && strings.Contains(stderr, "unknown pipeline") {
		t.Skip("frei0r.invert0r is not installed")
	}
	if code != 0 {
		t.Fatalf("frei0r.invert0r: exit %d: %s", code, stderr)
	}
	a, b := plugintest.ReadPNG(t, ours), plugintest.ReadPNG(t, theirs)
	if a.Bounds() != src.Bounds() || b.Bounds() != src.Bounds() {
		t.Fatalf("sizes %v and %v, want %v", a.Bounds(), b.Bounds(), src.Bounds())
	}
	for y := 0; y < 23; y++ {
		for x := 0; x < 37; x++ {
			if pa, pb := rgb(a.At(x, y)), rgb(b.At(x, y)); pa != pb { // invert0r keeps alpha: compare RGB
				t.Fatalf("pixel (%d,%d): invert %v, frei0r.invert0r %v", x, y, pa, pb)
			}
		}
	}
}

// TestFrei0rFrameFormats feeds invert0r RGBA and gray frames with padded rows through the
// loader (image sources give RGB only): RGBA keeps its alpha, gray comes out as RGB.
func TestFrei0rFrameFormats(t *testing.T) {
	requireFrei0r(t)
	lib, err := loader.Open(plugintest.Example(t, t.TempDir(), "frei0r"), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	p := lib.Pipeline("frei0r.invert0r")
	if p == nil {
		t.Skip("frei0r.invert0r is not installed")
	}
	inst, err := p.NewInstance(loader.ModeVideo, p.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for _, channels := range []int{4, 1, 3} {
		f := frame.Format{Width: 13, Height: 5, Channels: channels, Elem: frame.U8}
		req, err := inst.Prepare([]frame.Format{f})
		if err != nil {
			t.Fatal(err)
		}
		wantOut := 3
		if channels == 4 {
			wantOut = 4
		}
		if req.Output.Width != 13 || req.Output.Height != 5 || req.Output.Channels != wantOut {
			t.Fatalf("%d channels in: output %v, want 13x5 with %d channels", channels, req.Output, wantOut)
		}
		in := frame.NewWithPitch(f, 13*channels+7)
		for i := range in.Data {
			in.Data[i] = byte(i*29 + 3)
		}
		out := frame.NewWithPitch(req.Output, 13*wantOut+5)
		if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{in}}, Output: out}); err != nil {
			t.Fatal(err)
		}
		for y := 0; y < 5; y++ {
			ri, ro := in.Row(y), out.Row(y)
			for x := 0; x < 13; x++ {
				for c := 0; c < wantOut; c++ {
					src := ri[x*channels+min(c, channels-1)]
					want := 255 - src
					if c == 3 {
						want = src // alpha kept
					}
					if got := ro[x*wantOut+c]; got != want {
						t.Fatalf("%d channels in: pixel (%d,%d) channel %d = %d, want %d", channels, x, y, c, got, want)
					}
				}
			}
		}
	}
}

// TestFrei0rSourceAndParams runs a source at an odd load-time size with a colour parameter.
func TestFrei0rSourceAndParams(t *testing.T) {
	requireFrei0r(t)
	lib := plugins(t)
	out := filepath.Join(t.TempDir(), "one.png")
	code, _, stderr := scope(t, lib, "run", "frei0r.onecol0r", "--param", "color=#ff8000", "--load-param", "width=37,height=23", "--output", out)
	if code == 2 && strings.Contains(stderr, "unknown pipeline") {
		t.Skip("frei0r.onecol0r is not installed")
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	img := plugintest.ReadPNG(t, out)
	if img.Bounds() != image.Rect(0, 0, 37, 23) {
		t.Fatalf("size %v, want 37x23", img.Bounds())
	}
	for y := 0; y < 23; y++ {
		for x := 0; x < 37; x++ {
			if p := rgb(img.At(x, y)); p[0] != 255 || p[1] < 127 || p[1] > 128 || p[2] != 0 {
				t.Fatalf("pixel (%d,%d) = %v, want ~(255,128,0)", x, y, p)
			}
		}
	}
}

// TestFrei0rMixerTwoInputs drives a mixer through the loader with two input ports
// (TestFrei0rAdditionOfTwoY4M runs one through the CLI).
func TestFrei0rMixerTwoInputs(t *testing.T) {
	requireFrei0r(t)
	lib, err := loader.Open(plugintest.Example(t, t.TempDir(), "frei0r"), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	p := lib.Pipeline("frei0r.addition")
	if p == nil {
		t.Skip("frei0r.addition is not installed")
	}
	inst, err := p.NewInstance(loader.ModeVideo, p.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	f := frame.Format{Width: 13, Height: 5, Channels: 3, Elem: frame.U8}
	if _, err := inst.Prepare([]frame.Format{f}); err == nil || !strings.Contains(err.Error(), "needs 2 inputs") {
		t.Errorf("one input: err = %v, want a 'needs 2 inputs' error", err)
	}
	req, err := inst.Prepare([]frame.Format{f, f})
	if err != nil {
		t.Fatal(err)
	}
	a, b, out := frame.New(f), frame.New(f), frame.New(req.Output)
	for i := range a.Data {
		a.Data[i], b.Data[i] = byte(i*7), byte(i*13+100)
	}
	if err := inst.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{a}, {b}}, Output: out}); err != nil {
		t.Fatal(err)
	}
	for y := 0; y < f.Height; y++ {
		ra, rb, ro := a.Row(y), b.Row(y), out.Row(y)
		for i := 0; i < f.Width*3; i++ {
			want := min(int(ra[i])+int(rb[i]), 255)
			if int(ro[i]) != want {
				t.Fatalf("row %d byte %d: %d + %d = %d, want %d", y, i, ra[i], rb[i], ro[i], want)
			}
		}
	}
}

// TestFrei0rNoneInstalled: with nothing to find, the bridge registers nothing and says so
// at debug level only.
func TestFrei0rNoneInstalled(t *testing.T) {
	bin := buildScope(t)
	lib := t.TempDir()
	plugintest.Example(t, lib, "frei0r")
	env := append(os.Environ(), "SCOPE_PLUGIN_PATH="+lib, "SCOPE_HOME="+t.TempDir(), "SCOPE_FREI0R_PATH="+t.TempDir())
	for _, verbose := range []bool{false, true} {
		args := []string{"pipelines", "--json"}
		if verbose {
			args = append([]string{"--verbose"}, args...)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		if strings.Contains(stdout.String(), `"frei0r.`) {
			t.Errorf("%v: frei0r pipelines registered from an empty folder:\n%s", args, stdout.String())
		}
		logged := strings.Contains(stderr.String(), "level=DEBUG") && strings.Contains(stderr.String(), "no frei0r plugins found")
		if verbose != logged || (!verbose && stderr.Len() > 0) {
			t.Errorf("%v: stderr %q", args, stderr.String())
		}
	}
}

// buildScope builds bin/scope (no cgo, as the Makefile does) into a temporary folder.
func buildScope(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scope")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scope")
	build.Dir = plugintest.Root(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// frei0rOutcome is how one pipeline did at one size.
type frei0rOutcome struct {
	status string // pass, fail, crash, timeout, skip
	reason string
}

func (o frei0rOutcome) String() string {
	if o.reason == "" {
		return o.status
	}
	return o.status + ": " + o.reason
}

var crashRE = regexp.MustCompile(`(?m)^(SIGSEGV|SIGBUS|SIGFPE|SIGILL|SIGABRT|SIGTRAP|fatal error:).*|signal arrived during (cgo|external code) execution`)

// runFrei0rChild runs one pipeline for 3 frames in a child process and classifies the result:
// pass = exit 0 without warnings; crash = killed by a signal or a Go crash report; fail =
// anything else (the last error or the first warning is the reason).
func runFrei0rChild(bin string, env []string, id, kind string, w, h int) frei0rOutcome {
	args := []string{"run", id, "--frames", "3", "--output", "null", "--quiet"}
	switch kind {
	case "source":
		args = append(args, "--load-param", fmt.Sprintf("width=%d,height=%d", w, h))
	case "mixer2", "mixer3":
		// Every extra port gets its own source, at the size of the first.
		args = append(args, "--input", "testsrc", "--size", fmt.Sprintf("%dx%d", w, h), "--mix", "testsrc")
		if kind == "mixer3" {
			args = append(args, "--mix", fmt.Sprintf("solid:336699:%dx%d", w, h))
		}
	default:
		args = append(args, "--input", "testsrc", "--size", fmt.Sprintf("%dx%d", w, h))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	firstLine := func(s string) string {
		s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
		if len(s) > 160 {
			s = s[:160] + "..."
		}
		return s
	}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return frei0rOutcome{"timeout", "no result within 60 s"}
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
		return frei0rOutcome{"crash", ee.Sys().(syscall.WaitStatus).Signal().String()}
	case crashRE.MatchString(text):
		return frei0rOutcome{"crash", firstLine(crashRE.FindString(text))}
	case err != nil:
		if i := strings.LastIndex(text, "error: "); i >= 0 {
			return frei0rOutcome{"fail", firstLine(text[i+len("error: "):])}
		}
		return frei0rOutcome{"fail", firstLine(err.Error() + " " + text)}
	case strings.Contains(text, "warning: "):
		return frei0rOutcome{"fail", firstLine(text[strings.Index(text, "warning: ")+len("warning: "):])}
	}
	return frei0rOutcome{"pass", ""}
}

// TestFrei0rEveryFilter runs every frei0r filter and source for 3 frames at 640x360 and at
// 37x23 (odd: padding and cropping) and logs a table. Mixers get a source per port (--mix). The test fails if any run crashes or times out, or if fewer than 90% of the
// runnable pipelines pass at either size: third-party plugins may refuse a size on some
// system (tolerated), but a crash, or a bridge bug, which would fail most of them, is not.
func TestFrei0rEveryFilter(t *testing.T) {
	requireFrei0r(t)
	ps := frei0rPipelines(t, plugins(t))
	if len(ps) == 0 {
		t.Fatal("frei0r plugins are installed but the bridge registered none")
	}
	bin := buildScope(t)
	lib := t.TempDir()
	plugintest.Example(t, lib, "frei0r") // only the bridge: children start faster
	env := append(os.Environ(), "SCOPE_PLUGIN_PATH="+lib, "SCOPE_HOME="+t.TempDir())

	sizes := [][2]int{{640, 360}, {37, 23}}
	ids := make([]string, 0, len(ps))
	for id := range ps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	results := make(map[string][]frei0rOutcome, len(ids)) // filled before the workers start
	for _, id := range ids {
		results[id] = make([]frei0rOutcome, len(sizes))
	}
	type job struct {
		id   string
		size int
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < max(2, runtime.NumCPU()); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				p := ps[j.id]
				kind := frei0rKind(p)
				if kind == "mixer" {
					kind = fmt.Sprintf("mixer%d", len(p.InputPorts))
				}
				o := runFrei0rChild(bin, env, j.id, kind, sizes[j.size][0], sizes[j.size][1])
				mu.Lock()
				results[j.id][j.size] = o
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		for i := range sizes {
			jobs <- job{id, i}
		}
	}
	close(jobs)
	wg.Wait()

	var table strings.Builder
	fmt.Fprintf(&table, "%-30s %-7s %-24s %s\n", "pipeline", "kind", "640x360", "37x23")
	counts := make([]map[string]int, len(sizes))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	var bad []string
	for _, id := range ids {
		r := results[id]
		for i, o := range r {
			counts[i][o.status]++
			if o.status == "crash" || o.status == "timeout" {
				bad = append(bad, fmt.Sprintf("%s at %dx%d: %s", id, sizes[i][0], sizes[i][1], o))
			}
		}
		if r[0].status == "skip" {
			fmt.Fprintf(&table, "%-30s %-7s skipped: %s\n", id, frei0rKind(ps[id]), r[0].reason)
			continue
		}
		fmt.Fprintf(&table, "%-30s %-7s %-24s %s\n", id, frei0rKind(ps[id]), r[0], r[1])
	}
	t.Logf("frei0r pipelines, 3 frames each:\n%s", table.String())
	for i, c := range counts {
		runnable := len(ids) - c["skip"]
		t.Logf("%dx%d: %d pass, %d fail, %d crash, %d timeout, %d skipped of %d frei0r pipelines",
			sizes[i][0], sizes[i][1], c["pass"], c["fail"], c["crash"], c["timeout"], c["skip"], len(ids))
		if runnable > 0 && c["pass"]*10 < runnable*9 {
			t.Errorf("%dx%d: only %d of %d runnable frei0r pipelines pass (want >= 90%%)", sizes[i][0], sizes[i][1], c["pass"], runnable)
		}
	}
	if len(bad) > 0 {
		t.Errorf("frei0r pipelines that crashed or hung:\n  %s", strings.Join(bad, "\n  "))
	}
}
