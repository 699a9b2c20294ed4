package httpapi

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// errForbidden marks a request for a file outside the allowed folders (403).
var errForbidden = errors.New("forbidden")

// resolve returns path absolute, with the symlinks of its longest existing prefix resolved,
// so a link inside an allowed folder cannot point out of it.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest), nil
		}
		if p == filepath.Dir(p) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// checkPath returns path resolved if it lies inside an allowed folder, else an error that
// wraps errForbidden and says how the server's owner allows a folder.
func (s *Server) checkPath(what, path string) (string, error) {
	real, err := resolve(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", what, path, err)
	}
	for _, d := range s.allowed {
		if real == d || strings.HasPrefix(real, d+string(filepath.Separator)) {
			return real, nil
		}
	}
	if len(s.allowed) == 0 {
		return "", fmt.Errorf("%s %s: %w: this server allows no file access; its owner can allow a folder with scope serve --allow-dir DIR", what, path, errForbidden)
	}
	return "", fmt.Errorf("%s %s: %w: not inside an allowed folder (%s)", what, path, errForbidden, strings.Join(s.allowed, ", "))
}

// networkSchemes are the URL schemes of sources and sinks that read or write no local file.
var networkSchemes = map[string]bool{"http": true, "https": true, "rtsp": true, "rtsps": true, "rtmp": true,
	"rtmps": true, "srt": true, "udp": true, "rtp": true}

// checkMedia checks a source or sink spec: generated sources and the null sink are fine,
// network URLs are fine, anything else is a file that must lie inside an allowed folder.
func (s *Server) checkMedia(what, spec string) error {
	switch {
	case spec == "", spec == "null", spec == "testsrc", strings.HasPrefix(spec, "testsrc:"), strings.HasPrefix(spec, "solid:"):
		return nil
	}
	if scheme, rest, ok := strings.Cut(spec, "://"); ok && !strings.ContainsAny(scheme, "/.") {
		if networkSchemes[strings.ToLower(scheme)] {
			return nil
		}
		if strings.ToLower(scheme) != "file" {
			return fmt.Errorf("%s %s: %w: the %s:// scheme is not served over HTTP (network URLs and files inside allowed folders are)", what, spec, errForbidden, scheme)
		}
		spec = rest
	}
	if !filepath.IsAbs(spec) {
		return fmt.Errorf("%s %s: %w: give an absolute path inside an allowed folder (a relative path would resolve against the server's working folder)", what, spec, errForbidden)
	}
	// A sequence pattern (out/%05d.png) is checked by its folder.
	if strings.Contains(filepath.Base(spec), "%") {
		spec = filepath.Dir(spec)
	}
	_, err := s.checkPath(what, spec)
	return err
}
