// Package httpapi is the HTTP face of Scope Native (`scope serve`): sessions, their
// operations, frames, live stats, metrics and plugins over HTTP, for a runtime on another
// machine.
//
// It reimplements no operation. Everything a session can do goes through the session's own
// control socket (session.Client), so whatever the socket can do, HTTP can: the generic route
// POST /api/v1/sessions/{id}/ops/{op} forwards any operation, and the named routes (params,
// prompts, pause, ...) are conveniences over the same calls. Frames come from the session's
// shared-memory ring (session.Reader), always the newest one: a slow client skips frames, it
// never makes them queue. Starting sessions and managing plugins are the jobs of the caller's
// Sessions and Plugins (the scope command wires them to `scope run` and the plugin manager).
//
// Security: with a Token every request but /healthz needs "Authorization: Bearer TOKEN";
// request bodies are bounded (MaxBody); and no path reaches the disk unless it lies inside
// one of AllowDirs (save-frame, file sources and sinks, plugin installs from a folder or a
// file:// repository).
package httpapi

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scopenative/scope/session"
)

// DefaultMaxBody bounds a request body when Config.MaxBody is 0.
const DefaultMaxBody = 1 << 20

// Sessions starts and lists the sessions the API serves.
type Sessions interface {
	// List returns the running sessions.
	List() []session.Info
	// Start starts a session and returns once it is reachable (its control socket listens).
	Start(ctx context.Context, req StartRequest) (session.Info, error)
}

// Plugins manages installed plugins (nil in Config: the plugin routes answer 503).
type Plugins interface {
	// List returns the installed plugins; refresh skips the update-check cache.
	List(ctx context.Context, refresh bool) ([]Plugin, error)
	// Install installs spec (already checked against AllowDirs), telling step each step.
	Install(ctx context.Context, spec string, replace bool, step func(string)) (Plugin, error)
	// Uninstall removes a plugin; force stops the sessions that use it first.
	Uninstall(ctx context.Context, name string, force bool) error
	// Reload rebuilds a linked plugin and swaps it into the sessions that use it.
	Reload(ctx context.Context, name string, step func(string)) (Plugin, error)
	// Local returns the folder a spec installs from, or "" when it reads no local file
	// (the validation `scope plugin install` applies, so both refuse the same specs).
	Local(spec string) (string, error)
}

// Plugin is one installed plugin as the API lists it.
type Plugin struct {
	Name            string   `json:"name"`
	Version         string   `json:"version,omitempty"`
	Source          string   `json:"source"`
	Pipelines       []string `json:"pipelines"`
	Linked          bool     `json:"linked,omitempty"`
	UpdateAvailable bool     `json:"update_available"`
	Update          string   `json:"update,omitempty"` // the check's state: available, up-to-date, unknown, pinned, linked
	Latest          string   `json:"latest,omitempty"`
}

// Config configures a Server.
type Config struct {
	// Sessions starts and lists sessions. Required.
	Sessions Sessions
	// Plugins manages plugins; nil turns the plugin routes off (503).
	Plugins Plugins
	// Token, when set, is required as "Authorization: Bearer TOKEN" on every route but /healthz.
	Token string
	// AllowDirs are the folders the API may read or write files in; none means no file at all.
	AllowDirs []string
	// MaxBody bounds request bodies in bytes (0 = DefaultMaxBody).
	MaxBody int64
	// GPUMemory, when set, reports the GPU's used and total bytes for /metrics (ok false: none).
	GPUMemory func() (used, total uint64, ok bool)
	// Log receives one line per failed request (nil: discarded).
	Log *slog.Logger
	// FramePoll is how often frame streams look for a new frame (0 = 5 ms).
	FramePoll time.Duration
}

// Server is the HTTP API; it is an http.Handler.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	reg     *prometheus.Registry
	allowed []string // AllowDirs, absolute with symlinks resolved
	routes  []route
}

// route is one registered route, for the OpenAPI check.
type route struct{ method, path string }

// New returns the API for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Sessions == nil {
		return nil, errors.New("httpapi: no Sessions")
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.FramePoll == 0 {
		cfg.FramePoll = 5 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	for _, d := range cfg.AllowDirs {
		abs, err := resolve(d)
		if err != nil {
			return nil, fmt.Errorf("allowed folder %s: %w", d, err)
		}
		s.allowed = append(s.allowed, abs)
	}
	s.reg.MustRegister(&collector{s: s})
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /api/openapi.json", s.openapi)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.routes = append(s.routes, route{"GET", "/metrics"})
	s.sessionRoutes()
	s.frameRoutes()
	s.pluginRoutes()
	return s, nil
}

// handle registers fn for a "METHOD /path" pattern.
func (s *Server) handle(pattern string, fn http.HandlerFunc) {
	s.mux.HandleFunc(pattern, fn)
	m, p, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, route{m, p})
}

// ServeHTTP checks the token and the body size, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" && r.URL.Path != "/healthz" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scope"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong token: send the header \"Authorization: Bearer TOKEN\" with the token `scope serve` printed (stored in its token file)")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.Token)) == 1
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "sessions": len(s.cfg.Sessions.List())})
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// decodeBody reads a JSON request body into v: an empty body leaves v as it is, malformed
// JSON, unknown fields, trailing data and a body over the limit are errors a client can act on.
func decodeBody(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("request body too large: the limit is %d bytes (scope serve --max-body)", mb.Limit)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	return DecodeJSON(b, v)
}

// DecodeJSON decodes one JSON object from b into v, strictly: unknown fields and anything
// after the object are errors, and an empty body leaves v unchanged.
func DecodeJSON(b []byte, v any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("malformed JSON body: more than one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("malformed JSON body: data after the JSON value")
	}
	return nil
}

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
}
