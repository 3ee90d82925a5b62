#!/usr/bin/env bash
# Helpers shared by the make targets that run Godot on godot-project/.
#
#   scripts/godot-project.sh prepare     build the extension, seed and import the project
#                                        (COTS_ITEST=1: with the test rigging, for screenshots)
#   scripts/godot-project.sh test [F]    run the in-engine tests headless (filter F;
#                                        the extension is built with `--features itest`)
#   scripts/godot-project.sh smoke       run the boot scene headless for a few frames
#   scripts/godot-project.sh editor      open the project in the Godot editor
#   scripts/godot-project.sh play [ARGS] run the game in a window
#
# A run fails on a non-zero exit and also on any of the log lines below: gdext
# catches a Rust panic inside a #[func] and logs it while the engine goes on,
# and Godot reports a missing library or leaked objects without failing.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$REPO/godot-project"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_GODOT:-$REPO/target}"
LOG_DIR="$REPO/target/godot-logs"
FAIL_PATTERNS='SCRIPT ERROR|ERROR: \[panic|panicked at|Can'"'"'t open dynamic library|ObjectDB instances leaked at exit|Parse Error|Failed to load script|Segmentation fault|signal 11|Condition ".*" is true|Invalid call|Cannot call method|GDExtension dynamic library not found|Failed loading resource'

GODOT="$("$REPO/scripts/godot-bootstrap.sh" ${GODOT_BOOTSTRAP_FLAGS:-})"

backend_pid=""
backend_dir=""
stop_spawned() {
  # stop_spawned FILE WORD: kills the pids listed in $COTS_GODOT_DATA/FILE
  # whose command line still contains WORD (a recycled pid is left alone).
  local list="${COTS_GODOT_DATA:-}/$1"
  [[ -n "${COTS_GODOT_DATA:-}" && -f "$list" ]] || return 0
  local pid
  while read -r pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$list"
}

stop_spawned_backends() {
  # Backends the tests start themselves (offline-queue tests) and the OpenID
  # test providers of the provider sign-in suite write their pids there; a
  # test that crashed or timed out must not leave one running.
  stop_spawned spawned-backends.pid backend
  stop_spawned spawned-providers.pid provider.mjs
}

ensure_oidc_provider() {
  # The loopback OpenID Connect provider of test_provider_sign_in.gd
  # (scripts/oidc-test-provider, Node.js): ready to run from the directory
  # exported here; the suite starts `node provider.mjs` itself.
  [[ -x "$REPO/scripts/ensure-oidc-provider.sh" ]] || return 0
  local dir
  if ! dir="$("$REPO/scripts/ensure-oidc-provider.sh")"; then
    echo "godot-project: the OpenID test provider could not be set up (scripts/ensure-oidc-provider.sh)" >&2
    exit 1
  fi
  export COTS_OIDC_PROVIDER_DIR="$dir"
}

stop_backend() {
  if [[ -n "$backend_pid" ]] && kill -0 "$backend_pid" 2>/dev/null; then
    kill -TERM "$backend_pid" 2>/dev/null || true
    wait "$backend_pid" 2>/dev/null || true
  fi
  [[ -n "$backend_dir" ]] && rm -rf "$backend_dir"
  backend_pid=""
}

start_test_backend() {
  # A real backend on a fresh SQLite file and a free loopback port; the tests
  # find it through COTS_BACKEND_URL. Stopped when this script exits. Every
  # suite signs in from 127.0.0.1, so the per-IP auth limit is raised.
  cargo build -p backend
  # Tests that stop and restart a backend start their own from this binary.
  export COTS_BACKEND_BIN="$CARGO_TARGET_DIR/debug/backend"
  backend_dir="$(mktemp -d)"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$LOG_DIR"
  # The suites sign up several players from the same loopback address (the
  # lobby test runs two games): the per-IP auth rate limit is raised so one
  # suite cannot use up another's budget. Its own behaviour is tested in
  # the backend's cargo tests.
  (cd "$backend_dir" && \
    AUTH_RATE_LIMIT_PER_MINUTE=600 AUTH_RATE_LIMIT_BURST=120 \
    APP_ENV=development DATABASE_URL="sqlite://$backend_dir/test.db?mode=rwc" BIND_ADDR="127.0.0.1:$port" \
    AUTH_RATE_LIMIT_PER_MINUTE=600 AUTH_RATE_LIMIT_BURST=200 \
    RUST_LOG="${BACKEND_LOG:-warn}" exec "$CARGO_TARGET_DIR/debug/backend" serve) >"$LOG_DIR/backend.log" 2>&1 &
  backend_pid=$!
  export COTS_BACKEND_URL="http://127.0.0.1:$port"
  # Its database, for tests that read the development outbox with
  # `backend outbox` (the lobby peer confirms its email with the mailed code).
  export COTS_BACKEND_DATABASE_URL="sqlite://$backend_dir/test.db?mode=rwc"
  for _ in $(seq 1 150); do
    curl -fsS --max-time 1 "$COTS_BACKEND_URL/health" >/dev/null 2>&1 && return 0
    kill -0 "$backend_pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 30 "$LOG_DIR/backend.log" >&2
  echo "godot-project: the test backend did not start" >&2
  exit 1
}

