#!/usr/bin/env bash
# The mailer's local run mode: `mailer poll` long-polls the dev SQS queue
# (moto) and hands each batch to the same handler the Lambda runs, then
# deletes every message except the batchItemFailures, like Lambda's SQS
# event-source mapping. Mail goes to moto's SES v2; read it with
# `mailer inbox`.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${CADENZA_SQS_QUEUE_URL:?run through ./dev up (needs .dev/env)}"
: "${CADENZA_AWS_ENDPOINT:?}" "${CADENZA_SES_FROM:?}" "${CADENZA_REDIS_URL:?}"

log "building mailer"
cargo build -q -p mailer || die "mailer does not build"
bin="$CARGO_TARGET_DIR/debug/mailer"

restart_if_rebuilt mailer "$bin"

export SQS_EMAIL_QUEUE_URL="$CADENZA_SQS_QUEUE_URL"
export AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
export AWS_ENDPOINT_URL_SESV2="$CADENZA_AWS_ENDPOINT"
export SES_FROM_ADDRESS="$CADENZA_SES_FROM"
export REDIS_URL="$CADENZA_REDIS_URL"
# Below the dev queue's 60 s visibility timeout (see lambdas/mailer/README.md).
export MAILER_CLAIM_TTL_SECS=30
# Prometheus text on /metrics (dev.d/alerts/targets.sh scrapes it).
export METRICS_ADDR=127.0.0.1:5003
# Plain text in the log file (tracing honours NO_COLOR).
export NO_COLOR=1
export RUST_LOG="${MAILER_RUST_LOG:-info,aws_config=warn,aws_smithy_runtime=warn}"
otel_export mailer
start_bg mailer "$CADENZA_LOG/mailer.log" "$bin" poll
# A configuration or Redis error ends it within a second.
sleep 1
if ! is_running mailer; then
  log_tail mailer
  die "the mailer poller exited (see .dev/log/mailer.log)"
fi

inbox="$bin inbox --endpoint $CADENZA_AWS_ENDPOINT [--to ADDR]"
register_url mailer "polls $CADENZA_SQS_QUEUE_URL; sent mail: $inbox (or GET $CADENZA_AWS_ENDPOINT/moto-api/data.json)"
log "mailer: sent mail is listed by: $inbox"
