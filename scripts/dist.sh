#!/usr/bin/env bash
# `make dist`: the game as a player gets it.
#
#   scripts/dist.sh             dist/children-of-the-singularity-<version>-linux-x86_64/
#                               and the same as .tar.gz next to it
#   scripts/dist.sh --no-tar    only the folder (what `make run` plays)
#   scripts/dist.sh --out DIR   put the folder (and tarball) under DIR instead of dist/
#
# Exported by Godot's own pipeline (`--export-release "Linux"`, preset in
# godot-project/export_presets.cfg) with Debian sid's release export
# template (`godot-template-release`, fetched by scripts/godot-bootstrap.sh
# --templates into its private root). The template is built against sid's
# glibc and libraries, so the bundle carries them: the library closure of the
# template and of the extension in lib/, and sid's dynamic loader, which runs
# the template. Nothing is needed on the player's machine but a glibc x86_64
# Linux with its own graphics drivers (libGL/libEGL, Vulkan: not bundled).
#
# Layout of the bundle:
#   children-of-the-singularity      the launcher (shell script)
#   bin/children-of-the-singularity  sid's loader (ld-linux-x86-64.so.2). It
#                                    is what /proc/self/exe names, so Godot
#                                    finds the pack, override.cfg and the
#                                    extension next to it under this name.
#   bin/children-of-the-singularity.pck   the exported project
#   bin/godot-template-release       the engine (release template)
#   bin/librust_game.so              the extension, release build, stripped
#   bin/override.cfg                 version and default backend address
#   lib/                             the libraries the two need, from sid
#
# Settings: COTS_DEFAULT_BACKEND_URL (default http://127.0.0.1:8080) is the
# address the game connects to unless the player passes --backend-url=.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
PROJECT="$REPO/godot-project"
NAME=children-of-the-singularity
OUT_DIR="$REPO/dist"
MAKE_TAR=1
while (($#)); do
  case "$1" in
    --no-tar) MAKE_TAR=0 ;;
    --out) OUT_DIR="$2"; shift ;;
    *) echo "dist: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "dist: $*" >&2; }
die() { echo "dist: error: $*" >&2; exit 1; }

