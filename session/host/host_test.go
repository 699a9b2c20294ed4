package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/session"
	"github.com/scopenative/scope/session/host"
)

// running is a color-generator session served from a test.
type running struct {
	host   *host.Host
	eng    *engine.Engine
	client *session.Client
	done   chan error
}

func startSession(t *testing.T, dir session.Dir) *running {
	t.Helper()
	lib, err := loader.Open(plugintest.Example(t, t.TempDir(), "color-generator"), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	p := lib.Pipeline("color-generator")
	vals := p.Defaults()
	vals.Set(p, "width", "8")
	vals.Set(p, "height", "4")
	in, err := p.NewInstance(0, vals)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.eng, err = engine.New(engine.Config{Stages: []engine.Instance{in}, FPS: 200,
		OnFrame: func(f *frame.Frame) { r.host.Publish(f) }})
	if err != nil {
		t.Fatal(err)
	}
	r.host, err = host.Start(host.Config{Dir: dir, Engine: r.eng, Stop: cancel})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := r.eng.Run(ctx)
		r.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
		r.host.Close()
		in.Close()
	})
	r.client, err = session.DialInfo(r.host.Info())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.client.Close() })
	return r
}

// newestRed waits for a frame from the ring whose red component is want.
func newestRed(t *testing.T, rd *session.Reader, want byte) session.Frame {
	t.Helper()
	var f session.Frame
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := rd.Next(&f); ok && f.Pix[0] == want {
			return f
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no frame with red %d (last %v)", want, f.Pix)
	return f
}

func TestControlProtocol(t *testing.T) {
	dir := session.Dir(t.TempDir())
	r := startSession(t, dir)
	ctx := context.Background()
	c := r.client

	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Session.ID != r.host.Info().ID || len(info.Stages) != 1 {
		t.Fatalf("info: %+v", info)
	}
	st := info.Stages[0]
	if st.Pipeline.ID != "color-generator" || st.Mode != "text" || !strings.HasSuffix(st.Plugin, "color-generator.so") {
		t.Errorf("stage: %+v", st)
	}
	if len(st.Pipeline.Params) != 5 || st.Values["color_r"] != "128" || st.Values["width"] != "8" {
		t.Errorf("schema/values: %+v %v", st.Pipeline.Params, st.Values)
	}
	red := st.Pipeline.Params[0]
	if red.Key != "color_r" || red.Type != "int" || red.Min != 0 || red.Max != 255 || red.Label != "Red" || red.LoadTime {
		t.Errorf("color_r schema: %+v", red)
	}
	if w := st.Pipeline.Params[3]; w.Key != "width" || !w.LoadTime {
		t.Errorf("width schema: %+v", w)
	}

	// set reaches the next frames.
	rd, err := session.OpenReader(info.Session.SHM)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if v, err := c.Set(ctx, 0, "color_r", "10"); err != nil || v != "10" {
		t.Fatalf("set: %q %v", v, err)
	}
	f := newestRed(t, rd, 10)
	if f.Width != 8 || f.Height != 4 || f.Pix[1] != 128 {
		t.Errorf("frame after set: %+v", f)
	}
	info, _ = c.Info(ctx)
	if info.Stages[0].Values["color_r"] != "10" || info.Stats.Frames == 0 || info.Stats.Width != 8 {
		t.Errorf("info after set: %v %+v", info.Stages[0].Values, info.Stats)
	}

	// Errors come back as messages, and the connection stays usable.
	var re *session.RemoteError
	for _, tc := range []struct {
		stage      int
		key, value string
		want       string
	}{
		{0, "color_r", "300", "out of range"},
		{0, "color_r", "99999999999999999999", "color_r: 99999999999999999999 is out of range"}, // loader's parser, as the CLI
		{0, "nope", "1", "valid keys: color_r"},
		{0, "width", "16", "load-time parameter"},
		{3, "color_r", "1", "no stage 3"},
	} {
		_, err := c.Set(ctx, tc.stage, tc.key, tc.value)
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("set %s=%s: %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}

	// prompts replace the chain's prompts.
	if err := c.SetPrompts(ctx, []session.Prompt{{Text: "teal", Weight: 0.5}}); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.Info(ctx); len(info.Prompts) != 1 || info.Prompts[0].Text != "teal" || info.Prompts[0].Weight != 0.5 {
		t.Errorf("prompts after set: %+v", info.Prompts)
	}
	if err := c.SetPrompts(ctx, []session.Prompt{{Text: "teal", Weight: -1}}); err == nil || !strings.Contains(err.Error(), "weight -1 must be a finite number >= 0") {
		t.Errorf("negative prompt weight: %v, want it refused", err)
	}

	// pause / resume.
	if err := c.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ = c.Info(ctx)
	time.Sleep(100 * time.Millisecond)
	after, _ := c.Info(ctx)
	if !after.Paused || after.Stats.Frames > info.Stats.Frames+1 {
		t.Errorf("frames flowed while paused: %d -> %d", info.Stats.Frames, after.Stats.Frames)
	}
	if err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}

	// save-frame writes the newest frame.
	out := filepath.Join(t.TempDir(), "saved.png")
	res, err := c.SaveFrame(ctx, out)
	if err != nil || res.Path != out || res.Width != 8 {
		t.Fatalf("save-frame: %+v %v", res, err)
	}
	pf, _ := os.Open(out)
	img, err := png.Decode(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r8, g8, _, _ := img.At(3, 2).RGBA(); r8>>8 != 10 || g8>>8 != 128 {
		t.Errorf("saved pixel %d,%d", r8>>8, g8>>8)
	}

	// reload without a handler, unknown ops, then an extension handler.
	if err := c.Reload(ctx, 0, st.Plugin); err == nil || err.Error() != session.ErrReloadUnavailable {
		t.Errorf("reload without handler: %v", err)
	}
	if err := c.Call(ctx, "frobnicate", nil, nil); err == nil || !strings.Contains(err.Error(), `unknown operation "frobnicate"`) {
		t.Errorf("unknown op: %v", err)
	}
	var gotArgs session.ReloadArgs
	r.host.Server().Handle(session.OpReload, func(ctx context.Context, req json.RawMessage) (any, error) {
		if err := json.Unmarshal(req, &gotArgs); err != nil {
			return nil, err
		}
		return map[string]string{"reloaded": gotArgs.Plugin}, nil
	})
	if err := c.Reload(ctx, 0, st.Plugin); err != nil || gotArgs.Plugin != st.Plugin {
		t.Errorf("reload through the extension handler: %v %+v", err, gotArgs)
	}

	// stop ends the run.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatal(err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(3 * time.Second):
		t.Fatal("stop did not end the run")
	}
}

// TestRawProtocol speaks the wire format directly, as a client in another language would.
func TestRawProtocol(t *testing.T) {
	r := startSession(t, session.Dir(t.TempDir()))
	conn, err := net.Dial("unix", r.host.Info().Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(`{"id":7,"op":"set","args":{"stage":0,"key":"color_b","value":"42"}}` + "\n" + "not json\n"))
	buf := make([]byte, 4096)
	var got string
	deadline := time.Now().Add(3 * time.Second)
	for strings.Count(got, "\n") < 2 && time.Now().Before(deadline) {
		conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += string(buf[:n])
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || lines[0] != `{"id":7,"ok":true,"result":{"value":"42"}}` || !strings.Contains(lines[1], `"ok":false,"error":"bad request`) {
		t.Fatalf("responses:\n%s", got)
	}
}

func TestListFindAndStaleEntries(t *testing.T) {
	dir := session.Dir(t.TempDir())
	a := startSession(t, dir)
	list, err := dir.List()
	if err != nil || len(list) != 1 || list[0].ID != a.host.Info().ID || list[0].PID != os.Getpid() {
		t.Fatalf("list: %+v %v", list, err)
	}
	if got, err := dir.Find(""); err != nil || got.ID != a.host.Info().ID {
		t.Errorf("find the only one: %+v %v", got, err)
	}
	if got, err := dir.Find(a.host.Info().ID[:4]); err != nil || got.ID != a.host.Info().ID {
		t.Errorf("find by prefix: %+v %v", got, err)
	}
	if _, err := dir.Find("zzzz"); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("find unknown: %v", err)
	}

	// A session whose process is gone is dropped, with its files.
	cmd := exec.Command("true")
	cmd.Run()
	stale := session.Info{ID: "deadbeef", PID: cmd.Process.Pid, Chain: []string{"x"}, Started: time.Now(),
		Socket: filepath.Join(string(dir), "deadbeef.sock"), SHM: filepath.Join(string(dir), "deadbeef.frames")}
	b, _ := json.Marshal(stale)
	os.WriteFile(filepath.Join(string(dir), "deadbeef.json"), b, 0o600)
	os.WriteFile(stale.SHM, []byte("x"), 0o600)
	list, _ = dir.List()
	if len(list) != 1 {
		t.Errorf("stale entry listed: %+v", list)
	}
	for _, p := range []string{"deadbeef.json", "deadbeef.frames"} {
		if _, err := os.Stat(filepath.Join(string(dir), p)); err == nil {
			t.Errorf("stale %s not removed", p)
		}
	}

	b2 := startSession(t, dir)
	if _, err := dir.Find(""); err == nil || !strings.Contains(err.Error(), "2 sessions are running") {
		t.Errorf("find with two sessions: %v", err)
	}
	// Closing a session removes it from the list and its files.
	info := b2.host.Info()
	b2.host.Close()
	if got, _ := dir.Find(info.ID); got.ID == info.ID {
		t.Error("closed session still listed")
	}
	for _, p := range []string{info.Socket, info.SHM, filepath.Join(string(dir), info.ID+".json")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after Close", p)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	x := t.TempDir()
	d, err := session.DefaultDir(func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return x
		}
		return ""
	})
	if err != nil || string(d) != filepath.Join(x, "scope") {
		t.Fatalf("%q %v", d, err)
	}
	st, _ := os.Stat(string(d))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

// TestInfoGraphStats: info carries the engine's per-node and per-sink stats (rate, quantiles,
// latency), the numbers the preview overlay shows.
func TestInfoGraphStats(t *testing.T) {
	r := startSession(t, session.Dir(t.TempDir()))
	deadline := time.Now().Add(3 * time.Second)
	var info session.InfoResult
	for time.Now().Before(deadline) {
		var err error
		if info, err = r.client.Info(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(info.Stats.Sinks) == 1 && info.Stats.Sinks[0].Frames >= 20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(info.Stats.Sinks) != 1 || info.Stats.Sinks[0].Frames < 20 {
		t.Fatalf("sinks in info: %+v", info.Stats.Sinks)
	}
	st := info.Stages[0]
	if st.Node != "color-generator" || st.FPS <= 0 || st.P50MS <= 0 || st.P99MS < st.P50MS || st.Calls < 20 {
		t.Errorf("stage stats: node %q fps %.1f p50 %.3f p99 %.3f calls %d", st.Node, st.FPS, st.P50MS, st.P99MS, st.Calls)
	}
	if sk := info.Stats.Sinks[0]; sk.Name != "output" || sk.P99MS < sk.P50MS || sk.P50MS < 0 {
		t.Errorf("sink stats: %+v", sk)
	}
}
