#!/usr/bin/env bash
# `make run`: build the game, make sure a backend answers, play, clean up.
#
# What runs is the release build, exported exactly as `make dist` exports the
# bundle (scripts/dist.sh --no-tar into target/run/): Godot's release
# template loading the optimised extension (the `linux.release.x86_64`
# entry), through the bundle's own launcher. The editor (`make editor`) keeps
# the debug build. Arguments are passed on to the game's launcher.
#
# The backend URL comes from COTS_BACKEND_URL (default http://127.0.0.1:8080).
# If nothing answers there and the URL is local, a backend is started on the
# embedded SQLite database under data/ and stopped again when the game closes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
URL="${COTS_BACKEND_URL:-http://127.0.0.1:8080}"
URL="${URL%/}"

healthy() { curl -fsS --max-time 2 "$URL/health" >/dev/null 2>&1; }

backend_pid=""
cleanup() {
  if [[ -n "$backend_pid" ]] && kill -0 "$backend_pid" 2>/dev/null; then
    echo "run-game: stopping the backend this run started (pid $backend_pid)"
    kill -TERM "$backend_pid" 2>/dev/null || true
    wait "$backend_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

cargo build -p backend

if healthy; then
  echo "run-game: using the backend already answering at $URL"
else
  case "$URL" in
    http://127.0.0.1:*|http://localhost:*)
      addr="${URL#http://}"; addr="${addr/localhost/127.0.0.1}"
      mkdir -p "$REPO/target/run"
      echo "run-game: starting a local backend on $addr (SQLite under data/, log target/run/backend.log)"
      BIND_ADDR="$addr" "$CARGO_TARGET_DIR/debug/backend" serve >"$REPO/target/run/backend.log" 2>&1 &
      backend_pid=$!
      for _ in $(seq 1 100); do
        healthy && break
        kill -0 "$backend_pid" 2>/dev/null || { tail -n 30 "$REPO/target/run/backend.log" >&2; echo "run-game: the backend exited" >&2; exit 1; }
        sleep 0.2
      done
      healthy || { echo "run-game: the backend did not answer at $URL" >&2; exit 1; }
      ;;
    *)
      echo "run-game: warning: no backend answers at $URL; the game will start offline" >&2
      ;;
  esac
fi

bundle="$("$REPO/scripts/dist.sh" --no-tar --out "$CARGO_TARGET_DIR/run")"
# The bundle uses the machine's own OpenGL drivers. A machine without any
# (a bare Debian server) gets Mesa from the private sid root instead.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libGL\.so\.1 '; then
  root="$(readlink -f "$(dirname "$("$REPO/scripts/godot-bootstrap.sh" --gl --templates)")/sid-root")"
  export COTS_EXTRA_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu"
  export LIBGL_DRIVERS_PATH="$root/usr/lib/x86_64-linux-gnu/dri"
  export __EGL_VENDOR_LIBRARY_DIRS="$root/usr/share/glvnd/egl_vendor.d"
fi
code=0
"$bundle/children-of-the-singularity" --backend-url="$URL" "$@" || code=$?
exit $code
