// Package player plays 48 kHz stereo float audio through miniaudio (malgo): a bounded buffer
// that the host pushes into and the device callback drains, with silence when paused or
// starved. It needs cgo; only scope-preview imports it (the scope binary stays cgo-free).
package player
