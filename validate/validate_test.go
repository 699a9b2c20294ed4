package validate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/internal/otheruser"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/validate"
)

// childArg makes the test binary a validation child (see TestMain).
const childArg = "-validate-child"

// TestMain turns the test binary into a validation child when Run starts it that way: the
// parent runs os.Executable() with childArg, the check's JSON and the plugin path.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(validate.ServeChild(context.Background(), os.Args[2:]))
	}
	os.Exit(m.Run())
}

// options runs children through this test binary.
func options(t *testing.T) validate.Options {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return validate.Options{ChildCommand: []string{exe, childArg}, Timeout: 10 * time.Second, Threads: 2, Jobs: 2}
}

// buildBroken builds validate/testdata/broken.c with -D<define> into dir.
func buildBroken(t *testing.T, dir, define string) string {
	t.Helper()
	src := filepath.Join(plugintest.Root(t), "validate", "testdata", "broken.c")
	return plugintest.BuildC(t, filepath.Join(dir, strings.ToLower(define)+".so"), []string{src}, define)
}

// byStatus returns the results with status s, as check id -> reason (the check ids of a
// one-pipeline plugin are unique).
func byStatus(rep *validate.Report, s validate.Status) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Results {
		if r.Status == s {
			out[r.Check] = r.Reason
		}
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for id := range m {
		k = append(k, id)
	}
	slices.Sort(k)
	return k
}

// expect asserts that exactly the checks in want have status s, each with a reason
// containing the given text.
func expect(t *testing.T, rep *validate.Report, s validate.Status, want map[string]string) {
	t.Helper()
	got := byStatus(rep, s)
	if validate.RaceDetector { // memory-growth skips itself under -race
		delete(got, "memory-growth")
		want = maps.Clone(want)
		delete(want, "memory-growth")
	}
	if !slices.Equal(keys(got), keys(want)) {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("checks with status %s: %v, want %v\n%s", s, keys(got), keys(want), b.String())
	}
	for id, text := range want {
		if !strings.Contains(got[id], text) {
			t.Errorf("%s %s: reason %q does not contain %q", id, s, got[id], text)
		}
	}
}

