#!/usr/bin/env bash
# song-svc on 127.0.0.1:7000 with a dev configuration: the catalogue database
# that admin-svc migrates (`cadenza` on the dev cluster), Redis, the JWT public
# key, and CloudFront signing for the dev edge on :8090 (35-dev-edge.sh).
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=7000
KEYS="$CADENZA_DEV/keys"
for f in jwt.pub.pem cloudfront.key.pem cloudfront.key-pair-id; do
  [[ -s "$KEYS/$f" ]] || die "no $KEYS/$f: dev.d/up/10-keys.sh must run first"
done

# The catalogue database (shared with admin-svc, which owns the migrations).
CADENZA_DB=${CADENZA_DB:-cadenza}
if ! psql "$CADENZA_PG_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$CADENZA_DB'" | grep -q 1; then
  log "creating database $CADENZA_DB"
  psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$CADENZA_DB\"" >/dev/null ||
    die "cannot create database $CADENZA_DB"
fi
DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/$CADENZA_DB"
if ! psql "$DATABASE_URL" -tAc "SELECT to_regclass('public.songs') IS NOT NULL" | grep -q t; then
  warn "song-svc: the catalogue schema is not there yet (admin-svc migrate creates it); reads fail until it is"
fi

log "cargo build -p song-svc"
cargo build -q -p song-svc || die "song-svc does not build"
BIN="$CARGO_TARGET_DIR/debug/song-svc"
restart_if_rebuilt song-svc "$BIN"

export PORT DATABASE_URL
# Loopback only: the gateway on 127.0.0.1 is the one way in (not the LAN).
export BIND_ADDR=127.0.0.1
export PUBLIC_BASE_URL=http://127.0.0.1:8080
export JWT_PUBLIC_KEYS_FILE="$KEYS/jwt.pub.pem"
export JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
export REDIS_URL="$CADENZA_REDIS_URL"
# The gateway on 127.0.0.1 says who the client is (the search limit is per client).
export TRUST_PROXY_HEADERS=true TRUSTED_PROXIES=127.0.0.1/32
export CLOUDFRONT_DOMAIN=http://127.0.0.1:8090
CLOUDFRONT_KEY_PAIR_ID=$(<"$KEYS/cloudfront.key-pair-id")
export CLOUDFRONT_KEY_PAIR_ID
export CLOUDFRONT_PRIVATE_KEY_FILE="$KEYS/cloudfront.key.pem"
export RUST_LOG="${RUST_LOG:-info,song_svc=debug}"
unset JWT_PUBLIC_KEYS JWT_JWKS_URL CLOUDFRONT_PRIVATE_KEY REDIS_NAMESPACE

if ! is_running song-svc && port_in_use "$PORT"; then
  die "port $PORT is taken by $(port_owner "$PORT"); song-svc needs it"
fi
otel_export song-svc
start_bg song-svc "$CADENZA_LOG/song-svc.log" "$BIN"
if ! wait_http "http://127.0.0.1:$PORT/readyz" 60; then
  log_tail song-svc
  die "song-svc did not become ready on port $PORT"
fi
register_url song-svc "http://127.0.0.1:$PORT/api/song/docs"
log "song-svc ready on :$PORT"
