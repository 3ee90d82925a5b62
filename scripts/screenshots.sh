#!/usr/bin/env bash
# `make screenshots`: renders the game's screens under Xvfb to docs/screenshots/.
# `scripts/screenshots.sh lobby trade-window` renders only the shots named.
# Each entry of SHOTS is "scene-path output-name [frames] [setup]"; setup
# names a fixture in godot-project/tools/shot_setup.gd (real Rust nodes in a
# prepared state: a local run from a fixed seed, a panel on a tab).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/docs/screenshots"
mkdir -p "$OUT"
GODOT="$("$REPO/scripts/godot-bootstrap.sh" --gl --xvfb)"
# The shots are set up by fixture functions (feature `itest`).
COTS_ITEST=1 "$REPO/scripts/godot-project.sh" prepare

SHOTS=(
  "res://scenes/screens/boot.tscn boot 20"
  "res://scenes/screens/login_screen.tscn login 20"
  "res://scenes/screens/register_screen.tscn register 20 register_typing"
  "res://scenes/screens/login_screen.tscn login-locked 20 login_error"
  "res://scenes/screens/login_screen.tscn login-providers 20 login_providers"
  "res://scenes/screens/login_screen.tscn login-waiting 20 login_waiting"
  "res://scenes/screens/login_screen.tscn settings 20 settings"
  "res://scenes/screens/login_screen.tscn reset-code 20 reset_code"
  "res://scenes/screens/login_screen.tscn email-verification 20 verify"
  "res://scenes/zone/zone.tscn zone-hud 12 zone"
  "res://scenes/zone/zone.tscn first-flight 20 first_flight"
  "res://scenes/zone/zone.tscn inventory 20 inventory"
  "res://scenes/zone/zone.tscn hub-sell 20 hub_sell"
  "res://scenes/zone/zone.tscn hub-upgrades 20 hub_upgrades"
  "res://scenes/zone/zone.tscn confirm-dialog 20 confirm"
  "res://scenes/zone/zone.tscn zone-select 20 zone_select"
  "res://scenes/zone/zone.tscn ai-overlay 20 ai_overlay"
  "res://scenes/zone/zone.tscn message-log 20 message_log"
  "res://scenes/zone/zone.tscn pause-menu 20 pause_menu"
  "res://scenes/zone/zone.tscn account 40 account"
  "res://scenes/zone/zone.tscn zone-offline 20 zone_offline"
  "res://scenes/lobby/trading_floor.tscn lobby-entry 20 lobby_entry"
  "res://scenes/lobby/trading_floor.tscn lobby 60 lobby"
  "res://scenes/lobby/trading_floor.tscn lobby-reconnecting 60 lobby_reconnecting"
  "res://scenes/lobby/trading_floor.tscn trade-declined 40 trade_declined"
  "res://scenes/lobby/trading_floor.tscn trade-expired 40 trade_expired"
  "res://scenes/lobby/trading_floor.tscn trade-window 40 trade_window"
)
# `scripts/screenshots.sh NAME...` renders only the named shots.
if [[ $# -gt 0 ]]; then
  wanted=" $* "
  selected=()
  for shot in "${SHOTS[@]}"; do
    read -r _ name _ <<<"$shot"
    [[ "$wanted" == *" $name "* ]] && selected+=("$shot")
  done
  SHOTS=("${selected[@]}")
fi

for shot in "${SHOTS[@]}"; do
  read -r scene name frames setup <<<"$shot"
  xvfb-run -a -s "-screen 0 1280x720x24" \
    "$GODOT" --audio-driver Dummy --rendering-driver opengl3 --rendering-method gl_compatibility \
    --resolution 1280x720 --path "$REPO/godot-project" \
    --script res://tools/screenshot.gd -- "$scene" "$OUT/$name.png" "${frames:-30}" "${setup:-}"
  [[ -s "$OUT/$name.png" ]] || { echo "screenshots: $name.png was not written" >&2; exit 1; }
done
echo "screenshots: written to $OUT"
