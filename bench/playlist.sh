#!/usr/bin/env bash
# The song lookup behind a 500-song playlist page (issue 19). NOT part of
# the test suite.
#
#   bench/playlist.sh            # needs ./dev infra up (PostgreSQL, Redis)
#
# Loads 200 albums x 12 songs into a fresh database, starts song-svc
# (release) on a private port, and drives `POST /api/song/songs` with 500
# ids a request at 16 connections (wrk):
#   - kept:  requests cycle through 8 playlists;
#   - fresh: a new random playlist every request (after the warm-up both are
#     answered from the per-song memo; see bench/README.md).
# Target: p99 under 50 ms. Results: bench/results/playlist-<UTC time>.md.
#
# Knobs: BENCH_DURATION (s per run, default 15), BENCH_CONNECTIONS (16),
# BENCH_THREADS (2), BENCH_PORT (17071).
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
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-17071}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DB="cadenza_bench_${STAMP,,}"
NS="bench-$STAMP"
OUT="$ROOT/bench/results"
WORK="$OUT/playlist-$STAMP"
REPORT="$OUT/playlist-$STAMP.md"
mkdir -p "$WORK"

ensure_apt wrk
command -v wrk >/dev/null || die "wrk is not installed"
port_in_use "$PORT" && die "port $PORT is taken; set BENCH_PORT"

log "cargo build --release -p song-svc"
cargo build -q --release -p song-svc || die "song-svc does not build"

# shellcheck source=bench/lib/catalog.sh
source "$ROOT/bench/lib/catalog.sh"
SVC_PID=''
cleanup() {
  stop_pid "$SVC_PID"
  drop_catalog "$DB" "$NS"
}
trap cleanup EXIT

DATABASE_URL=$(load_catalog "$DB" "$WORK")
start_song_svc SVC_PID "$PORT" "$WORK/song-svc.log" "$DATABASE_URL" "$NS"
BASE="http://127.0.0.1:$PORT"
TCK=$(getconf CLK_TCK)

ROWS=()
run() { # NAME LISTS
  local name=$1 lists=$2 before after total rps p50 p99 errors cpu_s verdict
  BENCH_IDS="$WORK/song-ids" BENCH_LISTS=$lists \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/lib/batch.lua" "$BASE" >/dev/null
  log "wrk $name: ${DURATION}s, $CONNECTIONS connections"
  before=$(cpu_ticks "$SVC_PID")
  BENCH_IDS="$WORK/song-ids" BENCH_LISTS=$lists \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$ROOT/bench/lib/batch.lua" "$BASE" >"$WORK/wrk-$name.txt"
  after=$(cpu_ticks "$SVC_PID")
  total=$(awk '/requests in/ {print $1}' "$WORK/wrk-$name.txt")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$name.txt")
  errors=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$name.txt")
  cpu_s=$(awk -v t=$((after - before)) -v h="$TCK" 'BEGIN {printf "%.2f", t / h}')
  verdict=$(awk -v p="$p99" 'BEGIN {
    v = p + 0; if (p ~ /us$/) v /= 1000; else if (p ~ /ms$/) v += 0; else if (p ~ /s$/) v *= 1000;
    print (v < 50) ? "yes" : "no" }')
  ROWS+=("| $name | $total | $rps | $p50 | $p99 | ${errors:-0} | $cpu_s | $verdict |")
}

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"ids\":[\"$(head -n 1 "$WORK/song-ids")\"]}" "$BASE/api/song/songs")
[[ "$code" == 200 ]] || die "POST /api/song/songs answered $code"
run kept 8
run fresh 0

{
  echo "# 500-song playlist lookup, $STAMP"
  echo
  echo "$(nproc) CPUs, shared with wrk ($THREADS threads, $CONNECTIONS connections, ${DURATION}s a run)." \
    "\`POST /api/song/songs\` with 500 ids out of 2 400 songs (200 albums x 12); ~150 kB answers."
  echo
  echo "| run | requests | req/s | p50 | p99 | non-2xx | song-svc CPU s | p99 < 50 ms |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} >"$REPORT"
echo
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/} (raw wrk output in ${WORK#"$ROOT"/}/)"
