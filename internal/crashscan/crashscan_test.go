package crashscan

import (
	"strings"
	"testing"
)

// TestReport: the signal line ends the scan (the goroutine dump after it is not "last"), lines
// split across writes are joined, a fatal error counts when no signal came, and Out gets every
// byte.
func TestReport(t *testing.T) {
	var out strings.Builder
	s := &Scanner{Out: &out}
	in := "plugin: starting\nplugin: frame 4" + "9\nSIGSEGV: segmentation violation\nPC=0x1 m=0\ngoroutine 1 [running]:\n"
	for _, part := range []string{in[:20], in[20:31], in[31:]} {
		s.Write([]byte(part))
	}
	if sig, fatal, last := s.Report(); sig != "SIGSEGV" || fatal != "" || last != "plugin: frame 49" {
		t.Errorf("Report() = %q, %q, %q", sig, fatal, last)
	}
	if out.String() != in {
		t.Errorf("Out got %q", out.String())
	}
	f := &Scanner{}
	f.Write([]byte("a line\nfatal error: out of memory\nruntime stack:\n"))
	if sig, fatal, last := f.Report(); sig != "" || fatal != "out of memory" || last != "a line" {
		t.Errorf("fatal: Report() = %q, %q, %q", sig, fatal, last)
	}
	if got := Clip("ééé", 3); got != "é…" {
		t.Errorf("Clip cut a rune: %q", got)
	}
}
