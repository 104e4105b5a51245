#!/usr/bin/env bash
# admin-svc on 127.0.0.1:5001 with a dev configuration: the `cadenza`
# catalogue database (migrated by 20-migrate.sh), Redis, the dev JWT public
# key, and the SeaweedFS bucket; presigned upload URLs point at SeaweedFS on
# 127.0.0.1 so the browser can PUT to them directly.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${CADENZA_PG_ADMIN_URL:?run through ./dev up (needs .dev/env)}"
: "${CADENZA_REDIS_URL:?}" "${CADENZA_S3_ENDPOINT:?}" "${CADENZA_S3_BUCKET:?}"

PORT=5001
KEYS="$CADENZA_DEV/keys"
[[ -s "$KEYS/jwt.pub.pem" ]] || die "no $KEYS/jwt.pub.pem: dev.d/up/10-keys.sh must run first"

log "cargo build -p admin-svc"
cargo build -q -p admin-svc || die "admin-svc does not build"
BIN="$CARGO_TARGET_DIR/debug/admin-svc"

restart_if_rebuilt admin-svc "$BIN"

export PORT
# Loopback only: the gateway on 127.0.0.1 is the one way in (not the LAN).
export BIND_ADDR=127.0.0.1
export PUBLIC_BASE_URL=http://127.0.0.1:8080
export DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}"
export MIGRATE_ON_START=true
export JWT_PUBLIC_KEYS_FILE="$KEYS/jwt.pub.pem"
export JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
export REDIS_URL="$CADENZA_REDIS_URL"
export S3_BUCKET="$CADENZA_S3_BUCKET"
export S3_FORCE_PATH_STYLE=true
export CLOUDFRONT_DOMAIN=http://127.0.0.1:8090
export AWS_ENDPOINT_URL_S3="$CADENZA_S3_ENDPOINT"
# Media jobs go to the local media queue (33-media-worker.sh reads it).
export MEDIA_QUEUE_URL="${CADENZA_MEDIA_QUEUE_URL:?re-run ./dev infra up (the media queue is new)}"
export AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
export S3_PUBLIC_ENDPOINT="${ADMIN_S3_PUBLIC_ENDPOINT:-$CADENZA_S3_ENDPOINT}"
export NO_COLOR=1
export RUST_LOG="${ADMIN_RUST_LOG:-info,admin_svc=debug,aws_config=warn,aws_smithy_runtime=warn}"
# No CloudFront distribution locally: the dev edge has no cache to invalidate.
unset JWT_PUBLIC_KEYS JWT_JWKS_URL REDIS_NAMESPACE CLOUDFRONT_DISTRIBUTION_ID S3_PUBLIC_ENDPOINT_FILE

if ! is_running admin-svc && port_in_use "$PORT"; then
  die "port $PORT is taken by $(port_owner "$PORT"); admin-svc needs it"
fi
otel_export admin-svc
start_bg admin-svc "$CADENZA_LOG/admin-svc.log" "$BIN" serve
if ! wait_http "http://127.0.0.1:$PORT/readyz" 60; then
  log_tail admin-svc
  die "admin-svc did not become ready on port $PORT"
fi
register_url admin-svc "http://127.0.0.1:$PORT/api/admin/docs"
log "admin-svc ready on :$PORT"
