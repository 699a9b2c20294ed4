// Package apiclient is the client half of the HTTP API (package httpapi): it lists sessions,
// runs their operations and receives their frames from a `scope serve` on another machine.
// The network preview (scope-preview --url) is built on it.
//
// Operations travel as POST /api/v1/sessions/{id}/ops/{op}, so a Control answers the same
// operations as a session.Client on the control socket, and an error the session answers is
// a *session.RemoteError here too. Frames arrive as an MJPEG (or PNG) stream; the reader
// keeps only the newest one, and the server always sends its newest, so a slow link drops
// frames instead of queueing them.
package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scopenative/scope/session"
)

// Client talks to one `scope serve`.
type Client struct {
	base  string // scheme://host[:port], no trailing slash
	token string
	hc    *http.Client
}

// New returns a client for the server at rawURL (http[s]://host:port, optionally followed
// by a path, which is ignored) sending token as a bearer token when it is not empty.
func New(rawURL, token string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: give http://HOST:PORT or https://HOST:PORT", rawURL)
	}
	return &Client{base: u.Scheme + "://" + u.Host, token: token, hc: &http.Client{}}, nil
}

// SessionFromURL returns the session id of a URL of the form .../sessions/ID[/...], or "".
func SessionFromURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	_, rest, ok := strings.Cut(u.Path, "/sessions/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// Base returns the server's address.
func (c *Client) Base() string { return c.base }

func (c *Client) request(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	return resp, nil
}

// StatusError is an error answer of the server that is not the session's own (a wrong
// token, an unknown session, a server error).
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// errorOf reads an error answer.
func errorOf(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct{ Error string }
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(b))
}

// do sends a JSON request and decodes a 2xx JSON answer into res (nil: ignore it).
func (c *Client) do(ctx context.Context, method, path string, body, res any) error {
	resp, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Message: errorOf(resp)}
	}
	if res == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(res); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Sessions lists the server's sessions.
func (c *Client) Sessions(ctx context.Context) ([]session.Info, error) {
	var r struct {
		Sessions []session.Info `json:"sessions"`
	}
	err := c.do(ctx, "GET", "/api/v1/sessions", nil, &r)
	return r.Sessions, err
}

// Find returns the session with this id, or the only one with "".
func (c *Client) Find(ctx context.Context, id string) (session.Info, error) {
	list, err := c.Sessions(ctx)
	if err != nil {
		return session.Info{}, err
	}
	var ids []string
	for _, in := range list {
		if in.ID == id || id == "" && len(list) == 1 {
			return in, nil
		}
		ids = append(ids, in.ID)
	}
	switch {
	case len(list) == 0:
		return session.Info{}, fmt.Errorf("%s has no running session; start one with POST /api/v1/sessions", c.base)
	case id == "":
		return session.Info{}, fmt.Errorf("%s has %d sessions (%s); name one", c.base, len(list), strings.Join(ids, ", "))
	}
	return session.Info{}, fmt.Errorf("%s has no session %s (it has %s)", c.base, id, strings.Join(ids, ", "))
}

// Control runs one session's operations over HTTP; it answers like a session.Client.
type Control struct {
	c  *Client
	id string
}

// Session returns the control of the session with this id.
func (c *Client) Session(id string) *Control { return &Control{c: c, id: id} }

