package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scopenative/scope/session"
)

// fakeSessions records the start requests that got through the API's checks.
type fakeSessions struct{ started []StartRequest }

func (f *fakeSessions) List() []session.Info { return nil }

func (f *fakeSessions) Start(_ context.Context, req StartRequest) (session.Info, error) {
	f.started = append(f.started, req)
	return session.Info{ID: "s1"}, nil
}

// fakePlugins records installs.
type fakePlugins struct{ installed []string }

func (f *fakePlugins) List(context.Context, bool) ([]Plugin, error) { return nil, nil }
func (f *fakePlugins) Install(_ context.Context, spec string, _ bool, step func(string)) (Plugin, error) {
	step("fetch " + spec)
	f.installed = append(f.installed, spec)
	return Plugin{Name: "p"}, nil
}
func (f *fakePlugins) Uninstall(context.Context, string, bool) error { return nil }
func (f *fakePlugins) Reload(context.Context, string, func(string)) (Plugin, error) {
	return Plugin{}, nil
}
func (f *fakePlugins) Local(spec string) (string, error) {
	if p, ok := strings.CutPrefix(spec, "file://"); ok {
		return p, nil
	}
	if strings.HasPrefix(spec, "/") {
		return spec, nil
	}
	return "", nil
}

func newTestServer(t testing.TB, allowed string) (*Server, *fakeSessions, *fakePlugins) {
	fs, fp := &fakeSessions{}, &fakePlugins{}
	var dirs []string
	if allowed != "" {
		dirs = []string{allowed}
	}
	s, err := New(Config{Sessions: fs, Plugins: fp, AllowDirs: dirs, MaxBody: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return s, fs, fp
}

// TestOpenAPIMatchesRoutes: the document lists exactly the routes the server registers.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, _, _ := newTestServer(t, "")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %d %v", rec.Code, err)
	}
	var documented, served []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, r := range s.routes {
		served = append(served, r.method+" "+r.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.json documents\n  %v\nthe server serves\n  %v", documented, served)
	}
	if len(served) < 15 {
		t.Errorf("only %d routes registered", len(served))
	}
}

// TestSymlinkOutOfAllowedFolder: a link inside the allowed folder pointing out of it is
// refused as the path it resolves to.
func TestSymlinkOutOfAllowedFolder(t *testing.T) {
	allowed, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	s, fs, _ := newTestServer(t, allowed)
	for _, out := range []string{filepath.Join(allowed, "link", "out.png"), filepath.Join(allowed, "link", "new", "out.png"), filepath.Join(allowed, "..", "x.png")} {
		rec := httptest.NewRecorder()
		body, _ := json.Marshal(StartRequest{Chain: "c", Output: out})
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sessions", strings.NewReader(string(body))))
		if rec.Code != http.StatusForbidden {
			t.Errorf("output %s: %d %s, want 403", out, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	body, _ := json.Marshal(StartRequest{Chain: "c", Output: filepath.Join(allowed, "sub", "%05d.png")})
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sessions", strings.NewReader(string(body))))
	if rec.Code != http.StatusCreated || len(fs.started) != 1 {
		t.Errorf("a sequence inside the allowed folder: %d %s", rec.Code, rec.Body)
	}
}

// allowedSpec reports whether a media spec that reached Sessions.Start is one the API may
// pass: generated, null, a network URL, or a path inside dir.
func allowedSpec(spec, dir string) bool {
	switch {
	case spec == "", spec == "null", spec == "testsrc", strings.HasPrefix(spec, "testsrc:"), strings.HasPrefix(spec, "solid:"):
		return true
	}
	if scheme, _, ok := strings.Cut(spec, "://"); ok && networkSchemes[strings.ToLower(scheme)] {
		return true
	}
	spec = strings.TrimPrefix(spec, "file://")
	real, err := resolve(spec)
	return err == nil && strings.HasPrefix(real, dir+"/")
}

// FuzzRequestBodies feeds arbitrary bodies to the JSON routes: nothing panics or answers
// 500, and no start request or install that names a file outside the allowed folder gets
// past the checks.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"chain":"a,b","params":["x=1"],"output":"/tmp/x.png"}`,
		`{"chain":"a","input":"file:///etc/passwd"}`,
		`{"chain":"a","output":"rtmp://host/live"}`,
		`{"chain":"a","output":"FILE:///etc/x"}`,
		`{"chain":"a","input":"solid:red"}`,
		`{"chain":"a","graph":{}}`,
		`{"package":"file:///etc"}`,
		`{"package":"https://example.com/p.git"}`,
		`{"chain":1}`, `[]`, `null`, `{"chain":"a"} {"chain":"b"}`, `{"chain":"a"`, "\x00", `{"chain":"a","frames":1e400}`,
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	dir, _ = filepath.EvalSymlinks(dir)
	f.Fuzz(func(t *testing.T, body string) {
		s, fs, fp := newTestServer(t, dir)
		for _, path := range []string{"/api/v1/sessions", "/api/v1/plugins"} {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
			if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
				t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var e apiError
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
					t.Fatalf("POST %s %q: %d without a message: %s", path, body, rec.Code, rec.Body)
				}
			}
		}
		for _, r := range fs.started {
			if !allowedSpec(r.Input, dir) || !allowedSpec(r.Output, dir) {
				t.Fatalf("start %+v got past the folder check", r)
			}
		}
		for _, spec := range fp.installed {
			if local, _ := fp.Local(spec); local != "" && !allowedSpec(local, dir) {
				t.Fatalf("install %q got past the folder check", spec)
			}
		}
	})
}
