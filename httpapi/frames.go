package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/scopenative/scope/session"
)

// DefaultQuality is the JPEG quality when a request names none.
const DefaultQuality = 85

func (s *Server) frameRoutes() {
	s.handle("GET /api/v1/sessions/{id}/frame.jpg", s.still(false))
	s.handle("GET /api/v1/sessions/{id}/frame.png", s.still(true))
	s.handle("GET /api/v1/sessions/{id}/stream.mjpeg", s.mjpeg)
	s.handle("GET /api/v1/sessions/{id}/events", s.events)
}

// quality reads ?quality= (1..100).
func quality(r *http.Request) (int, error) {
	q := r.URL.Query().Get("quality")
	if q == "" {
		return DefaultQuality, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > 100 {
		return 0, fmt.Errorf("quality %q: give a whole number from 1 to 100", q)
	}
	return n, nil
}

// openRing maps the session's frame ring.
func (s *Server) openRing(id string) (*session.Reader, error) {
	info, ok := s.find(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w (GET /api/v1/sessions lists them)", id, errNoSession)
	}
	return session.OpenReader(info.SHM)
}

// encode writes f as PNG or JPEG at quality q.
func encode(buf *bytes.Buffer, f *session.Frame, lossless bool, q int) error {
	if lossless {
		return png.Encode(buf, f.Image())
	}
	return jpeg.Encode(buf, f.Image(), &jpeg.Options{Quality: q})
}

// still answers the newest frame, waiting up to ?wait= (default 2 s) for a first one.
func (s *Server) still(lossless bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := quality(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		wait := 2 * time.Second
		if v := r.URL.Query().Get("wait"); v != "" {
			if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > time.Minute {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("wait %q: give a duration up to 1m, such as 500ms", v))
				return
			}
		}
		// ?after=N waits for a frame newer than N (a client that changed a parameter wants a
		// frame made after the change).
		var after uint64
		if v := r.URL.Query().Get("after"); v != "" {
			if after, err = strconv.ParseUint(v, 10, 64); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("after %q: give a frame number", v))
				return
			}
		}
		rd, err := s.openRing(r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer rd.Close()
		var f session.Frame
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		for {
			ok, err := rd.Next(&f)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if ok && f.Number > after {
				break
			}
			select {
			case <-ctx.Done():
				writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("session %s has no frame newer than %d yet (waited %v; ?wait= waits longer)", r.PathValue("id"), after, wait))
				return
			case <-time.After(s.cfg.FramePoll):
			}
		}
		var buf bytes.Buffer
		if err := encode(&buf, &f, lossless, q); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		ct := "image/jpeg"
		if lossless {
			ct = "image/png"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Scope-Frame", strconv.FormatUint(f.Number, 10))
		w.Write(buf.Bytes())
	}
}

// mjpeg streams the newest frames as multipart/x-mixed-replace (browsers, ffplay). Each part
// is the newest frame when the previous one was written: a slow client skips frames, none
// queue. ?lossless=1 sends PNG parts.
func (s *Server) mjpeg(w http.ResponseWriter, r *http.Request) {
	q, err := quality(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	lossless := r.URL.Query().Get("lossless") == "1"
	rd, err := s.openRing(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rd.Close()
	// The parts are written by hand so that each one ends with the next boundary line: a
	// reader knows a part is whole as soon as it arrives, not when the next frame comes.
	boundary := multipart.NewWriter(io.Discard).Boundary()
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	ct := "image/jpeg"
	if lossless {
		ct = "image/png"
	}
	fmt.Fprintf(w, "--%s\r\n", boundary)
	var f session.Frame
	var buf bytes.Buffer
	tick := time.NewTicker(s.cfg.FramePoll)
	defer tick.Stop()
	for {
		ok, err := rd.Next(&f)
		if err != nil || (!ok && rd.Closed()) {
			fmt.Fprintf(w, "\r\n--%s--\r\n", boundary)
			return
		}
		if ok {
			taken := time.Now()
			buf.Reset()
			if encode(&buf, &f, lossless, q) != nil {
				return
			}
			fmt.Fprintf(w, "Content-Type: %s\r\nContent-Length: %d\r\nX-Scope-Frame: %d\r\nX-Scope-PTS-Ms: %.3f\r\nX-Scope-Sent-Unix-Ms: %d\r\n\r\n",
				ct, buf.Len(), f.Number, float64(f.PTS)/float64(time.Millisecond), taken.UnixMilli())
			buf.WriteString("\r\n--" + boundary + "\r\n")
			if _, err := w.Write(buf.Bytes()); err != nil || rc.Flush() != nil {
				return
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// events streams the session's info (stats, values, prompts) as server-sent events, one
// "stats" event per ?interval= (default 1 s), and an "end" event when the session ends.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	interval := time.Second
	if v := r.URL.Query().Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 50*time.Millisecond || d > time.Minute {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("interval %q: give a duration from 50ms to 1m", v))
			return
		}
		interval = d
	}
	id := r.PathValue("id")
	if _, ok := s.find(id); !ok {
		s.fail(w, r, fmt.Errorf("session %q: %w (GET /api/v1/sessions lists them)", id, errNoSession))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		var info session.InfoResult
		if err := s.call(r.Context(), id, session.OpInfo, nil, &info); err != nil {
			if r.Context().Err() == nil {
				writeEvent(w, "end", map[string]string{"session": id, "reason": err.Error()})
				rc.Flush()
			}
			return
		}
		writeEvent(w, "stats", info)
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(interval):
		}
	}
}

// writeEvent writes one server-sent event with a JSON payload.
func writeEvent(w http.ResponseWriter, name string, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
}