// Call runs op with req as its arguments (nil = none) and decodes the result into resp (nil
// = ignore it). An error the session answered (400) or an unknown operation (404 from a live
// session) is a *session.RemoteError, as on the socket; other failures are errors of the
// connection or a *StatusError.
func (s *Control) Call(ctx context.Context, op string, req, resp any) error {
	if req == nil {
		req = struct{}{}
	}
	err := s.c.do(ctx, "POST", "/api/v1/sessions/"+url.PathEscape(s.id)+"/ops/"+url.PathEscape(op), req, resp)
	var se *StatusError
	if errors.As(err, &se) && (se.Code == http.StatusBadRequest || se.Code == http.StatusNotFound && strings.HasPrefix(se.Message, "unknown operation")) {
		return &session.RemoteError{Op: op, Message: se.Message}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Close releases nothing (HTTP connections are pooled); it is there to match session.Client.
func (s *Control) Close() error { return nil }

// FrameOptions tune a frame stream.
type FrameOptions struct {
	// Quality is the JPEG quality (1..100, 0 = the server's default).
	Quality int
	// Lossless asks for PNG frames.
	Lossless bool
}

// FrameStats are measurements of a frame stream.
type FrameStats struct {
	Received uint64  // frames received and decoded
	Skipped  uint64  // received but replaced by a newer one before Next took them
	FPS      float64 // received frames per second (recent)
	// LatencyMS is the recent mean time from the server sending a frame to it being decoded
	// here (clocks of both machines must agree; on one machine they do).
	LatencyMS float64
	Bytes     uint64 // compressed bytes received
}

// Frames is a stream of a session's newest frames.
type Frames struct {
	resp   *http.Response
	cancel context.CancelFunc

	mu       sync.Mutex
	newest   session.Frame
	fresh    bool // newest not taken yet
	closed   bool
	err      error
	stats    FrameStats
	lastAt   time.Time
	interval time.Duration
}

// Frames opens the session's frame stream.
func (c *Client) Frames(ctx context.Context, id string, o FrameOptions) (*Frames, error) {
	q := url.Values{}
	if o.Quality > 0 {
		q.Set("quality", strconv.Itoa(o.Quality))
	}
	if o.Lossless {
		q.Set("lossless", "1")
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.request(ctx, "GET", "/api/v1/sessions/"+url.PathEscape(id)+"/stream.mjpeg?"+q.Encode(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		cancel()
		return nil, &StatusError{Code: resp.StatusCode, Message: errorOf(resp)}
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("frame stream of %s: not a multipart stream (%q)", id, resp.Header.Get("Content-Type"))
	}
	f := &Frames{resp: resp, cancel: cancel}
	go f.read(multipart.NewReader(bufio.NewReaderSize(resp.Body, 256<<10), params["boundary"]))
	return f, nil
}

// read decodes parts until the stream ends, keeping the newest frame.
func (f *Frames) read(mr *multipart.Reader) {
	defer f.resp.Body.Close()
	var buf bytes.Buffer
	for {
		p, err := mr.NextPart()
		if err != nil {
			f.end(err)
			return
		}
		buf.Reset()
		n, err := buf.ReadFrom(p)
		if err != nil {
			f.end(err)
			return
		}
		if n == 0 {
			continue // the empty part before the closing boundary
		}
		var img image.Image
		if p.Header.Get("Content-Type") == "image/png" {
			img, err = png.Decode(&buf)
		} else {
			img, err = jpeg.Decode(&buf)
		}
		if err != nil {
			f.end(fmt.Errorf("decode frame: %w", err))
			return
		}
		now := time.Now()
		number, _ := strconv.ParseUint(p.Header.Get("X-Scope-Frame"), 10, 64)
		sent, _ := strconv.ParseInt(p.Header.Get("X-Scope-Sent-Unix-Ms"), 10, 64)
		f.store(img, number, now, sent, uint64(n))
	}
}

// store makes img the newest frame (RGBA, 4 channels).
func (f *Frames) store(img image.Image, number uint64, now time.Time, sentMS int64, n uint64) {
	b := img.Bounds()
	rgba, ok := img.(*image.NRGBA)
	if !ok || rgba.Stride != 4*b.Dx() {
		rgba = image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fresh {
		f.stats.Skipped++
	}
	f.newest.Pix = append(f.newest.Pix[:0], rgba.Pix...)
	f.newest.Number, f.newest.Width, f.newest.Height, f.newest.Channels = number, b.Dx(), b.Dy(), 4
	f.fresh = true
	f.stats.Received++
	f.stats.Bytes += n
	if !f.lastAt.IsZero() {
		d := now.Sub(f.lastAt)
		if f.interval == 0 {
			f.interval = d
		} else {
			f.interval += (d - f.interval) / 16
		}
		if f.interval > 0 {
			f.stats.FPS = float64(time.Second) / float64(f.interval)
		}
	}
	f.lastAt = now
	if sentMS > 0 {
		lat := float64(now.UnixMicro()-sentMS*1000) / 1000
		if f.stats.LatencyMS == 0 {
			f.stats.LatencyMS = lat
		} else {
			f.stats.LatencyMS += (lat - f.stats.LatencyMS) / 16
		}
	}
}

func (f *Frames) end(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
		f.err = err
	}
}

// Next copies the newest frame into dst if one arrived since the last Next, and reports
// whether it did. It never waits.
func (f *Frames) Next(dst *session.Frame) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fresh {
		return false, nil
	}
	f.fresh = false
	pix := append(dst.Pix[:0], f.newest.Pix...)
	*dst = f.newest
	dst.Pix = pix
	return true, nil
}

// Closed reports whether the stream has ended (the session ended or the link broke).
func (f *Frames) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Err returns why the stream ended, when it was not a clean end.
func (f *Frames) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// ReadAudio reads no audio: the network preview carries video only.
func (f *Frames) ReadAudio([]float32) (int, int) { return 0, 0 }

// Stats returns the stream's measurements so far.
func (f *Frames) Stats() FrameStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Close ends the stream.
func (f *Frames) Close() error {
	f.cancel()
	return nil
}
