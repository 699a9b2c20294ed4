package previewe2e

// The network preview: scope-preview --url attached to `scope serve` on loopback shows the
// session's frames, and dragging a slider in its panel changes the session's output.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/session"
)

// servedAt starts `scope serve` on 127.0.0.1 in token mode and returns its URL and token.
func (e *e2e) servedAt() (base, tokenFile, token string) {
	e.t.Helper()
	tokenFile = filepath.Join(e.t.TempDir(), "token")
	cmd := exec.Command(filepath.Join(e.bin, "scope"), "serve", "--listen", "127.0.0.1:0", "--require-token", "--token-file", tokenFile)
	cmd.Env = e.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "serving on ")
	if err != nil || !ok {
		e.t.Fatalf("scope serve: %q %v\n%s", line, err, errb.String())
	}
	go io.Copy(io.Discard, stdout)
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		e.t.Fatal(err)
	}
	return base, tokenFile, strings.TrimSpace(string(b))
}

// api sends one request with the token and decodes the JSON answer into v.
func api(t *testing.T, method, url, token, body string, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// TestRemotePreviewUnderXvfb: the preview attached over HTTP shows the frames, and moving
// its green slider changes the session's output (a screenshot plus a pixel check); then it
// measures the frame rate and latency over loopback (the README reports them).
func TestRemotePreviewUnderXvfb(t *testing.T) {
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skip("SKIP remote preview test: xdotool is not installed (scripts/setup.sh installs it)")
	}
	e := setup(t)
	base, tokenFile, token := e.servedAt()
	var info session.Info
	api(t, "POST", base+"/api/v1/sessions", token, `{"chain":"color-generator","params":["color_r=200,color_g=30,color_b=90"],"load_params":["width=320,height=240"]}`, &info)

	prev, pout := e.start("scope", "preview", base, "--token-file", tokenFile)
	e.waitColor("remote-initial", [3]int{200, 30, 90})
	win := strings.Fields(e.xdo("search", "--sync", "--name", "session "+info.ID))[0]
	// The panel is the window's right 340 px (render's layout at scale 1): the filter row,
	// the pipeline header, then one 44 px slider per parameter, 6 px apart; a slider's track
	// starts 12 px into the panel, is 316 px long and lies 28 px below the slider's top.
	geom := e.xdo("getwindowgeometry", win)
	m := regexp.MustCompile(`Geometry: (\d+)x(\d+)`).FindStringSubmatch(geom)
	if m == nil {
		t.Fatalf("window geometry: %s", geom)
	}
	width, _ := strconv.Atoi(m[1])
	trackX, trackW := width-340+12, 316
	greenY := 10 + 30 + 6 + 44 + 6 + (44 + 6) + 28 + 3 // the second slider (color_g)
	x := trackX + trackW*180/255
	e.xdo("mousemove", "--window", win, strconv.Itoa(trackX+trackW/2), strconv.Itoa(greenY))
	e.xdo("mousedown", "1")
	time.Sleep(100 * time.Millisecond)
	e.xdo("mousemove", "--window", win, strconv.Itoa(x), strconv.Itoa(greenY))
	time.Sleep(150 * time.Millisecond)
	e.xdo("mouseup", "1")

	// The change travelled back over HTTP: the session holds the new value...
	var green int
	if !waitFor(5*time.Second, func() bool {
		var st session.InfoResult
		api(t, "GET", base+"/api/v1/sessions/"+info.ID, token, "", &st)
		green, _ = strconv.Atoi(st.Stages[0].Values["color_g"])
		return green > 150
	}) {
		t.Fatalf("dragging the green slider left color_g at %d\n%s", green, pout)
	}
	if green < 170 || green > 190 {
		t.Errorf("the slider dragged to 180/255 of its track set color_g=%d", green)
	}
	// ...its frames show it (fetched as PNG from the server)...
	var n uint64
	if !waitFor(5*time.Second, func() bool {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/sessions/%s/frame.png", base, info.ID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		n, _ = strconv.ParseUint(resp.Header.Get("X-Scope-Frame"), 10, 64)
		img, err := png.Decode(resp.Body)
		if err != nil {
			return false
		}
		r, g, b, _ := img.At(10, 10).RGBA()
		return r>>8 == 200 && int(g>>8) == green && b>>8 == 90
	}) {
		t.Fatalf("the session's frames do not show color_g=%d (frame %d)", green, n)
	}
	// ...and so does the window (the screenshot's video area).
	e.waitColor("remote-changed", [3]int{200, green, 90})

	// Closing the window detaches: `scope preview` exits cleanly, the session goes on.
	syscall.Kill(previewPID(t, base), syscall.SIGTERM)
	if err := waitExit(t, prev, 10*time.Second); err != nil {
		t.Fatalf("scope preview URL: %v\n%s", err, pout)
	}
	var list struct{ Sessions []session.Info }
	api(t, "GET", base+"/api/v1/sessions", token, "", &list)
	if len(list.Sessions) != 1 {
		t.Fatalf("after the preview closed the server has %v", list.Sessions)
	}

	// Measure: frames/s and latency both ways over loopback, for the README.
	rep := exec.Command(filepath.Join(e.bin, "scope-preview"), "--url", base, "--token-file", tokenFile, "--no-audio", "--report", "3s")
	rep.Env = e.env
	out, err := rep.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "network: ") {
		t.Fatalf("scope-preview --report: %v\n%s", err, out)
	}
	t.Logf("remote preview over loopback:\n%s", out)
}
