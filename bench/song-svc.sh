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
FIXTURES="$ROOT/crates/testkit/fixtures"
JWT_KID=SKJ7OGte9Lt_Fz3Oxay4-2ZDXb1qeVsS8qn5jNCiKjg
PY="${CADENZA_VENV:-$CADENZA_DEV/venv}/bin/python"
mkdir -p "$WORK"

ensure_apt wrk
command -v wrk >/dev/null || die "wrk is not installed"
[[ -x "$PY" ]] || die "no python at $PY (./dev infra up creates the venv)"
port_in_use "$PORT" && die "port $PORT is taken; set BENCH_PORT"

log "cargo build --release -p song-svc"
cargo build -q --release -p song-svc || die "song-svc does not build"
BIN="$CARGO_TARGET_DIR/release/song-svc"

SVC_PID=''
cleanup() {
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -TERM "$SVC_PID" 2>/dev/null || true
    wait "$SVC_PID" 2>/dev/null || true
  fi
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB\"" >/dev/null 2>&1 || true
  redis-cli -u "$CADENZA_REDIS_URL" --scan --pattern "$NS:*" 2>/dev/null |
    xargs -r redis-cli -u "$CADENZA_REDIS_URL" unlink >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "loading 200 albums x 12 songs into $DB"
psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$DB\"" >/dev/null
DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/$DB"
for f in "$ROOT"/crates/catalog/migrations/*.sql; do
  psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -f "$f" >/dev/null
done
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q <<'SQL' >/dev/null
INSERT INTO albums (name, artist, thumbnail_key, created_at)
SELECT 'Album ' || g, 'Artist ' || (g % 50),
       'thumbnails/' || gen_random_uuid() || '.jpg',
       now() - make_interval(mins => g)
FROM generate_series(1, 200) g;
INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes,
                   duration_seconds, track_number, created_at)
SELECT a.id, 'Song ' || t || ' of ' || a.name, a.artist,
       'songs/' || gen_random_uuid() || '.mp3', 'audio/mpeg', 5000000,
       120 + (t * 17) % 240 + 0.5, t, a.created_at + make_interval(secs => t)
FROM albums a CROSS JOIN generate_series(1, 12) t;
ANALYZE;
SQL
psql "$DATABASE_URL" -tAc "SELECT id FROM albums" >"$WORK/album-ids"
psql "$DATABASE_URL" -tAc "SELECT id FROM songs" >"$WORK/song-ids"
log "$(wc -l <"$WORK/album-ids") albums, $(wc -l <"$WORK/song-ids") songs"

TOKEN=$("$PY" "$ROOT/bench/lib/mint_token.py" "$FIXTURES/jwt-test.key.pem" "$JWT_KID" 3600)

log "starting song-svc (release) on :$PORT"
env -i PATH="$PATH" HOME="$HOME" \
  PORT="$PORT" PUBLIC_BASE_URL=http://127.0.0.1:8080 \
  JWT_PUBLIC_KEYS_FILE="$FIXTURES/jwt-test.pub.pem" \
  JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api \
  DATABASE_URL="$DATABASE_URL" REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$NS" \
  CLOUDFRONT_DOMAIN=https://d111111abcdef8.cloudfront.net \
  CLOUDFRONT_KEY_PAIR_ID=K2JCJMDEHXQW5F \
  CLOUDFRONT_PRIVATE_KEY_FILE="$FIXTURES/cloudfront-test.key.pem" \
  RUST_LOG=warn LOG_FORMAT=json \
  "$BIN" >"$WORK/song-svc.log" 2>&1 &
SVC_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/readyz" 30 || {
  tail -20 "$WORK/song-svc.log" >&2
  die "song-svc did not start"
}
sleep 2 # subscription live + resync flush

TCK=$(getconf CLK_TCK)
IDLE_RSS=$(rss_kb "$SVC_PID")
log "idle RSS: ${IDLE_RSS} kB"

# name  prefix  ids-file  seed-req/s
ENDPOINTS=(
  "albums|/api/song/album||2562"
  "album|/api/song/album/|$WORK/album-ids|8935"
  "songs|/api/song/||105"
  "stream|/api/song/stream/|$WORK/song-ids|754"
  # The shared HTTP stack's floor: a probe that does no work at all.
  "healthz|/healthz||0"
)

# Warm the caches (and check every endpoint answers 200) before measuring.
for e in "${ENDPOINTS[@]}"; do
  IFS='|' read -r name prefix ids _ <<<"$e"
  path=$prefix
  [[ -n "$ids" ]] && path="$prefix$(head -n 1 "$ids")"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$path")
  [[ "$code" == 200 ]] || die "$name: GET $path answered $code"
  BENCH_PREFIX=$prefix BENCH_IDS=$ids BENCH_TOKEN=$TOKEN \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/lib/paths.lua" "$BASE" >/dev/null
done

ROWS=()
for e in "${ENDPOINTS[@]}"; do
  IFS='|' read -r name prefix ids seed <<<"$e"
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
    target=$((seed * 10))
    verdict=$(awk -v a="$per_cpu" -v b="$target" 'BEGIN {print (a >= b) ? "yes" : "no"}')
  else
    target='-' verdict='(floor)'
  fi
  label=$prefix
  [[ -n "$ids" ]] && label="${prefix}{id}"
  ROWS+=("| \`$label\` | $rps | $p50 | $p99 | ${errors:-0} | $cpu_s | $per_cpu | $target | $verdict | $((rss / 1024)) |")
done
PEAK=$(hwm_kb "$SVC_PID")

{
  echo "# song-svc benchmark, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), shared with wrk" \
    "($THREADS threads, $CONNECTIONS connections, ${DURATION}s per endpoint, caches warm)." \
    "200 albums x 12 songs; random ids for \`/album/{id}\` and \`/stream/{id}\`."
  echo
  echo "| endpoint | req/s | p50 | p99 | non-2xx | service CPU s | req per CPU-s | target (10x seed) | met | RSS after (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "RSS idle (after start, before load): $((IDLE_RSS / 1024)) MiB ($IDLE_RSS kB); peak under load (VmHWM): $((PEAK / 1024)) MiB ($PEAK kB). Target idle <= 15 MiB."
} >"$REPORT"
echo
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/} (raw wrk output in ${WORK#"$ROOT"/}/)"
