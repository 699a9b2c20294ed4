// Package build turns a plugin package's sources into its shared object with the package's
// build system (cmake, cargo, go, make or an explicit command), handing the build the
// location of the Scope SDK: the ABI header, the CMake package and the language SDKs.
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/scopenative/scope/plugins/manifest"
)

// EnvSDK names the environment variable that overrides where the SDK is found.
const EnvSDK = "SCOPE_SDK_DIR"

// SDK is a Scope installation's plugin-author files: include/scope/plugin.h, cmake/ (the
// ScopePlugin CMake package), sdk/rust and sdk/go.
type SDK struct {
	// Root holds include/, cmake/ and sdk/.
	Root string
}

// Include is the folder to add to the include path (holds scope/plugin.h).
func (s SDK) Include() string { return filepath.Join(s.Root, "include") }

// CMakeDir is the folder holding ScopePluginConfig.cmake.
func (s SDK) CMakeDir() string { return filepath.Join(s.Root, "cmake") }

// Rust is the scope-plugin crate's folder.
func (s SDK) Rust() string { return filepath.Join(s.Root, "sdk", "rust") }

// Go is the Go SDK module's folder (module github.com/scopenative/scope/sdk/go).
func (s SDK) Go() string { return filepath.Join(s.Root, "sdk", "go") }

// GoModule is the Go SDK's module path.
const GoModule = "github.com/scopenative/scope/sdk/go"

// RustCrate is the Rust SDK's package name.
const RustCrate = "scope-plugin"

func isSDK(root string) bool {
	_, err := os.Stat(filepath.Join(root, "include", "scope", "plugin.h"))
	return err == nil
}

// FindSDK locates the SDK: $SCOPE_SDK_DIR when set, else relative to the scope executable
// (bin/scope in a repository or prefix -> the folder above bin; or <prefix>/share/scope).
func FindSDK(getenv func(string) string) (SDK, error) {
	if d := getenv(EnvSDK); d != "" {
		if !isSDK(d) {
			return SDK{}, fmt.Errorf("%s=%s holds no include/scope/plugin.h", EnvSDK, d)
		}
		return SDK{Root: d}, nil
	}
	exe, err := os.Executable()
	if err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		up := filepath.Dir(filepath.Dir(exe))
		for _, cand := range []string{up, filepath.Join(up, "share", "scope")} {
			if isSDK(cand) {
				return SDK{Root: cand}, nil
			}
		}
	}
	return SDK{}, fmt.Errorf("cannot find the Scope SDK (include/scope/plugin.h) beside %s; set %s to the scope repository or install prefix", exe, EnvSDK)
}

// Request is one build.
type Request struct {
	// Src is the package folder (the manifest's build.dir is applied by Run).
	Src string
	// Work is a scratch folder for build trees (cmake's build folder, cargo's target folder);
	// it may be kept between builds of the same package to build incrementally.
	Work string
	// Out is the path the shared object is copied to.
	Out string
	// Manifest says how to build.
	Manifest *manifest.Manifest
	// SDK is handed to the build.
	SDK SDK
	// Env is the environment for build tools (os.Environ() when nil).
	Env []string
	// Step, when set, is told the current step ("configure", "compile", ...).
	Step func(string)
	// Log, when set, receives the tools' output as it comes (--verbose).
	Log io.Writer
}

// Error is a failed build step with the tool's full output.
type Error struct {
	Step    string
	Command string
	Output  []byte
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("build failed at %s (%s): %v%s", e.Step, e.Command, e.Err, tail(e.Output, 6))
}

func (e *Error) Unwrap() error { return e.Err }

// tail returns the last n non-empty lines of out, indented, for a one-screen message.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			keep = append([]string{"    " + lines[i]}, keep...)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return "\n" + strings.Join(keep, "\n")
}

type runner struct {
	req Request
	src string
	env []string
}

