package command_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/session"
)

// lockedBuffer is a buffer the server goroutine writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is a `scope serve` running in this process on 127.0.0.1.
type served struct {
	t        *testing.T
	base     string
	token    string
	out, err *lockedBuffer
	stop     func() int // cancels the server's context (as SIGTERM does) and returns the exit code
}

// serveEnv is a hermetic environment: plugins from dir, fresh SCOPE_HOME and runtime dir.
func serveEnv(t *testing.T, pluginDir string) map[string]string {
	return map[string]string{"SCOPE_PLUGIN_PATH": pluginDir, "SCOPE_HOME": t.TempDir(), "XDG_RUNTIME_DIR": t.TempDir(),
		"SCOPE_SDK_DIR": plugintest.Root(t), "SCOPE_BUILD_SANDBOX": "off"}
}

// startServe runs `scope serve --listen 127.0.0.1:0 ARGS...` and waits until it listens.
func startServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: t, out: &lockedBuffer{}, err: &lockedBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- command.Main(ctx, append([]string{"scope", "serve", "--listen", "127.0.0.1:0"}, args...),
			command.IO{In: strings.NewReader(""), Out: s.out, Err: s.err, Env: func(k string) string { return env[k] }})
	}()
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("scope serve did not stop within 20s of its stop signal\n%s", s.err.String())
			}
		})
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line, ok := strings.CutPrefix(s.out.String(), "serving on "); ok {
			s.base = strings.TrimSpace(strings.SplitN(line, "\n", 2)[0])
			return s
		}
		select {
		case c := <-done:
			t.Fatalf("scope serve exited %d\nstdout: %s\nstderr: %s", c, s.out.String(), s.err.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("scope serve did not listen within 10s\nstdout: %s\nstderr: %s", s.out.String(), s.err.String())
	return nil
}

// do sends a request (body: nil, a string of JSON, or a value to encode) and returns the
// status and body.
func (s *served) do(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// must sends a request that has to answer want, and decodes the JSON answer into v.
func (s *served) must(want int, method, path string, body, v any) {
	s.t.Helper()
	code, b := s.do(method, path, body)
	if code != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// frame fetches the newest frame newer than after as PNG and returns it and its number.
func (s *served) frame(id string, after uint64) (image.Image, uint64) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/sessions/%s/frame.png?after=%d&wait=5s", s.base, id, after), nil)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("frame.png: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	n, _ := strconv.ParseUint(resp.Header.Get("X-Scope-Frame"), 10, 64)
	return img, n
}

// errorText is the message of an error answer (its JSON decoded), or the raw body.
func errorText(b []byte) string {
	var e struct{ Error string }
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(b)
}

func pixel(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// TestServeEndToEnd drives a real server on 127.0.0.1: start a chain, change a parameter and
// see it in the pixels, read /metrics with the Prometheus parser against info, stop.
func TestServeEndToEnd(t *testing.T) {
	s := startServe(t, serveEnv(t, plugins(t)))
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", map[string]any{"chain": "color-generator,invert",
		"params": []string{"color_r=10,color_g=20,color_b=30"}}, &info)
	if len(info.Chain) != 2 || info.Chain[1] != "invert" {
		t.Fatalf("started %+v", info)
	}
	img, n := s.frame(info.ID, 0)
	if got, want := pixel(img, 3, 3), [3]uint8{245, 235, 225}; got != want {
		t.Errorf("first frame pixel %v, want %v (inverted 10,20,30)", got, want)
	}
	var set session.SetResult
	s.must(200, "POST", "/api/v1/sessions/"+info.ID+"/params", map[string]any{"stage": 0, "key": "color_g", "value": "200"}, &set)
	if set.Value != "200" {
		t.Errorf("set answered %+v", set)
	}
	// A frame made after the change shows it; the frame number in flight may still be old.
	var got [3]uint8
	for try := 0; try < 10; try++ {
		img, n = s.frame(info.ID, n)
		if got = pixel(img, 3, 3); got == [3]uint8{245, 55, 225} {
			break
		}
	}
	if got != [3]uint8{245, 55, 225} {
		t.Errorf("after color_g=200 the pixel is %v, want 245,55,225", got)
	}
	// The same operation the socket answers, refused the same way.
	code, b := s.do("POST", "/api/v1/sessions/"+info.ID+"/params", map[string]any{"stage": 5, "key": "color_g", "value": "1"})
	if code != 400 || !strings.Contains(string(b), "no stage 5") {
		t.Errorf("set on stage 5: %d %s", code, b)
	}

	var ir session.InfoResult
	s.must(200, "GET", "/api/v1/sessions/"+info.ID, nil, &ir)
	if ir.Stages[0].Values["color_g"] != "200" {
		t.Errorf("info values %v", ir.Stages[0].Values)
	}
	code, b = s.do("GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, b)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, b)
	}
	frames := fams["scope_session_frames_total"]
	if frames == nil || len(frames.Metric) != 1 || frames.Metric[0].Label[0].GetValue() != info.ID {
		t.Fatalf("scope_session_frames_total: %v", frames)
	}
	if v := frames.Metric[0].Counter.GetValue(); v < float64(ir.Stats.Frames) {
		t.Errorf("metrics frames %v < info frames %d read before", v, ir.Stats.Frames)
	}
	stages := map[string]bool{}
	for _, m := range fams["scope_stage_calls_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		i, _ := strconv.Atoi(labels["stage"])
		if i >= len(ir.Stages) || ir.Stages[i].Pipeline.ID != labels["pipeline"] || m.Counter.GetValue() < float64(ir.Stages[i].Calls) {
			t.Errorf("stage metric %v %v does not match info %+v", labels, m.Counter.GetValue(), ir.Stages)
		}
		stages[labels["pipeline"]] = true
	}
	if !stages["color-generator"] || !stages["invert"] {
		t.Errorf("stage metrics for %v, want both pipelines", stages)
	}
	for _, name := range []string{"scope_stage_dropped_frames_total", "scope_stage_p99_ms", "scope_stage_restarts_total"} {
		if f := fams[name]; f == nil || len(f.Metric) != len(ir.Stages) {
			t.Errorf("%s: %v, want one per stage (%d)", name, f, len(ir.Stages))
		}
	}
	for _, m := range fams["scope_stage_restarts_total"].GetMetric() {
		if v := m.Counter.GetValue(); v != 0 {
			t.Errorf("restarts %v in a run that never restarted", v)
		}
	}
	if g := fams["scope_session_fps"]; g == nil || g.Metric[0].Gauge.GetValue() <= 0 {
		t.Errorf("scope_session_fps: %v", g)
	}
	if g := fams["scope_sessions"]; g == nil || g.Metric[0].Gauge.GetValue() != 1 {
		t.Errorf("scope_sessions: %v", g)
	}

	s.must(200, "DELETE", "/api/v1/sessions/"+info.ID, nil, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var list struct{ Sessions []session.Info }
		s.must(200, "GET", "/api/v1/sessions", nil, &list)
		if len(list.Sessions) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still listed 5s after DELETE: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.must(404, "GET", "/api/v1/sessions/"+info.ID, nil, nil)
	if code := s.stop(); code != 0 {
		t.Errorf("serve exit %d: %s", code, s.err.String())
	}
}

// TestServeBadRequests: malformed JSON 400, unknown session 404, unknown op 404, a body over
// the limit 400 naming the limit, paths outside the allowed folder 403 and nothing written.
func TestServeBadRequests(t *testing.T) {
	allowed := t.TempDir()
	outside := t.TempDir()
	s := startServe(t, serveEnv(t, plugins(t)), "--max-body", "512", "--allow-dir", allowed)
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		msg          string
	}{
		{"POST", "/api/v1/sessions", `{"chain":`, 400, "malformed JSON"},
		{"POST", "/api/v1/sessions", `{"chain":"invert","bogus":1}`, 400, `unknown field "bogus"`},
		{"POST", "/api/v1/sessions", `{}`, 400, "give \"chain\""},
		{"POST", "/api/v1/sessions", `{"chain":"no-such-pipeline"}`, 400, "unknown pipeline"},
		{"POST", "/api/v1/sessions", `{"graph":{"nodes":[]}}`, 400, "malformed JSON body"},
		{"POST", "/api/v1/sessions", `{"chain":"invert","input":"` + filepath.Join(outside, "in.png") + `"}`, 403, "not inside an allowed folder"},
		{"POST", "/api/v1/sessions", `{"chain":"color-generator","output":"` + filepath.Join(outside, "out.png") + `"}`, 403, "not inside an allowed folder"},
		{"POST", "/api/v1/sessions", `{"chain":"color-generator","output":"out.png"}`, 403, "absolute path"},
		{"POST", "/api/v1/sessions", `{"chain":"color-generator","output":"file://` + filepath.Join(outside, "o.png") + `"}`, 403, "not inside"},
		{"POST", "/api/v1/sessions", `{"chain":"` + strings.Repeat("x", 600) + `"}`, 400, "limit is 512 bytes"},
		{"GET", "/api/v1/sessions/nope", nil, 404, `session "nope"`},
		{"GET", "/api/v1/sessions/nope/frame.jpg", nil, 404, `session "nope"`},
		{"POST", "/api/v1/sessions/nope/params", `{"key":"a","value":"1"}`, 404, `session "nope"`},
		{"POST", "/api/v1/plugins", `{"package":""}`, 400, "empty plugin spec"},
		{"POST", "/api/v1/plugins", `{"package":"` + outside + `"}`, 403, "not inside an allowed folder"},
		{"POST", "/api/v1/plugins", `{"package":"file://` + outside + `"}`, 403, "not inside an allowed folder"},
		{"DELETE", "/api/v1/plugins/never-installed", nil, 404, "not installed"},
	} {
		code, b := s.do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(errorText(b), c.msg) {
			t.Errorf("%s %s %v: %d %s, want %d with %q", c.method, c.path, c.body, code, b, c.code, c.msg)
		}
	}
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", `{"chain":"color-generator"}`, &info)
	s.frame(info.ID, 0)
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/save-frame", `{"path":"` + filepath.Join(outside, "f.png") + `"}`, 403, "not inside an allowed folder"},
		{"/save-frame", `{}`, 400, "give \"path\""},
		{"/ops/save-frame", `{"path":"` + filepath.Join(outside, "f.png") + `"}`, 403, "not inside an allowed folder"},
		{"/ops/save-frame", `{"path":"` + filepath.Join(allowed, "..", filepath.Base(outside), "f.png") + `"}`, 403, "not inside"},
		{"/ops/reload", `{"plugin":"x","library":"` + filepath.Join(outside, "evil.so") + `"}`, 403, "not inside an allowed folder"},
		{"/ops/no-such-op", `{}`, 404, `unknown operation "no-such-op"`},
		{"/ops/set", `[1,2]`, 400, "malformed JSON"},
	} {
		code, b := s.do("POST", "/api/v1/sessions/"+info.ID+c.path, c.body)
		if code != c.code || !strings.Contains(errorText(b), c.msg) {
			t.Errorf("POST %s %s: %d %s, want %d with %q", c.path, c.body, code, b, c.code, c.msg)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the refused requests wrote %v outside the allowed folder", entries)
	}
	// Inside the allowed folder save-frame works, through either route.
	var saved session.SaveFrameResult
	s.must(200, "POST", "/api/v1/sessions/"+info.ID+"/ops/save-frame", map[string]string{"path": filepath.Join(allowed, "f.png")}, &saved)
	if fi, err := os.Stat(filepath.Join(allowed, "f.png")); err != nil || fi.Size() == 0 || saved.Width == 0 || saved.Path != filepath.Join(allowed, "f.png") {
		t.Errorf("save-frame in the allowed folder: %+v %v", saved, err)
	}
}

// TestServeTokenBeyondLoopback: in token mode (as beyond loopback) a missing or wrong token
// gets 401 and changes nothing; the token is made once, mode 0600, and printed how to use.
func TestServeTokenBeyondLoopback(t *testing.T) {
	env := serveEnv(t, plugins(t))
	tokenFile := filepath.Join(t.TempDir(), "token")
	s := startServe(t, env, "--require-token", "--token-file", tokenFile)
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(tokenFile)
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 || !strings.Contains(s.out.String(), "Authorization: Bearer $(cat "+tokenFile+")") {
		t.Errorf("token %q, stdout %s", tok, s.out.String())
	}
	// Without the token nothing starts.
	code, b := s.do("POST", "/api/v1/sessions", `{"chain":"color-generator"}`)
	if code != 401 || !strings.Contains(string(b), "Bearer") {
		t.Errorf("no token: %d %s", code, b)
	}
	s.token = tok
	var list struct{ Sessions []session.Info }
	s.must(200, "GET", "/api/v1/sessions", nil, &list)
	if len(list.Sessions) != 0 {
		t.Fatalf("a request without the token started %v", list.Sessions)
	}
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", `{"chain":"color-generator","params":["color_r=7"]}`, &info)
	for _, bad := range []string{"", "wrong", tok + "x", strings.ToUpper(tok)} {
		s.token = bad
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/api/v1/sessions/" + info.ID + "/params", `{"key":"color_r","value":"99"}`},
			{"DELETE", "/api/v1/sessions/" + info.ID, ""},
			{"GET", "/api/v1/sessions/" + info.ID + "/frame.png", ""},
			{"GET", "/metrics", ""},
			{"GET", "/api/v1/plugins", ""},
		} {
			var body any
			if r.body != "" {
				body = r.body
			}
			if code, b := s.do(r.method, r.path, body); code != 401 {
				t.Errorf("token %q: %s %s: %d %s, want 401", bad, r.method, r.path, code, b)
			}
		}
	}
	s.token = ""
	if code, _ := s.do("GET", "/healthz", nil); code != 200 {
		t.Errorf("/healthz needs no token: %d", code)
	}
	s.token = tok
	var ir session.InfoResult
	s.must(200, "GET", "/api/v1/sessions/"+info.ID, nil, &ir)
	if ir.Stages[0].Values["color_r"] != "7" || ir.Session.ID != info.ID {
		t.Errorf("after refused requests the session is %+v", ir.Stages[0].Values)
	}
	// A second start keeps the token.
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, s.err.String())
	}
	s2 := startServe(t, env, "--require-token", "--token-file", tokenFile)
	if again, _ := os.ReadFile(tokenFile); string(again) != string(raw) || strings.Contains(s2.err.String(), "made a new token") {
		t.Errorf("the token changed on the second start")
	}
}

