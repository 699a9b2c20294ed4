package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scopenative/scope/loader"
)

func TestSimilar(t *testing.T) {
	ids := []string{"color-generator", "frame-blend", "frei0r.invert0r", "invert", "invert-rust"}
	if got := similar("invrt", ids); strings.Join(got, ",") != "invert" {
		t.Errorf("similar(invrt) = %v", got)
	}
	if got := similar("invert0r", ids); strings.Join(got, ",") != "frei0r.invert0r,invert" {
		t.Errorf("similar(invert0r) = %v", got)
	}
	if got := similar("zzz", ids); len(got) != 0 {
		t.Errorf("similar(zzz) = %v", got)
	}
}

func TestUnknownPipelineMessage(t *testing.T) {
	c := &Catalog{byID: map[string]*loader.Pipeline{}}
	for i := 0; i < 25; i++ {
		id := fmt.Sprintf("p%02d", i)
		c.byID[id] = &loader.Pipeline{ID: id}
	}
	_, err := c.Pipeline("p1")
	msg := err.Error()
	for _, want := range []string{`unknown pipeline "p1"`, "did you mean p00, p01, p02?", "p19 and 5 more (see 'scope pipelines')"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "p20") {
		t.Errorf("message lists more than 20 ids: %q", msg)
	}
}

// TestUnknownPipelineCountsBridges: with 130 frei0r.* pipelines beside a few ordinary ones, the
// message gives the near matches, then the ordinary pipelines, then one count for the bridge
// with the command that lists it, instead of 20 frei0r ids in alphabetical order.
func TestUnknownPipelineCountsBridges(t *testing.T) {
	c := &Catalog{byID: map[string]*loader.Pipeline{}}
	for _, id := range []string{"color-generator", "invert", "frame-blend", "a.b"} {
		c.byID[id] = &loader.Pipeline{ID: id}
	}
	for i := 0; i < 130; i++ {
		id := fmt.Sprintf("frei0r.fx%03d", i)
		c.byID[id] = &loader.Pipeline{ID: id}
	}
	_, err := c.Pipeline("invrt")
	want := `unknown pipeline "invrt"; did you mean invert?; known pipelines: a.b, color-generator, frame-blend, invert and 130 frei0r.* pipelines (see 'scope pipelines frei0r')`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
