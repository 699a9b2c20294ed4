// Package build turns a plugin package's sources into its shared object with the package's
// build system (cmake, cargo, go, make or an explicit command), handing the build the
// location of the Scope SDK: the ABI header, the CMake package and the language SDKs. A
// build is planned first (NewPlan: the exact commands, to show) and then run, optionally in
// a bubblewrap Sandbox; the library it yields must lie inside the package or build folder.
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
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/scopenative/scope/plugins/internal/confine"
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
	// Sandbox, when set, runs every command of the build inside it; nil runs them with the
	// user's full rights.
	Sandbox *Sandbox
	// Quick builds for the edit-reload loop of `scope run --watch`: quick to compile rather
	// than quickest to run. CMake builds at -Og instead of -O3 and Cargo without link-time
	// optimisation and with incremental codegen, each in a build tree of its own (so the
	// release tree stays warm for `scope plugin reload`); Go and make builds are unchanged.
	Quick bool
}

// Error is a failed build step with the tool's full output.
type Error struct {
	Step    string
	Command string
	Output  []byte
	Err     error
	// Shown is set once the full Output has been printed: Error then leaves the excerpt out.
	Shown bool
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("build failed at %s (%s): %v", e.Step, e.Command, e.Err)
	if e.Shown {
		return msg + " (the build's output is above)"
	}
	return msg + excerpt(e.Output, 6, 10)
}

func (e *Error) Unwrap() error { return e.Err }

// errorLine matches the lines compilers start an error with: "file.c:38:23: error: ...",
// "error[E0308]: ...", "error: ...", "fatal error: ...", Go's "./file.go:12:3: ...".
var errorLine = regexp.MustCompile(`(?i)(^|[\s:])(fatal )?error(\[[A-Z]?[0-9]+\])?:|^\S+\.go:\d+:\d+: `)

// excerpt returns, indented, the first error of out with the lines after it (at most
// after), since the first error is the one to fix and later ones often follow from it;
// when out holds no recognizable error line, its last n non-empty lines.
func excerpt(out []byte, n, after int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i, l := range lines {
		if !errorLine.MatchString(l) {
			continue
		}
		start := i
		if i > 0 && strings.Contains(lines[i-1], "In function") { // gcc names the function first
			start = i - 1
		}
		end := min(len(lines), i+1+after)
		var keep []string
		for _, k := range lines[start:end] {
			keep = append(keep, "    "+k)
		}
		more := ""
		if end < len(lines) {
			more = fmt.Sprintf("\n    ... (%d more lines; --verbose shows the full output)", len(lines)-end)
		}
		return "\n" + strings.Join(keep, "\n") + more
	}
	return tail(out, n)
}

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

// Command is one command a build runs, as it will run.
type Command struct {
	// Step names it for progress and errors ("configure (cmake)").
	Step string
	// Dir is the folder it runs in.
	Dir string
	// Args is the command line; Args[0] is the program.
	Args []string
	// Env holds the variables set for this command on top of the build's environment.
	Env []string

	prepare func() error // files the command needs, written just before it runs
}

// String is the command line as a shell would read it.
func (c Command) String() string { return shellJoin(c.Args) }

// Line is the command as one shell line that runs it where and as the build does:
// "cd DIR && VAR=value... PROGRAM ARGS...".
func (c Command) Line() string {
	return "cd " + shellJoin([]string{c.Dir}) + " && " + shellJoin(append(append([]string{}, c.Env...), c.Args...))
}

// Plan is a build worked out before anything runs: the commands, in order, and where the
// shared object will be found afterwards. Print it, then Run it.
type Plan struct {
	// Commands run in order; the first failure stops the build.
	Commands []Command

	req     Request
	src     string
	env     []string
	collect func(start time.Time) (string, error)
}

// NewPlan works out the commands that build req's package, without running anything.
func NewPlan(req Request) (*Plan, error) {
	m := req.Manifest
	p := &Plan{req: req, src: filepath.Join(req.Src, m.Build.Dir)}
	p.env = req.Env
	if p.env == nil {
		p.env = os.Environ()
	}
	p.env = append(append([]string{}, p.env...),
		EnvSDK+"="+req.SDK.Root,
		"SCOPE_INCLUDE_DIR="+req.SDK.Include(),
		"SCOPE_CMAKE_DIR="+req.SDK.CMakeDir(),
		"MAKEFLAGS=--no-print-directory", // no "gmake[1]: Entering directory" lines in the log
		"SCOPE_OUTPUT="+req.Out,
		"SCOPE_BUILD_DIR="+req.Work,
		"CPATH="+joinPath(req.SDK.Include(), os.Getenv("CPATH")),
	)
	switch m.Build.System {
	case manifest.CMake:
		p.cmake()
	case manifest.Cargo:
		p.cargo()
	case manifest.Go:
		p.golang()
	case manifest.Make, manifest.Command:
		p.makeOrCommand()
	default:
		return nil, fmt.Errorf("unknown build system %q", m.Build.System)
	}
	return p, nil
}

