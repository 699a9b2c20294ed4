// Package scope is the Go SDK for Scope Native plugins: it turns Go types into a plugin
// library that speaks the C ABI of include/scope/plugin.h, built with
//
//	go build -buildmode=c-shared -o my-plugin.so .
//
// The SDK owns the cgo plumbing: the exported scope_plugin_entry (written in C, in entry.c),
// the plugin table, the trampolines every descriptor points at, the descriptors themselves (in C
// memory) and the conversion of frames and parameters. A plugin is an ordinary package main:
//
//	package main
//
//	import "github.com/scopenative/scope/sdk/go/scope"
//
//	func init() {
//		scope.SetInfo(scope.Info{Name: "my-plugins", Version: "1.0.0"})
//		scope.Register(scope.Pipeline{
//			ID:     "invert-go",
//			Name:   "Invert Colors (Go)",
//			Modes:  []scope.Mode{scope.VideoMode(1)},
//			Params: []scope.Param{scope.Float("intensity", 1, 0, 1).Label("Intensity")},
//			New:    func(*scope.CreateContext) (scope.Instance, error) { return &invert{}, nil },
//		})
//	}
//
//	func main() {} // required by -buildmode=c-shared, never called
//
// # Lifecycle
//
//  1. Package init: Register and SetInfo record the pipelines (nothing else may run yet).
//  2. The host calls register_pipelines: the SDK checks the descriptions and builds the C
//     descriptors. A mistake (bad id, default out of range...) fails this call with a message.
//  3. Pipeline.New creates an Instance (create).
//  4. Every tick: Instance.Prepare returns Requirements, then Instance.Call fills the output.
//     Call before a successful Prepare returns StatusBadState without reaching the Instance.
//  5. Instance.Close (destroy); finally unregister_pipelines frees the descriptors.
//
// # Errors and panics
//
// Return an *Error (see Errorf) to choose the status; any other error is StatusError. The
// message goes to the host, which shows it prefixed with the plugin and pipeline name. A panic
// in New, Prepare or Call is recovered and reported as StatusError with the message
// "panic: <value>"; a panic in Close is logged. A panic in a goroutine the plugin starts
// itself cannot be recovered by the SDK and ends the host process: recover in those goroutines.
//
// # Memory
//
// Frames, parameter values and prompts belong to the host and are valid during the call that
// received them only. Frame.Data is a Go slice over the host's C memory (unsafe.Slice): read
// and write it during Call, never keep it. The SDK drops these references after each call.
// Input frames are read-only. Nothing the plugin returns points into Go memory: descriptors and
// their strings are allocated with C.malloc and freed at the last unregister_pipelines.
//
// # State
//
// The registry of pipelines is process-wide: one c-shared plugin is one Go runtime, so it
// belongs to this plugin alone; two Go plugins loaded into one process each have their own
// runtime and registry. Instance handles given to the host are runtime/cgo.Handle values.
//
// # Threading
//
// The host calls one instance from one goroutine at a time, but consecutive calls may come from
// different OS threads: keep no thread-bound state between calls. Different instances run
// concurrently unless the pipeline says ThreadingSerial.
//
// # Unloading
//
// A Go c-shared library can never be unloaded (it is marked NODELETE, and the Go runtime
// cannot stop). The host never dlcloses Go plugins; each hot reload loads one more copy with
// its own runtime. See the module's README for the cost.
package scope
