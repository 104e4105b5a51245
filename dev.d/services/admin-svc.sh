# shellcheck shell=bash
# admin-svc on 127.0.0.1:5001 with a dev configuration: the `cadenza`
# catalogue database (migrated by 20-migrate.sh), Redis, the dev JWT public
# key, and the SeaweedFS bucket; presigned upload URLs point at SeaweedFS on
# 127.0.0.1 so the browser can PUT to them directly.
# Sourced by dev.d/up/30-services.sh (row admin-svc of dev.d/services.tsv),
# which sets PORT and KEYS.

prepare() {
  : "${CADENZA_PG_ADMIN_URL:?run through ./dev up (needs .dev/env)}"
  : "${CADENZA_REDIS_URL:?}" "${CADENZA_S3_ENDPOINT:?}" "${CADENZA_S3_BUCKET:?}"
  [[ -s "$KEYS/jwt.pub.pem" ]] || die "no $KEYS/jwt.pub.pem: dev.d/up/10-keys.sh must run first"
}

service_env() {
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
  # Media jobs go to the local media queue (the media-worker reads it:
  # dev.d/services/media-worker.sh).
  export MEDIA_QUEUE_URL="${CADENZA_MEDIA_QUEUE_URL:?re-run ./dev infra up (the media queue is new)}"
  export AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
  export S3_PUBLIC_ENDPOINT="${ADMIN_S3_PUBLIC_ENDPOINT:-$CADENZA_S3_ENDPOINT}"
  export NO_COLOR=1
  export RUST_LOG="${ADMIN_RUST_LOG:-info,admin_svc=debug,aws_config=warn,aws_smithy_runtime=warn}"
  # No CloudFront distribution locally: the dev edge has no cache to invalidate.
  unset JWT_PUBLIC_KEYS JWT_JWKS_URL REDIS_NAMESPACE CLOUDFRONT_DISTRIBUTION_ID S3_PUBLIC_ENDPOINT_FILE
}
