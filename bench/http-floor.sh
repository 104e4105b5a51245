#!/usr/bin/env bash
# The per-request floor of the standard HTTP stack (issue 16). NOT part of
# the test suite; needs nothing but wrk (installed from Debian if missing).
#
#   bench/http-floor.sh
#
# Builds crates/platform/examples/http_floor.rs (release) and, for each
# prefix of cadenza_platform::http::LAYERS (no layer, then one more at a
# time up to the whole stack), serves a constant body and drives it with wrk
# at 64 connections. Reports requests/s and requests per CPU-second of the
# server, and what each layer adds in microseconds of CPU per request. The
# whole stack runs twice more: at RUST_LOG=info (production's default,
# the request span is built) and warn (it is not).
# Results: bench/results/http-floor-<UTC time>.md (git-ignored).
#
# Knobs: BENCH_DURATION (s per run, default 10), BENCH_CONNECTIONS (64),
# BENCH_THREADS (2), BENCH_PORT (17071).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=dev.d/lib.sh
source "$ROOT/dev.d/lib.sh"
# shellcheck source=bench/lib/proc.sh
source "$ROOT/bench/lib/proc.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-17071}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results"
WORK="$OUT/http-floor-$STAMP"
REPORT="$OUT/http-floor-$STAMP.md"
mkdir -p "$WORK"

ensure_apt wrk
command -v wrk >/dev/null || die "wrk is not installed"
port_in_use "$PORT" && die "port $PORT is taken; set BENCH_PORT"

log "cargo build --release -p cadenza-platform --example http_floor"
cargo build -q --release -p cadenza-platform --example http_floor || die "http_floor does not build"
BIN="$CARGO_TARGET_DIR/release/examples/http_floor"
mapfile -t LAYERS < <(sed -n '/^pub const LAYERS/,/^];/p' crates/platform/src/http.rs | grep -o '"[a-z-]*"' | tr -d '"')
((${#LAYERS[@]} > 0)) || die "could not read LAYERS from crates/platform/src/http.rs"

SVC_PID=''
stop() {
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -TERM "$SVC_PID" 2>/dev/null || true
    wait "$SVC_PID" 2>/dev/null || true
  fi
  SVC_PID=''
}
trap stop EXIT
TCK=$(getconf CLK_TCK)

# run NAME LAYERS RUST_LOG: prints "req/s|per-CPU-s|p99"
run() {
  local name=$1 n=$2 level=$3 before after total rps p99
  RUST_LOG=$level "$BIN" "$n" "$PORT" >"$WORK/$name.log" 2>&1 &
  SVC_PID=$!
  wait_http "http://127.0.0.1:$PORT/floor" 10 || {
    tail -5 "$WORK/$name.log" >&2
    die "http_floor $n did not start"
  }
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT/floor" >/dev/null
  before=$(cpu_ticks "$SVC_PID")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    "http://127.0.0.1:$PORT/floor" >"$WORK/wrk-$name.txt"
  after=$(cpu_ticks "$SVC_PID")
  stop
  total=$(awk '/requests in/ {print $1}' "$WORK/wrk-$name.txt")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$name.txt")
  grep -q Non-2xx "$WORK/wrk-$name.txt" && die "$name: non-2xx answers (see $WORK/wrk-$name.txt)"
  awk -v n="$total" -v t=$((after - before)) -v h="$TCK" -v r="$rps" -v p="$p99" \
    'BEGIN {c = t / h; printf "%s|%.0f|%s\n", r, (c > 0 ? n / c : 0), p}'
}

ROWS=()
prev=''
for ((n = 0; n <= ${#LAYERS[@]}; n++)); do
  if ((n == 0)); then name="none"; else name="+${LAYERS[n - 1]}"; fi
  log "layers 0..$n ($name), RUST_LOG=warn, ${DURATION}s"
  IFS='|' read -r rps per p99 <<<"$(run "layers-$n" "$n" warn)"
  added='-'
  if [[ -n "$prev" ]]; then
    added=$(awk -v a="$per" -v b="$prev" 'BEGIN {printf "%+.1f", 1e6 / a - 1e6 / b}')
  fi
  us=$(awk -v a="$per" 'BEGIN {printf "%.1f", 1e6 / a}')
  ROWS+=("| $n | \`$name\` | $rps | $per | $us | $added | $p99 |")
  prev=$per
done
log "whole stack, RUST_LOG=info, ${DURATION}s"
IFS='|' read -r rps per p99 <<<"$(run "all-info" "${#LAYERS[@]}" info)"
us=$(awk -v a="$per" 'BEGIN {printf "%.1f", 1e6 / a}')
ROWS+=("| ${#LAYERS[@]} | whole stack, \`RUST_LOG=info\` | $rps | $per | $us | | $p99 |")

{
  echo "# HTTP floor, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), shared with wrk" \
    "($THREADS threads, $CONNECTIONS connections, ${DURATION}s per run). A constant body at \`/floor\`;" \
    "each row adds one layer of \`cadenza_platform::http::LAYERS\` (innermost first). CPU is the server's own."
  echo
  echo "| layers | added | req/s | req per CPU-s | µs CPU per request | added µs | p99 |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
} >"$REPORT"
echo
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/} (raw wrk output in ${WORK#"$ROOT"/}/)"
