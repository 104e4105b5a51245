#!/usr/bin/env bash
# Soak test (issue 8). NOT part of the test suite: a documented command.
#
#   ./dev up && bench/soak.sh
#
# 60 s of mixed traffic at 64 connections against the running platform,
# straight at the service ports on loopback (user-svc :5000, admin-svc :5001,
# song-svc :7000): catalogue reads, signed stream URL mints, admin catalogue
# lists, logins and refresh-token rotations (bench/soak/load.py, asyncio +
# aiohttp in .dev/fuzz-venv). Logins and refreshes are paced under user-svc's
# per-IP rate limits and spread over SOAK_USERS accounts created for the soak
# (soak-NN@cadenza.local, with `user-svc user create`; their sessions are
# ended afterwards), so a 429 counts as an error like any other non-2xx.
# The RSS of each service process (pids from .dev/run/*.pid) is sampled every
# second; after the warm-up the first 10 s average must be within 10% of the
# last 10 s average.
#
# Requires 0 errors and flat RSS (exit 1 otherwise). Prints a summary table
# (requests, errors, rps, p50/p99 per kind; RSS start/end per service) and
# writes it to bench/results/soak-<UTC time>.md (git-ignored) with the raw
# numbers beside it (.json).
#
# Knobs (environment): SOAK_DURATION (60 s), SOAK_WARMUP (10 s),
# SOAK_CONNECTIONS (64), SOAK_MAX_REQUESTS (2000000), SOAK_LOGIN_RPS (1),
# SOAK_REFRESH_RPS (4), SOAK_USERS (16), SOAK_RSS_TOLERANCE (0.10).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=dev.d/lib.sh
source "$ROOT/dev.d/lib.sh"
# shellcheck source=dev.d/fuzz/venv.sh disable=SC1091
source "$ROOT/dev.d/fuzz/venv.sh"
[[ -f "$CADENZA_DEV/env" ]] || die "no .dev/env: run ./dev up first"
# shellcheck disable=SC1091
source "$CADENZA_DEV/env"
# shellcheck source=dev.d/demo/accounts.sh disable=SC1091
source "$ROOT/dev.d/demo/accounts.sh"
TARGET="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"

USERS=${SOAK_USERS:-16}
SOAK_PASSWORD='Soak-Listener-Passphrase-2026'
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results"
mkdir -p "$OUT"

SERVICES=(user-svc:5000 admin-svc:5001 song-svc:7000)
pids=()
for entry in "${SERVICES[@]}"; do
  name=${entry%%:*} port=${entry##*:}
  pid=$(pid_of "$name") || die "$name is not running (no live .dev/run/$name.pid): run ./dev up first"
  [[ "$(http_code "http://127.0.0.1:$port/readyz")" == 200 ]] || die "$name on :$port is not ready"
  pids+=("$name=$pid")
done

ensure_fuzz_venv

# The soak users, in the platform's own database (idempotent: an existing
# account is left unchanged). Same configuration as dev.d/services/user-svc.sh.
accounts="$OUT/soak-$STAMP.accounts"
: >"$accounts"
trap 'rm -f "$accounts"' EXIT
for ((i = 1; i <= USERS; i++)); do
  email=$(printf 'soak-%02d@cadenza.local' "$i")
  printf '%s %s\n' "$email" "$SOAK_PASSWORD" >>"$accounts"
done
log "soak: ensuring $USERS soak users (user-svc user create)"
(
  export PUBLIC_BASE_URL=http://127.0.0.1:8080 JWT_PRIVATE_KEY_FILE="$CADENZA_DEV/keys/jwt.key.pem"
  export JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
  export MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB=cadenza REDIS_URL="$CADENZA_REDIS_URL"
  export SQS_EMAIL_QUEUE_URL="$CADENZA_SQS_QUEUE_URL" AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
  export COOKIE_SECURE=false RUST_LOG=warn USER_PASSWORD="$SOAK_PASSWORD"
  unset JWT_PRIVATE_KEY JWT_PUBLIC_KEYS REDIS_NAMESPACE
  while read -r email _; do
    "$TARGET/debug/user-svc" user create --email "$email" >>"$CADENZA_LOG/soak.log" 2>&1 ||
      die "soak: could not create $email (see .dev/log/soak.log)"
  done <"$accounts"
)

log "soak: ${SOAK_WARMUP:-10} s warm-up + ${SOAK_DURATION:-60} s at ${SOAK_CONNECTIONS:-64} connections (RSS of ${pids[*]})"
rc=0
"$FUZZ_VENV/bin/python" "$ROOT/bench/soak/load.py" \
  --accounts "$accounts" \
  --admin-account "$CADENZA_DEMO_ADMIN_EMAIL $CADENZA_DEMO_ADMIN_PASSWORD" \
  --pids "$(
    IFS=,
    printf '%s' "${pids[*]}"
  )" \
  --report "$OUT/soak-$STAMP.md" --json "$OUT/soak-$STAMP.json" || rc=$?
log "soak: report bench/results/soak-$STAMP.md"
exit "$rc"
