#!/usr/bin/env bash
# `make bench`: every benchmark of issue 9, end to end, then docs/BENCHMARKS.md.
#
#   1. zone simulation (criterion, `game` crate): tick cost at 1k..1M debris
#   2. the debris field in headless Godot: our Rust Zone node against a
#      GDScript node-per-piece field, 1k and 10k pieces, debug extension (what
#      `make run` loads) and release extension
#   3-5. backend under load (backend/benches/load.rs, a second process on
#      loopback) on SQLite and on a private PostgreSQL: state reads, collect,
#      sell, purchase, a login storm during reads, trades; `backend audit`
#   6. client: boot to login screen, extension load time, RSS in the zone
#   7. the shipped build (scripts/bench-shipped.sh): `make dist`'s bundle,
#      unpacked and run through its launcher: size, cold start to the login
#      screen, the field at 1k/10k/100k pieces, RSS in the zone
#   8. reconnect storm (backend/benches/reconnect_storm.rs): 200 lobby
#      sockets find their way back after the backend is killed and restarted
#
# Raw figures land in target/bench/*.json; scripts/bench_report.py turns them
# into docs/BENCHMARKS.md and docs/bench/*.svg (matplotlib, installed into a
# private venv). Set-up is done here, like `make test`: PostgreSQL, Godot,
# the venv. BENCH_SECONDS (default 10) sets the length of each load phase.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$REPO/target/bench"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/children-of-the-singularity"
SECONDS_PER_PHASE="${BENCH_SECONDS:-10}"
BOOT_RUNS="${BENCH_BOOT_RUNS:-10}"
rm -rf "$OUT"
mkdir -p "$OUT"
started=$(date +%s)

log() { echo "bench: $*" >&2; }
# The load average next to every figure: the machine may not be quiet.
mark() { echo "$1 $(cut -d' ' -f1-3 /proc/loadavg) $(date +%s)" >>"$OUT/loads.txt"; }

# --- Set-up --------------------------------------------------------------------
log "set-up: PostgreSQL, Godot, plotting venv"
PG_URL="$(scripts/ensure-postgres.sh)"
GODOT="$(scripts/godot-bootstrap.sh)"
VENV="$CACHE/bench-venv"
if ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$VENV" || {
    log "python3 -m venv failed; installing python3-venv"
    sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get install -y python3-venv >&2
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install --quiet "matplotlib==3.9.2" >&2
fi
if ! command -v perf >/dev/null; then
  # Best effort: the profiles are a bonus, the figures do not need them.
  log "installing perf (Debian package linux-perf) for the CPU profiles"
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo -n)
  "${sudo_cmd[@]}" apt-get install -y linux-perf >&2 || log "could not install linux-perf"
fi
PERF=0
if command -v perf >/dev/null && perf record -q -o /dev/null -- true >/dev/null 2>&1; then
  PERF=1
else
  log "perf is not usable here: no CPU profiles"
fi

# --- Builds (not timed as part of the benchmarks) ------------------------------
log "building: backend (release), load generator, extension (debug and release)"
cargo build --release -p backend --locked
cargo bench -p backend --bench load --no-run --locked
cargo bench -p backend --bench reconnect_storm --no-run --locked
# `itest`: the Rust-vs-GDScript field bench starts a local run
# (`Zone.start_local_run_with_debris`, a fixture function).
cargo build -p rust-game --locked --features itest
cargo build --release -p rust-game --locked --features itest
build_done=$(date +%s)

# --- 1. Zone simulation --------------------------------------------------------
log "1. zone tick (criterion)"
mark zone_tick
rm -rf "$CARGO_TARGET_DIR/criterion/zone_tick"
cargo bench -p game --bench zone_tick --locked 2>&1 | tee "$OUT/zone_tick.log"
mkdir -p "$OUT/criterion"
cp -r "$CARGO_TARGET_DIR/criterion/zone_tick" "$OUT/criterion/"

# --- 3-5. Backend under load ---------------------------------------------------
perf_args=()
[ "$PERF" = 1 ] && perf_args=(--perf-dir "$OUT/perf" --perf "state_read,collect,login_storm,trades")
for db in sqlite postgres; do
  log "3-5. backend load on $db"
  mark "load_$db"
  cargo bench -p backend --bench load --locked -- \
    --backend "$CARGO_TARGET_DIR/release/backend" --db "$db" --pg-url "$PG_URL" \
    --out "$OUT/load-$db.json" --work "$OUT/work" --seconds "$SECONDS_PER_PHASE" \
    "${perf_args[@]}"
