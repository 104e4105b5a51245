# shellcheck shell=bash
# The benchmarks' catalogue and a release song-svc serving it. Sourced, not
# run; needs dev.d/lib.sh, .dev/env (CADENZA_PG_ADMIN_URL, CADENZA_REDIS_URL)
# and CARGO_TARGET_DIR.

BENCH_FIXTURES="$CADENZA_ROOT/crates/testkit/fixtures"

# load_catalog DB WORKDIR: creates database DB with the catalogue schema and
# 200 albums x 12 songs (2400), writes WORKDIR/album-ids and
# WORKDIR/song-ids, and prints the database's URL.
load_catalog() {
  local db=$1 work=$2 url f
  log "loading 200 albums x 12 songs into $db"
  psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$db\"" >/dev/null
  url="${CADENZA_PG_ADMIN_URL%/*}/$db"
  for f in "$CADENZA_ROOT"/crates/catalog/migrations/*.sql; do
    psql "$url" -v ON_ERROR_STOP=1 -q -f "$f" >/dev/null
  done
  psql "$url" -v ON_ERROR_STOP=1 -q <<'SQL' >/dev/null
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
  psql "$url" -tAc "SELECT id FROM albums" >"$work/album-ids"
  psql "$url" -tAc "SELECT id FROM songs" >"$work/song-ids"
  log "$(wc -l <"$work/album-ids") albums, $(wc -l <"$work/song-ids") songs"
  echo "$url"
}

# drop_catalog DB NAMESPACE: the database and the Redis keys of NAMESPACE.
drop_catalog() {
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1 || true
  drop_namespace "$2"
}

# drop_namespace NAMESPACE: every Redis key under NAMESPACE:.
drop_namespace() {
  redis-cli -u "$CADENZA_REDIS_URL" --scan --pattern "$1:*" 2>/dev/null |
    xargs -r redis-cli -u "$CADENZA_REDIS_URL" unlink >/dev/null 2>&1 || true
}

# start_song_svc PIDVAR PORT LOGFILE DATABASE_URL NAMESPACE [VAR=VALUE...]:
# song-svc (release) on 127.0.0.1:PORT, ready, its pid in PIDVAR. The test
# keys sign and verify (ECDSA P-256 CloudFront key, the default for new key
# pairs); RUST_LOG=warn unless given.
start_song_svc() {
  local pidvar=$1 port=$2 logfile=$3 dburl=$4 ns=$5
  shift 5
  log "starting song-svc (release) on :$port ${*:-}"
  env -i PATH="$PATH" HOME="$HOME" \
    PORT="$port" BIND_ADDR=127.0.0.1 PUBLIC_BASE_URL=http://127.0.0.1:8080 \
    JWT_PUBLIC_KEYS_FILE="$BENCH_FIXTURES/jwt-test.pub.pem" \
    JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api ALLOW_TEST_KEYS=true \
    DATABASE_URL="$dburl" REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$ns" \
    CLOUDFRONT_DOMAIN=https://d111111abcdef8.cloudfront.net \
    CLOUDFRONT_KEY_PAIR_ID=K2JCJMDEHXQW5F \
    CLOUDFRONT_PRIVATE_KEY_FILE="$BENCH_FIXTURES/cloudfront-ec-test.key.pem" \
    RUST_LOG=warn LOG_FORMAT=json "$@" \
    "$CARGO_TARGET_DIR/release/song-svc" >"$logfile" 2>&1 &
  printf -v "$pidvar" '%s' "$!"
  wait_http "http://127.0.0.1:$port/readyz" 30 || {
    tail -20 "$logfile" >&2
    die "song-svc did not start"
  }
  sleep 2 # subscription live + resync flush
}

# stop_pid PID: SIGTERM, then wait for it (no-op for an empty or dead pid).
stop_pid() {
  if [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
