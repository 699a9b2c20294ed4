package previewe2e

// The end-to-end test of the preview under Xvfb. It builds bin/scope (CGO_ENABLED=0) and
// scope-preview (CGO_ENABLED=1) itself, so it runs whatever CGO_ENABLED the test binary has.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/session"
)

// e2e holds the built binaries, the display and the environment of one test.
type e2e struct {
	t       *testing.T
	bin     string // folder with scope and scope-preview
	display string
	env     []string
	dir     session.Dir
}

func setup(t *testing.T) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the Xvfb preview test in -short mode")
	}
	for _, tool := range []string{"Xvfb", "import", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP preview e2e: %s is not installed (scripts/setup.sh installs xvfb, imagemagick, gcc)", tool)
		}
	}
	root := plugintest.Root(t)
	bin := t.TempDir()
	build := func(out, pkg string, cgo string) {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, out), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	build("scope", "./cmd/scope", "0")
	build("scope-preview", "./cmd/scope-preview", "1")
	plugins := t.TempDir()
	plugintest.Example(t, plugins, "color-generator")

	e := &e2e{t: t, bin: bin}
	e.startXvfb()
	xdg := t.TempDir()
	e.dir = session.Dir(filepath.Join(xdg, "scope"))
	e.env = append(os.Environ(), "DISPLAY="+e.display, "XDG_RUNTIME_DIR="+xdg, "SCOPE_PLUGIN_PATH="+plugins, "SCOPE_HOME="+t.TempDir())
	return e
}

// startXvfb starts Xvfb on a free display number and stops it when the test ends.
func (e *e2e) startXvfb() {
	t := e.t
	for n := 90 + os.Getpid()%400; ; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		disp := fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", disp, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Skipf("SKIP preview e2e: cannot start Xvfb: %v", err)
		}
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(sock); err == nil {
				e.display = disp
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return
			}
			if cmd.ProcessState != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if n > 90+os.Getpid()%400+5 {
			t.Skip("SKIP preview e2e: Xvfb did not start")
		}
	}
}

// start runs bin/<name> args in the background; the process is killed when the test ends.
func (e *e2e) start(name string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(e.bin, name), args...)
	cmd.Env = e.env
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &out
}

// waitSession waits for the one session of this test to appear.
func (e *e2e) waitSession() session.Info {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if list, _ := e.dir.List(); len(list) == 1 {
			return list[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("no session appeared")
	return session.Info{}
}

// screenshot grabs the whole Xvfb screen.
func (e *e2e) screenshot(name string) image.Image {
	path := filepath.Join(e.t.TempDir(), name+".png")
	cmd := exec.Command("import", "-display", e.display, "-window", "root", path)
	if b, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("import: %v\n%s", err, b)
	}
	f, err := os.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		e.t.Fatal(err)
	}
	if dir := os.Getenv("SCOPE_SCREENSHOTS"); dir != "" { // for the README
		b, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
	return img
}

// countColor samples every 4th pixel and counts those within 6 of c per channel.
func countColor(img image.Image, c [3]int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-c[0]) <= 6 && abs(int(g>>8)-c[1]) <= 6 && abs(int(bl>>8)-c[2]) <= 6 {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// waitColor takes screenshots until the video area shows colour c (at least 2000 sampled
// pixels: a 320x240 frame scaled into the window covers far more).
func (e *e2e) waitColor(name string, c [3]int) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		img := e.screenshot(name)
		n := countColor(img, c)
		if n >= 2000 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: colour %v not found in the window (%d sampled pixels match)", name, c, n)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// previewPID finds the scope-preview process attached to session id.
func previewPID(t *testing.T, id string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, d := range dirs {
			b, _ := os.ReadFile(d)
			args := strings.Split(string(b), "\x00")
			if len(args) > 2 && strings.HasSuffix(args[0], "scope-preview") && strings.Contains(string(b), "\x00"+id) {
				var pid int
				fmt.Sscanf(filepath.Base(filepath.Dir(d)), "%d", &pid)
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no scope-preview process for session %s", id)
	return 0
}

// alive checks that a session still answers and produces frames.
func (e *e2e) alive(c *session.Client) {
	e.t.Helper()
	ctx := context.Background()
	a, err := c.Info(ctx)
	if err != nil {
		e.t.Fatalf("session stopped answering: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	b, err := c.Info(ctx)
	if err != nil || b.Stats.Frames <= a.Stats.Frames {
		e.t.Fatalf("session stopped producing frames: %d -> %d (%v)", a.Stats.Frames, b.Stats.Frames, err)
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("%s did not exit within %v", cmd.Path, within)
		return nil
	}
}

// TestPreviewUnderXvfb is the acceptance test: run --preview shows the generated
// colour, a parameter set through the control endpoint shows in the next screenshot, a
// crashed preview leaves the session running, a second preview attaches to a running session
// and detaches without stopping it, and closing an owned preview ends the run.
func TestPreviewUnderXvfb(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	start := time.Now()

	// 1. scope run --preview shows the colour.
	run, out := e.start("scope", "run", "color-generator", "--preview", "--fps", "30",
		"--param", "color_r=200,color_g=30,color_b=90", "--load-param", "width=320,height=240")
	info := e.waitSession()
	e.waitColor("preview-initial", [3]int{200, 30, 90})

	// 2. A change through the control endpoint reaches the next frames.
	c, err := session.DialInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Set(ctx, 0, "color_g", "180"); err != nil || v != "180" {
		t.Fatalf("set color_g: %q %v", v, err)
	}
	e.waitColor("preview-changed", [3]int{200, 180, 90})

	// 3. The session survives a preview crash.
	pid := previewPID(t, info.ID)
	syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(500 * time.Millisecond)
	e.alive(c)

	// 4. A second preview attaches (scope preview ID) and detaches without stopping it.
	attach, aout := e.start("scope", "preview", info.ID)
	e.waitColor("preview-attached", [3]int{200, 180, 90})
	syscall.Kill(previewPID(t, info.ID), syscall.SIGTERM) // a polite close, like the window's X
	if err := waitExit(t, attach, 10*time.Second); err != nil {
		t.Fatalf("scope preview: %v\n%s", err, aout)
	}
	e.alive(c)

	// 5. Stop the run through the endpoint.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, run, 10*time.Second); err != nil {
		t.Fatalf("scope run: %v\n%s", err, out)
	}
	if list, _ := e.dir.List(); len(list) != 0 {
		t.Fatalf("sessions left after the run: %v", list)
	}

	// 6. Closing the window of scope run --preview ends the run.
	run2, out2 := e.start("scope", "run", "color-generator", "--preview", "--fps", "30", "--load-param", "width=320,height=240")
	info2 := e.waitSession()
	e.waitColor("preview-default", [3]int{128, 128, 128})
	syscall.Kill(previewPID(t, info2.ID), syscall.SIGTERM)
	if err := waitExit(t, run2, 10*time.Second); err != nil {
		t.Fatalf("scope run after closing the preview: %v\n%s", err, out2)
	}
	t.Logf("preview e2e took %v", time.Since(start).Round(time.Millisecond))
}
