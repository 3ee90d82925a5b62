#!/usr/bin/env bash
# The shipped TLS proxy configuration, tested for real: nginx (Debian's
# package, installed when missing) with deploy/nginx/cots.conf.template in
# front of a test backend, and backend/tests/ops_tls_proxy.rs talking
# https:// and wss:// to it with certificate verification on.
#
#   scripts/test-tls-proxy.sh          # also: make test-ops
#
# Everything lives in a temporary directory (CA, certificate, nginx prefix,
# SQLite database) and on free loopback ports; both servers are stopped and
# the directory removed on exit. KEEP=1 keeps the directory for a look.
set -euo pipefail

log() { printf 'test-tls-proxy: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATE="$REPO/deploy/nginx/cots.conf.template"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

find_nginx() {
    local candidate
    for candidate in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

NGINX="$(find_nginx || true)"
if [ -z "$NGINX" ]; then
    log "nginx not found: installing Debian's nginx-light package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        nginx-light >&2 \
      || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx >&2
    NGINX="$(find_nginx)" || die "nginx installed but not found"
fi
command -v openssl >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >&2

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cots-tls-proxy.XXXXXX")"
BACKEND_PID=""
NGINX_STARTED=""
cleanup() {
    local code=$?
    if [ -n "$NGINX_STARTED" ] && [ -s "$WORK/nginx/nginx.pid" ]; then
        kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    fi
    if [ -n "$BACKEND_PID" ]; then
        kill "$BACKEND_PID" 2>/dev/null || true
        wait "$BACKEND_PID" 2>/dev/null || true
    fi
    if [ "$code" -ne 0 ]; then
        for f in "$WORK/backend.log" "$WORK/nginx/error.log"; do
            [ -s "$f" ] && { log "--- $f (last lines)"; tail -n 30 "$f" >&2; }
        done
    fi
    if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$code"
}
trap cleanup EXIT INT TERM

# --- certificates: a test CA and a server certificate it signs ------------
log "making a test CA and a certificate for localhost/127.0.0.1 in $WORK"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cots test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$WORK/server.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.crt" 2>/dev/null
chmod 600 "$WORK/ca.key" "$WORK/server.key"

# --- the backend and the test binary -----------------------------------------
# One cargo invocation builds both (the binary as the integration test's
# companion). By default with the workspace's feature set, which `make
# test-rust` (cargo test --workspace) already compiled, so after it nothing
# is rebuilt; CARGO_SELECT="-p backend" reuses a backend-only build instead.
read -r -a SELECT <<< "${CARGO_SELECT:---workspace}"
log "building the backend and the test (cargo test ${SELECT[*]})"
cargo test -q "${SELECT[@]}" --test ops_tls_proxy --locked --no-run

BACKEND_PORT="$(free_port)"
log "starting the backend on 127.0.0.1:$BACKEND_PORT (SQLite in $WORK)"
(
    cd "$WORK"
    exec env -i PATH="$PATH" HOME="$WORK" \
        APP_ENV=development \
        BIND_ADDR="127.0.0.1:$BACKEND_PORT" \
        DATA_DIR="$WORK/data" \
        DATABASE_URL="sqlite://$WORK/backend.db?mode=rwc" \
        TRUST_PROXY_HEADERS=true \
        AUTH_RATE_LIMIT_PER_MINUTE=1000 AUTH_RATE_LIMIT_BURST=1000 \
        LOG_FORMAT=json RUST_LOG=info,sqlx=warn \
        "$CARGO_TARGET_DIR/debug/backend" serve
) > "$WORK/backend.log" 2>&1 &
BACKEND_PID=$!

# --- nginx with the shipped configuration ------------------------------------
PROXY_PORT="$(free_port)"
mkdir -p "$WORK/nginx"
# The template's placeholders, filled in as the nginx image's envsubst would.
sed -e "s|\${COTS_LISTEN}|127.0.0.1:$PROXY_PORT|g" \
    -e "s|\${COTS_SERVER_NAME}|localhost|g" \
    -e "s|\${COTS_TLS_CERT}|$WORK/server.crt|g" \
    -e "s|\${COTS_TLS_KEY}|$WORK/server.key|g" \
    -e "s|\${COTS_UPSTREAM}|127.0.0.1:$BACKEND_PORT|g" \
    "$TEMPLATE" > "$WORK/nginx/cots.conf"
if grep -v '^[[:space:]]*#' "$WORK/nginx/cots.conf" | grep -q '\${'; then
    die "unfilled placeholders in $TEMPLATE: $(grep -v '^[[:space:]]*#' "$WORK/nginx/cots.conf" | grep -o '\${[A-Za-z_]*}' | sort -u | tr '\n' ' ')"
fi
USER_LINE=""
[ "$(id -u)" -eq 0 ] && USER_LINE="user root;"
cat > "$WORK/nginx/nginx.conf" <<CONF
# The wrapper the nginx image (or a distribution) provides: the shipped
# file is included in the http context, unchanged.
$USER_LINE
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    include $WORK/nginx/cots.conf;
}
CONF
"$NGINX" -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2> "$WORK/nginx/test.log" \
    || { cat "$WORK/nginx/test.log" >&2; die "nginx refuses the configuration"; }

for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ready" 2>/dev/null; then break; fi
    kill -0 "$BACKEND_PID" 2>/dev/null || die "the backend exited"
    sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ready" || die "the backend is not ready"

log "starting nginx ($("$NGINX" -v 2>&1 | sed 's/.*: //')) on 127.0.0.1:$PROXY_PORT"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NGINX_STARTED=1

log "running backend/tests/ops_tls_proxy.rs through https://localhost:$PROXY_PORT"
TEST_TLS_PROXY_URL="https://localhost:$PROXY_PORT" TEST_TLS_CA="$WORK/ca.crt" REQUIRE_TLS_PROXY=1 \
    cargo test -q "${SELECT[@]}" --test ops_tls_proxy --locked -- --nocapture

# What nginx saw: every request and the upgrade went through it.
grep -q 'GET /api/v1/lobbies/[^/ ]*/ws HTTP/1.1" 101' "$WORK/nginx/access.log" \
    || die "no WebSocket upgrade (101) in nginx's access log"
log "OK: TLS proxy (nginx) in front of the backend: https and wss verified against the test CA"
