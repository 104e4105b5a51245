# shellcheck shell=bash
# user-svc on 127.0.0.1:5000 with a dev configuration, plus the demo accounts.
# Sourced by dev.d/up/30-services.sh (row user-svc of dev.d/services.tsv),
# which sets PORT, KEYS and BIN. dev.d/demo/accounts.sh reads the DEMO_*
# values below.

DEMO_ADMIN_EMAIL=admin@cadenza.local
DEMO_ADMIN_PASSWORD='Cadenza-Demo-Conductor-2026'
DEMO_LISTENER_EMAIL=listener@cadenza.local
DEMO_LISTENER_PASSWORD='Cadenza-Demo-Listener-2026'

prepare() {
  [[ -s "$KEYS/jwt.key.pem" ]] || die "no $KEYS/jwt.key.pem: dev.d/up/10-keys.sh must run first"
}

service_env() {
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
}

# The demo accounts, created once user-svc is ready (on every ./dev up).
after_ready() {
  "$BIN" admin create --email "$DEMO_ADMIN_EMAIL" --password "$DEMO_ADMIN_PASSWORD" >>"$CADENZA_LOG/user-svc.log" 2>&1 ||
    die "could not create the demo admin (see .dev/log/user-svc.log)"
  "$BIN" user create --email "$DEMO_LISTENER_EMAIL" --password "$DEMO_LISTENER_PASSWORD" >>"$CADENZA_LOG/user-svc.log" 2>&1 ||
    die "could not create the demo listener (see .dev/log/user-svc.log)"
  log "demo admin:    $DEMO_ADMIN_EMAIL / $DEMO_ADMIN_PASSWORD"
  log "demo listener: $DEMO_LISTENER_EMAIL / $DEMO_LISTENER_PASSWORD"
}
