// Package source says where a plugin package comes from and fetches it: it parses the SPEC
// of `scope plugin install` (a git URL with an optional @ref, a local folder, or an index
// name with an optional ==version), clones git sources through go-git and resolves refs to
// commits, and asks a remote where its refs point now (for update checks).
package source

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Kinds of source.
const (
	KindGit   = "git"
	KindLocal = "local"
	KindIndex = "index"
)

// Spec is a parsed install SPEC.
type Spec struct {
	// Kind is KindGit, KindLocal or KindIndex.
	Kind string
	// URL is the git URL to clone (git sources), without any "git+" prefix or "@ref".
	URL string
	// Ref is the requested branch, tag or commit; empty means the remote's default branch.
	Ref string
	// Path is the local folder, absolute (local sources).
	Path string
	// Name and Version are the index entry (index sources); Version may be empty (latest).
	Name, Version string
	// Note, when set, says how the spec could have been meant otherwise: a bare name that
	// is also a folder in cwd goes to the index, and Note says to write ./name for the folder.
	Note string
}

// String returns the spec in the form Parse reads.
func (s Spec) String() string {
	switch s.Kind {
	case KindGit:
		if s.Ref != "" {
			return s.URL + "@" + s.Ref
		}
		return s.URL
	case KindLocal:
		return s.Path
	default:
		if s.Version != "" {
			return s.Name + "==" + s.Version
		}
		return s.Name
	}
}

// RepoName returns a name for the package guessed from the URL or folder ("invert" for
// https://host/owner/invert.git), used when the package has no manifest.
func (s Spec) RepoName() string {
	switch s.Kind {
	case KindLocal:
		return filepath.Base(s.Path)
	case KindIndex:
		return s.Name
	}
	u := strings.TrimRight(s.URL, "/")
	if i := strings.LastIndexAny(u, "/:"); i >= 0 {
		u = u[i+1:]
	}
	return strings.TrimSuffix(u, ".git")
}

var (
	indexRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([0-9A-Za-z.+-]+))?$`)
	scpRE   = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:`)
)

// Parse reads an install SPEC. cwd resolves relative folders.
//
//   - git: https://host/owner/repo, the same with .git, git+https://..., ssh://...,
//     git@host:owner/repo, file:///path, or a path to a bare repository; each with an
//     optional @branch, @tag or @commit. Browser URLs of GitHub, GitLab and Bitbucket
//     (.../tree/BRANCH, .../commit/SHA, .../releases/tag/TAG, .../-/tree/BRANCH, .../src/REF)
//     are understood.
//   - local: a folder holding a plugin package (installed linked), written as a path:
//     ./folder, ../folder, /abs/folder, ~/folder or anything with a slash; a non-bare git
//     working copy given with @ref is cloned instead.
//   - index: name or name==1.2.0. A bare name is always an index name, even when cwd holds
//     a folder of that name (Note then says so and how to name the folder).
func Parse(spec, cwd string) (Spec, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Spec{}, fmt.Errorf("empty plugin spec: give a git URL, a folder or an index name")
	}
	if strings.HasPrefix(spec, "git+") {
		spec = strings.TrimPrefix(spec, "git+")
	}
	switch {
	case strings.Contains(spec, "://"):
		return parseURL(spec)
	case scpRE.MatchString(spec):
		colon := strings.Index(spec, ":")
		url, ref := cutRef(spec, colon+1)
		return Spec{Kind: KindGit, URL: url, Ref: ref}, nil
	}
	// A bare name is an index name, never a folder: only a path names a folder.
	if !looksLikePath(spec) {
		if m := indexRE.FindStringSubmatch(spec); m != nil {
			sp := Spec{Kind: KindIndex, Name: strings.ToLower(m[1]), Version: m[2]}
			if fi, err := os.Stat(abs(m[1], cwd)); err == nil && fi.IsDir() {
				sp.Note = fmt.Sprintf("%q is an index name; this folder also has a folder %s, which is not installed: to install the folder, write ./%s", spec, m[1], m[1])
			}
			return sp, nil
		}
		if p, _ := cutRef(spec, 0); !looksLikePath(p) {
			if fi, err := os.Stat(abs(p, cwd)); err == nil && fi.IsDir() {
				return Spec{}, fmt.Errorf("%q: a bare name is an index name (name or name==version); to install the folder %s, write ./%s", spec, p, spec)
			}
		}
	}
	// A folder (possibly with @ref).
	path, ref := spec, ""
	if _, err := os.Stat(abs(spec, cwd)); err != nil {
		if p, r := cutRef(spec, 0); r != "" {
			if _, err := os.Stat(abs(p, cwd)); err == nil {
				path, ref = p, r
			}
		}
	}
	full := abs(path, cwd)
	fi, err := os.Stat(full)
	if err != nil {
		if looksLikePath(spec) {
			return Spec{}, fmt.Errorf("plugin folder %s: %w", spec, err)
		}
		m := indexRE.FindStringSubmatch(spec)
		if m == nil {
			return Spec{}, fmt.Errorf("%q is neither a git URL, an existing folder nor an index name (name or name==version)", spec)
		}
		return Spec{Kind: KindIndex, Name: strings.ToLower(m[1]), Version: m[2]}, nil
	}
	if !fi.IsDir() {
		return Spec{}, fmt.Errorf("%s is a file; give the plugin package's folder or a git URL", spec)
	}
	if IsBareRepo(full) || ref != "" {
		return Spec{Kind: KindGit, URL: "file://" + full, Ref: ref}, nil
	}
	return Spec{Kind: KindLocal, Path: full}, nil
}

