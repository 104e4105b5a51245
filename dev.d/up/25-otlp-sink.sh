#!/usr/bin/env bash
# The dev OTLP trace receiver (tools/otlp-sink) on 127.0.0.1:54318: the
# services started after it export their spans there (otel_export in
# dev.d/lib.sh), and GET /traces (newest traces) or /traces/{trace_id} (one
# trace's spans) shows them. dev.d/test/74-traces.sh reads it to check one
# trace across the gateway, user-svc, SQS and the mailer.
#   CADENZA_OTLP_PORT  listen port (default 54318)
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CADENZA_OTLP_PORT:-54318}
NAME=otlp-sink

log "cargo build -p cadenza-otlp-sink"
cargo build -q -p cadenza-otlp-sink || die "otlp-sink does not build"
BIN="$CARGO_TARGET_DIR/debug/otlp-sink"
restart_if_rebuilt "$NAME" "$BIN"

if ! is_running "$NAME" && port_in_use "$PORT"; then
  die "port $PORT is taken by $(port_owner "$PORT"); the OTLP sink needs it (set CADENZA_OTLP_PORT)"
fi
# It must not export its own spans to itself.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
OTLP_SINK_ADDR="127.0.0.1:$PORT" RUST_LOG="${RUST_LOG:-info}" start_bg "$NAME" "$CADENZA_LOG/$NAME.log" "$BIN"
if ! wait_http "http://127.0.0.1:$PORT/healthz" 30; then
  log_tail "$NAME"
  die "the OTLP sink did not come up on port $PORT"
fi
register_url "$NAME" "http://127.0.0.1:$PORT/traces (OTLP/HTTP in on /v1/traces)"
log "otlp-sink ready on :$PORT"
