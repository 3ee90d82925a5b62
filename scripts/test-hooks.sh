#!/usr/bin/env bash
# Tests scripts/hooks/pre-commit in a throwaway git repository (a tiny
# Cargo workspace of its own, built in a temporary target directory):
# secrets are refused, clean commits pass, badly formatted Rust and clippy
# warnings are refused, a fixture line marked cots-allow-secret passes.
#
#   scripts/test-hooks.sh          # also: make test-ops
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOOK="$REPO/scripts/hooks/pre-commit"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cots-hooks.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log() { printf 'test-hooks: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

cd "$WORK"
git init -q -b main repo
cd repo
git config user.email hooks@example.org
git config user.name "hook test"
git config commit.gpgsign false
ln -s "$HOOK" "$(git rev-parse --git-path hooks)/pre-commit"
export CARGO_TARGET_DIR="$WORK/target" CARGO_TERM_COLOR=never

# expect_commit ok|refused "what" [grep pattern the refusal must print]
expect_commit() {
    local want="$1" what="$2" needle="${3:-}" out
    if out="$(git commit -q -m "$what" 2>&1)"; then
        [ "$want" = ok ] || fail "$what: committed, should have been refused"
    else
        [ "$want" = refused ] || fail "$what: refused, should have passed:"$'\n'"$out"
        if [ -n "$needle" ] && ! grep -q -- "$needle" <<< "$out"; then
            fail "$what: refusal does not mention '$needle':"$'\n'"$out"
        fi
        git reset -q
    fi
    log "ok: $what ($want)"
}

echo "hello" > README.md
git add README.md
expect_commit ok "a plain file"

# Written with printf so this script itself holds no secret-looking line.
begin="-----BEGIN"
printf '%s OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n' "$begin" > notes.txt
git add notes.txt
expect_commit refused "a private key block" "private key block"
rm notes.txt

printf 'APP_ENV=production\nJWT_%s=%s\n' SECRET "Zq8wN3vB7xL1pK5rT9yH2mC6" > prod.conf
git add prod.conf
expect_commit refused "JWT_SECRET with a value" "JWT_SECRET with a value"
printf 'APP_ENV=production\nJWT_%s=\n# JWT_%s=<from the secret store>\n' SECRET SECRET > prod.conf
git add prod.conf
expect_commit ok "JWT_SECRET without a value"

printf 'key = "%s%s"\n' AKIA "Q3EXAMPLEKEY7ZZ9" > aws.toml
git add aws.toml
expect_commit refused "an AWS access key id" "AWS access key id"
rm aws.toml

printf 'DATABASE_URL=postgres://cots:%s@db.prod.internal:5432/cots\n' "Kx9-real-pass" > db.txt
git add db.txt
expect_commit refused "a database URL with a password" "URL with a password"
printf 'DATABASE_URL=postgres://cots:%s@127.0.0.1:55432/cots\n' "local-test-pass" > db.txt
git add db.txt
expect_commit ok "a loopback test URL"
printf 'REDIS_URL format: redis://[user:%s@]host[:port][/db]\n' "password" > db.txt
git add db.txt
expect_commit ok "a URL template in documentation"

printf 'JWT_%s=%s  # cots-allow-secret: test fixture\n' SECRET "fixture-secret-abcdef" > fixture.txt
git add fixture.txt
expect_commit ok "a fixture marked cots-allow-secret"

: > server.key
git add server.key
expect_commit refused "a key file" "server.key"
rm server.key
printf 'A=1\n' > .env
git add -f .env
expect_commit refused "an .env file" ".env"
rm .env

# Rust: a workspace with one crate.
cat > Cargo.toml <<'TOML'
[workspace]
resolver = "3"
members = ["demo"]
TOML
mkdir -p demo/src
cat > demo/Cargo.toml <<'TOML'
[package]
name = "demo"
version = "0.1.0"
edition = "2024"
TOML
printf 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n' > demo/src/lib.rs
cargo generate-lockfile -q --offline 2>/dev/null || cargo generate-lockfile -q
git add Cargo.toml Cargo.lock demo
expect_commit ok "a formatted, clippy-clean crate"

printf 'pub fn add(a:i32,b:i32)->i32{a+b}\n' > demo/src/lib.rs
git add demo/src/lib.rs
expect_commit refused "badly formatted Rust" "cargo fmt --check fails"
git checkout -q -- demo/src/lib.rs

printf 'pub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}\n' > demo/src/lib.rs
git add demo/src/lib.rs
expect_commit refused "a clippy warning (needless_return)" "clippy"
git checkout -q -- demo/src/lib.rs

log "all hook checks passed"