func (r *runner) run(ctx context.Context, step, dir string, env []string, name string, args ...string) error {
	if r.req.Step != nil {
		r.req.Step(step)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, r.env...), env...)
	var buf bytes.Buffer
	var w io.Writer = &buf
	if r.req.Log != nil {
		w = io.MultiWriter(&buf, r.req.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		switch {
		case errors.Is(err, exec.ErrNotFound):
			err = fmt.Errorf("%s is not installed: %w", name, err)
		case errors.As(err, &ee):
			// Keep the tool's exit status out of the error chain: callers map exit coders
			// to their own exit codes.
			err = errors.New(ee.Error())
		}
		return &Error{Step: step, Command: name + " " + strings.Join(args, " "), Output: buf.Bytes(), Err: err}
	}
	return nil
}

// Run builds the package and copies the shared object to req.Out.
func Run(ctx context.Context, req Request) error {
	m := req.Manifest
	r := &runner{req: req, src: filepath.Join(req.Src, m.Build.Dir)}
	r.env = req.Env
	if r.env == nil {
		r.env = os.Environ()
	}
	r.env = append(append([]string{}, r.env...),
		EnvSDK+"="+req.SDK.Root,
		"SCOPE_INCLUDE_DIR="+req.SDK.Include(),
		"SCOPE_CMAKE_DIR="+req.SDK.CMakeDir(),
		"SCOPE_OUTPUT="+req.Out,
		"SCOPE_BUILD_DIR="+req.Work,
		"CPATH="+joinPath(req.SDK.Include(), os.Getenv("CPATH")),
	)
	if err := os.MkdirAll(req.Work, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(req.Out), 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	start := time.Now().Add(-time.Second) // mtime granularity
	var lib string
	var err error
	switch m.Build.System {
	case manifest.CMake:
		lib, err = r.cmake(ctx, start)
	case manifest.Cargo:
		lib, err = r.cargo(ctx)
	case manifest.Go:
		lib, err = r.golang(ctx)
	case manifest.Make, manifest.Command:
		lib, err = r.makeOrCommand(ctx, start)
	default:
		err = fmt.Errorf("unknown build system %q", m.Build.System)
	}
	if err != nil {
		return err
	}
	if lib != req.Out {
		if req.Step != nil {
			req.Step("collect")
		}
		if err := copyFile(lib, req.Out); err != nil {
			return fmt.Errorf("build: collect %s: %w", lib, err)
		}
	}
	return nil
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

func (r *runner) cmake(ctx context.Context, start time.Time) (string, error) {
	bdir := filepath.Join(r.req.Work, "cmake")
	args := []string{"-S", r.src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
		"-DCMAKE_PREFIX_PATH=" + r.req.SDK.CMakeDir(), "-DScopePlugin_DIR=" + r.req.SDK.CMakeDir()}
	args = append(args, r.req.Manifest.Build.Args...)
	if err := r.run(ctx, "configure (cmake)", r.src, nil, "cmake", args...); err != nil {
		return "", err
	}
	bargs := []string{"--build", bdir, "--parallel", fmt.Sprint(runtime.NumCPU())}
	if t := r.req.Manifest.Build.Target; t != "" {
		bargs = append(bargs, "--target", t)
	}
	if err := r.run(ctx, "compile (cmake --build)", r.src, nil, "cmake", bargs...); err != nil {
		return "", err
	}
	if o := r.req.Manifest.Build.Output; o != "" {
		return existing(filepath.Join(bdir, o))
	}
	return findLib(bdir, time.Time{}, "the cmake build folder")
}

func (r *runner) cargo(ctx context.Context) (string, error) {
	target := filepath.Join(r.req.Work, "target")
	// The package names the SDK as a registry dependency (scope-plugin = "0.1"); point it at
	// this installation's crate. A package that uses a path dependency builds unchanged.
	patch := fmt.Sprintf(`patch.crates-io.%s.path=%q`, RustCrate, r.req.SDK.Rust())
	args := []string{"build", "--release", "--lib", "--target-dir", target, "--config", patch}
	if onlySDKDependency(filepath.Join(r.src, "Cargo.toml")) {
		args = append(args, "--offline") // nothing to download: build without a registry
	}
	if t := r.req.Manifest.Build.Target; t != "" {
		args = append(args, "--package", t)
	}
	args = append(args, r.req.Manifest.Build.Args...)
	if err := r.run(ctx, "compile (cargo build)", r.src, nil, "cargo", args...); err != nil {
		return "", err
	}
	if o := r.req.Manifest.Build.Output; o != "" {
		return existing(filepath.Join(target, o))
	}
	return findLib(filepath.Join(target, "release"), time.Time{}, "target/release")
}

// onlySDKDependency reports whether a Cargo.toml depends on nothing but the Scope SDK.
func onlySDKDependency(path string) bool {
	var m struct {
		Dependencies      map[string]any `toml:"dependencies"`
		BuildDependencies map[string]any `toml:"build-dependencies"`
	}
	if _, err := toml.DecodeFile(path, &m); err != nil {
		return false
	}
	for name := range m.Dependencies {
		if name != RustCrate {
			return false
		}
	}
	return len(m.BuildDependencies) == 0
}

func (r *runner) golang(ctx context.Context) (string, error) {
	// Build against this installation's Go SDK without touching the package's go.mod: a copy
	// of it with a replace directive, passed through -modfile.
	modDir := filepath.Join(r.req.Work, "gomod")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	mod := filepath.Join(modDir, "go.mod")
	if err := copyFile(filepath.Join(r.src, "go.mod"), mod); err != nil {
		return "", fmt.Errorf("build: copy go.mod: %w", err)
	}
	if sum, err := os.ReadFile(filepath.Join(r.src, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(modDir, "go.sum"), sum, 0o644); err != nil {
			return "", fmt.Errorf("build: %w", err)
		}
	}
	if err := r.run(ctx, "configure (go mod edit)", r.src, nil, "go", "mod", "edit", "-modfile="+mod,
		"-replace="+GoModule+"="+r.req.SDK.Go()); err != nil {
		return "", err
	}
	args := []string{"build", "-modfile=" + mod, "-buildmode=c-shared", "-o", r.req.Out}
	args = append(args, r.req.Manifest.Build.Args...)
	args = append(args, ".")
	if err := r.run(ctx, "compile (go build)", r.src, []string{"CGO_ENABLED=1"}, "go", args...); err != nil {
		return "", err
	}
	_ = os.Remove(strings.TrimSuffix(r.req.Out, filepath.Ext(r.req.Out)) + ".h")
	return r.req.Out, nil
}

func (r *runner) makeOrCommand(ctx context.Context, start time.Time) (string, error) {
	b := r.req.Manifest.Build
	var err error
	switch {
	case b.Command != "":
		err = r.run(ctx, "compile ("+firstWord(b.Command)+")", r.src, nil, "sh", "-c", b.Command)
	default:
		args := append([]string{"-j", fmt.Sprint(runtime.NumCPU())}, b.Args...)
		if b.Target != "" {
			args = append(args, b.Target)
		}
		err = r.run(ctx, "compile (make)", r.src, nil, "make", args...)
	}
	if err != nil {
		return "", err
	}
	if b.Output != "" {
		return existing(filepath.Join(r.src, b.Output))
	}
	if _, err := os.Stat(r.req.Out); err == nil {
		return r.req.Out, nil // the command wrote $SCOPE_OUTPUT
	}
	return findLib(r.src, start, "the package folder")
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "command"
	}
	return filepath.Base(f[0])
}

func existing(p string) (string, error) {
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("build finished but build.output %s is missing: %w", p, err)
	}
	return p, nil
}

// findLib returns the one shared object under dir modified after since.
func findLib(dir string, since time.Time, where string) (string, error) {
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "CMakeFiles" || d.Name() == "deps" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(d.Name(), ".so") || strings.HasSuffix(d.Name(), ".dylib")) {
			if fi, err := d.Info(); err == nil && fi.ModTime().After(since) {
				found = append(found, p)
			}
		}
		return nil
	})
	sort.Strings(found)
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("build finished but produced no .so in %s; set build.output in %s", where, manifest.FileName)
	}
	return "", fmt.Errorf("build produced several shared objects (%s); set build.output in %s to the plugin's", strings.Join(found, ", "), manifest.FileName)
}

// copyFile copies src to dst (created or truncated) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
