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
	flag.DurationVar(&opts.Report, "report", 0, "measure the shown frame rate for this `long`, print it and close (benchmarks)")
	flag.Parse()
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
	if err := render.Run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "scope-preview: %v\n", err)
		os.Exit(1)
	}
}
