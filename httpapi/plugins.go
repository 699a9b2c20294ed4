package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/scopenative/scope/plugins/manager"
)

// InstallRequest is the body of POST /api/v1/plugins (Scope's field name for the spec).
type InstallRequest struct {
	// Package is the install SPEC, as `scope plugin install` takes it: a git URL (with
	// @ref), a folder or an index name.
	Package string `json:"package"`
	// Replace installs over an installed plugin of the same name (--force).
	Replace bool `json:"replace,omitempty"`
}

func (s *Server) pluginRoutes() {
	s.handle("GET /api/v1/plugins", s.plugins(s.listPlugins))
	s.handle("POST /api/v1/plugins", s.plugins(s.installPlugin))
	s.handle("DELETE /api/v1/plugins/{name}", s.plugins(s.uninstallPlugin))
	s.handle("POST /api/v1/plugins/{name}/reload", s.plugins(s.reloadPlugin))
}

// plugins answers 503 when the server manages no plugins.
func (s *Server) plugins(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Plugins == nil {
			writeError(w, http.StatusServiceUnavailable, "this server does not manage plugins")
			return
		}
		fn(w, r)
	}
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Plugins.List(r.Context(), r.URL.Query().Get("refresh") == "1")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if list == nil {
		list = []Plugin{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"plugins": list})
}

// wantsEvents reports whether the client asked for a stream of events.
func wantsEvents(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream") || r.URL.Query().Get("stream") == "1"
}

// progress runs a plugin transaction. With events it streams "step" events, then "done"
// (the plugin) or "error"; otherwise it answers the plugin as JSON at the end.
func (s *Server) progress(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, step func(string)) (Plugin, error)) {
	if !wantsEvents(r) {
		pl, err := run(r.Context(), func(string) {})
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, pl)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var mu sync.Mutex // steps may come from the manager's goroutines
	send := func(name string, v any) {
		mu.Lock()
		defer mu.Unlock()
		writeEvent(w, name, v)
		rc.Flush()
	}
	pl, err := run(r.Context(), func(step string) { send("step", map[string]string{"step": step}) })
	if err != nil {
		send("error", apiError{Error: err.Error()})
		return
	}
	send("done", pl)
}

func (s *Server) installPlugin(w http.ResponseWriter, r *http.Request) {
	var req InstallRequest
	if err := decodeBody(r.Body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	local, err := s.cfg.Plugins.Local(req.Package)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("install %q: %v", req.Package, err))
		return
	}
	if local != "" {
		if _, err := s.checkPath("install", local); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.progress(w, r, func(ctx context.Context, step func(string)) (Plugin, error) {
		return s.cfg.Plugins.Install(ctx, req.Package, req.Replace, step)
	})
}

func (s *Server) uninstallPlugin(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.cfg.Plugins.Uninstall(r.Context(), name, r.URL.Query().Get("force") == "1"); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, manager.ErrNotInstalled) {
			code = http.StatusNotFound
		}
		writeError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"uninstalled": name})
}

func (s *Server) reloadPlugin(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.progress(w, r, func(ctx context.Context, step func(string)) (Plugin, error) {
		return s.cfg.Plugins.Reload(ctx, name, step)
	})
}