done
if [ "$PERF" = 1 ]; then
  for data in "$OUT"/perf/*.data; do
    [ -e "$data" ] || continue
    perf report -i "$data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio \
      2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25 >"${data%.data}.txt" || true
  done
fi
rm -rf "$OUT/work"

# --- 2 and 6. Client -----------------------------------------------------------
export COTS_BACKEND_URL="http://127.0.0.1:9" # nothing answers: no session, offline
godot_data="$(mktemp -d)"
trap 'rm -rf "$godot_data"' EXIT
export COTS_GODOT_DATA="$godot_data"
G=("$GODOT" --headless --audio-driver Dummy)

# A copy of the project whose .gdextension loads a given library: the Godot
# we run is an editor build, which always loads the `debug` entry.
project_copy() { # DIR LIBRARY
  local dir="$1" lib="$2"
  rm -rf "$dir"; mkdir -p "$dir"
  (cd godot-project && tar --exclude=./.godot -cf - .) | (cd "$dir" && tar -xf -)
  sed -i -E "s#^(linux\.(debug|release)\.x86_64) = .*#\1 = \"$lib\"#" "$dir/rust_game.gdextension"
  mkdir -p "$dir/.godot"
  echo "res://rust_game.gdextension" >"$dir/.godot/extension_list.cfg"
  "${G[@]}" --path "$dir" --import >"$dir.import.log" 2>&1
}

log "2. debris field: Rust Zone node vs GDScript, debug and release extension"
for flavour in debug release; do
  project_copy "$OUT/project-$flavour" "$CARGO_TARGET_DIR/$flavour/librust_game.so"
  mark "godot_field_$flavour"
  timeout 900 "${G[@]}" --fixed-fps 60 --path "$OUT/project-$flavour" \
    --script res://bench/run_bench.gd -- "$OUT/godot-field-$flavour.json" \
    >"$OUT/godot-field-$flavour.log" 2>&1 || { tail -n 30 "$OUT/godot-field-$flavour.log" >&2; exit 1; }
  grep '^bench:' "$OUT/godot-field-$flavour.log" >&2 || true
done

log "6. client: boot to login, extension load"
mark client
: >"$OUT/client.txt"
for flavour in debug release; do
  for _ in $(seq 1 "$BOOT_RUNS"); do
    t0=$(date +%s%N)
    line=$(timeout 120 "${G[@]}" --path "$OUT/project-$flavour" --script res://bench/boot_probe.gd 2>&1 | grep '^BOOT_PROBE' || true)
    t1=$(date +%s%N)
    usec=$(sed -nE 's/.*login_unix_usec=([0-9]+).*/\1/p' <<<"$line")
    engine=$(sed -nE 's/.*engine_ms=([0-9]+).*/\1/p' <<<"$line")
    [ -n "$usec" ] && echo "boot_to_login_ms $flavour $(( (usec * 1000 - t0) / 1000000 )) $engine $(( (t1 - t0) / 1000000 ))" >>"$OUT/client.txt"
  done
done
# Extension load: a project with nothing but the extension, against the same
# project without it; both quit after their first frame.
for flavour in debug release; do
  for with in 0 1; do
    dir="$OUT/ext-$flavour-$with"
    rm -rf "$dir"; mkdir -p "$dir/.godot"
    printf 'config_version=5\n\n[application]\n\nconfig/name="ext-load"\nrun/main_scene="res://main.tscn"\nconfig/features=PackedStringArray("4.6")\n' >"$dir/project.godot"
    printf '[gd_scene format=3]\n\n[node name="Main" type="Node"]\n' >"$dir/main.tscn"
    if [ "$with" = 1 ]; then
      sed -E "s#^(linux\.(debug|release)\.x86_64) = .*#\1 = \"$CARGO_TARGET_DIR/$flavour/librust_game.so\"#" \
        godot-project/rust_game.gdextension >"$dir/rust_game.gdextension"
      echo "res://rust_game.gdextension" >"$dir/.godot/extension_list.cfg"
    fi
    "${G[@]}" --path "$dir" --quit >/dev/null 2>&1 || true # warm the file cache
    for _ in $(seq 1 "$BOOT_RUNS"); do
      t0=$(date +%s%N)
      "${G[@]}" --path "$dir" --quit >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      echo "quit_ms $flavour $with $(( (t1 - t0) / 1000000 ))" >>"$OUT/client.txt"
    done
  done
done

log "7. the shipped build"
scripts/bench-shipped.sh "$OUT"

for db in sqlite postgres; do
  log "8. reconnect storm on $db"
  mark "storm_$db"
  cargo bench -p backend --bench reconnect_storm --locked -- \
    --sockets "${BENCH_STORM_SOCKETS:-200}" --db "$db" --pg-url "$PG_URL" \
    --out "$OUT/reconnect-storm-$db.json"
done
mark done

# --- Report --------------------------------------------------------------------
finished=$(date +%s)
{
  echo "build_seconds $((build_done - started))"
  echo "bench_seconds $((finished - build_done))"
  echo "cpu $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1)"
  echo "cores $(nproc)"
  echo "ram_gb $(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
  echo "os $(. /etc/os-release && echo "$PRETTY_NAME") (kernel $(uname -r))"
  echo "rustc $(rustc --version)"
  echo "godot $("$GODOT" --headless --version 2>/dev/null | tail -n1)"
  echo "postgres $(psql --version 2>/dev/null | head -n1 || echo unknown)"
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$OUT/env.txt"
"$VENV/bin/python" scripts/bench_report.py "$OUT" "$REPO/docs"
log "done in $((finished - started)) s ($((finished - build_done)) s after the builds): docs/BENCHMARKS.md"
