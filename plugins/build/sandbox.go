package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvSandbox names the environment variable that turns the build sandbox off ("off").
const EnvSandbox = "SCOPE_BUILD_SANDBOX"

// Sandbox runs build commands under bubblewrap (bwrap): the whole file system read-only,
// a private /tmp and /run, fresh /dev and /proc, no network, no capabilities, new
// namespaces; writable are only the build's folders (Plan.Writable) and the sandbox's own
// build caches in CacheDir. A build that writes anywhere else fails.
type Sandbox struct {
	// Bwrap is the bwrap executable.
	Bwrap string
	// CacheDir holds the caches sandboxed builds may write, kept between builds: GOCACHE
	// (go-build), CARGO_HOME (cargo) and CCACHE_DIR (ccache). They are separate from the
	// user's own caches, which a build could otherwise poison.
	CacheDir string
}

// caches are the build-cache variables a sandboxed build gets, by sub-folder of CacheDir.
var caches = []struct{ env, dir string }{
	{"GOCACHE", "go-build"}, {"CARGO_HOME", "cargo"}, {"CCACHE_DIR", "ccache"},
}

// baseArgs is the bwrap command line before the build's own binds.
var baseArgs = []string{
	"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
	"--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
}

// ProbeSandbox finds bwrap and checks that it can make a sandbox on this machine (user
// namespaces may be restricted, a container may forbid mounts). It returns a Sandbox keeping
// its caches in cacheDir, or an error saying why builds cannot be sandboxed here.
func ProbeSandbox(ctx context.Context, cacheDir string) (*Sandbox, error) {
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return nil, fmt.Errorf("bwrap is not installed (apt-get install bubblewrap)")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	args := append(append([]string{}, baseArgs...), "--", "true")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bwrap, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bwrap cannot make a sandbox here (%v: %s)", err, strings.TrimSpace(out.String()))
	}
	return &Sandbox{Bwrap: bwrap, CacheDir: cacheDir}, nil
}

// Describe says in one line what the sandbox lets a build with these writable folders do.
func (s *Sandbox) Describe(writable []string) string {
	return fmt.Sprintf("bubblewrap: system read-only, no network, private /tmp; writable only %s and the build caches in %s",
		strings.Join(writable, ", "), s.CacheDir)
}

// wrap turns command c into its sandboxed form: the bwrap command line and the environment
// with the sandbox's build caches. sdk (the Scope SDK root) stays readable even under /tmp.
func (s *Sandbox) wrap(c Command, env, writable []string, sdk string) ([]string, []string, error) {
	env = append([]string{}, env...)
	var binds []string
	if sdk != "" {
		binds = append(binds, "--ro-bind", sdk, sdk)
	}
	for _, d := range writable {
		binds = append(binds, "--bind", d, d)
	}
	if s.CacheDir != "" {
		for _, c := range caches {
			d := filepath.Join(s.CacheDir, c.dir)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, nil, fmt.Errorf("sandbox cache: %w", err)
			}
			binds = append(binds, "--bind", d, d)
			env = append(env, c.env+"="+d)
		}
	}
	env = append(env, "TMPDIR=/tmp")
	args := append([]string{s.Bwrap}, baseArgs...)
	// A folder bound below the private /tmp or /run needs its parents made there; make them
	// read-only (no capabilities: root cannot write them either), so that a write beside the
	// build's folders fails as it does everywhere else instead of vanishing with the tmpfs.
	made := map[string]bool{}
	for i := 2; i < len(binds); i += 3 {
		for _, d := range tmpfsParents(binds[i]) {
			if !made[d] {
				made[d] = true
				args = append(args, "--perms", "0555", "--dir", d)
			}
		}
	}
	args = append(args, binds...)
	args = append(args, "--chdir", c.Dir, "--")
	return append(args, c.Args...), env, nil
}

// tmpfsParents returns the folders between a private tmpfs of the sandbox (/tmp, /run) and
// path, outermost first; none when path is elsewhere.
func tmpfsParents(path string) []string {
	var out []string
	for d := filepath.Dir(path); d != "/" && d != "."; d = filepath.Dir(d) {
		if d == "/tmp" || d == "/run" {
			return out
		}
		out = append([]string{d}, out...)
	}
	return nil
}

// shellJoin quotes args for a POSIX shell where they need it.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
