package command

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows the current step of a long operation: on a terminal a spinner line that
// is rewritten in place, otherwise one plain line per step.
type progress struct {
	w   io.Writer
	tty bool

	mu    sync.Mutex
	step  string
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// newProgress starts a progress display on w.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, tty: isTerminal(w), start: time.Now()}
	if p.tty {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin()
	}
	return p
}

// Step sets the current step.
func (p *progress) Step(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = s
	if !p.tty {
		fmt.Fprintf(p.w, "  %s\n", s)
	}
}

func (p *progress) spin() {
	defer close(p.done)
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			p.mu.Lock()
			fmt.Fprint(p.w, "\r\033[K")
			p.mu.Unlock()
			return
		case <-t.C:
		}
		p.mu.Lock()
		if p.step != "" {
			line := fmt.Sprintf("%s %s (%.0fs)", frames[i%len(frames)], p.step, time.Since(p.start).Seconds())
			fmt.Fprintf(p.w, "\r\033[K%s", truncate(line, 100))
		}
		p.mu.Unlock()
	}
}

// Writer returns a writer for tool output that does not tangle with the spinner line.
func (p *progress) Writer() io.Writer { return progressWriter{p} }

type progressWriter struct{ p *progress }

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.tty {
		fmt.Fprint(w.p.w, "\r\033[K")
	}
	return w.p.w.Write(b)
}

// Done clears the spinner. Safe to call more than once.
func (p *progress) Done() {
	if p.tty && p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
}

func truncate(s string, n int) string {
	r := []rune(strings.ReplaceAll(s, "\n", " "))
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
