#!/usr/bin/env bash
# `make bench`, the shipped build: what a player runs, measured in the bundle.
#
#   scripts/bench-shipped.sh OUT_DIR       (scripts/bench.sh calls it with target/bench)
#   scripts/bench-shipped.sh --report      ... then splice its section into docs/BENCHMARKS.md
#
# 1. `scripts/dist.sh`: the tarball; its size and the unpacked size.
# 2. The tarball unpacked into an empty folder; every run below goes through
#    the bundle's launcher (sid's loader, release template, release extension)
#    with a fresh empty HOME, headless.
# 3. Cold start to the login screen: the game starts as a player starts it;
#    godot-project/bench/in_bundle.gd, an autoload from outside the bundle
#    added to the unpacked copy's bin/override.cfg (the release template takes
#    no `--script`), notes when the login screen is current. The first run
#    right after unpacking is reported on its own.
# 4. The debris field, Rust zone against GDScript, at 1k, 10k and 100k pieces
#    (godot-project/bench/field_bench.gd, run by in_bundle.gd once the login
#    screen is up and unloaded), and the RSS of the game in the zone.
# Raw figures: OUT_DIR/bundle.txt, client-shipped.txt, godot-field-shipped.json.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
REPORT=0
if [[ "${1:-}" == --report ]]; then REPORT=1; shift; fi
OUT="${1:-$CARGO_TARGET_DIR/bench-shipped}"
BOOT_RUNS="${BENCH_BOOT_RUNS:-10}"
COUNTS="${BENCH_SHIPPED_COUNTS:-1000,10000,100000}"
mkdir -p "$OUT"
log() { echo "bench-shipped: $*" >&2; }
mark() { echo "$1 $(cut -d' ' -f1-3 /proc/loadavg) $(date +%s)" >>"$OUT/loads.txt"; }

log "building the bundle (make dist)"
dest="$(scripts/dist.sh 2>"$OUT/dist.log" | tail -n1)" || { tail -n 30 "$OUT/dist.log" >&2; exit 1; }
tar_path="$dest.tar.gz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/games"
tar -xzf "$tar_path" -C "$work/games"
launcher="$(echo "$work/games"/*/children-of-the-singularity)"
{
  echo "tarball_bytes $(stat -c %s "$tar_path")"
  echo "unpacked_bytes $(du -sb "$(dirname "$launcher")" | cut -f1)"
  echo "name $(basename "$tar_path")"
  echo "version $(sed -nE 's/^config\/version="(.*)"$/\1/p' "$(dirname "$launcher")/bin/override.cfg")"
  for part in bin/godot-template-release bin/librust_game.so bin/children-of-the-singularity.pck lib; do
    echo "part $part $(du -sb "$(dirname "$launcher")/$part" | cut -f1)"
  done
} >"$OUT/bundle.txt"

# The field measurement starts a local run with exactly N pieces
# (`Zone.start_local_run_with_debris`), a fixture function the shipped library
# leaves out (feature `itest`). After the sizes are taken, the unpacked copy
# gets the same optimised release build with that feature added: the code
# measured is the shipped code, plus the fixture entry points.
cargo build --release -p rust-game --locked --features itest
cp "$CARGO_TARGET_DIR/release/librust_game.so" "$(dirname "$launcher")/bin/librust_game.so"
strip "$(dirname "$launcher")/bin/librust_game.so" 2>/dev/null || true

# The measuring autoload (after the sizes: not part of the bundle).
printf '\n[autoload]\n\nBundleBench="*%s"\n' "$REPO/godot-project/bench/in_bundle.gd" \
  >>"$(dirname "$launcher")/bin/override.cfg"

# Nothing answers here: no session, the boot screen goes to the login screen.
play() { # SECONDS HOME_DIR ARGS...: the bundle as a player starts it, plus ARGS
  local secs="$1" home="$2"; shift 2
  mkdir -p "$home"
  timeout "$secs" env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
    "$launcher" --headless --backend-url=http://127.0.0.1:9 "$@"
}

log "cold start to the login screen ($BOOT_RUNS runs, each with an empty HOME)"
mark shipped_boot
: >"$OUT/client-shipped.txt"
for i in $(seq 1 "$BOOT_RUNS"); do
  t0=$(date +%s%N)
  line=$(play 120 "$work/home-boot-$i" -- --bench-boot 2>&1 | grep '^BOOT_PROBE' || true)
  t1=$(date +%s%N)
  usec=$(sed -nE 's/.*login_unix_usec=([0-9]+).*/\1/p' <<<"$line")
  engine=$(sed -nE 's/.*engine_ms=([0-9]+).*/\1/p' <<<"$line")
  [[ -n "$usec" ]] || { log "run $i did not reach the login screen"; continue; }
  kind=$([[ $i == 1 ]] && echo first || echo again)
  echo "boot_to_login_ms shipped $(( (usec * 1000 - t0) / 1000000 )) $engine $(( (t1 - t0) / 1000000 )) $kind" >>"$OUT/client-shipped.txt"
done
cat "$OUT/client-shipped.txt" >&2

log "debris field at $COUNTS pieces: Rust zone vs GDScript, in the bundle"
mark shipped_field
play 1800 "$work/home-field" --fixed-fps 60 -- "--bench-field=$OUT/godot-field-shipped.json:$COUNTS" \
  >"$OUT/godot-field-shipped.log" 2>&1 || { tail -n 30 "$OUT/godot-field-shipped.log" >&2; exit 1; }
grep '^bench:' "$OUT/godot-field-shipped.log" >&2 || true
# Less the release template's known disconnect noise (see scripts/test-dist.sh).
if grep -E -v "^ERROR: Attempt to disconnect a nonexistent connection from '[^']*'\. Signal: '(size_flags_changed|visibility_changed)', callable: ''\.\$" \
  "$OUT/godot-field-shipped.log" | grep -E 'SCRIPT ERROR|ERROR:|panicked' >&2; then
  log "errors in the field run"; exit 1
fi
mark shipped_done

if ((REPORT)); then
  python3 scripts/bench_shipped_report.py "$OUT" "$REPO/docs"
fi