// TestBrokenPlugins builds one plugin per failure kind and checks that each fails (or warns
// about) exactly its check, with a reason that says what happened.
func TestBrokenPlugins(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		define string
		fails  map[string]string
		warns  map[string]string
		skips  []string // checks that cannot run because of the defect (beyond the ones fails block)
		// skipsWhy are further skipped checks, with a part of the reason.
		skipsWhy map[string]string
		tweak    func(*validate.Options)
	}{
		{define: "GOOD"},
		{define: "F32_OUT"},
		{define: "POSITIVE_STATUS"}, // success with a note: only negative statuses are errors
		{define: "CRASH_CALL", fails: map[string]string{"wrong-order": "crashed with SIGSEGV in call before any prepare"}},
		{define: "HANG_PREPARE", fails: map[string]string{"param-fuzz": "hung for 5s in prepare (33x17 rgb u8; strength=10"},
			tweak: func(o *validate.Options) { o.Timeout = 5 * time.Second }},
		{define: "WRITE_PAST", fails: map[string]string{"write-outside-output": "3 guard bytes changed after the output's last row"}},
		{define: "MODIFY_INPUT", fails: map[string]string{"input-unmodified": "input frame 0 of port video was modified: 1 byte changed, the first at pixel (0,0)"}},
		{define: "NAN_OUTPUT", fails: map[string]string{"float-output": "the output has 1 NaN/Inf sample, the first at pixel (0,0) channel 0"}},
		{define: "NONDETERMINISTIC", fails: map[string]string{"deterministic": "two fresh instances given the same inputs and parameters differ"},
			skips: []string{"pitch", "alignment", "parallel"}},
		// The same randomness, declared: nothing fails, the comparing checks are skipped and
		// parallel only runs the instances at once.
		{define: "DECLARED_NONDETERMINISTIC", skipsWhy: map[string]string{
			"deterministic": "declared SCOPE_PIPELINE_NONDETERMINISTIC", "pitch": "declared SCOPE_PIPELINE_NONDETERMINISTIC",
			"alignment": "declared SCOPE_PIPELINE_NONDETERMINISTIC"}},
		{define: "LEAK", fails: map[string]string{"memory-growth": "about 1.0 MiB per instance"}},
		{define: "SHARED_SCRATCH", fails: map[string]string{"parallel": "running at once differs from the same instance run alone"}},
		{define: "IGNORE_PITCH", fails: map[string]string{"pitch": "rows padded by 64 bytes: the output differs from the one at the least aligned pitch"}},
		{define: "ASSUME_ALIGN_128", fails: map[string]string{
			"alignment": "page-aligned rows: the output differs from the one with rows aligned to exactly 64 bytes",
			"pitch":     "the output differs from the one at the least aligned pitch"}},
		{define: "REFUSE_ODD", fails: map[string]string{"sizes": "1x1 rgb u8: call failed: SCOPE_ERROR_INVALID_ARGUMENT: probe: frames under 2x2"}},
		{define: "BAD_DESCRIPTOR", fails: map[string]string{"descriptor": `params[0] "strength".min_value: min 10 > max 0`},
			skips: []string{"enum-keys", "ranges", "defaults", "sizes", "pitch", "alignment", "input-unmodified", "write-outside-output", "float-output", "deterministic", "param-fuzz", "wrong-order", "memory-growth", "parallel"}},
		{define: "BAD_ENUM_KEY", fails: map[string]string{"enum-keys": `option key " hard" has leading or trailing white space`}},
		{define: "MUTATE_DEFAULT", fails: map[string]string{"defaults": `params[0] "strength".default_number changed from 5 to 7`}},
		{define: "REGISTER_ONCE", fails: map[string]string{"register-twice": "a second register_pipelines without unregister_pipelines failed (SCOPE_ERROR): probe: already registered"}},
		{define: "ABI_MAJOR_2", fails: map[string]string{"abi-version": "built for plugin ABI 2.1; this scope supports 1.x"},
			skips: []string{"register", "register-twice", "unknown-extension", "descriptor", "enum-keys", "ranges", "defaults", "sizes", "pitch", "alignment", "input-unmodified", "write-outside-output", "float-output", "deterministic", "param-fuzz", "wrong-order", "memory-growth", "parallel"}},
		{define: "NULL_EXTENSION", fails: map[string]string{"unknown-extension": `get_extension("scope.validate.no-such-extension/1") returned`}},
		{define: "EXTRA_EXPORT", warns: map[string]string{"exports": "1 symbol exported besides scope_plugin_entry: probe_helper"}},
		{define: "SLOW_REGISTER", warns: map[string]string{"register": "register_pipelines took"}},
		{define: "UNPREPARED_OK"},
		{define: "UNPREPARED_WRITE", fails: map[string]string{"wrong-order": "call before any prepare: 3 guard bytes changed after the output's last row"}},
		{define: "BAD_STATE_CODE", warns: map[string]string{"wrong-order": "call before any prepare returned SCOPE_ERROR, not SCOPE_ERROR_BAD_STATE"}},
	}
	for _, c := range cases {
		t.Run(c.define, func(t *testing.T) {
			t.Parallel()
			lib := buildBroken(t, dir, c.define)
			opts := options(t)
			if c.tweak != nil {
				c.tweak(&opts)
			}
			rep, err := validate.Run(context.Background(), lib, opts)
			if err != nil {
				t.Fatal(err)
			}
			expect(t, rep, validate.Fail, c.fails)
			expect(t, rep, validate.Warn, c.warns)
			skips := maps.Clone(c.skipsWhy)
			if skips == nil {
				skips = map[string]string{}
			}
			for _, id := range c.skips {
				skips[id] = ""
			}
			expect(t, rep, validate.Skip, skips)
			if rep.Failed() != (len(c.fails) > 0) {
				t.Errorf("Failed() = %v with %d failures", rep.Failed(), len(c.fails))
			}
		})
	}
}

