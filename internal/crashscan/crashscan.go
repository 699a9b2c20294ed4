// Package crashscan reads a child process's stderr for the Go runtime's crash report: the
// signal it names ("SIGSEGV: segmentation violation"), a "fatal error: ..." line when no signal
// came, and the last line written before either. The validator's check children and the plugin
// host children both report their crashes through it.
package crashscan

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
)

// runtimeSignal matches the Go runtime's first crash line, e.g. "SIGSEGV: segmentation violation".
var runtimeSignal = regexp.MustCompile(`^(SIG[A-Z0-9]+): `)

// Scanner is an io.Writer for a child's stderr. It keeps only what a crash report needs (a
// partial line is kept up to 4 KiB), and forwards everything to Out when Out is set. It is safe
// for concurrent use.
type Scanner struct {
	// Out, when set, receives everything written, as it comes.
	Out io.Writer

	mu      sync.Mutex
	partial []byte
	signal  string
	fatal   string
	last    string
}

// Write scans p line by line; it never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	if s.Out != nil {
		_, _ = s.Out.Write(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(s.partial) < 4096 {
				s.partial = append(s.partial, p...)
			}
			break
		}
		s.line(string(append(s.partial, p[:i]...)))
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (s *Scanner) line(l string) {
	l = strings.TrimSpace(l)
	if s.signal != "" || s.fatal != "" || l == "" {
		return
	}
	if m := runtimeSignal.FindStringSubmatch(l); m != nil {
		s.signal = m[1]
		return
	}
	if f, ok := strings.CutPrefix(l, "fatal error: "); ok {
		s.fatal = f
		return
	}
	s.last = Clip(l, 200)
}

// Report returns the signal the runtime named ("" if none), the text of its "fatal error:"
// line when it named no signal, and the last line written before the report (or so far).
func (s *Scanner) Report() (signal, fatal, last string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signal, s.fatal, s.last
}

// Clip shortens s to at most n bytes (on a rune boundary) with an ellipsis.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
