#!/bin/sh
# Installs a built scope into a prefix (make install PREFIX=~/.local runs it after make build
# and make examples):
#   PREFIX/bin/scope, PREFIX/bin/scope-preview
#   PREFIX/share/scope/{include,cmake,sdk/rust,sdk/go}   the SDK (scope plugin new finds it)
#   PREFIX/share/scope/plugins/*.so                      the example plugins (scope finds them)
# BIN_DIR (default bin) and PLUGINS_DIR (default build/plugins) say where the built files are.
set -eu
prefix=${1:?usage: scripts/install.sh PREFIX}
bin=${BIN_DIR:-bin}
plugins=${PLUGINS_DIR:-build/plugins}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -x "$bin/scope" ] || { echo "install: $bin/scope is not built: run make build" >&2; exit 1; }
share=$prefix/share/scope
mkdir -p "$prefix/bin" "$share/plugins" "$share/sdk"
install -m 755 "$bin/scope" "$prefix/bin/scope"
if [ -x "$bin/scope-preview" ]; then
	install -m 755 "$bin/scope-preview" "$prefix/bin/scope-preview"
else
	echo "install: $bin/scope-preview is not built (make build builds it); installing without the preview" >&2
fi
# The SDK, without build trees (Rust target/ folders) or test data.
rm -rf "$share/include" "$share/cmake" "$share/sdk/rust" "$share/sdk/go"
cp -R include cmake "$share/"
tar -C sdk --exclude=target --exclude=testdata --exclude='*_test.go' -cf - rust go | tar -C "$share/sdk" -xf -
n=0
for so in "$plugins"/*.so; do
	[ -e "$so" ] || continue
	install -m 644 "$so" "$share/plugins/"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || echo "install: no example plugins in $plugins (run make examples)" >&2
echo "installed scope into $prefix: bin/scope, the SDK and $n example plugins in share/scope"
case ":${PATH:-}:" in
*":$prefix/bin:"*) ;;
*) echo "add $prefix/bin to PATH: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
