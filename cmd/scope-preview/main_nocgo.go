//go:build !cgo

// Command scope-preview is the preview window of a Scope Native session. This build has no
// cgo, which the window (Ebitengine on X11) and audio (malgo) need.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "scope-preview: this build has no cgo; rebuild it with CGO_ENABLED=1 (make build)")
	os.Exit(1)
}