func abs(p, cwd string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, "~/") || s == "." || s == ".." || strings.Contains(s, string(filepath.Separator))
}

// IsBareRepo reports whether dir is a bare git repository.
func IsBareRepo(dir string) bool {
	for _, n := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err != nil
}

// cutRef splits "url@ref" where the '@' comes at or after index from (so "git@host" and
// "https://user@host" keep their user part).
func cutRef(s string, from int) (string, string) {
	i := strings.LastIndex(s[from:], "@")
	if i < 0 {
		return s, ""
	}
	return s[:from+i], s[from+i+1:]
}

// browserRE matches the web pages of a repository on GitHub, GitLab and Bitbucket.
var browserRE = regexp.MustCompile(`^(https?://[^/]+/[^/]+/[^/@]+?)(?:\.git)?/(?:-/)?(tree|commit|commits|releases/tag|tag|src|blob)/(.+?)/?$`)

func parseURL(spec string) (Spec, error) {
	scheme, rest, _ := strings.Cut(spec, "://")
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "https", "http", "ssh", "git", "file":
	default:
		return Spec{}, fmt.Errorf("plugin spec %q: unsupported URL scheme %q (use https, ssh, git or file)", spec, scheme)
	}
	pathStart := len(scheme) + 3
	if scheme != "file" {
		slash := strings.Index(rest, "/")
		if slash < 0 {
			return Spec{}, fmt.Errorf("plugin spec %q: the URL names no repository", spec)
		}
		pathStart += slash
	}
	url, ref := cutRef(spec, pathStart)
	if (scheme == "https" || scheme == "http") && ref == "" {
		if m := browserRE.FindStringSubmatch(url); m != nil {
			url, ref = m[1], m[3]
			if m[2] == "blob" { // .../blob/REF/path/to/file: keep the ref only
				ref, _, _ = strings.Cut(ref, "/")
			}
		}
	}
	url = strings.TrimRight(url, "/")
	if scheme == "file" && url == "file:" {
		return Spec{}, fmt.Errorf("plugin spec %q: the file URL names no repository", spec)
	}
	return Spec{Kind: KindGit, URL: url, Ref: ref}, nil
}

// CheckRemote refuses a git URL that does not name a remote repository: a local path, a
// file:// URL, or anything else that is not an https, http, ssh or git URL with a host, or
// an scp-style user@host:path.
func CheckRemote(url string) error {
	u := strings.TrimPrefix(url, "git+")
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		switch strings.ToLower(scheme) {
		case "https", "http", "ssh", "git":
			host, _, _ := strings.Cut(rest, "/")
			if _, h, ok := strings.Cut(host, "@"); ok {
				host = h
			}
			if host != "" && !strings.HasPrefix(host, ":") {
				return nil
			}
			return fmt.Errorf("%q names no host", url)
		case "file":
			return fmt.Errorf("%q is a local repository (file://), not a remote one", url)
		}
		return fmt.Errorf("%q: unsupported URL scheme %q (use https, ssh or git)", url, scheme)
	}
	if scpRE.MatchString(u) {
		return nil
	}
	return fmt.Errorf("%q is a local path, not a remote git URL (https://, ssh://, git://, user@host:path)", url)
}
