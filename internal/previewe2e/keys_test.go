package previewe2e

// The keyboard shortcuts, pressed with xdotool (XTEST) in the preview window under Xvfb, and
// checked by what a user sees: the session's own state, the saved file, the screen.

import (
	"bufio"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/session"
)

// colPanel is render's panel background (render/window.go).
var colPanel = [3]int{32, 33, 40}

// xdo runs xdotool on the test's display.
func (e *e2e) xdo(args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = e.env
	b, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return strings.TrimSpace(string(b))
}

// press holds a key for 150 ms: the window polls the keyboard once per frame, so a press and
// release in one instant could fall between two frames.
func (e *e2e) press(key string) {
	e.t.Helper()
	e.xdo("keydown", key)
	time.Sleep(150 * time.Millisecond)
	e.xdo("keyup", key)
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPreviewKeys: Space pauses and resumes the session, S saves the shown frame as PNG and
// says where, H hides the panel, Q closes an attached preview and leaves the session running.
func TestPreviewKeys(t *testing.T) {
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skip("SKIP preview key test: xdotool is not installed (scripts/setup.sh installs it)")
	}
	e := setup(t)
	ctx := context.Background()
	start := time.Now()

	run, out := e.start("scope", "run", "color-generator", "--fps", "30", "--frames", "1000000",
		"--param", "color_r=200,color_g=30,color_b=90", "--load-param", "width=320,height=240")
	info := e.waitSession()
	c, err := session.DialInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// An attached preview (not --owned), run in a folder of its own: S saves there.
	work := t.TempDir()
	statusLog := filepath.Join(work, "status.log")
	prev := exec.Command(filepath.Join(e.bin, "scope-preview"), "--session", info.ID, "--no-audio",
		"--width", "960", "--height", "600", "--status-log", statusLog)
	prev.Dir, prev.Env = work, e.env
	var pout strings.Builder
	prev.Stdout, prev.Stderr = &pout, &pout
	if err := prev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if prev.ProcessState == nil {
			prev.Process.Kill()
			prev.Wait()
		}
	})
	e.waitColor("keys-initial", [3]int{200, 30, 90})
	win := e.xdo("search", "--sync", "--name", "session "+info.ID)
	e.xdo("windowfocus", "--sync", strings.Fields(win)[0])

	// Space pauses: the session says so and its frame counter stops.
	e.press("space")
	if !waitFor(5*time.Second, func() bool { st, err := c.Info(ctx); return err == nil && st.Paused }) {
		t.Fatal("Space did not pause the session")
	}
	a, _ := c.Info(ctx)
	time.Sleep(400 * time.Millisecond)
	b, _ := c.Info(ctx)
	if b.Stats.Frames != a.Stats.Frames {
		t.Fatalf("paused, but the session's frames went on: %d -> %d", a.Stats.Frames, b.Stats.Frames)
	}
	// Space again resumes (the window learns of the pause from its next poll, <= 250 ms).
	time.Sleep(300 * time.Millisecond)
	e.press("space")
	if !waitFor(5*time.Second, func() bool { st, err := c.Info(ctx); return err == nil && !st.Paused }) {
		t.Fatal("the second Space did not resume the session")
	}
	e.alive(c)

	// S saves the shown frame as PNG in the working directory and shows its path.
	e.press("s")
	var saved string
	if !waitFor(5*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(work, "scope-"+info.ID+"-*.png"))
		if len(m) == 1 {
			saved = m[0]
		}
		return saved != ""
	}) {
		t.Fatalf("S saved no PNG in %s", work)
	}
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("saved frame %s: %v", saved, err)
	}
	if bd := img.Bounds(); bd.Dx() != 320 || bd.Dy() != 240 {
		t.Fatalf("saved frame is %v, want 320x240", bd)
	}
	if r, g, bl, _ := img.At(160, 120).RGBA(); abs(int(r>>8)-200) > 2 || abs(int(g>>8)-30) > 2 || abs(int(bl>>8)-90) > 2 {
		t.Fatalf("saved frame's pixel is %d,%d,%d, want 200,30,90", r>>8, g>>8, bl>>8)
	}
	if !waitFor(2*time.Second, func() bool { return statusShown(statusLog, "saved "+saved) }) {
		b, _ := os.ReadFile(statusLog)
		t.Fatalf("the window did not show %q; it showed:\n%s", "saved "+saved, b)
	}

	// H hides the panel: its background colour leaves the screen (and H brings it back).
	if n := countColor(e.screenshot("keys-panel"), colPanel); n < 2000 {
		t.Fatalf("the panel is not on the screen before H (%d sampled pixels of its colour)", n)
	}
	e.press("h")
	var n int
	if !waitFor(5*time.Second, func() bool { n = countColor(e.screenshot("keys-hidden"), colPanel); return n < 100 }) {
		t.Fatalf("H did not hide the panel: %d sampled pixels still have its colour", n)
	}
	e.press("h")
	if !waitFor(5*time.Second, func() bool { return countColor(e.screenshot("keys-shown"), colPanel) >= 2000 }) {
		t.Fatal("the second H did not bring the panel back")
	}

	// Q closes the attached window; the session keeps running.
	e.press("q")
	if err := waitExit(t, prev, 10*time.Second); err != nil {
		t.Fatalf("scope-preview after Q: %v\n%s", err, pout.String())
	}
	e.alive(c)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, run, 10*time.Second); err != nil {
		t.Fatalf("scope run: %v\n%s", err, out)
	}
	t.Logf("preview key test took %v", time.Since(start).Round(time.Millisecond))
}

// statusShown reports whether the window showed the status line want.
func statusShown(path, want string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == want {
			return true
		}
	}
	return false
}
