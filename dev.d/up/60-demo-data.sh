#!/usr/bin/env bash
# Demo catalogue: generates real audio and covers locally (cached under
# .dev/demo-media/) and seeds them through the real admin API behind the
# gateway (upload-url → presigned PUT → POST album/song), as the dashboard
# does. Idempotent: nothing is uploaded when the demo albums are all there.
# See dev.d/demo/.
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MEDIA="$CADENZA_DEV/demo-media"
GATEWAY="${CADENZA_GATEWAY_URL:-http://127.0.0.1:8080}"
# shellcheck source=dev.d/demo/accounts.sh disable=SC1091
source "$CADENZA_ROOT/dev.d/demo/accounts.sh"
export CADENZA_GATEWAY_URL="$GATEWAY"

ensure_apt sox lame espeak-ng imagemagick fonts-dejavu-core
py="${CADENZA_VENV:-$CADENZA_DEV/venv}/bin/python"
[[ -x "$py" ]] || py=python3

t0=$(_now_ms)
"$py" "$CADENZA_ROOT/dev.d/demo/media.py" catalogue "$MEDIA" || die "demo: generating media failed"

# Without the services there is nothing to seed (e.g. only the frontend is
# being worked on): say so rather than fail every ./dev up.
if [[ "$(http_code "$GATEWAY/api/user/.well-known/jwks.json")" =~ ^(000|502|503|504)$ ||
  "$(http_code "$GATEWAY/api/admin/album")" =~ ^(000|502|503|504)$ ]]; then
  warn "demo: user-svc or admin-svc is not reachable behind $GATEWAY; demo data skipped"
  exit 0
fi

"$py" "$CADENZA_ROOT/dev.d/demo/seed.py" "$MEDIA" || die "demo: seeding the catalogue failed"
log "demo data ready in $((($(_now_ms) - t0) / 1000))s"

register_url demo-admin "$GATEWAY/admin  ($CADENZA_DEMO_ADMIN_EMAIL / $CADENZA_DEMO_ADMIN_PASSWORD)"
register_url demo-listener "$GATEWAY/  ($CADENZA_DEMO_USER_EMAIL / $CADENZA_DEMO_USER_PASSWORD)"
printf '\nDemo accounts (log in at %s/login):\n  listener  %s  %s\n  admin     %s  %s\n' "$GATEWAY" \
  "$CADENZA_DEMO_USER_EMAIL" "$CADENZA_DEMO_USER_PASSWORD" \
  "$CADENZA_DEMO_ADMIN_EMAIL" "$CADENZA_DEMO_ADMIN_PASSWORD" >&2
