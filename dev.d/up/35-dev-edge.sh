#!/usr/bin/env bash
# The dev CDN edge on 127.0.0.1:8090: verifies CloudFront signed URLs with the
# dev CloudFront public key and serves the media bucket from SeaweedFS.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=8090
KEYS="$CADENZA_DEV/keys"
for f in cloudfront.pub.pem cloudfront.key-pair-id; do
  [[ -s "$KEYS/$f" ]] || die "no $KEYS/$f: dev.d/up/10-keys.sh must run first"
done

log "cargo build -p dev-edge"
cargo build -q -p dev-edge || die "dev-edge does not build"
BIN="$CARGO_TARGET_DIR/debug/dev-edge"
restart_if_rebuilt dev-edge "$BIN"

export EDGE_PORT=$PORT
export EDGE_PUBLIC_URL="http://127.0.0.1:$PORT"
export S3_BUCKET="$CADENZA_S3_BUCKET"
export AWS_ENDPOINT_URL_S3="$CADENZA_S3_ENDPOINT"
CLOUDFRONT_KEY_PAIR_ID=$(<"$KEYS/cloudfront.key-pair-id")
export CLOUDFRONT_KEY_PAIR_ID
export CLOUDFRONT_PUBLIC_KEY_FILE="$KEYS/cloudfront.pub.pem"
export RUST_LOG="${RUST_LOG:-info}"
unset CLOUDFRONT_PUBLIC_KEY

if ! is_running dev-edge && port_in_use "$PORT"; then
  die "port $PORT is taken by $(port_owner "$PORT"); the dev edge needs it"
fi
start_bg dev-edge "$CADENZA_LOG/dev-edge.log" "$BIN"
# Unsigned song paths are refused: a 403 proves it is up and checking.
if ! wait_http "http://127.0.0.1:$PORT/songs/probe" 30 403; then
  log_tail dev-edge
  die "dev-edge did not come up on port $PORT"
fi
register_url dev-edge "http://127.0.0.1:$PORT"
log "dev-edge ready on :$PORT"
