#!/usr/bin/env bash
# user-svc on 127.0.0.1:5000 with a dev configuration, plus the demo accounts.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=5000
KEYS="$CADENZA_DEV/keys"
[[ -s "$KEYS/jwt.key.pem" ]] || die "no $KEYS/jwt.key.pem: dev.d/up/10-keys.sh must run first"

DEMO_ADMIN_EMAIL=admin@cadenza.local
DEMO_ADMIN_PASSWORD='Cadenza-Demo-Conductor-2026'
DEMO_LISTENER_EMAIL=listener@cadenza.local
DEMO_LISTENER_PASSWORD='Cadenza-Demo-Listener-2026'

log "cargo build -p user-svc"
cargo build -q -p user-svc || die "user-svc does not build"
BIN="${CARGO_TARGET_DIR:-$CADENZA_ROOT/target}/debug/user-svc"
restart_if_rebuilt user-svc "$BIN"

export PORT
# Loopback only: the gateway on 127.0.0.1 is the one way in (not the LAN).
export BIND_ADDR=127.0.0.1
export PUBLIC_BASE_URL=http://127.0.0.1:8080
export JWT_PRIVATE_KEY_FILE="$KEYS/jwt.key.pem"
export JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
export MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB=cadenza
export REDIS_URL="$CADENZA_REDIS_URL"
export SQS_EMAIL_QUEUE_URL="$CADENZA_SQS_QUEUE_URL"
export AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
# Plain http locally; the nginx gateway on 127.0.0.1 sets X-Forwarded-For and
# is the only peer believed (a direct caller cannot pick its address).
export COOKIE_SECURE=false TRUST_PROXY_HEADERS=true TRUSTED_PROXIES=127.0.0.1/32
export RUST_LOG="${RUST_LOG:-info,user_svc=debug}"
unset JWT_PRIVATE_KEY JWT_PUBLIC_KEYS

if ! is_running user-svc && port_in_use "$PORT"; then
  die "port $PORT is taken by $(port_owner "$PORT"); user-svc needs it"
fi
otel_export user-svc
start_bg user-svc "$CADENZA_LOG/user-svc.log" "$BIN" serve
if ! wait_http "http://127.0.0.1:$PORT/readyz" 60; then
  log_tail user-svc
  die "user-svc did not become ready on port $PORT"
fi

"$BIN" admin create --email "$DEMO_ADMIN_EMAIL" --password "$DEMO_ADMIN_PASSWORD" >>"$CADENZA_LOG/user-svc.log" 2>&1 ||
  die "could not create the demo admin (see .dev/log/user-svc.log)"
"$BIN" user create --email "$DEMO_LISTENER_EMAIL" --password "$DEMO_LISTENER_PASSWORD" >>"$CADENZA_LOG/user-svc.log" 2>&1 ||
  die "could not create the demo listener (see .dev/log/user-svc.log)"

register_url user-svc "http://127.0.0.1:$PORT/api/user/docs"
log "user-svc ready on :$PORT"
log "demo admin:    $DEMO_ADMIN_EMAIL / $DEMO_ADMIN_PASSWORD"
log "demo listener: $DEMO_LISTENER_EMAIL / $DEMO_LISTENER_PASSWORD"
