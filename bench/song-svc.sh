#!/usr/bin/env bash
# song-svc throughput benchmark (issue 4). NOT part of the test suite.
#
#   bench/song-svc.sh            # needs ./dev infra up (PostgreSQL, Redis)
#
# Loads 200 albums x 12 songs into a fresh database, starts song-svc (release
# build) on a private port and Redis namespace, and drives it with wrk at 64
# connections, one endpoint at a time. Reports requests/s, p50/p99 latency,
# requests per CPU-second of the service process, and its RSS idle and under
# load. Results: bench/results/song-svc-<UTC time>.md (git-ignored).
#
# Knobs (environment): BENCH_DURATION (s per endpoint, default 15),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_PORT (17070).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=dev.d/lib.sh
source "$ROOT/dev.d/lib.sh"
# shellcheck source=bench/lib/proc.sh
source "$ROOT/bench/lib/proc.sh"
[[ -f "$CADENZA_DEV/env" ]] || die "no .dev/env: run ./dev infra up first"
# shellcheck disable=SC1091
source "$CADENZA_DEV/env"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"

DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-17070}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DB="cadenza_bench_${STAMP,,}"
NS="bench-$STAMP"
OUT="$ROOT/bench/results"
WORK="$OUT/song-svc-$STAMP"
REPORT="$OUT/song-svc-$STAMP.md"
JWT_KID=SKJ7OGte9Lt_Fz3Oxay4-2ZDXb1qeVsS8qn5jNCiKjg
PY="${CADENZA_VENV:-$CADENZA_DEV/venv}/bin/python"
mkdir -p "$WORK"

ensure_apt wrk
command -v wrk >/dev/null || die "wrk is not installed"
[[ -x "$PY" ]] || die "no python at $PY (./dev infra up creates the venv)"
port_in_use "$PORT" && die "port $PORT is taken; set BENCH_PORT"

log "cargo build --release -p song-svc"
cargo build -q --release -p song-svc || die "song-svc does not build"

# shellcheck source=bench/lib/catalog.sh
source "$ROOT/bench/lib/catalog.sh"
SVC_PID=''
stop_svc() {
  stop_pid "$SVC_PID"
  SVC_PID=''
}
cleanup() {
  stop_svc
  drop_catalog "$DB" "$NS"
}
trap cleanup EXIT

DATABASE_URL=$(load_catalog "$DB" "$WORK")

TOKEN=$("$PY" "$ROOT/bench/lib/mint_token.py" "$ROOT/crates/testkit/fixtures/jwt-test.key.pem" "$JWT_KID" 3600)

BASE="http://127.0.0.1:$PORT"
TCK=$(getconf CLK_TCK)

# start_svc LOGNAME [VAR=VALUE...]: song-svc (release) on $PORT, ready.
start_svc() {
  local name=$1
  shift
  start_song_svc SVC_PID "$PORT" "$WORK/$name.log" "$DATABASE_URL" "$NS" "$@"
}

# warm ENDPOINT...: check each answers 200, then 3 s of wrk on it.
warm() {
  local e name prefix ids path code
  for e in "$@"; do
    IFS='|' read -r name prefix ids _ <<<"$e"
    path=$prefix
    [[ -n "$ids" ]] && path="$prefix$(head -n 1 "$ids")"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$path")
    [[ "$code" == 200 ]] || die "$name: GET $path answered $code"
    BENCH_PREFIX=$prefix BENCH_IDS=$ids BENCH_TOKEN=$TOKEN \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/lib/paths.lua" "$BASE" >/dev/null
  done
}

ROWS=()
# measure ENDPOINT...: one wrk run each, a table row each.
measure() {
  local e name prefix ids seed times before after rss total rps p50 p99 errors cpu_s per_cpu target verdict label
  for e in "$@"; do
    IFS='|' read -r name prefix ids seed times <<<"$e"
    log "wrk $name: ${DURATION}s, $CONNECTIONS connections"
    before=$(cpu_ticks "$SVC_PID")
    BENCH_PREFIX=$prefix BENCH_IDS=$ids BENCH_TOKEN=$TOKEN \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
      -s "$ROOT/bench/lib/paths.lua" "$BASE" >"$WORK/wrk-$name.txt"
    after=$(cpu_ticks "$SVC_PID")
    rss=$(rss_kb "$SVC_PID")
    total=$(awk '/requests in/ {print $1}' "$WORK/wrk-$name.txt")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk-$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$name.txt")
    errors=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$name.txt")
    cpu_s=$(awk -v t=$((after - before)) -v h="$TCK" 'BEGIN {printf "%.2f", t / h}')
    per_cpu=$(awk -v n="$total" -v c="$cpu_s" 'BEGIN {if (c > 0) printf "%.0f", n / c; else print "inf"}')
    if ((seed > 0)); then
      target=$((seed * times))
      verdict=$(awk -v a="$per_cpu" -v b="$target" 'BEGIN {print (a >= b) ? "yes" : "no"}')
      target="$target (${times}x)"
    else
      target='-' verdict='(floor)'
    fi
    label=$prefix
    [[ -n "$ids" ]] && label="${prefix}{id}"
    [[ "$name" == stream-nomemo ]] && label="$label, empty memo"
    ROWS+=("| \`$label\` | $rps | $p50 | $p99 | ${errors:-0} | $cpu_s | $per_cpu | $target | $verdict | $((rss / 1024)) |")
  done
}

# name  prefix  ids-file  seed-req/s  target (times the seed)
ENDPOINTS=(
  "albums|/api/song/album||2562|10"
  "album|/api/song/album/|$WORK/album-ids|8935|10"
  "songs|/api/song/||105|10"
  "stream|/api/song/stream/|$WORK/song-ids|754|10"
  # The shared HTTP stack's floor: a probe that does no work at all.
  "healthz|/healthz||0|0"
)
start_svc song-svc
IDLE_RSS=$(rss_kb "$SVC_PID")
log "idle RSS: ${IDLE_RSS} kB"
warm "${ENDPOINTS[@]}"
measure "${ENDPOINTS[@]}"
PEAK=$(hwm_kb "$SVC_PID")
stop_svc

# Every stream request signs (issue 16: at least 20x the seed's /stream).
NOMEMO="stream-nomemo|/api/song/stream/|$WORK/song-ids|754|20"
start_svc song-svc-nomemo STREAM_URL_MEMO_MAX=0
warm "$NOMEMO"
measure "$NOMEMO"
stop_svc

{
  echo "# song-svc benchmark, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), shared with wrk" \
    "($THREADS threads, $CONNECTIONS connections, ${DURATION}s per endpoint, caches warm)." \
    "200 albums x 12 songs; random ids for \`/album/{id}\` and \`/stream/{id}\`; ECDSA P-256 CloudFront key."
  echo
  echo "| endpoint | req/s | p50 | p99 | non-2xx | service CPU s | req per CPU-s | target (x seed) | met | RSS after (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "RSS idle (after start, before load): $((IDLE_RSS / 1024)) MiB ($IDLE_RSS kB); peak under load (VmHWM): $((PEAK / 1024)) MiB ($PEAK kB). Target idle <= 15 MiB."
} >"$REPORT"
echo
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/} (raw wrk output in ${WORK#"$ROOT"/}/)"
