#!/usr/bin/env bash
# The catalogue database: creates `cadenza` on the dev cluster if missing and
# applies the catalogue migrations with `admin-svc migrate` (the same command
# the Helm pre-upgrade Job runs). Idempotent.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${CADENZA_PG_ADMIN_URL:?run through ./dev up (needs .dev/env)}"
command -v psql >/dev/null || ensure_apt postgresql-client

CADENZA_DB=${CADENZA_DB:-cadenza}
if ! psql "$CADENZA_PG_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$CADENZA_DB'" | grep -q 1; then
  log "creating database $CADENZA_DB"
  # A concurrent creator may win the race; only a still-missing database is fatal.
  psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$CADENZA_DB\"" >/dev/null 2>&1 ||
    psql "$CADENZA_PG_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$CADENZA_DB'" | grep -q 1 ||
    die "cannot create database $CADENZA_DB"
fi

log "cargo build -p admin-svc"
cargo build -q -p admin-svc || die "admin-svc does not build"

DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/$CADENZA_DB" RUST_LOG="${RUST_LOG:-warn}" \
  "$CARGO_TARGET_DIR/debug/admin-svc" migrate || die "admin-svc migrate failed"
log "catalogue schema up to date in database $CADENZA_DB"
