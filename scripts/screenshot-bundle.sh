#!/usr/bin/env bash
# docs/screenshots/bundle-login.png: the login screen of the bundle `make dist`
# built, rendered by the bundle itself (its launcher, release template and
# extension) under Xvfb. This machine has no OpenGL drivers of its own, so
# Mesa (llvmpipe) comes from the private sid root (bootstrap --gl), after
# the bundle's own libraries (COTS_EXTRA_LIBRARY_PATH of the launcher).
#
#   scripts/screenshot-bundle.sh [BUNDLE_DIR] [OUT.png]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(sed -nE '/^\[workspace\.package\]/,/^\[/ s/^version *= *"([^"]+)".*/\1/p' "$REPO/Cargo.toml" | head -n1)"
BUNDLE="${1:-$REPO/dist/children-of-the-singularity-$VERSION-linux-x86_64}"
OUT="$(realpath -m "${2:-$REPO/docs/screenshots/bundle-login.png}")"
[[ -x "$BUNDLE/children-of-the-singularity" ]] || { echo "screenshot-bundle: no bundle at $BUNDLE (make dist)" >&2; exit 1; }
GODOT="$("$REPO/scripts/godot-bootstrap.sh" --gl --xvfb --templates)"
ROOT="$(readlink -f "$(dirname "$GODOT")/sid-root")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
home="$tmp/home"
mkdir -p "$home"
# A linked copy of the bundle whose override.cfg adds the camera
# (scripts/test-dist/shoot-login.gd) as an autoload: the release template
# takes no --script. Everything else is the bundle's own files.
cp -al "$BUNDLE" "$tmp/bundle"
cp --remove-destination "$BUNDLE/bin/override.cfg" "$tmp/bundle/bin/override.cfg"
printf '\n[autoload]\n\nBundleShot="*%s"\n' "$REPO/scripts/test-dist/shoot-login.gd" >>"$tmp/bundle/bin/override.cfg"
# A fresh HOME: no stored session, so the game opens the login screen.
HOME="$home" COTS_EXTRA_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu" \
  LIBGL_DRIVERS_PATH="$ROOT/usr/lib/x86_64-linux-gnu/dri" \
  __EGL_VENDOR_LIBRARY_DIRS="$ROOT/usr/share/glvnd/egl_vendor.d" \
  xvfb-run -a -s "-screen 0 1280x720x24" \
  "$tmp/bundle/children-of-the-singularity" --audio-driver Dummy --rendering-driver opengl3 \
  -- "--shot=$OUT"
