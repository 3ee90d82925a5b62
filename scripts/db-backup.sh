#!/usr/bin/env bash
# Back up and restore the backend's database, SQLite or PostgreSQL.
#
#   scripts/db-backup.sh backup  [--url URL] FILE
#   scripts/db-backup.sh restore [--url URL] [--yes] FILE
#
# The database is the one the backend would use: --url, else $DATABASE_URL,
# else DATABASE_URL in ./.env, else the backend's default
# (sqlite://data/backend.db?mode=rwc), relative to the current directory.
#
# SQLite (needs the sqlite3 command, Debian package `sqlite3`):
#   backup   uses SQLite's online backup API (`.backup`): safe while the
#            backend runs (WAL mode), the copy is one consistent snapshot.
#            The copy is checked with PRAGMA integrity_check before it is
#            moved into place.
#   restore  checks the backup, then writes it into the live database file
#            with the backup API in reverse (`.restore`), which keeps the
#            -wal/-shm files coherent. Stop the backend first.
# PostgreSQL (needs pg_dump/pg_restore of the server's major version or
# newer, Debian package `postgresql-client`):
#   backup   pg_dump --format=custom (one consistent snapshot, compressed,
#            without owners or grants so it restores under any role).
#   restore  pg_restore --clean --if-exists --single-transaction: every
#            object in the dump is dropped and recreated, all or nothing.
#            Objects that are not in the dump (e.g. tables of a newer
#            migration) are left alone: restore into an empty database or
#            one at the same migration version. Stop the backend first.
#   The password is passed to the tools in PGPASSWORD, never on their
#   command line.
#
# restore asks for confirmation unless --yes is given.
set -euo pipefail

die() { printf 'db-backup: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'db-backup: %s\n' "$*" >&2; }
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
command="$1"; shift
url=""
yes=0
file=""
while [ $# -gt 0 ]; do
    case "$1" in
        --url) [ $# -ge 2 ] || usage; url="$2"; shift 2 ;;
        --url=*) url="${1#--url=}"; shift ;;
        --yes|-y) yes=1; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$file" ] || usage; file="$1"; shift ;;
    esac
done
[ -n "$file" ] || usage
case "$command" in backup|restore) ;; *) usage ;; esac

if [ -z "$url" ]; then url="${DATABASE_URL:-}"; fi
if [ -z "$url" ] && [ -f .env ]; then
    # Last assignment wins, as in the backend's .env reader; strip quotes.
    url="$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' .env | tail -n 1)"
    url="${url%\"}"; url="${url#\"}"; url="${url%\'}"; url="${url#\'}"
fi
[ -n "$url" ] || url="sqlite://data/backend.db?mode=rwc"

confirm() {
    [ "$yes" -eq 1 ] && return 0
    [ -t 0 ] || die "refusing to overwrite $1 without --yes (no terminal to ask on)"
    printf 'This replaces everything in %s with the contents of %s.\nType "restore" to continue: ' "$1" "$file" >&2
    local answer
    read -r answer
    [ "$answer" = restore ] || die "aborted"
}

umask 077

case "$url" in
sqlite:*)
    command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 not found (apt-get install sqlite3)"
    db="${url#sqlite:}"; db="${db#//}"; db="${db%%\?*}"
    [ -n "$db" ] && [ "$db" != ":memory:" ] || die "DATABASE_URL names no SQLite file"
    # The dot-commands take a quoted file name: refuse names they cannot quote.
    case "$db$file" in *"'"*) die "file names with a single quote are not supported" ;; esac
    integrity() { [ "$(sqlite3 "$1" 'PRAGMA integrity_check;')" = ok ]; }
    if [ "$command" = backup ]; then
        [ -f "$db" ] || die "no SQLite database at $db"
        tmp="$file.partial.$$"
        trap 'rm -f "$tmp"' EXIT
        sqlite3 "$db" ".timeout 10000" ".backup '$tmp'"
        integrity "$tmp" || die "the copy of $db fails PRAGMA integrity_check"
        mv -f "$tmp" "$file"
        trap - EXIT
        log "backed up $db to $file ($(wc -c < "$file") bytes)"
    else
        [ -f "$file" ] || die "no backup file $file"
        integrity "$file" || die "$file is not a sound SQLite database"
        confirm "$db"
        mkdir -p "$(dirname "$db")"
        sqlite3 "$db" ".timeout 10000" ".restore '$file'"
        integrity "$db" || die "$db fails PRAGMA integrity_check after the restore"
        log "restored $file into $db"
    fi
    ;;
postgres://*|postgresql://*)
    for tool in pg_dump pg_restore; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install postgresql-client)"
    done
    # Move the password out of the URL into PGPASSWORD (percent-decoded), so
    # it does not show in the process list.
    scheme="${url%%://*}://"
    rest="${url#*://}"
    authority="${rest%%[/?]*}"
    if [[ "$authority" == *@* ]]; then
        credentials="${authority%@*}"
        hostpart="${authority##*@}"
        user="${credentials%%:*}"
        if [[ "$credentials" == *:* ]]; then
            password="${credentials#*:}"
            PGPASSWORD="$(printf '%b' "${password//%/\\x}")"
            export PGPASSWORD
        fi
        url="${scheme}${user}@${hostpart}${rest#"$authority"}"
    fi
    if [ "$command" = backup ]; then
        tmp="$file.partial.$$"
        trap 'rm -f "$tmp"' EXIT
        pg_dump --format=custom --no-owner --no-privileges --file="$tmp" --dbname="$url"
        pg_restore --list "$tmp" >/dev/null || die "pg_restore cannot read the dump just written"
        mv -f "$tmp" "$file"
        trap - EXIT
        log "backed up ${url%%\?*} to $file ($(wc -c < "$file") bytes)"
    else
        [ -f "$file" ] || die "no backup file $file"
        pg_restore --list "$file" >/dev/null || die "$file is not a pg_dump custom-format archive"
        confirm "${url%%\?*}"
        pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
            --exit-on-error --dbname="$url" "$file"
        log "restored $file into ${url%%\?*}"
    fi
    ;;
*)
    die "DATABASE_URL must start with sqlite: or postgres://"
    ;;
esac
