package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scopenative/scope/graph"
	"github.com/scopenative/scope/session"
)

// StartRequest is the body of POST /api/v1/sessions: what `scope run` takes, as JSON.
type StartRequest struct {
	// Chain is "PIPELINE[,PIPELINE...]", as `scope run` takes it.
	Chain string `json:"chain"`
	// Graph is a graph file's text (TOML, docs/graphs.md), instead of Chain, Input and Output:
	// its sources and sinks are checked against the allowed folders as Input and Output are.
	Graph string `json:"graph,omitempty"`
	// Params and LoadParams are "key=value" assignments, as --param and --load-param.
	Params     []string `json:"params,omitempty"`
	LoadParams []string `json:"load_params,omitempty"`
	// Prompts are "TEXT" or "TEXT::WEIGHT", as --prompt.
	Prompts []string `json:"prompts,omitempty"`
	// Input and Output are a source and a sink spec (default testsrc and null); files must
	// lie inside the server's allowed folders.
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	// Frames stops after N output frames (0: until stopped or the source ends).
	Frames int `json:"frames,omitempty"`
	// FPS paces the run (0: 30, a live session; negative: as fast as it runs).
	FPS float64 `json:"fps,omitempty"`
	// Size is the WxH of generated input; Mode the first pipeline's mode.
	Size string `json:"size,omitempty"`
	Mode string `json:"mode,omitempty"`
}

// pathKeys are the argument names whose string values name files; the generic operation
// route checks them (at any depth) against the allowed folders before forwarding.
var pathKeys = map[string]bool{"path": true, "library": true, "input": true, "output": true,
	"source": true, "sink": true, "file": true, "store_dir": true, "plugin": true}

func (s *Server) sessionRoutes() {
	s.handle("GET /api/v1/sessions", s.listSessions)
	s.handle("POST /api/v1/sessions", s.startSession)
	s.handle("GET /api/v1/sessions/{id}", s.op(session.OpInfo, false))
	s.handle("DELETE /api/v1/sessions/{id}", s.op(session.OpStop, false))
	s.handle("POST /api/v1/sessions/{id}/params", s.op(session.OpSet, true))
	s.handle("PUT /api/v1/sessions/{id}/prompts", s.op(session.OpPrompts, true))
	s.handle("POST /api/v1/sessions/{id}/pause", s.op(session.OpPause, false))
	s.handle("POST /api/v1/sessions/{id}/resume", s.op(session.OpResume, false))
	s.handle("POST /api/v1/sessions/{id}/save-frame", s.op(session.OpSaveFrame, true))
	s.handle("POST /api/v1/sessions/{id}/ops/{op}", func(w http.ResponseWriter, r *http.Request) {
		s.op(r.PathValue("op"), true)(w, r)
	})
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	list := s.cfg.Sessions.List()
	if list == nil {
		list = []session.Info{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if err := decodeBody(r.Body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Graph != "" {
		if err := s.checkGraph(req); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if strings.TrimSpace(req.Chain) == "" {
		writeError(w, http.StatusBadRequest, "start a session: give \"chain\": \"PIPELINE[,PIPELINE...]\" (see GET /api/v1/pipelines or 'scope pipelines')")
		return
	}
	for _, m := range []struct{ what, spec string }{{"input", req.Input}, {"output", req.Output}} {
		if err := s.checkMedia(m.what, m.spec); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	info, err := s.cfg.Sessions.Start(r.Context(), req)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("start %s: %v", req.Chain, err))
		return
	}
	w.Header().Set("Location", "/api/v1/sessions/"+info.ID)
	writeJSON(w, http.StatusCreated, info)
}

// checkGraph refuses a graph description that does not parse, that comes with the chain
// form's fields, or whose sources and sinks name files outside the allowed folders.
func (s *Server) checkGraph(req StartRequest) error {
	if req.Chain != "" || req.Input != "" || req.Output != "" {
		return requestError("start a session: give \"graph\" alone, or \"chain\" with \"input\" and \"output\", not both")
	}
	g, err := graph.Parse(req.Graph)
	if err != nil {
		return requestError("graph: " + err.Error())
	}
	for _, n := range g.Nodes {
		switch {
		case n.Kind == graph.Source:
			err = s.checkMedia("graph source "+n.Name, n.Spec)
		case n.Kind == graph.Sink && n.Spec != "preview" && n.Spec != "session":
			err = s.checkMedia("graph sink "+n.Name, n.Spec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// find returns the session with this id.
func (s *Server) find(id string) (session.Info, bool) {
	for _, in := range s.cfg.Sessions.List() {
		if in.ID == id {
			return in, true
		}
	}
	return session.Info{}, false
}

// op returns a handler forwarding op to the session's control socket, with the request body
// as its arguments when withArgs (an object; its file paths checked first).
func (s *Server) op(op string, withArgs bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var args json.RawMessage
		if withArgs {
			var obj map[string]any
			if err := decodeBody(r.Body, &obj); err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			if obj != nil {
				if err := s.checkArgs(op, obj); err != nil {
					s.fail(w, r, err)
					return
				}
				args, _ = json.Marshal(obj)
			}
			if op == session.OpSaveFrame && (obj == nil || obj["path"] == nil) {
				writeError(w, http.StatusBadRequest, "save-frame: give \"path\": an absolute .png path inside an allowed folder (or GET the frame.png route)")
				return
			}
		}
		var res json.RawMessage
		if err := s.call(r.Context(), r.PathValue("id"), op, args, &res); err != nil {
			s.fail(w, r, err)
			return
		}
		if len(res) == 0 {
			res = json.RawMessage("{}")
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// checkArgs checks every file path among an operation's arguments.
func (s *Server) checkArgs(op string, v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if str, ok := x.(string); ok && pathKeys[k] {
				if k == "plugin" && !strings.ContainsRune(str, '/') {
					continue // a plugin's name, not its library
				}
				if err := s.checkMedia(op+" "+k, str); err != nil {
					return err
				}
				continue
			}
			if err := s.checkArgs(op, x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := s.checkArgs(op, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// errNoSession marks an unknown session id (404).
var errNoSession = errors.New("no such session")

// requestError is a request the server understood and refuses as it stands (400).
type requestError string

func (e requestError) Error() string { return string(e) }

// call runs op on the session with this id through its control socket.
func (s *Server) call(ctx context.Context, id, op string, args json.RawMessage, res any) error {
	info, ok := s.find(id)
	if !ok {
		return fmt.Errorf("session %q: %w (GET /api/v1/sessions lists them)", id, errNoSession)
	}
	c, err := session.DialInfo(info)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var req any
	if args != nil {
		req = args
	}
	return c.Call(ctx, op, req, res)
}

// fail answers err with the status its kind calls for.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadGateway // the session did not answer
	var re *session.RemoteError
	switch {
	case errors.Is(err, errNoSession):
		code = http.StatusNotFound
	case errors.Is(err, errForbidden):
		code = http.StatusForbidden
	case errors.As(err, new(requestError)):
		code = http.StatusBadRequest
	case errors.As(err, &re):
		code = http.StatusBadRequest
		if strings.HasPrefix(re.Message, "unknown operation") {
			code = http.StatusNotFound
		}
	}
	s.cfg.Log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", code, "error", err)
	writeError(w, code, err.Error())
}