// Run builds the package and copies the shared object to req.Out.
func Run(ctx context.Context, req Request) error {
	p, err := NewPlan(req)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// Writable lists the folders the build writes: the package's (and build.dir's) folder, the
// scratch folder and the folder of the output, without those inside another one.
func (p *Plan) Writable() []string {
	return outermost([]string{p.req.Src, p.req.Work, filepath.Dir(p.req.Out)})
}

// outermost returns the cleaned paths, dropping duplicates and paths inside another one.
func outermost(paths []string) []string {
	var out []string
	for i, a := range paths {
		a = filepath.Clean(a)
		keep := true
		for j, b := range paths {
			b = filepath.Clean(b)
			if i != j && confine.Within(b, a) && (a != b || j < i) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

// Run runs the plan's commands (in the request's sandbox, when it has one) and copies the
// shared object to the request's Out. The library must lie inside the package or the build
// folders: a symlink or build.output leading anywhere else is refused.
func (p *Plan) Run(ctx context.Context) error {
	req := p.req
	for _, d := range []string{req.Work, filepath.Dir(req.Out)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	start := time.Now().Add(-time.Second) // mtime granularity
	for _, c := range p.Commands {
		if err := p.run(ctx, c); err != nil {
			return err
		}
	}
	lib, err := p.collect(start)
	if err != nil {
		return err
	}
	if lib == req.Out {
		return nil
	}
	if req.Step != nil {
		req.Step("collect")
	}
	if err := p.confined(lib); err != nil {
		return err
	}
	if err := copyFile(lib, req.Out); err != nil {
		return fmt.Errorf("build: collect %s: %w", lib, err)
	}
	return nil
}

// confined refuses a library whose real path is outside the package and the build folder.
func (p *Plan) confined(lib string) error {
	real, err := filepath.EvalSymlinks(lib)
	if err != nil {
		return fmt.Errorf("build: collect %s: %w", lib, err)
	}
	for _, root := range []string{p.req.Src, p.req.Work} {
		if r, err := filepath.EvalSymlinks(root); err == nil && confine.Within(r, real) {
			return nil
		}
	}
	return fmt.Errorf("build: the library %s is %s, outside the package and its build folder: refusing to install it (%w)", lib, real, confine.ErrOutside)
}

func (p *Plan) add(step, dir string, env []string, args ...string) *Command {
	p.Commands = append(p.Commands, Command{Step: step, Dir: dir, Args: args, Env: env})
	return &p.Commands[len(p.Commands)-1]
}

func (p *Plan) run(ctx context.Context, c Command) error {
	if p.req.Step != nil {
		p.req.Step(c.Step)
	}
	if c.prepare != nil {
		if err := c.prepare(); err != nil {
			return fmt.Errorf("build: %s: %w", c.Step, err)
		}
	}
	args, env := c.Args, append(append([]string{}, p.env...), c.Env...)
	if sb := p.req.Sandbox; sb != nil {
		var err error
		if args, env, err = sb.wrap(c, env, p.Writable(), p.req.SDK.Root); err != nil {
			return fmt.Errorf("build: %s: %w", c.Step, err)
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = env
	var buf bytes.Buffer
	var w io.Writer = &buf
	if p.req.Log != nil {
		w = io.MultiWriter(&buf, p.req.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		switch {
		case errors.Is(err, exec.ErrNotFound):
			err = fmt.Errorf("%s is not installed: %w", args[0], err)
		case errors.As(err, &ee):
			// Keep the tool's exit status out of the error chain: callers map exit coders
			// to their own exit codes.
			err = errors.New(ee.Error())
		}
		return &Error{Step: c.Step, Command: c.String(), Output: buf.Bytes(), Err: err}
	}
	return nil
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

func (p *Plan) cmake() {
	bdir := filepath.Join(p.req.Work, "cmake")
	if p.req.Quick {
		bdir = filepath.Join(p.req.Work, "cmake-quick")
	}
	args := []string{"cmake", "-S", p.src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
		"-DCMAKE_PREFIX_PATH=" + p.req.SDK.CMakeDir(), "-DScopePlugin_DIR=" + p.req.SDK.CMakeDir()}
	if p.req.Quick { // Release's flags at -Og, not -O3: invert.cpp compiles in 0.97 s instead of 1.69 s
		args = append(args, "-DCMAKE_C_FLAGS_RELEASE=-Og -DNDEBUG", "-DCMAKE_CXX_FLAGS_RELEASE=-Og -DNDEBUG")
	}
	args = append(args, p.req.Manifest.Build.Args...)
	p.add("configure (cmake)", p.src, nil, args...)
	bargs := []string{"cmake", "--build", bdir, "--parallel", fmt.Sprint(runtime.NumCPU())}
	if t := p.req.Manifest.Build.Target; t != "" {
		bargs = append(bargs, "--target", t)
	}
	p.add("compile (cmake --build)", p.src, nil, bargs...)
	p.collect = func(time.Time) (string, error) {
		if o := p.req.Manifest.Build.Output; o != "" {
			return existing(bdir, o)
		}
		return findLib(bdir, time.Time{}, "the cmake build folder")
	}
}

func (p *Plan) cargo() {
	target := filepath.Join(p.req.Work, "target")
	var env []string
	if p.req.Quick { // no LTO, many codegen units, incremental: the release profile made quick
		target = filepath.Join(p.req.Work, "target-quick")
		env = []string{"CARGO_PROFILE_RELEASE_LTO=false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16", "CARGO_PROFILE_RELEASE_INCREMENTAL=true"}
	}
	// The package names the SDK as a registry dependency (scope-plugin = "0.1"); point it at
	// this installation's crate. A package that uses a path dependency builds unchanged.
	patch := fmt.Sprintf(`patch.crates-io.%s.path=%q`, RustCrate, p.req.SDK.Rust())
	args := []string{"cargo", "build", "--release", "--lib", "--target-dir", target, "--config", patch}
	if onlySDKDependency(filepath.Join(p.src, "Cargo.toml")) {
		args = append(args, "--offline") // nothing to download: build without a registry
	}
	if t := p.req.Manifest.Build.Target; t != "" {
		args = append(args, "--package", t)
	}
	args = append(args, p.req.Manifest.Build.Args...)
	p.add("compile (cargo build)", p.src, env, args...)
	p.collect = func(time.Time) (string, error) {
		if o := p.req.Manifest.Build.Output; o != "" {
			return existing(target, o)
		}
		return findLib(filepath.Join(target, "release"), time.Time{}, "target/release")
	}
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

func (p *Plan) golang() {
	// Build against this installation's Go SDK without touching the package's go.mod: a copy
	// of it with a replace directive, passed through -modfile.
	modDir := filepath.Join(p.req.Work, "gomod")
	mod := filepath.Join(modDir, "go.mod")
	edit := p.add("configure (go mod edit)", p.src, nil, "go", "mod", "edit", "-modfile="+mod,
		"-replace="+GoModule+"="+p.req.SDK.Go())
	edit.prepare = func() error {
		if err := os.MkdirAll(modDir, 0o755); err != nil {
			return err
		}
		if err := copyFile(filepath.Join(p.src, "go.mod"), mod); err != nil {
			return fmt.Errorf("copy go.mod: %w", err)
		}
		if sum, err := os.ReadFile(filepath.Join(p.src, "go.sum")); err == nil {
			return os.WriteFile(filepath.Join(modDir, "go.sum"), sum, 0o644)
		}
		return nil
	}
	args := []string{"go", "build", "-modfile=" + mod, "-buildmode=c-shared", "-o", p.req.Out}
	args = append(args, p.req.Manifest.Build.Args...)
	args = append(args, ".")
	p.add("compile (go build)", p.src, []string{"CGO_ENABLED=1"}, args...)
	p.collect = func(time.Time) (string, error) {
		_ = os.Remove(strings.TrimSuffix(p.req.Out, filepath.Ext(p.req.Out)) + ".h")
		return p.req.Out, nil
	}
}

func (p *Plan) makeOrCommand() {
	b := p.req.Manifest.Build
	switch {
	case b.Command != "":
		p.add("compile ("+firstWord(b.Command)+")", p.src, nil, "sh", "-c", b.Command)
	default:
		args := append([]string{"make", "-j", fmt.Sprint(runtime.NumCPU())}, b.Args...)
		if b.Target != "" {
			args = append(args, b.Target)
		}
		p.add("compile (make)", p.src, nil, args...)
	}
	p.collect = func(start time.Time) (string, error) {
		if b.Output != "" {
			return existing(p.src, b.Output)
		}
		if _, err := os.Stat(p.req.Out); err == nil {
			return p.req.Out, nil // the command wrote $SCOPE_OUTPUT
		}
		return findLib(p.src, start, "the package folder")
	}
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "command"
	}
	return filepath.Base(f[0])
}

// existing returns base/output, which must exist and stay inside base.
func existing(base, output string) (string, error) {
	p, err := confine.Resolve(base, output)
	if err != nil {
		return "", fmt.Errorf("build.output: %w", err)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("build finished but build.output %s is missing: %w", filepath.Join(base, output), err)
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
