#!/usr/bin/env bash
# Local gateway (nginx) on 127.0.0.1:8080: one origin for the frontend and
# the three APIs, like the Kubernetes ingress. See dev.d/gateway/nginx.conf.tmpl.
# Idempotent: a running gateway is reloaded (SIGHUP) when its rendered config
# changed, and left alone otherwise.
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CADENZA_GATEWAY_PORT:-8080}
PREFIX="$CADENZA_DEV/gateway"
CONF="$PREFIX/nginx.conf"
TEMPLATE="$CADENZA_ROOT/dev.d/gateway/nginx.conf.tmpl"
DIST="$CADENZA_ROOT/frontend/dist"

command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || ensure_apt nginx
NGINX=$(command -v nginx || printf /usr/sbin/nginx)

[[ -f "$DIST/index.html" ]] || die "gateway: $DIST/index.html missing (dev.d/up/50-frontend-build.sh builds it)"
mkdir -p "$PREFIX/tmp"

# As root, nginx drops its workers to `nobody`, which must be able to read
# the built app (a clone under a 0700 home is not); otherwise the workers
# stay root (dev only: the gateway listens on 127.0.0.1).
user_directive='# not root: the workers run as the invoking user'
if ((EUID == 0)); then
  if runuser -u nobody -- test -r "$DIST/index.html" 2>/dev/null; then
    user_directive="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
  else
    user_directive='user root root; # nobody cannot read frontend/dist here'
  fi
fi

# Origins the app loads from besides its own (for the CSP): the dev CDN edge
# and the S3 endpoint that presigned uploads go to.
origin_of() { sed -E 's#^([a-z]+://[^/]+).*#\1#' <<<"$1"; }
CDN_ORIGIN=$(origin_of "${CADENZA_CDN_URL:-http://127.0.0.1:8090}")
S3_ORIGIN=$(origin_of "${CADENZA_S3_ENDPOINT:-http://127.0.0.1:58333}")

case "$CADENZA_DEV$CADENZA_ROOT$CDN_ORIGIN$S3_ORIGIN" in
*[\|\&\\]*) die "gateway: the repository path must not contain | & or backslashes" ;;
esac
tmp=$(mktemp "$PREFIX/nginx.conf.XXXXXX")
sed -e "s|@USER_DIRECTIVE@|$user_directive|" \
  -e "s|@PREFIX@|$PREFIX|g" \
  -e "s|@LOG_DIR@|$CADENZA_LOG|g" \
  -e "s|@MIME_TYPES@|/etc/nginx/mime.types|g" \
  -e "s|@DIST@|$DIST|g" \
  -e "s|@PORT@|$PORT|g" \
  -e "s|@CDN_ORIGIN@|$CDN_ORIGIN|g" \
  -e "s|@S3_ORIGIN@|$S3_ORIGIN|g" \
  "$TEMPLATE" >"$tmp"
if grep -n '@[A-Z_]*@' "$tmp" >&2; then
  rm -f "$tmp"
  die "gateway: unfilled placeholders in the rendered config"
fi

nginx_cmd=("$NGINX" -p "$PREFIX/" -e "$CADENZA_LOG/gateway-error.log")
pid_directive="pid $PREFIX/nginx.pid;"
if ! "${nginx_cmd[@]}" -c "$tmp" -g "$pid_directive" -t -q >"$PREFIX/nginx-t.out" 2>&1; then
  cat "$PREFIX/nginx-t.out" >&2
  rm -f "$tmp"
  die "gateway: nginx rejected the rendered config"
fi

if pid=$(pid_of gateway); then
  if cmp -s "$tmp" "$CONF"; then
    rm -f "$tmp"
    log "gateway already running (pid $pid)"
  else
    mv -f "$tmp" "$CONF"
    log "gateway config changed: reloading (pid $pid)"
    kill -HUP "$pid"
  fi
else
  mv -f "$tmp" "$CONF"
  if port_in_use "$PORT"; then
    die "gateway: port $PORT is taken by a process not started by this checkout ($(port_owner "$PORT"))"
  fi
  (
    cd "$PREFIX"
    start_bg gateway "$CADENZA_LOG/gateway.log" "${nginx_cmd[@]}" -c "$CONF" -g "daemon off; $pid_directive"
  )
fi

wait_http "http://127.0.0.1:$PORT/" 20 200 || {
  log_tail "$CADENZA_LOG/gateway-error.log"
  die "gateway did not answer on 127.0.0.1:$PORT"
}
register_url gateway "http://127.0.0.1:$PORT"
log "gateway ready: http://127.0.0.1:$PORT (logs .dev/log/gateway-{access,error}.log)"
