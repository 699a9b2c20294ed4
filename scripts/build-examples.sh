#!/bin/sh
# Builds the Rust and Go invert examples into PLUGINS (make examples runs it after CMake has
# built the C and C++ ones): invert-rust.so with cargo, invert-go.so with go (cgo). A missing
# tool skips its example with a line saying so. CARGO and GO name the tools (default: from PATH).
set -eu
plugins=${1:?usage: scripts/build-examples.sh PLUGINS_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$plugins"
plugins=$(cd "$plugins" && pwd)
cargo=${CARGO:-cargo}
gotool=${GO:-go}

if command -v "$cargo" >/dev/null 2>&1; then
	target=${CARGO_TARGET_DIR:-$plugins/../cargo}
	(cd "$root/examples/rust/invert" && CARGO_TARGET_DIR=$target "$cargo" build --release --offline --lib --quiet)
	cp "$target/release/libinvert_rust.so" "$plugins/invert-rust.so"
	echo "built $plugins/invert-rust.so (cargo)"
else
	echo "skipping examples/rust/invert (invert-rust): cargo is not installed (https://rustup.rs)"
fi

if ! command -v "$gotool" >/dev/null 2>&1; then
	echo "skipping examples/go/invert (invert-go): go is not installed"
elif ! command -v "${CC:-cc}" >/dev/null 2>&1; then
	echo "skipping examples/go/invert (invert-go): Go plugins need cgo and no C compiler (${CC:-cc}) is installed"
else
	(cd "$root/examples/go/invert" && CGO_ENABLED=1 "$gotool" build -buildmode=c-shared -o "$plugins/invert-go.so" .)
	rm -f "$plugins/invert-go.h"
	echo "built $plugins/invert-go.so (go)"
fi
