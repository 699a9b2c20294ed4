package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/httpapi"
	"github.com/scopenative/scope/httpapi/apiclient"
	"github.com/scopenative/scope/session"
)

// fakeSession is a session without an engine: a real control server answering info and
// set, and a real frame ring a goroutine publishes solid frames of the set green into.
type fakeSession struct {
	info      session.Info
	green     atomic.Int32
	published atomic.Uint64
}

func (f *fakeSession) List() []session.Info { return []session.Info{f.info} }
func (f *fakeSession) Start(context.Context, httpapi.StartRequest) (session.Info, error) {
	return session.Info{}, errors.New("fake: no starts")
}

func startFake(t *testing.T, fps float64) *fakeSession {
	t.Helper()
	dir := t.TempDir()
	f := &fakeSession{info: session.Info{ID: "fake", Socket: filepath.Join(dir, "s.sock"), SHM: filepath.Join(dir, "ring")}}
	w, err := session.CreateWriter(f.info.SHM, 4)
	if err != nil {
		t.Fatal(err)
	}
	srv := session.NewServer()
	srv.Handle(session.OpInfo, func(context.Context, json.RawMessage) (any, error) {
		return session.InfoResult{Session: f.info, Stats: session.LiveStats{Frames: int(f.published.Load())}}, nil
	})
	srv.Handle(session.OpSet, func(_ context.Context, raw json.RawMessage) (any, error) {
		var a session.SetArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, err
		}
		if a.Key != "green" {
			return nil, errors.New("set: no parameter " + a.Key)
		}
		var v int32
		if err := json.Unmarshal([]byte(a.Value), &v); err != nil || v < 0 || v > 255 {
			return nil, errors.New("set green: give 0 to 255")
		}
		f.green.Store(v)
		return session.SetResult{Value: a.Value}, nil
	})
	ln, err := net.Listen("unix", f.info.Socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { srv.Serve(ctx, ln); done <- struct{}{} }()
	go func() {
		defer func() { done <- struct{}{} }()
		fr := frame.New(frame.Format{Width: 64, Height: 48, Channels: 3, Elem: frame.U8})
		tick := time.NewTicker(time.Duration(float64(time.Second) / fps))
		defer tick.Stop()
		for ctx.Err() == nil {
			g := byte(f.green.Load())
			for i := 0; i < len(fr.Data); i += 3 {
				fr.Data[i], fr.Data[i+1], fr.Data[i+2] = 200, g, 90
			}
			w.Publish(fr)
			f.published.Add(1)
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done; w.Close() })
	return f
}

