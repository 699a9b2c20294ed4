package loader_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// testPlugin builds loader/testdata/testplugin.c with one -D define (or none).
func testPlugin(t testing.TB, define string) string {
	t.Helper()
	name := "testplugin"
	var defs []string
	if define != "" {
		name += "-" + strings.ToLower(define)
		defs = append(defs, define)
	}
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), name+".so"), []string{filepath.Join("testdata", "testplugin.c")}, defs...)
}

func TestRejections(t *testing.T) {
	cases := []struct {
		define string
		is     error
		want   []string // every substring must appear in the message
	}{
		{"NO_ENTRY", loader.ErrNoEntry, []string{"testplugin-no_entry.so", "no scope_plugin_entry symbol", "SCOPE_EXPORT"}},
		{"ABI_MAJOR_2", loader.ErrABIVersion, []string{"testplugin-abi_major_2.so", "built for plugin ABI 2.", "supports 1.x", "rebuild"}},
		{"EMPTY_ID", loader.ErrInvalid, []string{"testplugin-empty_id.so", "pipeline #0", "id", "is empty"}},
		{"DUP_ID", loader.ErrInvalid, []string{"testplugin-dup_id.so", `pipeline "copy"`, "duplicate pipeline id \"copy\" (also pipeline #0)"}},
		{"DUP_KEY", loader.ErrInvalid, []string{"testplugin-dup_key.so", `pipeline "copy"`, `params[2] "amount".key`, "duplicate parameter key (also params[1])"}},
		{"MIN_GT_MAX", loader.ErrInvalid, []string{"testplugin-min_gt_max.so", `pipeline "copy"`, `params[1] "amount".min_value`, "min 5 > max 1"}},
		{"DEFAULT_OUT", loader.ErrInvalid, []string{"testplugin-default_out.so", `params[1] "amount".default_number`, "default 2 is outside the range 0..1"}},
		{"ENUM_DEFAULT", loader.ErrInvalid, []string{"testplugin-enum_default.so", `params[3] "edge".default_string`, `unknown enum default "nope"; options are soft, hard`}},
		{"NAN_BOUND", loader.ErrInvalid, []string{"testplugin-nan_bound.so", `params[1] "amount".min_value`, "is NaN", "finite"}},
		{"NULL_NAME", loader.ErrInvalid, []string{"testplugin-null_name.so", `pipeline "copy"`, "name: is NULL; it is required"}},
		{"UNKNOWN_FLAG", loader.ErrInvalid, []string{"testplugin-unknown_flag.so", `pipeline "copy"`, "flags: has unknown bits 0x100000"}},
		{"NULL_KEY", loader.ErrInvalid, []string{"testplugin-null_key.so", `pipeline "copy"`, "params[1].key: is NULL; it is required"}},
	}
	for _, c := range cases {
		t.Run(c.define, func(t *testing.T) {
			lib, err := loader.Open(testPlugin(t, c.define), loader.Options{})
			if err == nil {
				lib.Close()
				t.Fatal("Open accepted a broken plugin")
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
		})
	}
}

func TestOpenReadsSchema(t *testing.T) {
	var logs bytes.Buffer
	lib, err := loader.Open(testPlugin(t, ""), loader.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if lib.Name != "loader-test" || lib.Version != "1.2.3" {
		t.Errorf("library name/version = %q/%q", lib.Name, lib.Version)
	}
	if !strings.Contains(logs.String(), "registered from") || !strings.Contains(logs.String(), "plugin=testplugin.so") {
		t.Errorf("plugin log line not received through the host callback: %q", logs.String())
	}
	p := lib.Pipeline("copy")
	if p == nil || len(lib.Pipelines()) != 2 {
		t.Fatalf("pipelines = %v", lib.Pipelines())
	}
	if p.Name != "Copy" || p.Description != "Copies its input (test plugin)" || !p.ProducesVideo || p.SupportsPrompts {
		t.Errorf("pipeline fields wrong: %+v", p)
	}
	if m := p.DefaultMode(); m.Mode != loader.ModeVideo || m.InputSize != 1 {
		t.Errorf("default mode = %+v", m)
	}
	want := []struct {
		key  string
		typ  loader.ParamType
		def  string
		rng  string
		load bool
	}{
		{"fail", loader.ParamBool, "false", "true or false", false},
		{"amount", loader.ParamFloat, "0.5", "0..1", false},
		{"count", loader.ParamInt, "3", "1..10", false},
		{"edge", loader.ParamEnum, "hard", "one of soft, hard", false},
		{"label", loader.ParamString, "hello", "any text", false},
		{"tint", loader.ParamColor, "#ff8000", loader.ColorSyntax, false},
		{"size", loader.ParamInt, "64", "1..4096", true},
	}
	if len(p.Params) != len(want) {
		t.Fatalf("got %d params, want %d", len(p.Params), len(want))
	}
	for i, w := range want {
		q := p.Params[i]
		if q.Key != w.key || q.Type != w.typ || q.Default.Text() != w.def || q.Range() != w.rng || q.LoadTime != w.load {
			t.Errorf("param %d = %s %s default %s range %s load %v; want %+v", i, q.Key, q.Type, q.Default.Text(), q.Range(), q.LoadTime, w)
		}
	}
}

func TestNewerMinorIsAccepted(t *testing.T) {
	lib, err := loader.Open(testPlugin(t, "NEWER_MINOR"), loader.Options{})
	if err != nil {
		t.Fatalf("a plugin built for a newer minor with larger structs and a new flag bit was refused: %v", err)
	}
	defer lib.Close()
	if got := len(lib.Pipelines()); got != 2 || lib.Pipelines()[1].ID != "noop" {
		t.Fatalf("pipelines read with the wrong stride: %d", got)
	}
}

func TestCallRoundTripAndErrors(t *testing.T) {
	lib, err := loader.Open(testPlugin(t, ""), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	p := lib.Pipeline("copy")
	vals := p.Defaults()
	in, err := p.NewInstance(0, vals)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	src := frame.NewWithPitch(frame.Format{Width: 7, Height: 3, Channels: 3, Elem: frame.U8}, 32)
	for i := range src.Data {
		src.Data[i] = byte(i * 7)
	}
	req, err := in.Prepare([]frame.Format{src.Format})
	if err != nil {
		t.Fatal(err)
	}
	if req.InputSize != 1 || req.Output != src.Format {
		t.Fatalf("requirements = %+v", req)
	}
	out := frame.New(req.Output)
	if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}); err != nil {
		t.Fatal(err)
	}
	if !frame.Equal(src, out) {
		t.Fatal("copy pipeline output differs from its input")
	}

	// An error status surfaces the plugin's message with the pipeline and file names.
	if err := vals.Set(p, "fail", "true"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetParams(vals); err != nil {
		t.Fatal(err)
	}
	err = in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out})
	var pe *loader.PluginError
	if !errors.As(err, &pe) || pe.Message != "refusing frame 1 on purpose" || pe.Pipeline != "copy" || !strings.Contains(err.Error(), "testplugin.so") {
		t.Fatalf("call error = %v", err)
	}
	// The instance keeps working on the next frame.
	vals.Set(p, "fail", "false")
	in.SetParams(vals)
	if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}); err != nil {
		t.Fatalf("instance unusable after an error: %v", err)
	}
	// Load-time parameters cannot change on a running instance.
	vals.Set(p, "size", "128")
	if err := in.SetParams(vals); err == nil || !strings.Contains(err.Error(), "load-time") {
		t.Fatalf("changing a load-time param: %v", err)
	}
}

