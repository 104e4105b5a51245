# shellcheck shell=bash
# song-svc on 127.0.0.1:7000 with a dev configuration: the catalogue database
# that admin-svc migrates (`cadenza` on the dev cluster), Redis, the JWT public
# key, and CloudFront signing for the dev edge on :8090 (35-dev-edge.sh).
# Sourced by dev.d/up/30-services.sh (row song-svc of dev.d/services.tsv),
# which sets PORT and KEYS.

prepare() {
  local f
  for f in jwt.pub.pem cloudfront.key.pem cloudfront.key-pair-id; do
    [[ -s "$KEYS/$f" ]] || die "no $KEYS/$f: dev.d/up/10-keys.sh must run first"
  done
}

service_env() {
  export DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}"
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
}

# The catalogue database (shared with admin-svc, which owns the migrations).
before_start() {
  local db=${CADENZA_DB:-cadenza}
  if ! psql "$CADENZA_PG_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    log "creating database $db"
    psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$db\"" >/dev/null ||
      die "cannot create database $db"
  fi
  if ! psql "$DATABASE_URL" -tAc "SELECT to_regclass('public.songs') IS NOT NULL" | grep -q t; then
    warn "song-svc: the catalogue schema is not there yet (admin-svc migrate creates it); reads fail until it is"
  fi
}
