#!/usr/bin/env bash
# Browser end-to-end tests against the real stack behind the gateway:
# Debian chromium driven by playwright-core (frontend/e2e/*.test.mjs, run by
# node's test runner). Brings the stack up first (`./dev up` is idempotent).
# Screenshots and browser logs: frontend/e2e/artifacts/.
#
#   E2E_SKIP_UP=1   do not run ./dev up (the stack is already running)
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$CADENZA_ROOT"
ensure_apt chromium fonts-dejavu-core
[[ -x /usr/bin/chromium ]] || die "e2e: /usr/bin/chromium missing after installing chromium"

# playwright-core comes from the frontend's lockfile (devDependency).
if [[ ! -f frontend/node_modules/.package-lock.json || frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ||
  ! -f frontend/node_modules/playwright-core/package.json ]]; then
  log "e2e: npm ci"
  (cd frontend && npm ci --no-audit --no-fund)
fi

if [[ "${E2E_SKIP_UP:-}" != 1 ]]; then
  t0=$(_now_ms)
  ./dev up >"$CADENZA_LOG/e2e-dev-up.log" 2>&1 || {
    log_tail "$CADENZA_LOG/e2e-dev-up.log" 60
    printf 'e2e: 0 passed, 1 failed (./dev up failed)\n'
    exit 1
  }
  log "e2e: ./dev up took $((($(_now_ms) - t0) / 1000))s (log .dev/log/e2e-dev-up.log)"
fi
# shellcheck source=dev.d/demo/accounts.sh disable=SC1091
source "$CADENZA_ROOT/dev.d/demo/accounts.sh"
export E2E_ADMIN_EMAIL="$CADENZA_DEMO_ADMIN_EMAIL" E2E_ADMIN_PASSWORD="$CADENZA_DEMO_ADMIN_PASSWORD"
export E2E_LISTENER_EMAIL="$CADENZA_DEMO_USER_EMAIL" E2E_LISTENER_PASSWORD="$CADENZA_DEMO_USER_PASSWORD"
export E2E_FIXTURES="$CADENZA_DEV/e2e-fixtures"

py="${CADENZA_VENV:-$CADENZA_DEV/venv}/bin/python"
[[ -x "$py" ]] || py=python3
"$py" dev.d/demo/media.py fixtures "$E2E_FIXTURES"

rm -rf frontend/e2e/artifacts
mkdir -p frontend/e2e/artifacts
tap="$CADENZA_LOG/e2e.tap"
rm -f "$tap"
rc=0
t0=$(_now_ms)
(cd frontend && node --test --test-concurrency=1 --test-timeout=300000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  e2e/gateway.test.mjs e2e/listener.test.mjs e2e/admin.test.mjs e2e/playlists.test.mjs \
  e2e/folder.test.mjs) || rc=$?
secs=$((($(_now_ms) - t0) / 1000))

pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
pass=${pass:-0}
fail=$((${fail:-0} + ${cancelled:-0}))
if ((rc != 0 && fail == 0)); then
  fail=1
fi
# What the browsers saw (console errors, failed requests, 4xx/5xx answers):
# shown when something failed, kept in the artifacts either way.
if ((fail > 0)); then
  for f in frontend/e2e/artifacts/*-browser.log; do
    [[ -s "$f" ]] || continue
    log "browser log ${f#"$CADENZA_ROOT"/} ($(wc -l <"$f") lines):"
    head -n 40 "$f" >&2
  done
fi
log "e2e: ${secs}s; ${skipped:-0} step(s) skipped after a failure; screenshots and browser logs in frontend/e2e/artifacts/"
printf 'e2e: %s passed, %s failed\n' "$pass" "$fail"
((fail == 0))
