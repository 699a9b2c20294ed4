package command

import (
	"context"
	"strings"
	"testing"

	"github.com/scopenative/scope/media"
)

// TestSwitchSourceKeepsFileSize: a run that writes a file refuses to switch a source to one
// of another frame size (the file sink would fail and end the run), and accepts one of the
// same size; a run to the ring or null takes any size.
func TestSwitchSourceKeepsFileSize(t *testing.T) {
	ctx := context.Background()
	orig, err := media.OpenSource(ctx, "solid:000000:8x4", media.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	same := func(s media.Source) media.Source { return s }
	file := &nodeMaker{ctx: ctx, live: same, fixed: keepsSize("out.y4m")}
	file.noteSource("input", orig)
	if _, err := file.OpenSource(ctx, "input", "solid:ff0000:16x8"); err == nil || !strings.Contains(err.Error(), "input solid:ff0000:16x8 is 16x8 but source input gives 8x4 frames") {
		t.Errorf("switch to another size with a file sink: %v, want refused naming both sizes", err)
	}
	src, err := file.OpenSource(ctx, "input", "solid:ff0000:8x4")
	if err != nil {
		t.Fatalf("switch to the same size: %v", err)
	}
	src.Close()
	ring := &nodeMaker{ctx: ctx, live: same, fixed: keepsSize("null")}
	ring.noteSource("input", orig)
	src, err = ring.OpenSource(ctx, "input", "solid:ff0000:16x8")
	if err != nil {
		t.Fatalf("switch to another size without file sinks: %v", err)
	}
	src.Close()
}
