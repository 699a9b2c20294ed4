#!/bin/sh
# bench-reload.sh -- measures the edit-reload loop of `scope run --watch`: from saving a file
# to the first frame of the new build in the session, for the C, C++, Rust and Go invert
# examples (5 timed edits each, after one that warms the build tree), and the largest frame
# gap around a hot swap at 30 fps. Prints each figure with the load average: on a shared
# machine, rerun it when the machine is quiet.
#
#   scripts/bench-reload.sh            # all four languages
#   SCOPE_BENCH_LANGS=C,C++ scripts/bench-reload.sh
set -eu
cd "$(dirname "$0")/.."
echo "uptime: $(uptime)"
SCOPE_LONG_TESTS=1 go test -count=1 -run '^TestReloadLatency$' -v -timeout 30m ./plugins/e2e/ 2>&1 |
    grep -E '_test.go:[0-9]+: .*save to new frames|skipped|FAIL|^ok'
SCOPE_LONG_TESTS=1 go test -count=1 -run '^TestSwapGap$' -v ./plugins/hotswap/ 2>&1 | grep -E 'frame gap|FAIL|^ok'
echo "uptime: $(uptime)"
