#!/usr/bin/env bash
# Installs what building and testing Scope Native needs on Debian/Ubuntu, then fetches the Go
# modules. As root it runs apt-get itself; otherwise it prints the exact command to run.
# Safe to run again: it only installs what is missing.
set -euo pipefail

# Debian packages and the command that proves each is there.
declare -A need=(
  [gcc]=gcc [g++]=g++ [make]=make [cmake]=cmake [git]=git [pkg-config]=pkg-config
  [ffmpeg]=ffmpeg [xvfb]=Xvfb [imagemagick]=import
  # The preview window (Ebitengine) needs X11/GL headers to build.
  [libgl1-mesa-dev]=/usr/include/GL/gl.h [libx11-dev]=/usr/include/X11/Xlib.h
  [libxrandr-dev]=/usr/include/X11/extensions/Xrandr.h [libxcursor-dev]=/usr/include/X11/Xcursor/Xcursor.h
  [libxinerama-dev]=/usr/include/X11/extensions/Xinerama.h [libxi-dev]=/usr/include/X11/extensions/XInput2.h
  [libxxf86vm-dev]=/usr/include/X11/extensions/xf86vmode.h
)
missing=()
for pkg in "${!need[@]}"; do
  probe=${need[$pkg]}
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("$pkg")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
done

if ((${#missing[@]})); then
  IFS=$'\n' missing=($(sort <<<"${missing[*]}")); unset IFS
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
