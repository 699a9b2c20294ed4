package command

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/loader"
)

func (a *app) doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check this machine: system, plugin search path, ffmpeg and Xvfb, the NVIDIA GPU",
		Description: "Prints what scope finds and why something is missing. Exits 0 either way.\n\n" +
			"  $ scope doctor",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() > 0 {
				return usagef("doctor takes no arguments (got %q)", cmd.Args().First())
			}
			a.doctor(a.io.Out, cmd)
			return nil
		},
	}
}

// doctor writes the report.
func (a *app) doctor(w io.Writer, cmd *cli.Command) {
	fmt.Fprintf(w, "system:   %s/%s, %d CPUs, scope %s (%s)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loader.Version, runtime.Version())

	// The same search path openCatalog uses, folder by folder.
	paths := catalog.SearchPath(cmd.StringSlice("plugin"), a.io.Env(catalog.EnvPath))
	installed, _, _ := installedLibraries(a.dataDir())
	paths = append(paths, bundledPluginDirs()...)
	fmt.Fprintf(w, "plugins:  search path (--plugin, %s, the examples beside the binary):\n", catalog.EnvPath)
	if len(paths) == 0 {
		fmt.Fprintln(w, "            (empty)")
	}
	seen := map[string]bool{} // a folder named twice (../x and x, or through a link) is searched once
	for _, p := range paths {
		key, err := filepath.Abs(p)
		if err == nil {
			if real, err := filepath.EvalSymlinks(key); err == nil {
				key = real
			}
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		files, _ := catalog.Files([]string{p})
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(w, "            %s (missing)\n", p)
			continue
		}
		fmt.Fprintf(w, "            %s (%d plugin files)\n", p, len(files))
	}
	fmt.Fprintf(w, "          installed plugins: %d (in %s)\n", len(installed), a.dataDir())
	notes := &noteHandler{}
	cat := a.openCatalogWith(cmd, slog.New(notes), nil)
	fmt.Fprintf(w, "          %d pipelines load", len(cat.Pipelines()))
	if n := len(cat.Failed); n > 0 {
		fmt.Fprintf(w, ", %d plugin files fail (scope pipelines says why)", n)
	}
	fmt.Fprintln(w)
	cat.Close()
	for _, n := range notes.lines {
		fmt.Fprintf(w, "          note: %s\n", n)
	}

	for _, tool := range []struct{ name, why string }{
		{"ffmpeg", "video file input and output"},
		{"Xvfb", "the preview tests on machines without a display"},
	} {
		if p, err := exec.LookPath(tool.name); err == nil {
			fmt.Fprintf(w, "%-9s %s\n", tool.name+":", p)
		} else {
			fmt.Fprintf(w, "%-9s not found (needed for %s)\n", tool.name+":", tool.why)
		}
	}

	info, err := gpu.Probe(0, a.gpuOptions())
	if err != nil {
		fmt.Fprintf(w, "GPU:      none: %v\n", err)
		return
	}
	fmt.Fprintf(w, "GPU:      %s (device %d)\n", info.Name, info.Ordinal)
	fmt.Fprintf(w, "          driver CUDA %s, compute capability %d.%d, %.1f GiB memory, %d copy engines\n",
		info.Driver(), info.ComputeMajor, info.ComputeMinor, float64(info.TotalMemory)/(1<<30), info.CopyEngines)
}

// noteHandler is a slog.Handler keeping the plugins' info, warning and error lines as
// "message (plugin file)", for reports that list them.
type noteHandler struct {
	mu    sync.Mutex
	lines []string
}

// Enabled keeps info and above (debug lines are for --verbose).
func (h *noteHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle keeps one line.
func (h *noteHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "plugin" {
			line += " (" + a.Value.String() + ")"
		}
		return true
	})
	h.mu.Lock()
	h.lines = append(h.lines, line)
	h.mu.Unlock()
	return nil
}

// WithAttrs and WithGroup are not used by the loader; the handler ignores them.
func (h *noteHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

// WithGroup: see WithAttrs.
func (h *noteHandler) WithGroup(string) slog.Handler { return h }
