package command

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitAssignments(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"a=1,b=2", []string{"a=1", "b=2"}},
		{"a=1, b=2", []string{"a=1", " b=2"}},
		{"s=a,b", []string{"s=a,b"}},
		{"color=0.2,0.4,0.6,x.y=3", []string{"color=0.2,0.4,0.6", "x.y=3"}},
		{`s=a\,b=c`, []string{"s=a,b=c"}},
		{`s=a\\,b=c`, []string{`s=a\`, "b=c"}},
		{`re=\d+,n=1`, []string{`re=\d+`, "n=1"}},
		{"s=a,=b", []string{"s=a,=b"}},
		{"s=", []string{"s="}},
		{"", []string{""}},
	} {
		if got := splitAssignments(c.in); !slices.Equal(got, c.want) {
			t.Errorf("splitAssignments(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// escapeValue writes v so that splitAssignments reads it back as one value.
func escapeValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`).Replace(v)
}

// FuzzSplitAssignments: any value, escaped by the documented rule, comes back as it was, and
// the pair after it stays a pair of its own.
func FuzzSplitAssignments(f *testing.F) {
	for _, s := range []string{"a,b", `a\,b`, `\`, "x=1,y=2", ",", `\\,k=`, "0.2,0.4,0.6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := splitAssignments("s=" + escapeValue(v) + ",t=1")
		if want := []string{"s=" + v, "t=1"}; !slices.Equal(got, want) {
			t.Fatalf("value %q: split %q, want %q", v, got, want)
		}
	})
}
