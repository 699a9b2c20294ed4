package validate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/scopenative/scope/internal/crashscan"
)

// reportFD is the file descriptor a child writes its messages to.
const reportFD = 3

// message is one line a child writes on reportFD: exactly one field is set.
type message struct {
	Step   string   `json:"step,omitempty"`
	Log    string   `json:"log,omitempty"`
	Result *outcome `json:"result,omitempty"`
}

// tracer receives a check's progress: step before every call into the plugin, log for
// every line the plugin logs. Implementations are safe for concurrent use.
type tracer interface {
	step(format string, args ...any)
	log(line string)
}

// pipeTracer writes messages as JSON lines (in a child).
type pipeTracer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (t *pipeTracer) send(m message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.enc.Encode(m) // nothing to do if the parent has gone
}

func (t *pipeTracer) step(format string, args ...any) {
	t.send(message{Step: sprintf(format, args...)})
}
func (t *pipeTracer) log(line string) { t.send(message{Log: line}) }

// memTracer keeps the latest step and log line (in process).
type memTracer struct {
	mu       sync.Mutex
	lastStep string
	lastLog  string
}

func (t *memTracer) step(format string, args ...any) {
	s := sprintf(format, args...)
	t.mu.Lock()
	t.lastStep, t.lastLog = s, ""
	t.mu.Unlock()
}

func (t *memTracer) log(line string) {
	t.mu.Lock()
	t.lastLog = line
	t.mu.Unlock()
}

func (t *memTracer) last() (step, log string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastStep, t.lastLog
}

// traceHandler is a slog.Handler that hands plugin log lines (from the loader) to a tracer.
type traceHandler struct{ tr tracer }

func (h traceHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h traceHandler) Handle(_ context.Context, r slog.Record) error {
	h.tr.log(fmt.Sprintf("%s %s", r.Level, r.Message))
	return nil
}
func (h traceHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h traceHandler) WithGroup(string) slog.Handler      { return h }

// ServeChild runs one check in a child process: args are the two arguments Run appends to
// Options.ChildCommand (the check's JSON description and the plugin path). Progress and the
// result go to file descriptor 3, where the parent reads them (to stdout when descriptor 3
// is not open, for debugging by hand). It returns the process's exit code: 0 once the result
// is written, 2 for bad arguments.
func ServeChild(ctx context.Context, args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "validate child: want 2 arguments (check JSON and plugin path), got %d\n", len(args))
		return 2
	}
	var u unit
	if err := json.Unmarshal([]byte(args[0]), &u); err != nil {
		fmt.Fprintf(os.Stderr, "validate child: bad check description %q: %v\n", args[0], err)
		return 2
	}
	out := io.Writer(os.Stdout)
	if f := os.NewFile(reportFD, "validate-report"); f != nil {
		if _, err := f.Stat(); err == nil {
			out = f
		}
	}
	if u.Timeout > 0 {
		// The parent kills a child at the timeout; should the parent itself die first, the
		// child must not spin in a hung plugin forever.
		time.AfterFunc(u.Timeout+5*time.Second, func() { os.Exit(3) })
	}
	tr := &pipeTracer{enc: json.NewEncoder(out)}
	tr.step("start")
	o := runUnit(ctx, u, args[1], tr)
	tr.send(message{Result: &o})
	return 0
}

// runUnit runs one check here and now, turning a panic of the validator itself into a
// failure that says so.
func runUnit(ctx context.Context, u unit, path string, tr tracer) (o outcome) {
	c, ok := findCheck(u.Check)
	if !ok || c.run == nil {
		return fail("validator error: no check %q runs in a child", u.Check)
	}
	e := &env{ctx: ctx, path: path, u: u, tr: tr}
	defer func() {
		if v := recover(); v != nil {
			o = fail("validator error: panic: %v", v)
		}
	}()
	o = c.run(e)
	if e.lib != nil {
		tr.step("unregister and unload")
		if err := e.lib.Close(); err != nil && o.Status == Pass {
			o = fail("%v", err)
		}
	}
	return o
}

// childState is what the parent has heard from one child.
type childState struct {
	mu      sync.Mutex
	started bool
	step    string
	log     string
	result  *outcome
}

// read consumes the child's messages until EOF.
func (s *childState) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	for sc.Scan() {
		var m message
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		s.mu.Lock()
		s.started = true
		switch {
		case m.Result != nil:
			s.result = m.Result
		case m.Step != "":
			s.step, s.log = m.Step, ""
		case m.Log != "":
			s.log = m.Log
		}
		s.mu.Unlock()
	}
}