func TestParamParsing(t *testing.T) {
	lib, err := loader.Open(testPlugin(t, ""), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	p := lib.Pipeline("copy")
	vals := p.Defaults()
	for _, c := range []struct{ key, text, err string }{
		{"amount", "0.25", ""},
		{"amount", "1.5", "amount: 1.5 is out of range; allowed range 0..1"},
		{"amount", "lots", `amount: "lots" is not a number; allowed range 0..1`},
		{"count", "2.5", `count: "2.5" is not an integer; allowed range 1..10`},
		{"count", "11", "count: 11 is out of range; allowed range 1..10"},
		{"edge", "soft", ""},
		{"edge", "round", `edge: "round" is not an option; use one of soft, hard`},
		{"fail", "maybe", `fail: "maybe" is not a bool; use true or false`},
		{"tint", "#00ff0080", ""},
		{"tint", "green", `tint: "green" is not a color: hex colors have 3, 4, 6 or 8 digits; use ` + loader.ColorSyntax + `, e.g. #ff8000, 1,0.5,0 or rgb(255,128,0)`},
		{"tint", "0.2,0.4,0.6", ""},
		{"nope", "1", "copy has no parameter \"nope\"; valid keys: fail, amount, count, edge, label, tint, size"},
	} {
		err := vals.Set(p, c.key, c.text)
		if (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("Set(%s=%s) = %v, want %q", c.key, c.text, err, c.err)
		}
	}
	if vals[1].Float != 0.25 || vals[3].String != "soft" || vals[5].Color != [4]float32{0.2, 0.4, 0.6, 1} {
		t.Errorf("values not stored: %+v", vals)
	}
}

func TestRebuiltLibraryLoadsFresh(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.so")
	plugintest.BuildC(t, path, []string{filepath.Join("testdata", "testplugin.c")})
	a, err := loader.Open(path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Rebuild at the same path with another pipeline set; the second Open must see it.
	plugintest.BuildC(t, path, []string{filepath.Join("testdata", "testplugin.c")}, "DUP_KEY")
	_, err = loader.Open(path, loader.Options{})
	if err == nil || !strings.Contains(err.Error(), "duplicate parameter key") {
		t.Fatalf("second Open of a rebuilt library returned the cached one: %v", err)
	}
	if a.Pipeline("copy").Param("count") == nil {
		t.Fatal("first library changed under us")
	}
}

// TestPositiveStatusIsSuccess: the ABI says only negative statuses are errors, so a call
// returning a positive one (success with a note) delivers its output and is no error.
func TestPositiveStatusIsSuccess(t *testing.T) {
	lib, err := loader.Open(testPlugin(t, "POSITIVE_STATUS=7"), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	in, err := lib.Pipeline("copy").NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	src := frame.New(frame.Format{Width: 5, Height: 4, Channels: 3, Elem: frame.U8})
	for i := range src.Data {
		src.Data[i] = byte(i*13 + 1)
	}
	req, err := in.Prepare([]frame.Format{src.Format})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		out := frame.New(req.Output)
		if err := in.Call(&loader.CallArgs{Inputs: [][]*frame.Frame{{src}}, Output: out}); err != nil {
			t.Fatalf("call %d returned status 7 (success with a note) and the loader made it an error: %v", i, err)
		}
		if !frame.Equal(src, out) {
			t.Fatalf("call %d: output differs from the input", i)
		}
	}
}
