#!/usr/bin/env bash
# Frontend unit tests, type check and production build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../frontend"

# Install only when node_modules is missing or older than the lockfile.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

npm run typecheck
npm test -- --run
npm run build
