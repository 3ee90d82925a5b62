#!/usr/bin/env bash
# `make test-dist`: the bundle `make dist` built, launched as a player would.
#
#   scripts/test-dist.sh [TARBALL]    default: dist/children-of-the-singularity-<version>-linux-x86_64.tar.gz
#
# 1. a real backend (target/debug/backend) on a fresh SQLite file and a free
#    loopback port, and an account registered on it with curl;
# 2. the tarball unpacked into an empty directory and started through its
#    launcher with an empty HOME, a bare PATH (no cargo, no Godot) and no
#    other environment, headless, with --backend-url= pointing at (1);
# 3. a player script from outside the bundle (scripts/test-dist/player.gd;
#    the release template takes no `--script`, so it is added as an autoload
#    to the unpacked copy's bin/override.cfg) signs in on the login screen
#    the game opens and waits for the zone run;
# 4. passes when the game exits 0, its log has no error line, every shared
#    object the loader mapped came from the unpacked folder, and the backend
#    holds the run the game reported for that account.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
NAME=children-of-the-singularity
VERSION="$(sed -nE '/^\[workspace\.package\]/,/^\[/ s/^version *= *"([^"]+)".*/\1/p' Cargo.toml | head -n1)"
TAR="${1:-$REPO/dist/$NAME-$VERSION-linux-x86_64.tar.gz}"
LOG_DIR="$CARGO_TARGET_DIR/test-dist"
FAIL_PATTERNS='ERROR|SCRIPT ERROR|panicked|PLAYER FAILED|Segmentation fault|signal 11|leaked at exit|Parse Error|Failed to load|not found'
# One known engine bug is not ours: Godot's release templates report every
# Container child freed with a scene as "Attempt to disconnect a nonexistent
# connection ... Signal: 'size_flags_changed' (or 'visibility_changed'),
# callable: ''" (godotengine/godot#94868; the editor build and debug
# templates do not). Exactly those two lines, and the `at:` line after
# each, are left out of the check; any other error fails the test.
KNOWN_ENGINE_NOISE="^ERROR: Attempt to disconnect a nonexistent connection from '[^']*'\. Signal: '(size_flags_changed|visibility_changed)', callable: ''\.\$"

log() { echo "test-dist: $*" >&2; }
fail() { echo "test-dist: FAILED: $*" >&2; exit 1; }

[[ -f "$TAR" ]] || fail "no bundle at $TAR (run make dist)"
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
work="$(mktemp -d)"
backend_pid=""
cleanup() {
  if [[ -n "$backend_pid" ]] && kill -0 "$backend_pid" 2>/dev/null; then
    kill -TERM "$backend_pid" 2>/dev/null || true
    wait "$backend_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. Backend and account ----------------------------------------------------
cargo build -p backend --locked
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$port"
mkdir -p "$work/backend"
(cd "$work/backend" && APP_ENV=development DATABASE_URL="sqlite://$work/backend/test.db?mode=rwc" \
  BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn exec "$CARGO_TARGET_DIR/debug/backend" serve) \
  >"$LOG_DIR/backend.log" 2>&1 &
backend_pid=$!
for _ in $(seq 1 150); do
  curl -fsS --max-time 1 "$URL/health" >/dev/null 2>&1 && break
  kill -0 "$backend_pid" 2>/dev/null || break
  sleep 0.2
done
curl -fsS --max-time 1 "$URL/health" >/dev/null 2>&1 || { tail -n 30 "$LOG_DIR/backend.log" >&2; fail "the backend did not start"; }

user="pilot$(date +%s)$$"
password_file="$work/password"
(umask 077; python3 -c 'import secrets; print("dist-test-" + secrets.token_hex(12))' >"$password_file")
body="$(python3 -c 'import json, sys; print(json.dumps({"email": sys.argv[1] + "@example.org", "username": sys.argv[1], "password": open(sys.argv[2]).read().strip()}))' "$user" "$password_file")"
code="$(curl -sS -o "$LOG_DIR/register.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$URL/api/v1/auth/register")"
[[ "$code" == 201 ]] || { cat "$LOG_DIR/register.json" >&2; fail "registering $user answered $code"; }
log "backend $URL, account $user"

# --- 2. Unpack into an empty directory ------------------------------------------
mkdir -p "$work/player/home" "$work/player/games"
tar -xzf "$TAR" -C "$work/player/games"
launcher="$(echo "$work/player/games"/*/"$NAME")"
[[ -x "$launcher" ]] || fail "no launcher ./$NAME at the top of the tarball"
bundle="$(dirname "$launcher")"
# The player's hands: an autoload from outside the bundle (see the top).
printf '\n[autoload]\n\nDistTestPlayer="*%s"\n' "$REPO/scripts/test-dist/player.gd" >>"$bundle/bin/override.cfg"
clean_path=/usr/bin:/bin
for tool in cargo rustc godot godot4; do
  if env -i PATH="$clean_path" bash -c "command -v $tool" >/dev/null 2>&1; then
    fail "$tool is reachable on the player's PATH ($clean_path); the test would prove nothing"
  fi
done

# --- 3. Play -------------------------------------------------------------------
log "starting $(basename "$bundle") (empty HOME, PATH=$clean_path, headless)"
mkdir -p "$work/ld"
code=0
t0=$(date +%s%N)
timeout --kill-after=10 180 env -i HOME="$work/player/home" PATH="$clean_path" LANG=C.UTF-8 \
  COTS_TEST_LOGIN="$user" COTS_TEST_PASSWORD_FILE="$password_file" \
  LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld/trace" \
  "$launcher" --headless --backend-url="$URL" \
  >"$LOG_DIR/game.log" 2>&1 || code=$?
t1=$(date +%s%N)
grep -E -v "$KNOWN_ENGINE_NOISE|^   at: _disconnect " "$LOG_DIR/game.log" || true
log "the game ran $(( (t1 - t0) / 1000000 )) ms and exited with $code (log: $LOG_DIR/game.log)"

# --- 4. Verdict ------------------------------------------------------------------
[[ $code -eq 0 ]] || fail "the game exited with $code"
grep -E -v "$KNOWN_ENGINE_NOISE" "$LOG_DIR/game.log" >"$LOG_DIR/game-checked.log" || true
noise=$(( $(wc -l <"$LOG_DIR/game.log") - $(wc -l <"$LOG_DIR/game-checked.log") ))
if grep -E -n "$FAIL_PATTERNS" "$LOG_DIR/game-checked.log" >/dev/null; then
  grep -E -n "$FAIL_PATTERNS" "$LOG_DIR/game-checked.log" | head -n 40 >&2
  fail "error lines in the game's log"
fi
((noise == 0)) || log "left out $noise lines of the engine's known release-build disconnect noise (godotengine/godot#94868)"
for step in "PLAYER login_screen" "PLAYER signing_in" "PLAYER run_started" "PLAYER quit"; do
  grep -q "^$step" "$LOG_DIR/game.log" || fail "the game never got to '$step'"
done
grep -q "^BuildInfo: Children of the Singularity $VERSION (" "$LOG_DIR/game.log" \
  || fail "the game does not show the version $VERSION (BuildInfo line)"
if grep -q "$(cat "$password_file")" "$LOG_DIR/game.log" "$LOG_DIR/backend.log"; then
  fail "the password appears in a log"
fi

# Every object the loader mapped into the game (engine, extension, libraries,
# dlopen()ed ones) must come from the unpacked folder, except the optional
# system libraries the engine looks for itself on a player's machine (udev for
# gamepads, the OpenGL/Vulkan drivers), which a player's system provides.
# One trace file per process: the game's is the one naming the engine (the
# launcher's `env` and `bash` run first in that same process, so only what
# follows counts); helper programs the engine runs are other processes.
SYSTEM_OPTIONAL='^/(usr/)?lib(64)?/(x86_64-linux-gnu/)?(libudev\.so\.1|libGL|libEGL|libGLX|libGLdispatch|libvulkan|libnss_)'
: >"$LOG_DIR/ld-files.log"
for trace in "$work"/ld/trace.*; do
  grep -q "godot-template-release" "$trace" || continue
  awk '/godot-template-release/ { on = 1 } on' "$trace" >>"$LOG_DIR/ld-files.log"
done
[[ -s "$LOG_DIR/ld-files.log" ]] || fail "no loader trace of the game (LD_DEBUG)"
sed -nE 's/.*(calling init|initialize program): (.+)$/\2/p' "$LOG_DIR/ld-files.log" | sort -u >"$LOG_DIR/loaded-objects.txt"
outside="$(awk -v b="$bundle/" 'index($0, b) != 1' "$LOG_DIR/loaded-objects.txt")"
system_ok="$(grep -E "$SYSTEM_OPTIONAL" <<<"$outside" || true)"
foreign="$(grep -E -v "$SYSTEM_OPTIONAL" <<<"$outside" | grep -v '^$' || true)"
if [[ -n "$foreign" ]]; then
  echo "$foreign" >&2
  fail "the game loaded shared objects from outside the bundle"
fi
[[ -z "$system_ok" ]] || log "optional system libraries the engine opened itself: $(tr '\n' ' ' <<<"$system_ok")"
grep -q "/bin/librust_game.so$" "$LOG_DIR/loaded-objects.txt" || fail "the extension bin/librust_game.so was not loaded"
log "$(grep -c "^$bundle/" "$LOG_DIR/loaded-objects.txt") shared objects loaded from the bundle"

# The backend's word: the account holds the run the game started.
run_id="$(sed -nE 's/^PLAYER run_started zone=([0-9]+) run_id=([^ ]+)$/\2/p' "$LOG_DIR/game.log")"
[[ -n "$run_id" ]] || fail "no run id in the game's log"
body="$(python3 -c 'import json, sys; print(json.dumps({"login": sys.argv[1], "password": open(sys.argv[2]).read().strip()}))' "$user" "$password_file")"
token="$(curl -fsS -H 'Content-Type: application/json' -d "$body" "$URL/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
curl -fsS -H "Authorization: Bearer $token" "$URL/api/v1/me/export" >"$LOG_DIR/export.json"
python3 - "$LOG_DIR/export.json" "$run_id" "$user" <<'PY' || fail "the backend does not hold the game's run"
import json, sys
doc = json.load(open(sys.argv[1]))
runs = doc["game"]["runs"]
assert doc["user"]["username"] == sys.argv[3], doc["user"]
mine = [r for r in runs if r["run_id"] == sys.argv[2]]
assert mine, f"run {sys.argv[2]} not among {runs}"
print(f"test-dist: backend holds run {mine[0]['run_id']} in zone {mine[0]['zone']} for {sys.argv[3]}", file=sys.stderr)
PY
log "passed: $(basename "$TAR") unpacked, signed in, started a zone run, quit with 0"