BACKEND_URL="${COTS_DEFAULT_BACKEND_URL:-http://127.0.0.1:8080}"
BACKEND_URL="${BACKEND_URL%/}"
[[ "$BACKEND_URL" =~ ^https?://[^[:space:]\"]+$ ]] || die "COTS_DEFAULT_BACKEND_URL must be an http(s) URL, got '$BACKEND_URL'"
VERSION="$(sed -nE '/^\[workspace\.package\]/,/^\[/ s/^version *= *"([^"]+)".*/\1/p' Cargo.toml | head -n1)"
[[ -n "$VERSION" ]] || die "no version in Cargo.toml [workspace.package]"
COMMIT="$(git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)"
if [[ "$COMMIT" != unknown ]] && [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  COMMIT="$COMMIT-modified"
fi
FULL_VERSION="$VERSION ($COMMIT)"
BUNDLE="$NAME-$VERSION-linux-x86_64"
DEST="$OUT_DIR/$BUNDLE"

# --- Set-up: Godot, the template, sid's root -----------------------------------
GODOT="$(scripts/godot-bootstrap.sh --templates)"
ROOT="$(readlink -f "$(dirname "$GODOT")/sid-root")"
TEMPLATE="$ROOT/usr/bin/godot-template-release"
LOADER="$ROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
SID_LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu/pulseaudio:$ROOT/lib/x86_64-linux-gnu"
[[ -x "$TEMPLATE" && -e "$LOADER" ]] || die "no release template or loader in $ROOT"

# --- The extension: one optimised build, shared with make run and the tests ----
cargo build --release -p rust-game --locked
LIB="$CARGO_TARGET_DIR/release/librust_game.so"
[[ -f "$LIB" ]] || die "no $LIB after the build"
# The release entry of rust_game.gdextension, inside the project (for an
# export from the editor too).
mkdir -p "$PROJECT/bin"
ln -sfn "$LIB" "$PROJECT/bin/librust_game.so"

# --- Export ------------------------------------------------------------------
# A private Godot data dir holding sid's template as this editor version's
# official `linux_release.x86_64` (the preset names no path).
DATA="$CARGO_TARGET_DIR/dist/godot-data"
GVER="$("$GODOT" --headless --version 2>/dev/null | tail -n1 | cut -d. -f1-4)"
[[ "$GVER" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[a-z0-9]+$ ]] || die "cannot read the editor's version ('$GVER')"
mkdir -p "$DATA/godot/export_templates/$GVER"
ln -sfn "$TEMPLATE" "$DATA/godot/export_templates/$GVER/linux_release.x86_64"
export COTS_GODOT_DATA="$DATA"

# The export runs on a copy of the project (kept between runs, so the
# import is incremental) without the tests, benchmarks and tools. The editor
# doing the export loads the extension's debug entry: in the copy it names
# the release library too, so a fresh `make dist` never needs a debug build.
COPY="$CARGO_TARGET_DIR/dist/project"
mkdir -p "$COPY"
find "$COPY" -mindepth 1 -maxdepth 1 ! -name .godot -exec rm -rf {} +
(cd "$PROJECT" && tar --exclude=./.godot --exclude=./bin --exclude=./tests --exclude=./bench \
  --exclude=./tools -cf - .) | (cd "$COPY" && tar -xf -)
sed -i -E 's#^linux\.debug\.x86_64 = .*#linux.debug.x86_64 = "res://bin/librust_game.so"#' "$COPY/rust_game.gdextension"
mkdir -p "$COPY/bin" "$COPY/.godot"
ln -sfn "$LIB" "$COPY/bin/librust_game.so"
echo "res://rust_game.gdextension" >"$COPY/.godot/extension_list.cfg"
LOG_DIR="$CARGO_TARGET_DIR/dist/logs"
mkdir -p "$LOG_DIR"
check_log() { # LOG WHAT: Godot logs ERROR lines without failing
  if grep -E -n "ERROR|SCRIPT ERROR|Parse Error" "$1" >/dev/null; then
    grep -E -n -A1 "ERROR|SCRIPT ERROR|Parse Error" "$1" | head -n 40 >&2
    die "the $2 logged errors (log: $1)"
  fi
}
"$GODOT" --headless --audio-driver Dummy --path "$COPY" --import >"$LOG_DIR/import.log" 2>&1 \
  || { tail -n 40 "$LOG_DIR/import.log" >&2; die "headless import failed (log: $LOG_DIR/import.log)"; }
check_log "$LOG_DIR/import.log" import

STAGE="$CARGO_TARGET_DIR/dist/stage/$BUNDLE"
rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/lib"
log "exporting $FULL_VERSION with sid's release template ($GVER)"
"$GODOT" --headless --audio-driver Dummy --path "$COPY" \
  --export-release "Linux" "$STAGE/bin/$NAME.x86_64" >"$LOG_DIR/export.log" 2>&1 \
  || { tail -n 40 "$LOG_DIR/export.log" >&2; die "export failed (log: $LOG_DIR/export.log)"; }
check_log "$LOG_DIR/export.log" export
for f in "$NAME.x86_64" "$NAME.pck" librust_game.so; do
  [[ -f "$STAGE/bin/$f" ]] || die "the export did not write bin/$f (log: $LOG_DIR/export.log)"
done

# The engine under its own name; sid's loader under the game's name (see top).
mv "$STAGE/bin/$NAME.x86_64" "$STAGE/bin/godot-template-release"
cp -L "$LOADER" "$STAGE/bin/$NAME"
strip --strip-unneeded "$STAGE/bin/librust_game.so"

# --- The library closure -----------------------------------------------------
# Embree (libembree4, 41 MB, and its libtbb) is linked by Godot's raycast
# module, which calls it only for 3D occlusion culling; this 2D project never
# enables that (rendering/occlusion_culling/use_occlusion_culling). Unless it
# does, the bundle carries a stub of the same soname instead: the functions
# the engine imports from it, each stopping the game with a message.
STUBS="$CARGO_TARGET_DIR/dist/stubs"
rm -rf "$STUBS"
mkdir -p "$STUBS"
if ! grep -Eq '^occlusion_culling/use_occlusion_culling *= *true' "$PROJECT/project.godot" \
  && command -v cc >/dev/null && command -v nm >/dev/null; then
  {
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo 'static void stop(const char *f) { fprintf(stderr, "libembree4 (stub in this game build): %s called; 3D occlusion culling is not available\n", f); abort(); }'
    nm -D --undefined-only "$TEMPLATE" | awk '$2 ~ /^rtc[A-Z]/ { print $2 }' \
      | while read -r sym; do echo "void $sym(void) { stop(\"$sym\"); }"; done
  } >"$STUBS/embree_stub.c"
  cc -shared -fPIC -O2 -s -Wl,-soname,libembree4.so.4 -o "$STUBS/libembree4.so.4" "$STUBS/embree_stub.c"
fi

# What the loader resolves for the engine and the extension, searching sid's
# root only (after the stubs); everything must come from there, never from the
# build machine.
closure() {
  "$LOADER" --library-path "$STUBS:$SID_LIBS" --list "$1" | awk '
    /=>/ { if ($3 == "not") { print "MISSING " $1; next } print $3; next }'
}
: >"$STAGE.libs"
for bin in "$STAGE/bin/godot-template-release" "$STAGE/bin/librust_game.so"; do
  closure "$bin" >>"$STAGE.libs" || die "cannot list the libraries of $bin"
done
if grep -q '^MISSING' "$STAGE.libs"; then
  grep '^MISSING' "$STAGE.libs" >&2
  die "libraries missing from sid's root"
fi
sort -u "$STAGE.libs" | while read -r so; do
  case "$so" in
    "$ROOT"/* | "$STUBS"/*) ;;
    *) die "$so is not from sid's root" ;;
  esac
  [[ "$(basename "$so")" == ld-linux-x86-64.so.2 ]] && continue
  cp -L "$so" "$STAGE/lib/"
done
rm -f "$STAGE.libs"

# --- Settings baked in, launcher, notes ----------------------------------------
# Read by Godot from the executable's folder after the pack's own settings.
cat >"$STAGE/bin/override.cfg" <<CFG
; Written by \`make dist\`. Settings over the exported project's own.
[application]

config/version="$FULL_VERSION"

[children_of_the_singularity]

; The station the game connects to unless started with --backend-url=URL.
backend/url="$BACKEND_URL"
CFG

cat >"$STAGE/$NAME" <<'LAUNCHER'
#!/usr/bin/env bash
# Children of the Singularity: starts the game.
#
#   ./children-of-the-singularity [--backend-url=URL] [Godot options] [-- game options]
#
# The engine (bin/godot-template-release, Godot's release template) and the
# libraries in lib/ come from a newer Linux than most players run, so they
# are started through the loader they were built for (bin/children-of-the-
# singularity, glibc's ld-linux-x86-64.so.2), with lib/ as the only library
# folder besides your system's (graphics drivers come from your system).
# Every argument is passed on; game options given before `--` (such as
# --backend-url=URL) are moved after it, where the game reads them.
# The game runs from this folder; its saves are under
# ${XDG_DATA_HOME:-~/.local/share}/godot/app_userdata/.
# COTS_EXTRA_LIBRARY_PATH: more library folders after lib/ (e.g. a Mesa
# build for off-screen rendering).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
engine=() game=() after=0
for arg in "$@"; do
  if ((after)); then game+=("$arg"); continue; fi
  case "$arg" in
    --) after=1 ;;
    --backend-url=*) game+=("$arg") ;;
    *) engine+=("$arg") ;;
  esac
done
cd "$here"
libs="$here/lib${COTS_EXTRA_LIBRARY_PATH:+:$COTS_EXTRA_LIBRARY_PATH}"
exec "$here/bin/children-of-the-singularity" --library-path "$libs" \
  "$here/bin/godot-template-release" ${engine[@]+"${engine[@]}"} -- ${game[@]+"${game[@]}"}
LAUNCHER
chmod +x "$STAGE/$NAME"

cat >"$STAGE/README.txt" <<TXT
Children of the Singularity $FULL_VERSION, Linux x86_64

Run ./$NAME (from a terminal or your file manager).

The game connects to $BACKEND_URL; another station:
  ./$NAME --backend-url=https://station.example.org

Controls: W/S or arrows thrust and brake, A/D turn, E collect, F dock,
Tab inventory, M station log, Esc pause, Q/R zoom. Gamepads work too.

Needs: 64-bit Linux with glibc and OpenGL 3.3 graphics drivers. Everything
else the game needs is in this folder (bin/, lib/).
TXT

# --- Into place --------------------------------------------------------------
mkdir -p "$OUT_DIR"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
size_mb() { du -sm "$1" | cut -f1; }
if ((MAKE_TAR)); then
  TAR="$OUT_DIR/$BUNDLE.tar.gz"
  rm -f "$TAR"
  tar -C "$OUT_DIR" --owner=0 --group=0 --numeric-owner -cf - "$BUNDLE" | gzip -9 >"$TAR.tmp"
  mv "$TAR.tmp" "$TAR"
  log "$TAR: $(( $(stat -c %s "$TAR") / 1048576 )) MB ($(size_mb "$DEST") MB unpacked)"
fi
log "$DEST: $FULL_VERSION, backend $BACKEND_URL, $(size_mb "$DEST") MB"
echo "$DEST"
