#!/usr/bin/env bash
# user-svc benchmark (issue 16). NOT part of the test suite.
#
#   bench/user-svc.sh            # needs ./dev infra up (MongoDB-wire server, Redis, PostgreSQL, moto)
#
# Starts user-svc (release) on a private port, MongoDB database and Redis
# namespace, with 64 verified accounts, and drives it with wrk at 64
# connections: check-auth, favourites (50 of them), refresh-token rotation
# (one chain per connection) and login. Every request carries its own
# X-Forwarded-For, as listeners behind the gateway do, so the per-address
# limits stay out of the figures. Reports requests/s, p50/p99, requests per
# CPU-second of user-svc and the CPU of the MongoDB-wire server and Redis
# beside it (the busiest process names the bottleneck); logins are set
# against the argon2 cost alone (one verification, measured by
# `cargo test --release -p user-svc --lib argon2_cost -- --ignored`).
#
# Then the login flood: song-svc (release, 2400 songs, warm cache) serves
# /api/song/album/{id} to 8 connections that each wait 5 ms between
# requests, first alone and then while 64 connections log in as fast as the
# hasher accepts; the target is a read p99 under 10 ms during the flood.
# Results: bench/results/user-svc-<UTC time>.md (git-ignored).
#
# Knobs: BENCH_DURATION (s per run, default 15), BENCH_CONNECTIONS (64),
# BENCH_THREADS (2), BENCH_PORT (17080), BENCH_SONG_PORT (17081).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=dev.d/lib.sh
source "$ROOT/dev.d/lib.sh"
[[ -f "$CADENZA_DEV/env" ]] || die "no .dev/env: run ./dev infra up first"
# shellcheck disable=SC1091
source "$CADENZA_DEV/env"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"
# shellcheck source=bench/lib/proc.sh
source "$ROOT/bench/lib/proc.sh"
# shellcheck source=bench/lib/catalog.sh
source "$ROOT/bench/lib/catalog.sh"

DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-17080}
SONG_PORT=${BENCH_SONG_PORT:-17081}
# One refresh chain per connection, plus spares: wrk builds one request on
# its first thread to check the script, and that token is never sent.
USERS=$((CONNECTIONS + 4 * THREADS))
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
MONGO_DB="cadenza_bench_${STAMP,,}"
PG_DB="cadenza_bench_${STAMP,,}"
NS="bench-$STAMP"
OUT="$ROOT/bench/results"
WORK="$OUT/user-svc-$STAMP"
REPORT="$OUT/user-svc-$STAMP.md"
PY="${CADENZA_VENV:-$CADENZA_DEV/venv}/bin/python"
PASSWORD='Bench-Cadenza-Oboe-Lantern-42'
mkdir -p "$WORK"

ensure_apt wrk
command -v wrk >/dev/null || die "wrk is not installed"
[[ -x "$PY" ]] || die "no python at $PY (./dev infra up creates the venv)"
for p in "$PORT" "$SONG_PORT"; do
  port_in_use "$p" && die "port $p is taken; set BENCH_PORT / BENCH_SONG_PORT"
done

log "cargo build --release -p user-svc -p song-svc"
cargo build -q --release -p user-svc -p song-svc || die "the services do not build"
BIN="$CARGO_TARGET_DIR/release/user-svc"

log "argon2 cost alone (cargo test --release -p user-svc --lib argon2_cost)"
COST=$(cargo test -q --release -p user-svc --lib argon2_cost -- --ignored --nocapture 2>/dev/null |
  awk '/^argon2-verify-us/ {print $2, $4}')
read -r ARGON2_US ARGON2_PER_CORE <<<"$COST"
[[ -n "${ARGON2_US:-}" ]] || die "the argon2 measurement printed nothing"
log "one argon2id verification: ${ARGON2_US} µs (${ARGON2_PER_CORE} per core-second)"

USER_PID='' SONG_PID=''
cleanup() {
  stop_pid "$USER_PID"
  stop_pid "$SONG_PID"
  MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB="$MONGO_DB" timeout 20 "$PY" -c '
import os, pymongo
pymongo.MongoClient(os.environ["MONGODB_URI"]).drop_database(os.environ["MONGODB_DB"])
' 2>/dev/null || true
  drop_catalog "$PG_DB" "$NS"
}
trap cleanup EXIT

