#!/usr/bin/env bash
# Frontend type check, lint (with a self-check of the lint config), unit tests
# and production build.
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$CADENZA_ROOT/frontend"

# Install only when node_modules is missing or older than the lockfile.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

npm run typecheck

npm run lint
# The config really applies its rules to src/ (eslint/self-check.js; the
# boundary rule's own unit tests are eslint/*.test.js, run by vitest).
node eslint/self-check.js

npm test -- --run
# `npm run build` is `tsc --noEmit && vite build`; the type check ran above.
npx vite build
