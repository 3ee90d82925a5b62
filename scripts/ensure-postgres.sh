#!/usr/bin/env bash
# Makes a real PostgreSQL available for the backend's tests and prints its
# connection URL on stdout (everything else goes to stderr).
#
#   export TEST_POSTGRES_URL="$(scripts/ensure-postgres.sh)"
#
# - Installs Debian's `postgresql` package when the server binaries are
#   missing (apt-get; sudo when not root).
# - Creates a private cluster (superuser cots/cots, self-signed TLS
#   certificate so sslmode=require works) in a cache directory, and starts it
#   on 127.0.0.1:${COTS_PG_PORT:-55432} unless it is already running.
# - Idempotent: run it as often as you like.
#
# Environment: COTS_PG_PORT (55432), COTS_PG_DIR (cluster location; default
# ${XDG_CACHE_HOME:-$HOME/.cache}/children-of-the-singularity/pg, or
# /var/cache/children-of-the-singularity/pg when run as root, because the
# server runs as the `postgres` user, which cannot enter root's home).
# The cluster is tuned for tests (fsync off): never put real data in it.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

PORT="${COTS_PG_PORT:-55432}"
DB_USER=cots
DB_PASSWORD=cots

if [ "$(id -u)" -eq 0 ]; then
    DEFAULT_DIR=/var/cache/children-of-the-singularity/pg
else
    DEFAULT_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/children-of-the-singularity/pg"
fi
DIR="${COTS_PG_DIR:-$DEFAULT_DIR}"
DATA="$DIR/data"
RUN="$DIR/run"
LOGFILE="$DIR/postgres.log"

find_bindir() {
    local candidate
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/postgres" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
    log "PostgreSQL server binaries not found: installing Debian's postgresql package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        postgresql openssl >&2
    BINDIR="$(find_bindir)" || die "postgresql installed but no server binaries under /usr/lib/postgresql"
fi
command -v openssl >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >&2

# initdb and postgres refuse to run as root: as root, run them as `postgres`.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' is missing (is the postgresql package installed?)"
    RUN_AS=(runuser -u postgres --)
    OWNER=postgres
else
    RUN_AS=()
    OWNER="$(id -un)"
fi

mkdir -p "$DIR"
[ "$(id -u)" -eq 0 ] && chown "$OWNER" "$DIR"
chmod 700 "$DIR"

if [ ! -s "$DATA/PG_VERSION" ]; then
    log "creating a test cluster in $DATA"
    rm -rf "$DATA"
    PWFILE="$(mktemp)"
    printf '%s\n' "$DB_PASSWORD" > "$PWFILE"
    chmod 644 "$PWFILE"
    "${RUN_AS[@]}" "$BINDIR/initdb" -D "$DATA" -U "$DB_USER" --pwfile="$PWFILE" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2 \
        || "${RUN_AS[@]}" "$BINDIR/initdb" -D "$DATA" -U "$DB_USER" --pwfile="$PWFILE" \
            --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C >&2
    rm -f "$PWFILE"

    # Self-signed certificate: enough for sslmode=require (encryption without
    # verification), which is what the TLS test exercises.
    openssl req -new -x509 -days 3650 -nodes -subj "/CN=localhost" \
        -keyout "$DIR/server.key" -out "$DIR/server.crt" >/dev/null 2>&1
    mv "$DIR/server.key" "$DIR/server.crt" "$DATA/"
    chmod 600 "$DATA/server.key"
    [ "$(id -u)" -eq 0 ] && chown "$OWNER" "$DATA/server.key" "$DATA/server.crt"

    cat >> "$DATA/postgresql.conf" <<CONF

# --- children-of-the-singularity test cluster ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 300
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
# Test data only: trade durability for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
fi

mkdir -p "$RUN"
[ "$(id -u)" -eq 0 ] && chown "$OWNER" "$RUN"

if "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "already running ($DATA)"
else
    log "starting PostgreSQL on 127.0.0.1:$PORT"
    touch "$LOGFILE"
    [ "$(id -u)" -eq 0 ] && chown "$OWNER" "$LOGFILE"
    "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >&2 \
        || { tail -n 20 "$LOGFILE" >&2; die "PostgreSQL did not start (log: $LOGFILE)"; }
fi

for _ in $(seq 1 50); do
    if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
        echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/postgres"
        exit 0
    fi
    sleep 0.2
done
die "PostgreSQL on 127.0.0.1:$PORT does not accept connections (log: $LOGFILE)"