// frei0rSubset points the frei0r bridge example at a few of the system's frei0r plugins (a
// filter and a mixer, when installed) instead of all of them: the bridge registers one
// pipeline per plugin, and third-party plugins bring their own defects (noise sources are
// not deterministic, some crash on odd sizes) that are not the bridge's.
func frei0rSubset(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"invert0r.so", "addition.so"} {
		for _, sys := range []string{"/usr/lib/frei0r-1", "/usr/lib/x86_64-linux-gnu/frei0r-1", "/usr/local/lib/frei0r-1"} {
			if _, err := os.Stat(filepath.Join(sys, name)); err == nil {
				if err := os.Symlink(filepath.Join(sys, name), filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	t.Setenv("SCOPE_FREI0R_PATH", dir) // children inherit it
}

// TestExamples validates every C example of the repository: no check may fail.
func TestExamples(t *testing.T) {
	frei0rSubset(t)
	libs := plugintest.Examples(t, t.TempDir())
	if len(libs) == 0 {
		t.Fatal("no examples found")
	}
	for name, lib := range libs {
		t.Run(name, func(t *testing.T) {
			rep, err := validate.Run(context.Background(), lib, options(t))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.WriteText(&b)
			skips := 0
			for _, r := range rep.Results {
				if r.Status == validate.Skip && !(validate.RaceDetector && r.Check == "memory-growth") {
					skips++
				}
			}
			if rep.Failed() || skips > 0 {
				t.Fatalf("%s: want no failures and no skips:\n%s", name, b.String())
			}
			if len(rep.Pipelines) > 0 && rep.Count(validate.Pass) < 10 {
				t.Fatalf("%s: too little was checked:\n%s", name, b.String())
			}
			if rep.Count(validate.Warn) > 0 {
				t.Logf("%s has warnings:\n%s", name, b.String())
			}
		})
	}
}

// TestCUDASkipped checks that a pipeline declaring CUDA memory gets its host checks run and
// its CUDA checks skipped with the reason (no GPU here, or no CUDA frames in the loader yet).
func TestCUDASkipped(t *testing.T) {
	lib := buildBroken(t, t.TempDir(), "CUDA_MEMORY")
	opts := options(t)
	opts.Only = regexp.MustCompile(`^(sizes|wrong-order)$`)
	rep, err := validate.Run(context.Background(), lib, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Subject+" "+r.Check+" "+string(r.Status))
		if r.Memory == "cuda" && !strings.Contains(r.Reason, "CUDA") {
			t.Errorf("%s %s: reason %q does not say why CUDA is skipped", r.Subject, r.Check, r.Reason)
		}
	}
	want := []string{"probe (host) sizes pass", "probe (cuda) sizes skip", "probe (host) wrong-order pass", "probe (cuda) wrong-order skip"}
	if !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
}

// TestInProcess runs the checks without child processes on a well-behaved plugin.
func TestInProcess(t *testing.T) {
	lib := buildBroken(t, t.TempDir(), "GOOD")
	rep, err := validate.Run(context.Background(), lib, validate.Options{InProcess: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || rep.Count(validate.Pass) < 14 {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("in process:\n%s", b.String())
	}
}

// TestOnly reports only the checks --only selects, though their prerequisites ran.
func TestOnly(t *testing.T) {
	lib := buildBroken(t, t.TempDir(), "WRITE_PAST")
	opts := options(t)
	opts.Only = regexp.MustCompile(`^(sizes|write-outside-output)$`)
	rep, err := validate.Run(context.Background(), lib, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Check+":"+string(r.Status))
	}
	if want := []string{"sizes:pass", "write-outside-output:fail"}; !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if rep.Name != "validate-probe" || !slices.Equal(rep.Pipelines, []string{"probe"}) {
		t.Errorf("plugin %q pipelines %v", rep.Name, rep.Pipelines)
	}
}

// TestOnlyBlocked skips a selected pipeline check whose unselected prerequisite failed, and
// says why.
func TestOnlyBlocked(t *testing.T) {
	lib := buildBroken(t, t.TempDir(), "ABI_MAJOR_2")
	opts := options(t)
	opts.Only = regexp.MustCompile(`^sizes$`)
	rep, err := validate.Run(context.Background(), lib, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Status != validate.Skip || !strings.Contains(rep.Results[0].Reason, "abi-version failed: built for plugin ABI 2.1") {
		t.Fatalf("results %+v", rep.Results)
	}
}

// TestErrors covers what Run refuses to validate.
func TestErrors(t *testing.T) {
	if _, err := validate.Run(context.Background(), filepath.Join(t.TempDir(), "missing.so"), options(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	lib := buildBroken(t, t.TempDir(), "GOOD")
	opts := options(t)
	opts.ChildCommand = []string{"/bin/true"}
	if _, err := validate.Run(context.Background(), lib, opts); !errors.Is(err, validate.ErrNoChild) {
		t.Errorf("a child command that never reports: %v, want ErrNoChild", err)
	}
	opts.ChildCommand = []string{filepath.Join(t.TempDir(), "no-such-program")}
	if _, err := validate.Run(context.Background(), lib, opts); !errors.Is(err, validate.ErrNoChild) {
		t.Errorf("a child command that does not exist: %v, want ErrNoChild", err)
	}
	opts = options(t)
	opts.Threads = -1
	if _, err := validate.Run(context.Background(), lib, opts); !errors.Is(err, validate.ErrOptions) {
		t.Errorf("threads -1: %v, want ErrOptions", err)
	}
}

// TestReportText checks the human report's layout.
func TestReportText(t *testing.T) {
	rep := &validate.Report{Plugin: "x.so", Name: "x", Version: "1.0", Pipelines: []string{"invert"}, Results: []validate.Result{
		{Check: "dlopen", Subject: "x.so", Status: validate.Pass, Reason: "loads"},
		{Check: "write-outside-output", Subject: "invert", Status: validate.Fail, Reason: "1921x1081 rgb u8: 3 guard bytes changed after the output's last row"},
		{Check: "exports", Subject: "x.so", Status: validate.Warn, Reason: "1 symbol exported\nbesides the entry"},
		{Check: "sizes", Subject: "invert (video, cuda)", Status: validate.Skip, Reason: "no CUDA driver"},
	}}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `validate x.so: x 1.0, 1 pipeline (invert)

passed
  ✓ x.so: dlopen: loads

warnings
  ! x.so: exports: 1 symbol exported besides the entry

failed
  ✗ invert: write-outside-output: 1921x1081 rgb u8: 3 guard bytes changed after the output's last row

skipped
  - invert (video, cuda): sizes: no CUDA driver

1 passed, 1 warnings, 1 failed, 1 skipped
`
	if b.String() != want {
		t.Errorf("text report:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Plugin  string `json:"plugin"`
		Failed  int    `json:"failed"`
		OK      bool   `json:"ok"`
		Results []struct {
			Check, Subject, Status, Reason string
		} `json:"results"`
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if j.Plugin != "x.so" || j.Failed != 1 || j.OK || len(j.Results) != 4 || j.Results[1].Status != "fail" || j.Results[3].Subject != "invert (video, cuda)" {
		t.Errorf("JSON report: %s", b.String())
	}
}

// TestChecksDocumented keeps Checks in step with the report: every id is unique and has a doc.
func TestChecksDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range validate.Checks() {
		if seen[c.ID] || c.Doc == "" || c.Level == "" {
			t.Errorf("check %+v: duplicate or undocumented", c)
		}
		seen[c.ID] = true
	}
	if len(seen) < 15 {
		t.Errorf("only %d checks", len(seen))
	}
}

// TestPrivateCopies: the validator's library copies never go to the folder another user
// planted under the old name ($TMPDIR/scope-validate-<uid>, theirs, mode 0777), and a
// $TMPDIR others can write to is refused with a message that says so.
func TestPrivateCopies(t *testing.T) {
	otheruser.Require(t)
	lib := buildBroken(t, t.TempDir(), "GOOD")
	tmp := otheruser.TempDir(t)
	t.Setenv("TMPDIR", tmp)
	planted := filepath.Join(tmp, fmt.Sprintf("scope-validate-%d", os.Getuid()))
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	otheruser.Give(t, planted, 0o777)
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, planted, syscall.IN_CREATE|syscall.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	rep, err := validate.Run(context.Background(), lib, validate.Options{InProcess: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("validation failed:\n%s", b.String())
	}
	var buf [4096]byte
	if n, _ := syscall.Read(fd, buf[:]); n > 0 {
		t.Errorf("a file was created in the folder uid %d planted (%d bytes of inotify events)", otheruser.UID, n)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("left in $TMPDIR: %v, want only the planted folder", ents)
	}

	if err := os.Chmod(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	rep, err = validate.Run(context.Background(), lib, validate.Options{InProcess: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !rep.Failed() || !strings.Contains(b.String(), tmp+" is writable by other users and not sticky") {
		t.Errorf("validation with a world-writable $TMPDIR did not fail saying so:\n%s", b.String())
	}
}

// manyPipelines builds the probe registered 5000 times (probe-0 ... probe-4999): more than the
// 4096 descriptors the validator used to read, and far too many to check one by one.
func manyPipelines(t *testing.T) string {
	t.Helper()
	src := filepath.Join(plugintest.Root(t), "validate", "testdata", "broken.c")
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), "many.so"), []string{src}, "MANY_PIPELINES=5000")
}

// TestManyPipelinesSample: beyond Options.Sample the per-pipeline checks run on an evenly
// spaced sample, the report says so, and Progress counts every check.
func TestManyPipelinesSample(t *testing.T) {
	opts := options(t)
	opts.Only = regexp.MustCompile(`^(sizes|defaults)$`)
	opts.Sample = 5
	var seen []validate.Progress
	opts.Progress = func(p validate.Progress) { seen = append(seen, p) }
	rep, err := validate.Run(context.Background(), manyPipelines(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if len(rep.Pipelines) != 5000 || rep.Checked != 5 || rep.Failed() {
		t.Fatalf("pipelines %d, checked %d:\n%s", len(rep.Pipelines), rep.Checked, text.String())
	}
	var got []string
	for _, r := range rep.Results {
		if r.Check == "sizes" && r.Status == validate.Pass {
			got = append(got, r.Pipeline)
		}
	}
	// The first and the last, and evenly between; the last ones lie beyond 4096 (their
	// defaults check failed with "missing" when the validator read only 4096).
	if want := []string{"probe-0", "probe-1249", "probe-2499", "probe-3749", "probe-4999"}; !slices.Equal(got, want) {
		t.Errorf("sampled %v, want %v\n%s", got, want, text.String())
	}
	if want := "note: checked a sample of 5 of 5000 pipelines, evenly spaced"; !strings.Contains(text.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, text.String())
	}
	if len(seen) != 10 || seen[9].Done != 10 || seen[9].Total != 10 || seen[9].Pipelines != 5 {
		t.Errorf("progress calls %+v, want 10 ending at 10/10 on 5 pipelines", seen)
	}
}

// TestBudgetBoundsTime: no per-pipeline check starts after Options.Budget; the report counts
// the ones left out, and Run returns within the budget plus one check's run.
func TestBudgetBoundsTime(t *testing.T) {
	opts := options(t)
	opts.Only = regexp.MustCompile(`^sizes$`)
	opts.Sample, opts.Jobs, opts.Budget = -1, 1, 300*time.Millisecond
	start := time.Now()
	rep, err := validate.Run(context.Background(), manyPipelines(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	var text strings.Builder
	rep.WriteText(&text)
	ran := 0
	for _, r := range rep.Results {
		if r.Check == "sizes" {
			ran++
		}
	}
	if ran < 1 || ran >= 5000 || rep.Checked != ran || rep.Failed() {
		t.Errorf("%d sizes results on %d pipelines, want some but not all:\n%s", ran, rep.Checked, text.String())
	}
	want := "note: the time budget of 300ms ran out: " + strconv.Itoa(5000-ran) + " of 5000 checks did not run, on " + strconv.Itoa(5000-ran) + " pipelines"
	if !strings.Contains(text.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, text.String())
	}
	if elapsed > 15*time.Second {
		t.Errorf("Run took %v with a 300ms budget", elapsed)
	}
}

// TestV10PluginValidates proves ABI 1.1 keeps 1.0 binaries: invert built from the frozen 1.0
// header (abi/testdata/v1.0) passes every check of the current validator.
func TestV10PluginValidates(t *testing.T) {
	dir := filepath.Join(plugintest.Root(t), "abi", "testdata", "v1.0")
	lib := plugintest.BuildCAgainst(t, filepath.Join(t.TempDir(), "invert-1.0.so"), dir, []string{filepath.Join(dir, "invert.c")})
	rep, err := validate.Run(context.Background(), lib, options(t))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep, validate.Fail, map[string]string{})
	expect(t, rep, validate.Warn, map[string]string{})
	found := false
	for _, r := range rep.Results {
		if r.Check == "abi-version" && r.Status == validate.Pass && strings.Contains(r.Reason, "ABI 1.0") {
			found = true
		}
	}
	if !found {
		t.Error("the abi-version check does not report the plugin's ABI 1.0")
	}
}

// TestQuickOnlyNamesRealChecks: every id QuickOnly selects is a check, and the checks it
// leaves for after the swap include the slow ones, so a renamed check cannot silently drop
// out of watch mode's quick pass.
func TestQuickOnlyNamesRealChecks(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range validate.Checks() {
		ids[c.ID] = true
	}
	for _, id := range strings.Split(validate.QuickIDs, "|") {
		if !ids[id] {
			t.Errorf("QuickOnly selects %q, which is no check", id)
		}
	}
	q := validate.QuickOnly()
	for _, id := range []string{"sizes", "dlopen", "input-unmodified"} {
		if !q.MatchString(id) {
			t.Errorf("QuickOnly leaves out %s", id)
		}
	}
	for _, id := range []string{"param-fuzz", "memory-growth", "pitch", "deterministic", "sizes-x"} {
		if q.MatchString(id) {
			t.Errorf("QuickOnly selects %s, a check for after the swap", id)
		}
	}
}
