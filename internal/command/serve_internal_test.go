package command

import (
	"slices"
	"testing"

	"github.com/scopenative/scope/httpapi"
)

// TestInstalledName: the plugin's name from install's output, and "" (no panic) without it.
func TestInstalledName(t *testing.T) {
	for out, want := range map[string]string{
		"  fetch x\ninstalled my-invert 1.0.0 from git file:///r\n  pipelines: invert\n": "my-invert",
		"installed solo\n": "solo",
		"installed x 1.0 from folder /p\n  pipelines: invert\nwarning: installed plugin x (folder /p) is hidden: ... the installed one\n": "x",
		"":             "",
		"nothing here": "",
	} {
		if got := installedName(out); got != want {
			t.Errorf("installedName(%q) = %q, want %q", out, got, want)
		}
	}
}

// TestRunArgs: a start request becomes the `scope run` command line it stands for.
func TestRunArgs(t *testing.T) {
	got := runArgs(httpapi.StartRequest{Chain: "a,b", Params: []string{"x=1,y=2"}, LoadParams: []string{"w=3"},
		Prompts: []string{"a cat::0.5"}, Input: "testsrc", Output: "/m/o.y4m", Frames: 9, Size: "8x8", Mode: "video"}, "")
	want := []string{"run", "a,b", "--quiet", "--param", "x=1,y=2", "--load-param", "w=3", "--prompt", "a cat::0.5",
		"--input", "testsrc", "--output", "/m/o.y4m", "--frames", "9", "--fps", "30", "--size", "8x8", "--mode", "video"}
	if !slices.Equal(got, want) {
		t.Errorf("runArgs:\n got %q\nwant %q", got, want)
	}
	if got := runArgs(httpapi.StartRequest{Chain: "a", FPS: -1}, ""); slices.Contains(got, "--fps") {
		t.Errorf("a negative fps (as fast as it runs) gave %q", got)
	}
	if got := allowDirs([]string{"/a:/b", "/c", ""}); !slices.Equal(got, []string{"/a", "/b", "/c"}) {
		t.Errorf("allowDirs: %q", got)
	}
}
