#!/usr/bin/env bash
# Browser end-to-end tests against the real stack behind the gateway:
# Debian chromium driven by Playwright Test (frontend/e2e/*.test.mjs,
# frontend/playwright.config.mjs). Brings the stack up first (`./dev up` is
# idempotent). Screenshots and browser logs: frontend/e2e/artifacts/; the
# screenshots of a failed step: frontend/test-results/; the JSON report (the
# counts below come from it, through e2e/report_counts.py): .dev/log/e2e.json.
#
#   E2E_SKIP_UP=1   do not run ./dev up (the stack is already running)
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$CADENZA_ROOT"
ensure_apt chromium fonts-dejavu-core
[[ -x /usr/bin/chromium ]] || die "e2e: /usr/bin/chromium missing after installing chromium"

# @playwright/test comes from the frontend's lockfile (devDependency); it
# never downloads a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -f frontend/node_modules/.package-lock.json || frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ||
  ! -f frontend/node_modules/@playwright/test/package.json ]]; then
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
report="$CADENZA_LOG/e2e.json"
rm -f "$report"
rc=0
t0=$(_now_ms)
(cd frontend && PLAYWRIGHT_JSON_OUTPUT_NAME="$report" npm run --silent e2e) || rc=$?
secs=$((($(_now_ms) - t0) / 1000))

# "passed failed skipped"; the failed steps and their screenshots go to stderr.
counts=$("$py" dev.d/test/e2e/report_counts.py "$report") || counts="0 1 0"
read -r pass fail skipped <<<"$counts"
if ((rc != 0 && fail == 0)); then
  fail=1
fi
if ((pass + fail == 0)); then
  log "e2e: no test ran"
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
log "e2e: ${secs}s; ${skipped} step(s) skipped after a failure; screenshots and browser logs in frontend/e2e/artifacts/, failed steps' screenshots in frontend/test-results/, report .dev/log/e2e.json"
printf 'e2e: %s passed, %s failed\n' "$pass" "$fail"
((fail == 0))
