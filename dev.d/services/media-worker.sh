# shellcheck shell=bash
# media-worker (issue 20) with a dev configuration: the catalogue database,
# the SeaweedFS bucket and the moto media queue that admin-svc's relay feeds
# (dev.d/services/admin-svc.sh), and Redis for the catalogue events it
# publishes. Health and metrics on 127.0.0.1:7100.
# Sourced by dev.d/up/30-services.sh (row media-worker of
# dev.d/services.tsv), which sets PORT and BIN.

prepare() {
  : "${CADENZA_PG_ADMIN_URL:?run through ./dev up (needs .dev/env)}"
  : "${CADENZA_S3_ENDPOINT:?}" "${CADENZA_S3_BUCKET:?}" "${CADENZA_AWS_ENDPOINT:?}" "${CADENZA_REDIS_URL:?}"
  : "${CADENZA_MEDIA_QUEUE_URL:?re-run ./dev infra up (the media queue is new)}"
}

service_env() {
  export BIND_ADDR=127.0.0.1
  export DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}"
  export S3_BUCKET="$CADENZA_S3_BUCKET" S3_FORCE_PATH_STYLE=true
  export AWS_ENDPOINT_URL_S3="$CADENZA_S3_ENDPOINT" AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
  export MEDIA_QUEUE_URL="$CADENZA_MEDIA_QUEUE_URL"
  # Its verdicts are catalogue changes: song-svc hears them here (as from admin-svc).
  export REDIS_URL="$CADENZA_REDIS_URL"
  unset REDIS_NAMESPACE
  export NO_COLOR=1
  export RUST_LOG="${MEDIA_WORKER_RUST_LOG:-info,aws_config=warn,aws_smithy_runtime=warn}"
}

# Songs from before the worker existed (an older dev database) get their jobs.
before_start() {
  "$BIN" backfill >/dev/null || die "media-worker backfill failed"
}

after_ready() {
  log "media-worker reading $MEDIA_QUEUE_URL"
}
