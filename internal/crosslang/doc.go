// Package crosslang holds the cross-language plugin tests: the invert example written in C,
// C++, Rust and Go must agree byte for byte; Rust panics and C++ exceptions must fail one
// frame and leave the session running; Go, C and Rust plugins must share one chain; and
// `scope plugin new` must write projects that build with each language's own tool. The
// package has no code besides its tests.
//
// Builds are cached where that is cheap: Cargo builds share a target folder under
// os.TempDir() (Cargo rebuilds only what changed). A language whose toolchain is missing
// (g++, cargo) is skipped with the reason; CI has them. Set SCOPE_LONG_TESTS=1 to run the
// mixed chain for 10,000 frames instead of 500.
package crosslang
