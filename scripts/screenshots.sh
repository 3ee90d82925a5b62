#!/usr/bin/env bash
# `make screenshots`: renders the game's screens under Xvfb to docs/screenshots/.
# Each entry of SHOTS is "scene-path output-name [frames]".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/docs/screenshots"
mkdir -p "$OUT"
GODOT="$("$REPO/scripts/godot-bootstrap.sh" --gl)"
"$REPO/scripts/godot-project.sh" prepare

SHOTS=(
  "res://scenes/boot.tscn boot 20"
)

for shot in "${SHOTS[@]}"; do
  read -r scene name frames <<<"$shot"
  xvfb-run -a -s "-screen 0 1280x720x24" \
    "$GODOT" --audio-driver Dummy --rendering-driver opengl3 --rendering-method gl_compatibility \
    --resolution 1280x720 --path "$REPO/godot-project" \
    --script res://tools/screenshot.gd -- "$scene" "$OUT/$name.png" "${frames:-30}"
  [[ -s "$OUT/$name.png" ]] || { echo "screenshots: $name.png was not written" >&2; exit 1; }
done
echo "screenshots: written to $OUT"