# user-svc's environment (env -i: nothing from the caller leaks in).
user_env=(
  PATH="$PATH" HOME="$HOME"
  PORT="$PORT" BIND_ADDR=127.0.0.1 PUBLIC_BASE_URL=http://127.0.0.1:8080
  JWT_PRIVATE_KEY_FILE="$BENCH_FIXTURES/jwt-test.key.pem" ALLOW_TEST_KEYS=true
  JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
  MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB="$MONGO_DB"
  REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$NS"
  SQS_EMAIL_QUEUE_URL="$CADENZA_SQS_QUEUE_URL" AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
  AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
  AWS_REGION="$AWS_REGION"
  COOKIE_SECURE=false TRUST_PROXY_HEADERS=true TRUSTED_PROXIES=127.0.0.1/32
  RUST_LOG=warn LOG_FORMAT=json
)

log "creating $USERS accounts in MongoDB database $MONGO_DB"
ACCOUNTS="$WORK/accounts"
: >"$ACCOUNTS"
for ((i = 1; i <= USERS; i++)); do
  email=$(printf 'bench-%03d@cadenza.local' "$i")
  env -i "${user_env[@]}" USER_PASSWORD="$PASSWORD" "$BIN" user create --email "$email" >>"$WORK/setup.log" 2>&1 ||
    die "could not create $email (see $WORK/setup.log)"
  printf '%s %s\n' "$email" "$PASSWORD" >>"$ACCOUNTS"
done

log "starting user-svc (release) on :$PORT"
env -i "${user_env[@]}" "$BIN" serve >"$WORK/user-svc.log" 2>&1 &
USER_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/readyz" 30 || {
  tail -20 "$WORK/user-svc.log" >&2
  die "user-svc did not start"
}

PG_URL=$(load_catalog "$PG_DB" "$WORK")
"$PY" "$ROOT/bench/lib/sessions.py" "$BASE" "$ACCOUNTS" "$WORK/sessions" "$WORK/access" ||
  die "could not sign the bench accounts in"
TOKEN=$(head -n 1 "$WORK/access")
log "adding 50 favourites to the first account"
head -n 50 "$WORK/song-ids" | while read -r song; do
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"songId\":\"$song\"}" "$BASE/api/user/favorites" || die "could not add favourite $song"
done

TCK=$(getconf CLK_TCK)
MONGO_PID=$(cat "$CADENZA_DEV/run/mongo.pid" 2>/dev/null || true)
REDIS_PID=$(cat "$CADENZA_DEV/run/redis.pid" 2>/dev/null || true)
ticks_of() { if [[ -n "$1" ]] && [[ -d "/proc/$1" ]]; then cpu_ticks "$1"; else echo 0; fi; }
cpu_s() { awk -v t="$1" -v h="$TCK" 'BEGIN {printf "%.2f", t / h}'; }

ROWS=()
# run NAME MODE [VAR=VALUE...]: one wrk run against user-svc, one table row.
run() {
  local name=$1 mode=$2 u0 m0 r0 u1 m1 r1 total rps p50 p99 errors user_cpu mongo_cpu redis_cpu per_cpu busiest
  shift 2
  log "wrk $name: ${DURATION}s, $CONNECTIONS connections"
  u0=$(ticks_of "$USER_PID") m0=$(ticks_of "$MONGO_PID") r0=$(ticks_of "$REDIS_PID")
  env BENCH_MODE="$mode" BENCH_THREADS="$THREADS" BENCH_TOKEN="$TOKEN" \
    BENCH_ACCOUNTS="$ACCOUNTS" BENCH_SESSIONS="$WORK/sessions" "$@" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$ROOT/bench/lib/user.lua" "$BASE" >"$WORK/wrk-$name.txt" 2>&1
  u1=$(ticks_of "$USER_PID") m1=$(ticks_of "$MONGO_PID") r1=$(ticks_of "$REDIS_PID")
  total=$(awk '/requests in/ {print $1}' "$WORK/wrk-$name.txt")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$name.txt")
  errors=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$name.txt")
  grep -q "no refresh token left\|refresh answered" "$WORK/wrk-$name.txt" &&
    die "$name: a refresh chain broke (see $WORK/wrk-$name.txt)"
  user_cpu=$(cpu_s $((u1 - u0))) mongo_cpu=$(cpu_s $((m1 - m0))) redis_cpu=$(cpu_s $((r1 - r0)))
  per_cpu=$(awk -v n="$total" -v c="$user_cpu" 'BEGIN {if (c > 0) printf "%.0f", n / c; else print "inf"}')
  busiest=$(printf '%s user-svc\n%s MongoDB-wire server\n%s Redis\n' "$user_cpu" "$mongo_cpu" "$redis_cpu" |
    sort -rn | head -n 1 | cut -d' ' -f2-)
  ROWS+=("| $name | $rps | $p50 | $p99 | ${errors:-0} | $user_cpu | $per_cpu | $mongo_cpu | $redis_cpu | $busiest |")
  LAST_PER_CPU=$per_cpu
}

