//go:build cgo

package render

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/scopenative/scope/httpapi/apiclient"
	"github.com/scopenative/scope/session"
)

// network is a session of a `scope serve` on another machine: frames from its MJPEG stream,
// operations over its HTTP API.
type network struct {
	info   session.Info
	frames *apiclient.Frames
	remote *remote
	ctl    *timedControl
}

// attachNetwork finds the session at opts.URL and opens its frame stream.
func attachNetwork(ctx context.Context, opts Options) (*network, error) {
	cl, err := apiclient.New(opts.URL, opts.Token)
	if err != nil {
		return nil, err
	}
	id := opts.Session
	if id == "" {
		id = apiclient.SessionFromURL(opts.URL)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	info, err := cl.Find(fctx, id)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", opts.URL, err)
	}
	frames, err := cl.Frames(ctx, info.ID, apiclient.FrameOptions{Quality: opts.Quality, Lossless: opts.Lossless})
	if err != nil {
		return nil, fmt.Errorf("attach to session %s at %s: %w", info.ID, cl.Base(), err)
	}
	n := &network{info: info, frames: frames, ctl: &timedControl{Control: cl.Session(info.ID)}}
	n.remote = &remote{info: info, pending: map[pkey]string{}, wake: make(chan struct{}, 1),
		dial: func() (control, error) { return n.ctl, nil },
		alive: func() bool {
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := cl.Find(actx, info.ID)
			var se *apiclient.StatusError
			return err == nil || !(errors.As(err, &se) && se.Code < 500) && !frames.Closed()
		}}
	return n, nil
}

// report is the network line of --report: frames/s received, latency both ways.
func (n *network) report() string {
	st := n.frames.Stats()
	kb := 0.0
	if st.Received > 0 {
		kb = float64(st.Bytes) / float64(st.Received) / 1024
	}
	return fmt.Sprintf("network: %.1f fps received, frame latency %.1f ms (server to window), control round trip %.1f ms (window to server and back), %d frames, %d skipped, %.1f KiB/frame",
		st.FPS, st.LatencyMS, n.ctl.meanMS(), st.Received, st.Skipped, kb)
}

// timedControl measures the round trip of each operation.
type timedControl struct {
	*apiclient.Control
	mu    sync.Mutex
	mean  float64
	calls int
}

// Call runs the operation and records its round trip.
func (t *timedControl) Call(ctx context.Context, op string, req, resp any) error {
	start := time.Now()
	err := t.Control.Call(ctx, op, req, resp)
	ms := float64(time.Since(start).Microseconds()) / 1000
	t.mu.Lock()
	t.calls++
	t.mean += (ms - t.mean) / float64(min(t.calls, 16))
	t.mu.Unlock()
	return err
}

func (t *timedControl) meanMS() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mean
}
