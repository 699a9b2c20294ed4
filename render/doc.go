// Package render is the preview window of scope-preview, on Ebitengine: it maps a session's
// frame ring and draws the newest frame scaled to fit (aspect kept, nearest or linear), a side
// panel generated from each pipeline's schema (sliders, toggles, pickers, text boxes, colour
// controls; load-time parameters shown disabled), an overlay with live stats, and plays the
// session's audio.
//
// Everything but this file needs cgo (Ebitengine on X11, malgo), and Ebitengine opens the
// display in its init: only cmd/scope-preview may import this package, never the scope binary.
package render