# Warm-up (connections, the denylist, MongoDB's working set): not counted.
env BENCH_MODE=get BENCH_TOKEN="$TOKEN" BENCH_PATH=/api/user/check-auth \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/lib/user.lua" "$BASE" >/dev/null
run check-auth get BENCH_PATH=/api/user/check-auth
run favourites get BENCH_PATH=/api/user/favorites
run refresh refresh
run login login
LOGIN_PER_CPU=$LAST_PER_CPU
LOGIN_SHARE=$(awk -v a="$LOGIN_PER_CPU" -v b="$ARGON2_PER_CORE" 'BEGIN {printf "%.0f", 100 * a / b}')

# The flood: catalogue reads alone, then beside a login flood.
start_song_svc SONG_PID "$SONG_PORT" "$WORK/song-svc.log" "$PG_URL" "$NS"
SONG_BASE="http://127.0.0.1:$SONG_PORT"
reads() { # NAME: 8 connections, 5 ms apart each, on random albums
  BENCH_PREFIX=/api/song/album/ BENCH_IDS="$WORK/album-ids" BENCH_DELAY_MS=5 \
    wrk -t1 -c8 -d"${DURATION}s" --latency -s "$ROOT/bench/lib/paths.lua" "$SONG_BASE" >"$WORK/wrk-$1.txt"
}
BENCH_PREFIX=/api/song/album/ BENCH_IDS="$WORK/album-ids" \
  wrk -t1 -c8 -d3s -s "$ROOT/bench/lib/paths.lua" "$SONG_BASE" >/dev/null
log "catalogue reads alone, ${DURATION}s"
reads reads-alone
log "catalogue reads beside a login flood, ${DURATION}s"
env BENCH_MODE=login BENCH_THREADS="$THREADS" BENCH_ACCOUNTS="$ACCOUNTS" \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((DURATION + 2))s" -s "$ROOT/bench/lib/user.lua" "$BASE" \
  >"$WORK/wrk-flood-logins.txt" 2>&1 &
FLOOD=$!
sleep 1
reads reads-flood
wait "$FLOOD" || true
FLOOD_RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-flood-logins.txt")
flood_row() { # NAME LABEL
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk-$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$1.txt")
  errors=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$1.txt")
  echo "| $2 | $rps | $p50 | $p99 | ${errors:-0} |"
}

{
  echo "# user-svc benchmark, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), shared with wrk," \
    "the MongoDB-wire server and Redis ($THREADS wrk threads, $CONNECTIONS connections, ${DURATION}s per run," \
    "$USERS accounts, every request from its own X-Forwarded-For address)."
  echo
  echo "| run | req/s | p50 | p99 | non-2xx | user-svc CPU s | req per user-svc CPU-s | MongoDB-wire CPU s | Redis CPU s | busiest |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "argon2id (m = 19 MiB, t = 2, p = 1), one verification alone: ${ARGON2_US} µs, i.e. ${ARGON2_PER_CORE}" \
    "per core-second. Logins per user-svc CPU-second: $LOGIN_PER_CPU ($LOGIN_SHARE% of the hash alone)."
  echo
  echo "Login flood ($FLOOD_RPS logins/s over $CONNECTIONS connections) beside song-svc reads" \
    "(\`/api/song/album/{id}\`, 8 connections, 5 ms between requests; target p99 < 10 ms):"
  echo
  echo "| reads | req/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  flood_row reads-alone "alone"
  flood_row reads-flood "during the login flood"
} >"$REPORT"
echo
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/} (raw wrk output in ${WORK#"$ROOT"/}/)"
