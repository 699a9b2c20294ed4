#!/usr/bin/env bash
# Installs what building and testing Scope Native needs on Debian/Ubuntu, then fetches the Go
# modules. As root it runs apt-get itself; otherwise it prints the exact command to run.
# Safe to run again: it only installs what is missing.
set -euo pipefail

# Debian packages the build and the tests use: compilers and build tools, ffmpeg (video
# files), Xvfb, ImageMagick and xdotool (the preview tests), the X11/GL headers (the preview window
# builds with cgo), frei0r-plugins (the frei0r bridge has something to bridge), bubblewrap
# (`scope plugin install` builds packages in a bwrap sandbox).
packages=(
  gcc g++ make cmake git pkg-config ffmpeg xvfb imagemagick xdotool frei0r-plugins bubblewrap
  libgl1-mesa-dev libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev
)
missing=()
for pkg in "${packages[@]}"; do
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not on PATH; install Go 1.26 or newer (https://go.dev/dl) and run make again" >&2
  exit 1
fi
go mod download