func serve(t *testing.T, f *fakeSession) *apiclient.Client {
	api, err := httpapi.New(httpapi.Config{Sessions: f, Token: "0123456789abcdef0123"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	c, err := apiclient.New(ts.URL+"/api/v1/sessions/fake", "0123456789abcdef0123")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitGreen takes frames until one has green g and returns when it arrived.
func waitGreen(t *testing.T, fr *apiclient.Frames, g int) time.Time {
	t.Helper()
	var f session.Frame
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := fr.Next(&f); ok && f.Channels == 4 && f.Width == 64 {
			if got := int(f.Pix[1]); got >= g-3 && got <= g+3 && int(f.Pix[0]) >= 197 && int(f.Pix[2]) <= 93 {
				return time.Now()
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no frame with green %d arrived (last %v)", g, f.Pix[:4])
	return time.Time{}
}

// TestControlAndFramesOverHTTP: a parameter set over HTTP reaches the session and the next
// frames show it; the session's own refusal comes back as a *session.RemoteError, as on
// the socket. It logs the frame rate and latency both ways over loopback.
func TestControlAndFramesOverHTTP(t *testing.T) {
	f := startFake(t, 60)
	c := serve(t, f)
	ctx := context.Background()
	info, err := c.Find(ctx, apiclient.SessionFromURL("http://x/api/v1/sessions/fake/frame.jpg"))
	if err != nil || info.ID != "fake" {
		t.Fatalf("find: %+v %v", info, err)
	}
	fr, err := c.Frames(ctx, info.ID, apiclient.FrameOptions{Quality: 90})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	ctl := c.Session(info.ID)
	waitGreen(t, fr, 0)
	var worst, total time.Duration
	const rounds = 10
	for i := 1; i <= rounds; i++ {
		g := i * 20
		start := time.Now()
		var res session.SetResult
		if err := ctl.Call(ctx, session.OpSet, session.SetArgs{Key: "green", Value: strconv.Itoa(g)}, &res); err != nil || res.Value != strconv.Itoa(g) {
			t.Fatalf("set green=%d: %+v %v", g, res, err)
		}
		d := waitGreen(t, fr, g).Sub(start)
		total += d
		worst = max(worst, d)
	}
	var re *session.RemoteError
	if err := ctl.Call(ctx, session.OpSet, session.SetArgs{Key: "blue", Value: "1"}, nil); !errors.As(err, &re) || re.Message != "set: no parameter blue" {
		t.Errorf("a refused set: %v", err)
	}
	if err := ctl.Call(ctx, "no-such-op", nil, nil); !errors.As(err, &re) {
		t.Errorf("an unknown op: %v, want a RemoteError", err)
	}
	st := fr.Stats()
	if st.Received < 10 || st.FPS < 20 {
		t.Errorf("stream stats %+v", st)
	}
	t.Logf("loopback, 64x48 JPEG at 60 fps: %.1f fps received, frame latency %.1f ms (ring to decoded), set -> visible frame %.1f ms mean, %.1f ms worst, %.1f KiB/frame",
		st.FPS, st.LatencyMS, float64(total.Microseconds())/rounds/1000, float64(worst.Microseconds())/1000, float64(st.Bytes)/float64(st.Received)/1024)
}

// TestSlowReaderSkipsFrames: a reader that takes no frame for a while gets the newest one
// when it looks again, never the backlog.
func TestSlowReaderSkipsFrames(t *testing.T) {
	f := startFake(t, 200)
	c := serve(t, f)
	fr, err := c.Frames(context.Background(), "fake", apiclient.FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	waitGreen(t, fr, 0)
	time.Sleep(300 * time.Millisecond) // ~60 frames published meanwhile
	var a, b session.Frame
	if ok, _ := fr.Next(&a); !ok {
		t.Fatal("no frame after the pause")
	}
	if ok, _ := fr.Next(&b); ok {
		t.Errorf("a second frame (%d) was queued behind the newest (%d)", b.Number, a.Number)
	}
	if pub := f.published.Load(); a.Number+20 < pub {
		t.Errorf("after the pause the reader got frame %d; %d were published", a.Number, pub)
	}
	if st := fr.Stats(); st.Skipped == 0 {
		t.Errorf("nothing skipped: %+v", st)
	}
}

// TestWrongToken: a client with the wrong token gets a StatusError 401, not a RemoteError.
func TestWrongToken(t *testing.T) {
	f := startFake(t, 30)
	api, _ := httpapi.New(httpapi.Config{Sessions: f, Token: "0123456789abcdef0123"})
	ts := httptest.NewServer(api)
	defer ts.Close()
	c, _ := apiclient.New(ts.URL, "wrong")
	_, err := c.Sessions(context.Background())
	var se *apiclient.StatusError
	if !errors.As(err, &se) || se.Code != 401 {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := c.Frames(context.Background(), "fake", apiclient.FrameOptions{}); !errors.As(err, &se) || se.Code != 401 {
		t.Errorf("frames with a wrong token: %v", err)
	}
	if _, err := apiclient.New("ftp://x", ""); err == nil {
		t.Error("an ftp URL was accepted")
	}
}

// TestFrameArrivesWithoutWaitingForTheNext: at 4 frames/s each frame is usable as soon as
// it arrives (its part ends with the next boundary), not a quarter second later.
func TestFrameArrivesWithoutWaitingForTheNext(t *testing.T) {
	f := startFake(t, 4)
	c := serve(t, f)
	fr, err := c.Frames(context.Background(), "fake", apiclient.FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	waitGreen(t, fr, 0)
	waitGreen(t, fr, 0)
	if st := fr.Stats(); st.LatencyMS > 100 {
		t.Errorf("frames arrive %.0f ms after they were sent (%+v)", st.LatencyMS, st)
	}
}