// TestServeStopFinishesSinks: stopping the server (SIGTERM's path) ends its sessions
// cleanly: the sink is finalised, with every frame the session reported.
func TestServeStopFinishesSinks(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, serveEnv(t, plugins(t)), "--allow-dir", dir)
	out := filepath.Join(dir, "out.y4m")
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", map[string]any{"chain": "color-generator", "output": out, "fps": 60}, &info)
	_, n := s.frame(info.ID, 3)
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, s.err.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	frames := bytes.Count(b, []byte("FRAME\n"))
	if !bytes.HasPrefix(b, []byte("YUV4MPEG2 W")) || uint64(frames) < n {
		t.Errorf("out.y4m: %d frames (the session had shown frame %d), header %q", frames, n, b[:min(len(b), 30)])
	}
	// Whole frames only: after the header, frames all of the same length.
	hdr := bytes.IndexByte(b, '\n') + 1
	if body := len(b) - hdr; frames == 0 || body%frames != 0 {
		t.Errorf("out.y4m ends in a partial frame: %d bytes for %d frames", body, frames)
	}
	if _, err := os.Stat(info.SHM); err == nil {
		t.Errorf("the frame ring %s is left behind", info.SHM)
	}
}

// TestServeInstallPluginEvents installs a plugin from a file:// git repository inside the
// allowed folder and follows the event stream to its end.
func TestServeInstallPluginEvents(t *testing.T) {
	for _, tool := range []string{"git", "cmake", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("installing a plugin needs %s", tool)
		}
	}
	allowed := t.TempDir()
	bare := gitPluginRepo(t, allowed, "served-invert")
	env := serveEnv(t, plugins(t))
	s := startServe(t, env, "--allow-dir", allowed)
	req, _ := http.NewRequest("POST", s.base+"/api/v1/plugins", strings.NewReader(`{"package":"file://`+bare+`"}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("install: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []string
	var last string
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
			events = append(events, e)
		} else if d, ok := strings.CutPrefix(line, "data: "); ok && (event == "done" || event == "error") {
			last = d
		}
	}
	if len(events) < 3 || events[len(events)-1] != "done" || !strings.Contains(strings.Join(events, " "), "step") {
		t.Fatalf("events %v, last %s\nstderr: %s", events, last, s.err.String())
	}
	var pl struct {
		Name            string   `json:"name"`
		Pipelines       []string `json:"pipelines"`
		UpdateAvailable *bool    `json:"update_available"`
	}
	if err := json.Unmarshal([]byte(last), &pl); err != nil || pl.Name != "served-invert" || len(pl.Pipelines) != 1 || pl.Pipelines[0] != "invert" {
		t.Errorf("done event %s: %v", last, err)
	}
	var list struct {
		Plugins []map[string]any `json:"plugins"`
	}
	s.must(200, "GET", "/api/v1/plugins", nil, &list)
	if len(list.Plugins) != 1 || list.Plugins[0]["name"] != "served-invert" || list.Plugins[0]["update_available"] != false {
		t.Errorf("plugins %v", list.Plugins)
	}
	s.must(200, "DELETE", "/api/v1/plugins/served-invert", nil, nil)
	s.must(200, "GET", "/api/v1/plugins", nil, &list)
	if len(list.Plugins) != 0 {
		t.Errorf("after DELETE: %v", list.Plugins)
	}
}

// gitPluginRepo makes a bare git repository in dir holding the invert example as a plugin
// package called name, and returns its path.
func gitPluginRepo(t *testing.T, dir, name string) string {
	t.Helper()
	work := filepath.Join(dir, name+"-work")
	bare := filepath.Join(dir, name+".git")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"CMakeLists.txt", "invert.c"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "c", "invert", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(work, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(work, "scope-plugin.toml"), []byte(fmt.Sprintf("name = %q\nversion = \"1.0.0\"\nabi = \"1\"\n\n[build]\nsystem = \"cmake\"\n", name)), 0o644)
	git := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(work, "init", "-q", "-b", "main")
	git(work, "add", ".")
	git(work, "commit", "-qm", "v1")
	git(dir, "init", "-q", "--bare", "-b", "main", bare)
	git(work, "push", "-q", bare, "main")
	return bare
}

// TestServeAllowDirsFromEnvironment: SCOPE_ALLOW_DIRS names several folders, joined with ':'.
func TestServeAllowDirsFromEnvironment(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("SCOPE_ALLOW_DIRS", a+":"+b)
	s := startServe(t, serveEnv(t, plugins(t)))
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", map[string]any{"chain": "color-generator", "output": filepath.Join(b, "x.png"), "frames": 1}, &info)
	if code, body := s.do("POST", "/api/v1/sessions", map[string]any{"chain": "color-generator", "output": filepath.Join(c, "x.png")}); code != 403 {
		t.Errorf("a folder SCOPE_ALLOW_DIRS does not name: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if fi, err := os.Stat(filepath.Join(b, "x.png")); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the one-frame session wrote no %s\n%s", filepath.Join(b, "x.png"), s.err.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeSIGTERM: the scope binary under a supervisor's SIGTERM stops its sessions, finalises
// their sinks and exits 0.
func TestServeSIGTERM(t *testing.T) {
	lib := plugins(t)
	bin := filepath.Join(t.TempDir(), "scope")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scope")
	build.Dir = plugintest.Root(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	media := t.TempDir()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--allow-dir", media)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "SCOPE_PLUGIN_PATH=" + lib, "XDG_RUNTIME_DIR=" + t.TempDir()}
	stdout, _ := cmd.StdoutPipe()
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "serving on ")
	if !ok {
		t.Fatalf("scope serve said %q\n%s", line, errb.String())
	}
	go io.Copy(io.Discard, stdout)
	s := &served{t: t, base: base}
	out := filepath.Join(media, "out.y4m")
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", map[string]any{"chain": "color-generator", "output": out, "load_params": []string{"width=16,height=8"}}, &info)
	_, n := s.frame(info.ID, 5)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("scope serve after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("scope serve did not exit within 15s of SIGTERM\n%s", errb.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	frames := bytes.Count(b, []byte("FRAME\n"))
	hdr := bytes.IndexByte(b, '\n') + 1
	if !bytes.HasPrefix(b, []byte("YUV4MPEG2 W16 H8")) || uint64(frames) < n || (len(b)-hdr)%frames != 0 {
		t.Errorf("out.y4m after SIGTERM: %d frames (frame %d was shown), %d bytes", frames, n, len(b))
	}
	if !strings.Contains(errb.String(), "stopping: finishing the sessions") {
		t.Errorf("stderr: %s", errb.String())
	}
}

// TestServeStartsAGraph: POST /api/v1/sessions with a graph file's text starts the graph
// (a crossfade of two colours here) and its frames show the mix; a graph whose sink names a
// file outside the allowed folders is refused (403) before anything runs, and one that does
// not parse, or that comes with "chain", gets 400 naming the problem.
func TestServeStartsAGraph(t *testing.T) {
	allowed := t.TempDir()
	s := startServe(t, serveEnv(t, plugins(t)), "--allow-dir", allowed)
	const g = `
[[source]]
name = "a"
input = "solid:000000:16x16"
[[source]]
name = "b"
input = "solid:c8c8c8:16x16"
[[node]]
name = "fade"
pipeline = "crossfade"
inputs = ["a", "b"]
params = { mix = 0.5 }
[[sink]]
name = "preview"
output = "preview"
from = "fade"
`
	var info session.Info
	s.must(201, "POST", "/api/v1/sessions", map[string]any{"graph": g}, &info)
	img, _ := s.frame(info.ID, 0)
	if got := pixel(img, 3, 3); got[0] < 99 || got[0] > 101 || got != [3]uint8{got[0], got[0], got[0]} {
		t.Errorf("crossfade of 0 and 200 at mix 0.5: pixel %v, want about 100", got)
	}
	// A live edit through the operation route is checked like a start: no file outside.
	outside := filepath.Join(t.TempDir(), "out.y4m")
	if code, b := s.do("POST", "/api/v1/sessions/"+info.ID+"/ops/switch-source", map[string]any{"name": "a", "input": outside}); code != 403 {
		t.Errorf("switch-source to a file outside the allowed folders: %d %s", code, b)
	}
	s.must(200, "DELETE", "/api/v1/sessions/"+info.ID, nil, nil)

	bad := strings.Replace(g, `output = "preview"`, fmt.Sprintf("output = %q", outside), 1)
	code, b := s.do("POST", "/api/v1/sessions", map[string]any{"graph": bad})
	if code != 403 || !strings.Contains(string(b), "graph sink preview") {
		t.Errorf("a graph sink outside the allowed folders: %d %s", code, b)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the refused graph wrote %s", outside)
	}
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"graph": "[[node]]\nname = 1\n"}, "graph: "},
		{map[string]any{"graph": g, "chain": "invert"}, "not both"},
	} {
		if code, b := s.do("POST", "/api/v1/sessions", c.body); code != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%v: %d %s, want 400 with %q", c.body, code, b, c.want)
		}
	}
}
