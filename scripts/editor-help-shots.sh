#!/usr/bin/env bash
# Screenshots of the Godot editor's help for the Rust node classes, proof
# that their `///` docs reach the editor (the `register-docs` feature of the
# `godot` dependency):
#
#   scripts/editor-help-shots.sh     -> docs/screenshots/editor-help-{zone,player-ship,hub-panel}.png
#
# 1. builds the debug extension and imports the project
#    (`scripts/godot-project.sh prepare`; COTS_SKIP_BUILD=1 skips this and
#    uses the library already in the target directory);
# 2. copies godot-project/ to a work folder (COTS_HELP_WORK, default a fresh
#    temporary one) with `target` beside it as a symlink to the real target
#    directory, because the .gdextension file loads
#    res://../target/debug/librust_game.so;
# 3. installs godot-project/tools/editor_help_shot.gd there as an editor
#    plugin (the project itself never enables it) and opens the editor under
#    Xvfb with private settings folders; the plugin opens each class's help
#    page, scrolls to "Property Descriptions", saves the window and quits.
#
# COTS_HELP_OUT=DIR writes the PNGs to DIR instead of docs/screenshots/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${COTS_HELP_OUT:-$REPO/docs/screenshots}"
TARGET="${COTS_HELP_TARGET:-${CARGO_TARGET_DIR:-$REPO/target}}"
SHOTS=(
  "Zone editor-help-zone"
  "PlayerShip editor-help-player-ship"
  "HubPanel editor-help-hub-panel"
)

log() { echo "editor-help-shots: $*" >&2; }

GODOT="$("$REPO/scripts/godot-bootstrap.sh" --gl --xvfb)"
if [[ "${COTS_SKIP_BUILD:-0}" != 1 ]]; then
  CARGO_TARGET_DIR="$TARGET" "$REPO/scripts/godot-project.sh" prepare
fi
[[ -f "$TARGET/debug/librust_game.so" ]] || { log "$TARGET/debug/librust_game.so is missing"; exit 1; }

if [[ -n "${COTS_HELP_WORK:-}" ]]; then
  WORK="$COTS_HELP_WORK"
  rm -rf "$WORK/godot-project" "$WORK/target" "$WORK/home"
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/cots-help.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi
cp -a "$REPO/godot-project" "$WORK/godot-project"
ln -s "$(cd "$TARGET" && pwd)" "$WORK/target"
PROJECT="$WORK/godot-project"

# The plugin, enabled in the copy only.
mkdir -p "$PROJECT/addons/cots_help_shot"
cp "$REPO/godot-project/tools/editor_help_shot.gd" "$PROJECT/addons/cots_help_shot/plugin.gd"
cat >"$PROJECT/addons/cots_help_shot/plugin.cfg" <<'CFG'
[plugin]

name="COTS help shot"
description="Saves the editor's help pages of the Rust classes (scripts/editor-help-shots.sh)."
author="Children of the Singularity"
version="1.0"
script="plugin.gd"
CFG
printf '\n[editor_plugins]\n\nenabled=PackedStringArray("res://addons/cots_help_shot/plugin.cfg")\n' \
  >>"$PROJECT/project.godot"
mkdir -p "$PROJECT/.godot"
echo "res://rust_game.gdextension" >"$PROJECT/.godot/extension_list.cfg"

# Private editor settings, so a developer's own layout does not change the
# picture and the run does not change theirs.
export XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data" XDG_CACHE_HOME="$WORK/home/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

log "importing the copy"
timeout 300 "$GODOT" --headless --audio-driver Dummy --path "$PROJECT" --import >"$WORK/import.log" 2>&1 || {
  tail -n 30 "$WORK/import.log" >&2; log "import failed"; exit 1; }

mkdir -p "$OUT"
spec=""
for shot in "${SHOTS[@]}"; do
  read -r cls name <<<"$shot"
  rm -f "$OUT/$name.png"
  spec+="$cls=$OUT/$name.png;"
done

log "opening the editor under Xvfb"
status=0
COTS_HELP_SHOTS="$spec" timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$GODOT" --editor --audio-driver Dummy --rendering-driver opengl3 \
  --resolution 1600x1000 --path "$PROJECT" >"$WORK/editor.log" 2>&1 || status=$?
grep -E 'editor-help-shot|Initialize godot-rust' "$WORK/editor.log" >&2 || true
if [[ $status -ne 0 ]]; then
  tail -n 40 "$WORK/editor.log" >&2
  log "the editor exited with $status (log: $WORK/editor.log)"
  exit 1
fi
for shot in "${SHOTS[@]}"; do
  read -r _ name <<<"$shot"
  [[ -s "$OUT/$name.png" ]] || { log "$name.png was not written"; exit 1; }
done
log "written to $OUT"
