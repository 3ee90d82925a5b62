#!/usr/bin/env bash
# Proves that the release build of the extension carries no test rigging:
# builds `cargo build --release -p rust-game` (no features), loads that
# library in a throwaway Godot project and asks Godot's ClassDB whether the
# in-engine test runner class or any fixture method was registered. Also
# checks that their names do not occur in the library at all.
#
#   scripts/check-release-lib.sh          build, then check
#   COTS_SKIP_BUILD=1 scripts/...          check the library already built
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_GODOT:-$REPO/target}"
LIB="$CARGO_TARGET_DIR/release/librust_game.so"
# Test-only names: the runner class and every fixture #[func] (feature `itest`).
TEST_CLASSES=(TestRunner)
FIXTURES=(
  "BackendClient apply_fixture_identity"
  "GameState apply_fixture_json"
  "GameState apply_fixture_messages"
  "Zone start_local_run"
  "Zone start_local_run_with_debris"
  "Zone simulate"
  "TradingFloor enter_fixture"
  "TradingFloor apply_event_json"
  "TradeWindow apply_trade_json"
)
# Production classes that must be there (the check would pass vacuously
# if the library did not load).
PRODUCTION=(GameState BackendClient Zone TradingFloor TradeWindow HubPanel)

if [[ "${COTS_SKIP_BUILD:-0}" != 1 ]]; then
  # Cargo rebuilds when the feature set differs from the last release build
  # (scripts/bench.sh builds the release library with `itest`).
  cargo build --release -p rust-game
fi
[[ -f "$LIB" ]] || { echo "check-release-lib: $LIB is missing" >&2; exit 1; }

status=0
echo "check-release-lib: strings in $LIB"
for name in "${TEST_CLASSES[@]}" apply_fixture_identity apply_fixture_json apply_fixture_messages \
    start_local_run enter_fixture apply_event_json apply_trade_json; do
  if grep -q -a -F "$name" "$LIB"; then
    echo "  FOUND  $name" >&2
    status=1
  else
    echo "  absent $name"
  fi
done

GODOT="$("$REPO/scripts/godot-bootstrap.sh")"
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT
printf 'config_version=5\n\n[application]\n\nconfig/name="release-lib-check"\nconfig/features=PackedStringArray("4.6")\n' \
  >"$project/project.godot"
# The editor build always loads the debug entry: point it at the release library.
cat >"$project/rust_game.gdextension" <<GDEXT
[configuration]
entry_symbol = "gdext_rust_init"
compatibility_minimum = 4.6

[libraries]
linux.debug.x86_64 = "$LIB"
linux.release.x86_64 = "$LIB"
GDEXT
mkdir -p "$project/.godot"
echo "res://rust_game.gdextension" >"$project/.godot/extension_list.cfg"
{
  echo 'extends SceneTree'
  echo 'func _init() -> void:'
  for c in "${PRODUCTION[@]}"; do echo "	print(\"class %s %s\" % [\"$c\", ClassDB.class_exists(\"$c\")])"; done
  for c in "${TEST_CLASSES[@]}"; do echo "	print(\"class %s %s\" % [\"$c\", ClassDB.class_exists(\"$c\")])"; done
  for f in "${FIXTURES[@]}"; do
    read -r cls method <<<"$f"
    echo "	print(\"method %s.%s %s\" % [\"$cls\", \"$method\", ClassDB.class_has_method(\"$cls\", \"$method\", true)])"
  done
  echo '	quit(0)'
} >"$project/classes.gd"
out="$(HOME="$project" XDG_DATA_HOME="$project/data" XDG_CONFIG_HOME="$project/config" XDG_CACHE_HOME="$project/cache" \
  timeout 120 "$GODOT" --headless --audio-driver Dummy --path "$project" --script res://classes.gd 2>&1 || true)"
echo "check-release-lib: Godot's ClassDB with the release library"
echo "$out" | grep -E '^(class|method) ' | sed 's/^/  /'
for c in "${PRODUCTION[@]}"; do
  echo "$out" | grep -qx "class $c true" || { echo "  MISSING production class $c (did the library load?)" >&2; status=1; }
done
for c in "${TEST_CLASSES[@]}"; do
  echo "$out" | grep -qx "class $c false" || { echo "  test class $c is registered" >&2; status=1; }
done
for f in "${FIXTURES[@]}"; do
  read -r cls method <<<"$f"
  echo "$out" | grep -qx "method $cls.$method false" || { echo "  fixture $cls.$method is registered" >&2; status=1; }
done
if [[ $status -eq 0 ]]; then
  echo "check-release-lib: OK, the release library registers no test class and no fixture method"
fi
exit $status