// spawn runs one check in a child process and turns whatever happens to it into an outcome.
func (r *runner) spawn(ctx context.Context, u unit) outcome {
	u.Timeout = r.opts.Timeout
	spec, err := json.Marshal(u)
	if err != nil {
		return outcome{fatal: fmt.Errorf("validate: %w", err)}
	}
	argv := r.opts.ChildCommand
	cmd := exec.Command(argv[0], append(append([]string(nil), argv[1:]...), string(spec), r.abs)...)
	if u.Check == "memory-growth" && os.Getenv("MALLOC_ARENA_MAX") == "" {
		// glibc's malloc gives threads that allocate at once arenas of their own (up to 8 per
		// core), and the Go runtime moves the check's calls between OS threads: each new arena
		// maps fresh pages that count as growth though nothing leaked (up to 8 MiB over 100
		// cycles with Debian's frei0r plugins). One arena, the main one, keeps that near zero
		// while memory that destroy never frees still grows by its full size (with 2 arenas
		// three frei0r plugins still warned at 1-2 MiB). Only this check's child gets it: the
		// others measure no memory.
		cmd.Env = append(os.Environ(), "MALLOC_ARENA_MAX=1")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return outcome{fatal: fmt.Errorf("%w: %v", ErrNoChild, err)}
	}
	defer pr.Close()
	scan := &crashscan.Scanner{}
	cmd.Stderr = scan
	cmd.ExtraFiles = []*os.File{pw} // becomes descriptor 3
	// Its own process group, so that a timeout kills whatever the plugin started too. (Should
	// the validator die first, the child exits by itself: see ServeChild.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second // a plugin's own child holding stderr must not block us
	if err := cmd.Start(); err != nil {
		pw.Close()
		return outcome{fatal: fmt.Errorf("%w: %s: %v", ErrNoChild, argv[0], err)}
	}
	pw.Close()
	pgid := cmd.Process.Pid
	killGroup := func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

	st := &childState{}
	readDone := make(chan struct{})
	go func() { st.read(pr); close(readDone) }()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	timer := time.NewTimer(r.opts.Timeout)
	defer timer.Stop()
	hung := false
	select {
	case err = <-waited:
	case <-timer.C:
		hung = true
		killGroup()
		err = <-waited
	case <-ctx.Done():
		killGroup()
		<-waited
		return skip("cancelled")
	}
	killGroup() // whatever the plugin started in the child's group goes too
	_ = pr.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-readDone

	st.mu.Lock()
	defer st.mu.Unlock()
	where := st.step
	if where == "" || where == "start" {
		where = "loading the validator"
	}
	_, _, last := scan.Report()
	switch {
	case hung:
		return fail("hung for %v in %s%s", r.opts.Timeout, where, logSuffix(st.log, last))
	case !st.started:
		return outcome{fatal: fmt.Errorf("%w: %s never reported (is ServeChild wired to its arguments?): %v%s",
			ErrNoChild, strings.Join(argv, " "), err, logSuffix("", last))}
	}
	sig := signalName(err, scan)
	if st.result != nil {
		if err == nil {
			return *st.result
		}
		if sig != "" {
			return fail("crashed with %s at exit, after the check finished%s", sig, logSuffix(st.log, last))
		}
		return fail("%v at exit, after the check finished%s", err, logSuffix(st.log, last))
	}
	if sig == "SIGKILL" {
		return fail("killed with SIGKILL in %s (out of memory?)%s", where, logSuffix(st.log, last))
	}
	if sig != "" {
		return fail("crashed with %s in %s%s", sig, where, logSuffix(st.log, last))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fail("exited with status %d in %s%s", ee.ExitCode(), where, logSuffix(st.log, last))
	}
	if err != nil {
		return fail("child process failed in %s: %v", where, err)
	}
	return fail("exited with status 0 in %s, before reporting a result%s", where, logSuffix(st.log, last))
}

// logSuffix adds the plugin's last log line, else the last line it wrote to stderr.
func logSuffix(log, stderr string) string {
	switch {
	case log != "":
		return "; last log line: " + crashscan.Clip(log, 160)
	case stderr != "":
		return "; last stderr line: " + crashscan.Clip(stderr, 160)
	}
	return ""
}

// signals names the signals a crashing plugin dies of.
var signals = map[syscall.Signal]string{
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGBUS: "SIGBUS", syscall.SIGABRT: "SIGABRT", syscall.SIGFPE: "SIGFPE",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM",
	syscall.SIGSYS: "SIGSYS", syscall.SIGPIPE: "SIGPIPE",
}

// signalName returns the signal a child died of: from its exit status, or from the Go
// runtime's report on stderr (the runtime catches signals raised in plugin code, prints
// "SIGSEGV: segmentation violation" and exits with status 2). "" when it did not crash.
func signalName(err error, scan *crashscan.Scanner) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if name, ok := signals[ws.Signal()]; ok {
				return name
			}
			return ws.Signal().String()
		}
	}
	if err == nil {
		return ""
	}
	signal, fatal, _ := scan.Report()
	if signal != "" {
		return signal
	}
	if fatal != "" {
		return "a fatal runtime error (" + fatal + ")"
	}
	return ""
}
