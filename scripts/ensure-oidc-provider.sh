#!/usr/bin/env bash
# Makes the loopback OpenID Connect provider (scripts/oidc-test-provider/:
# the `oidc-provider` package from npm, run by provider.mjs) ready for the
# backend's tests of "Sign in with Google / Discord", and prints on stdout the
# absolute directory to run it from (everything else goes to stderr):
#
#   dir="$(scripts/ensure-oidc-provider.sh)"
#   (cd "$dir" && node provider.mjs --port 0)   # prints `LISTENING <issuer>`
#
# backend/tests/support_oidc/mod.rs runs this and starts the provider itself.
#
# - Needs Node.js v20.19 or newer with npm; when `node` is missing or older,
#   installs Debian's `nodejs` and `npm` packages (apt-get; sudo when not
#   root) and fails with a clear message if that still isn't v20.19+.
# - Copies package.json, package-lock.json, .npmrc and provider.mjs into the
#   run directory and runs `npm ci` there only when the lock file changed
#   (or node_modules is missing), with install scripts off.
# - Idempotent and safe to run concurrently (flock): run it as often as you
#   like.
#
# Environment: COTS_OIDC_PROVIDER_DIR (default
# <repo>/target/oidc-test-provider). Test data only: the provider keeps
# everything in memory.
set -euo pipefail

log() { printf 'ensure-oidc-provider: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/scripts/oidc-test-provider"
DIR="${COTS_OIDC_PROVIDER_DIR:-$REPO/target/oidc-test-provider}"
FILES=(package.json package-lock.json .npmrc provider.mjs)
MIN_MAJOR=20
MIN_MINOR=19

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

node_version() {
    command -v node >/dev/null 2>&1 || return 1
    node -p 'process.versions.node' 2>/dev/null
}

node_ok() {
    local version major minor
    version="$(node_version)" || return 1
    major="${version%%.*}"
    minor="${version#*.}"
    minor="${minor%%.*}"
    [ "$major" -gt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]; }
}

for f in "${FILES[@]}"; do
    [ -f "$SRC/$f" ] || die "missing $SRC/$f"
done

if ! node_ok || ! command -v npm >/dev/null 2>&1; then
    log "Node.js v$MIN_MAJOR.$MIN_MINOR+ with npm not found (node: $(node_version || echo none)): installing Debian's nodejs and npm packages"
    packages=()
    node_ok || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${packages[@]}" >&2
    hash -r
    node_ok || die "the oidc test provider needs Node.js v$MIN_MAJOR.$MIN_MINOR or newer, and this machine's package sources give $(node_version || echo no node): install a newer Node.js (e.g. Debian 13's nodejs package)"
    command -v npm >/dev/null 2>&1 || die "npm is still missing after installing Debian's npm package"
fi

mkdir -p "$DIR"
# One set-up at a time (test binaries may start together); the lock is
# released when this script exits.
exec 9>"$DIR/.ensure.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

# Copy what changed; rename into place so a provider already running from
# this directory never reads a half-written file.
for f in "${FILES[@]}"; do
    if ! cmp -s "$SRC/$f" "$DIR/$f"; then
        cp "$SRC/$f" "$DIR/.$f.tmp"
        mv -f "$DIR/.$f.tmp" "$DIR/$f"
    fi
done

STAMP="$DIR/node_modules/.cots-installed-lock"
if [ -d "$DIR/node_modules/oidc-provider" ] && cmp -s "$DIR/package-lock.json" "$STAMP"; then
    log "up to date ($DIR, node $(node_version))"
else
    log "installing the provider's npm packages in $DIR (npm ci)"
    (cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts >&2) \
        || die "npm ci failed in $DIR"
    cp "$DIR/package-lock.json" "$STAMP"
fi

[ -f "$DIR/node_modules/oidc-provider/package.json" ] || die "oidc-provider is missing from $DIR/node_modules"
echo "$DIR"
