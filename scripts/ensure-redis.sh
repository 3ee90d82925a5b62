#!/usr/bin/env bash
# Makes a real Redis available for the backend's tests and prints its URL on
# stdout (everything else goes to stderr).
#
#   export TEST_REDIS_URL="$(scripts/ensure-redis.sh)"
#
# - Installs Debian's `redis-server` package when the binary is missing
#   (apt-get; sudo when not root). The package's own service is not used.
# - Starts a private redis-server on 127.0.0.1:${COTS_REDIS_PORT:-56379}
#   (its own directory, no persistence, protected by a password) unless it
#   is already running; `--stop` stops it.
# - Idempotent: run it as often as you like.
#
# Environment: COTS_REDIS_PORT (56379), COTS_REDIS_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/children-of-the-singularity/redis).
# Test data only: never put anything of value in it.
set -euo pipefail

log() { printf 'ensure-redis: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

PORT="${COTS_REDIS_PORT:-56379}"
DIR="${COTS_REDIS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/children-of-the-singularity/redis}"
PASSWORD=cots-test
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"
CONF="$DIR/redis.conf"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

find_server() {
    local candidate
    for candidate in "$(command -v redis-server 2>/dev/null || true)" /usr/bin/redis-server /usr/sbin/redis-server; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

ping() {
    # redis-cli comes with the server package (redis-tools).
    redis-cli -h 127.0.0.1 -p "$PORT" --no-auth-warning -a "$PASSWORD" ping 2>/dev/null | grep -q PONG
}

if [ "${1:-}" = "--stop" ]; then
    if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        kill "$(cat "$PIDFILE")"
        log "stopped (pid $(cat "$PIDFILE"))"
    else
        log "not running"
    fi
    exit 0
fi

SERVER="$(find_server || true)"
if [ -z "$SERVER" ] || ! command -v redis-cli >/dev/null 2>&1; then
    log "redis-server not found: installing Debian's redis-server package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        redis-server >&2
    SERVER="$(find_server)" || die "redis-server installed but not found"
fi

mkdir -p "$DIR"
chmod 700 "$DIR"
# Rewritten every time: the settings follow this script.
cat > "$CONF" <<CONF
# children-of-the-singularity test Redis (scripts/ensure-redis.sh)
bind 127.0.0.1
port $PORT
protected-mode yes
requirepass $PASSWORD
dir $DIR
pidfile $PIDFILE
logfile $LOGFILE
daemonize yes
save ""
appendonly no
maxmemory 64mb
maxmemory-policy volatile-ttl
CONF

if ping; then
    log "already running on 127.0.0.1:$PORT"
else
    log "starting redis-server on 127.0.0.1:$PORT ($DIR)"
    "$SERVER" "$CONF" >&2 || { tail -n 20 "$LOGFILE" >&2 || true; die "redis-server did not start (log: $LOGFILE)"; }
fi

for _ in $(seq 1 50); do
    if ping; then
        echo "redis://:$PASSWORD@127.0.0.1:$PORT/0"
        exit 0
    fi
    sleep 0.1
done
tail -n 20 "$LOGFILE" >&2 || true
die "Redis on 127.0.0.1:$PORT does not answer (log: $LOGFILE)"
