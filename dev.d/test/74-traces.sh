#!/usr/bin/env bash
# One trace id across processes, on the running dev stack (70-e2e.sh leaves
# it up; otherwise ./dev up starts it): dev.d/traces/check.py sends a
# registration and an album update through the gateway with a traceparent of
# its own and reads what user-svc, admin-svc, song-svc and the mailer
# exported to the dev OTLP sink (tools/otlp-sink): gateway caller ->
# user-svc -> SQS -> mailer -> SES, and admin-svc -> Redis Pub/Sub ->
# song-svc, parent by parent, plus the trace id in the services' log lines.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$CADENZA_ROOT"
if ! is_running otlp-sink || ! is_running mailer; then
  log "traces: the dev stack is not running; ./dev up"
  ./dev up >"$CADENZA_LOG/traces-dev-up.log" 2>&1 || {
    log_tail "$CADENZA_LOG/traces-dev-up.log" 60
    printf 'traces: 0 passed, 1 failed (./dev up failed)\n'
    exit 1
  }
fi
# shellcheck source=dev.d/demo/accounts.sh disable=SC1091
source "$CADENZA_ROOT/dev.d/demo/accounts.sh"
export CADENZA_DEMO_ADMIN_EMAIL CADENZA_DEMO_ADMIN_PASSWORD
python3 dev.d/traces/check.py "http://127.0.0.1:8080" "http://127.0.0.1:${CADENZA_OTLP_PORT:-54318}" "$CADENZA_LOG"
