#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a short while each (SCOPE_FUZZ_TIME, default 5s).
# `go test ./...` already runs each target's committed corpus (testdata/fuzz/) and its f.Add
# seeds as ordinary tests; this script adds the fuzzing itself. `make test` calls it when
# SCOPE_FUZZ=1. A failure leaves the failing input under the package's testdata/fuzz/ folder:
# commit it with the fix so it stays in the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${SCOPE_FUZZ_TIME:-5s}
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target ($time)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg" || status=1
  done
done
exit $status
