package loader_test

import (
	"path/filepath"
	"testing"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
)

// buildV10Invert builds abi/testdata/v1.0/invert.c against the frozen ABI 1.0 header, as a
// plugin author did under 1.0.
func buildV10Invert(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(plugintest.Root(t), "abi", "testdata", "v1.0")
	return plugintest.BuildCAgainst(t, filepath.Join(t.TempDir(), "invert-1.0.so"), dir, []string{filepath.Join(dir, "invert.c")})
}

// TestV10PluginLoadsAndRuns proves ABI 1.1 is compatible with 1.0 binaries: a plugin built
// from the 1.0 header loads and inverts a frame (padded pitch included)
// exactly as before.
func TestV10PluginLoadsAndRuns(t *testing.T) {
	lib, err := loader.Open(buildV10Invert(t), loader.Options{})
	if err != nil {
		t.Fatalf("a 1.0 plugin no longer loads: %v", err)
	}
	defer lib.Close()
	p := lib.Pipeline("invert")
	if p == nil {
		t.Fatal("no invert pipeline")
	}
	inst, err := p.NewInstance(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	f := frame.Format{Width: 5, Height: 3, Channels: 3, Elem: frame.U8}
	in := frame.NewWithPitch(f, 64)
	for i := range in.Data {
		in.Data[i] = byte(i * 7)
	}
	out := loader.NewAlignedFrame(f)
	for tick := 0; tick < 2; tick++ {
		callOnce(t, inst, in, out)
	}
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.RowBytes(); x++ {
			if got, want := out.Data[y*out.Pitch+x], 255-in.Data[y*in.Pitch+x]; got != want {
				t.Fatalf("byte (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
}
