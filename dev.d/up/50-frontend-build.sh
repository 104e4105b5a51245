#!/usr/bin/env bash
# Builds the web client into frontend/dist for the gateway (55-gateway.sh).
# Skips the build when dist/index.html is newer than every input.
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$CADENZA_ROOT/frontend"
command -v npm >/dev/null || die "frontend: node/npm (>= 20.19) are needed to build the web client"

# Install only when node_modules is missing or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "frontend: npm ci (log .dev/log/frontend-build.log)"
  npm ci --no-audit --no-fund >>"$CADENZA_LOG/frontend-build.log" 2>&1 || {
    log_tail "$CADENZA_LOG/frontend-build.log"
    die "frontend: npm ci failed"
  }
fi

inputs=(src public index.html package.json package-lock.json vite.config.ts tsconfig.json)
if [[ -f dist/index.html ]] &&
  [[ -z "$(find "${inputs[@]}" -newer dist/index.html -print -quit 2>/dev/null)" ]]; then
  log "frontend: dist is up to date"
  exit 0
fi

t0=$(_now_ms)
log "frontend: npm run build (log .dev/log/frontend-build.log)"
# Built next to dist and swapped in, so the running gateway never serves a
# half-written dist/ (vite empties its outDir first).
next="$CADENZA_DEV/frontend-dist.next"
rm -rf "$next"
npm run build -- --outDir "$next" --emptyOutDir >>"$CADENZA_LOG/frontend-build.log" 2>&1 || {
  log_tail "$CADENZA_LOG/frontend-build.log"
  die "frontend: build failed"
}
[[ -f "$next/index.html" ]] || die "frontend: the build wrote no index.html"
old="$CADENZA_DEV/frontend-dist.old"
rm -rf "$old"
if [[ -d dist ]]; then
  mv dist "$old"
fi
mv "$next" dist
rm -rf "$old"
# Its mtime marks this build (see the up-to-date check above).
touch dist/index.html
log "frontend: built dist/ in $((($(_now_ms) - t0) / 1000))s"