build_extension() {
  # The in-engine tests, the screenshot fixtures and the benchmarks need the
  # `itest` feature (TestRunner, fixture functions); the game itself does not.
  local features=()
  [[ "${COTS_ITEST:-0}" == 1 ]] && features=(--features itest)
  if [[ "${COTS_RELEASE:-0}" == 1 ]]; then
    cargo build -p rust-game --release "${features[@]}"
  else
    cargo build -p rust-game "${features[@]}"
  fi
}

seed_and_import() {
  mkdir -p "$PROJECT/.godot"
  # Without this file Godot does not know the extension on a fresh clone and
  # a headless --import crashes at exit (upstream Godot issue 111048).
  echo "res://rust_game.gdextension" > "$PROJECT/.godot/extension_list.cfg"
  mkdir -p "$LOG_DIR"
  local log="$LOG_DIR/import.log"
  if ! "$GODOT" --headless --audio-driver Dummy --path "$PROJECT" --import >"$log" 2>&1; then
    cat "$log" >&2
    echo "godot-project: headless import failed (log: $log)" >&2
    exit 1
  fi
  check_log "$log" "import"
}

check_log() {
  local log="$1" what="$2"
  if grep -E -n "$FAIL_PATTERNS" "$log" >/dev/null; then
    echo "godot-project: $what log contains errors:" >&2
    grep -E -n "$FAIL_PATTERNS" "$log" | head -n 40 >&2
    return 1
  fi
}

run_checked() {
  # run_checked NAME ARGS...: runs Godot, tees the log, fails on exit code or log patterns.
  local name="$1"; shift
  mkdir -p "$LOG_DIR"
  local log="$LOG_DIR/$name.log" code=0
  set +e
  # The runner has its own watchdog; this one catches a hang in the engine itself.
  timeout --kill-after=10 "${GODOT_TIMEOUT:-900}" "$GODOT" "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  set -e
  if [[ $code -ne 0 ]]; then
    echo "godot-project: $name exited with code $code (log: $log)" >&2
    return 1
  fi
  if ! grep -q "Initialize godot-rust" "$log"; then
    echo "godot-project: $name did not load the Rust extension (log: $log)" >&2
    return 1
  fi
  check_log "$log" "$name"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  prepare)
    build_extension
    seed_and_import
    ;;
  test)
    COTS_ITEST=1 build_extension
    seed_and_import
    # A private user:// for the run: the tests write sessions and queues there,
    # and must neither see nor touch the player's own, nor another run's.
    test_data="$(mktemp -d)"
    trap 'stop_spawned_backends; stop_backend; rm -rf "$test_data"' EXIT
    export COTS_GODOT_DATA="$test_data"
    # Suites that start a second game (the lobby's two-player test) run the
    # same wrapper on the same project; OS.get_executable_path() would name
    # the bare engine behind the wrapper's loader, which cannot start alone.
    export COTS_GODOT_BIN="$GODOT" COTS_GODOT_PROJECT="$PROJECT" COTS_GODOT_LOG_DIR="$LOG_DIR"
    [[ "${COTS_TEST_BACKEND:-1}" == 1 ]] && start_test_backend
    [[ "${COTS_TEST_BACKEND:-1}" == 1 ]] && ensure_oidc_provider
    run_checked tests --headless --audio-driver Dummy --path "$PROJECT" \
      --script res://tests/run_tests.gd -- "${1:-}"
    ;;
  smoke)
    build_extension
    seed_and_import
    run_checked smoke --headless --audio-driver Dummy --path "$PROJECT" --quit-after 120
    ;;
  editor)
    build_extension
    seed_and_import
    exec "$GODOT" --editor --path "$PROJECT"
    ;;
  play)
    build_extension
    seed_and_import
    exec "$GODOT" --path "$PROJECT" "$@"
    ;;
  *)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
