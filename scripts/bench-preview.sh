#!/usr/bin/env bash
# Measures the preview's sustained frame rate on 1920x1080 frames under Xvfb: a headless
# session (testsrc -> invert at --fps, default 60) and scope-preview attached to it, which
# reports how many session frames it showed per second. Needs bin/scope, bin/scope-preview
# (make build), build/plugins (make examples) and Xvfb. SIZE (frames), WIN_W/WIN_H (window),
# SECS, FPS and PREVIEW (another scope-preview binary, to compare builds) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
FPS=${FPS:-60} SECS=${SECS:-10s} DISP=${DISP:-:77}
export XDG_RUNTIME_DIR=$(mktemp -d) SCOPE_PLUGIN_PATH=${SCOPE_PLUGIN_PATH:-build/plugins}
Xvfb "$DISP" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
trap 'kill $run $xvfb 2>/dev/null; rm -rf "$XDG_RUNTIME_DIR"' EXIT
sleep 1
bin/scope run invert --input testsrc:${SIZE:-1920x1080} --fps "$FPS" --quiet & run=$!
for _ in $(seq 50); do id=$(bin/scope sessions --json | sed -n 's/.*"id": "\(.*\)".*/\1/p'); [[ -n $id ]] && break; sleep 0.1; done
DISPLAY=$DISP ${PREVIEW:-bin/scope-preview} --session "$id" --width ${WIN_W:-1920} --height ${WIN_H:-1080} --report "$SECS" 2>/dev/null
bin/scope sessions | tail -n +2
