//go:build cgo

// Command scope-preview is the preview window of a Scope Native session: it attaches to a
// running `scope run` (shared-memory frames, control socket) and shows the output with live
// parameter controls. `scope run --preview` and `scope preview [ID]` start it; it is a separate
// executable because Ebitengine needs a display as soon as it is loaded.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/scopenative/scope/render"
)

func main() {
	var opts render.Options
	flag.StringVar(&opts.Session, "session", "", "session `id` to attach to (default: the only running session)")
	flag.BoolVar(&opts.Owned, "owned", false, "the window belongs to a `scope run --preview`: closing it ends the run")
	flag.StringVar(&opts.Filter, "filter", "linear", "scaling filter: linear or nearest")
	flag.IntVar(&opts.Width, "width", 1280, "initial window width (logical pixels)")
	flag.IntVar(&opts.Height, "height", 720, "initial window height (logical pixels)")
	flag.BoolVar(&opts.NullAudio, "null-audio", false, "play audio into miniaudio's null backend (no sound card)")
	flag.BoolVar(&opts.NoAudio, "no-audio", false, "do not play audio")
	flag.StringVar(&opts.URL, "url", "", "attach to a session of the `scope serve` at this `URL` (http[s]://HOST:PORT) instead of one on this machine")
	tokenFile := flag.String("token-file", "", "read the server's bearer token from this `file` (default: $SCOPE_TOKEN)")
	flag.IntVar(&opts.Quality, "quality", 0, "JPEG `quality` (1-100) of network frames (default: the server's, 85)")
	flag.BoolVar(&opts.Lossless, "lossless", false, "network frames as PNG instead of JPEG")
	flag.DurationVar(&opts.Report, "report", 0, "measure the shown frame rate for this `long`, print it and close (benchmarks)")
	// Hidden (no usage line): a CPU profile (pprof) of the window, and a file receiving every
	// status line the window shows (the key test reads the path S saved to from it).
	cpuprofile := flag.String("cpuprofile", "", "")
	statusLog := flag.String("status-log", "", "")
	flag.Usage = func() { // the flags without a usage line are hidden
		fmt.Fprintf(flag.CommandLine.Output(), "Usage of %s:\n", os.Args[0])
		shown := flag.NewFlagSet("", flag.ContinueOnError)
		shown.SetOutput(flag.CommandLine.Output())
		flag.VisitAll(func(f *flag.Flag) {
			if f.Usage != "" {
				shown.Var(f.Value, f.Name, f.Usage)
			}
		})
		shown.PrintDefaults()
	}
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "scope-preview: --cpuprofile: %v\n", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	opts.Token = os.Getenv("SCOPE_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scope-preview: --token-file: %v\n", err)
			os.Exit(2)
		}
		opts.Token = strings.TrimSpace(string(b))
	}
	if opts.Quality < 0 || opts.Quality > 100 {
		fmt.Fprintf(os.Stderr, "scope-preview: --quality %d: give 1 to 100\n", opts.Quality)
		os.Exit(2)
	}
	if opts.Filter != "linear" && opts.Filter != "nearest" {
		fmt.Fprintf(os.Stderr, "scope-preview: --filter %q: use linear or nearest\n", opts.Filter)
		os.Exit(2)
	}
	// SIGINT/SIGTERM close the window normally (exit 0): `scope run --preview` then ends
	// the run, as when the user closes it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	closeCh := make(chan struct{})
	go func() {
		<-sig
		close(closeCh)
	}()
	opts.Close = closeCh
	if *statusLog != "" {
		f, err := os.OpenFile(*statusLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scope-preview: --status-log: %v\n", err)
			os.Exit(2)
		}
		defer f.Close()
		opts.StatusLog = f
	}
	if err := render.Run(opts); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintf(os.Stderr, "scope-preview: %v\n", err)
		os.Exit(1)
	}
}
