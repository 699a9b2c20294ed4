package command_test

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/session"
)

// liveSession runs `scope run ARGS` in-process as a session and returns its id, its ring and
// a function that runs other scope commands against it (exit code, stdout, stderr).
func liveSession(t *testing.T, lib string, args ...string) (string, *session.Reader, func(args ...string) (int, string, string)) {
	t.Helper()
	env := map[string]string{"SCOPE_PLUGIN_PATH": lib, "SCOPE_HOME": t.TempDir(), "XDG_RUNTIME_DIR": t.TempDir()}
	scopeIn := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := command.Main(context.Background(), append([]string{"scope"}, args...), command.IO{
			In: strings.NewReader(""), Out: &out, Err: &errb, Env: func(k string) string { return env[k] }})
		return code, out.String(), errb.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var runErr bytes.Buffer
	go func() {
		done <- command.Main(ctx, append([]string{"scope", "run"}, args...), command.IO{
			In: strings.NewReader(""), Out: io.Discard, Err: &runErr, Env: func(k string) string { return env[k] }})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("the run exited %d: %s", code, runErr.String())
		}
	})
	id := ""
	for deadline := time.Now().Add(10 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, out, _ := scopeIn("sessions")
		if m := regexp.MustCompile(`(?m)^([0-9a-f]{8})\s`).FindStringSubmatch(out); m != nil {
			id = m[1]
		}
	}
	if id == "" {
		t.Fatal("the session did not appear in scope sessions")
	}
	dir, err := session.DefaultDir(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	info, err := dir.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := session.OpenReader(info.SHM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return id, rd, scopeIn
}

// ringPixel waits for a frame in the ring whose first pixel is want.
func ringPixel(t *testing.T, what string, rd *session.Reader, want [3]byte) {
	t.Helper()
	var f session.Frame
	got := [3]byte{}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if ok, _ := rd.Next(&f); ok {
			if got = [3]byte{f.Pix[0], f.Pix[1], f.Pix[2]}; got == want {
				return
			}
			continue
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: the session's output never had pixel %v (last %v)", what, want, got)
}

// TestGraphEditVerbs drives every `scope graph` edit verb against a running chain session and
// checks the session's output pixels after each, and the messages of refused edits.
func TestGraphEditVerbs(t *testing.T) {
	lib := plugins(t)
	id, rd, scope := liveSession(t, lib, "invert", "-i", "solid:0a141e:8x4", "--fps", "30")
	ringPixel(t, "start", rd, [3]byte{245, 235, 225})

	ok := func(want string, args ...string) {
		t.Helper()
		code, out, errb := scope(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("scope %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", strings.Join(args, " "), code, out, errb, want)
		}
	}
	refused := func(code int, want string, args ...string) {
		t.Helper()
		got, out, errb := scope(args...)
		if got != code || !strings.Contains(errb, want) {
			t.Errorf("scope %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), got, out, errb, code, want)
		}
	}

	ok("pipeline inv2  invert (video)  [0]<-invert", "graph", "add", id, "inv2", "invert", "-i", "invert", "-o", "output")
	ringPixel(t, "add", rd, [3]byte{10, 20, 30})

	refused(1, "edit refused: the graph would be invalid:\ninvalid graph: cycle through", "graph", "connect", id, "inv2", "invert")
	refused(1, "inv2 has no port b; its ports are video", "graph", "connect", id, "input", "inv2.b")
	refused(1, "unknown pipeline", "graph", "add", id, "x", "no-such-pipeline", "-i", "input")
	refused(1, "input is a source; only pipeline nodes can be removed", "graph", "remove", id, "input")
	refused(2, "graph remove takes 2 arguments: SESSION NAME", "graph", "remove", id)
	refused(1, "open input", "graph", "source", id, "input", "/no/such/file.y4m")
	// The refused edits changed nothing: still the source colour.
	ringPixel(t, "after refused edits", rd, [3]byte{10, 20, 30})

	ok("pipeline invert  invert (video)  [0]<-input\nsink     output  null  <-invert", "graph", "remove", id, "inv2")
	ringPixel(t, "remove", rd, [3]byte{245, 235, 225})

	ok("pipeline invert  invert (video)", "graph", "replace", id, "invert", "invert", "-p", "intensity=0")
	ringPixel(t, "replace", rd, [3]byte{10, 20, 30})

	ok("source   input  solid:ff8000:8x4", "graph", "source", id, "input", "solid:ff8000:8x4")
	ringPixel(t, "source", rd, [3]byte{255, 128, 0})

	ok("source   input  solid:ff8000:8x4\npipeline invert  invert (video)  [0]<-input\nsink     output  null  <-invert\n", "graph", "show", id)
	ok(`"input" -> "invert"`, "graph", "show", id, "--dot")
}
