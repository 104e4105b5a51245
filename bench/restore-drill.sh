#!/usr/bin/env bash
# Recovery time for a catalogue of N songs (default 10 000): fills a private
# PostgreSQL database, MongoDB database and bucket on the ./dev infra
# servers, backs them up with cadenza-backup, destroys all three, restores,
# checks the counts, and prints the timings. Not part of the test suite.
#
#   bench/restore-drill.sh                 # BENCH_SONGS=10000 BENCH_OBJECT_KB=64 BENCH_USERS=10000 BENCH_PROFILE=release
#
# Objects are BENCH_OBJECT_KB each (real songs are MBs): the media figures
# are reported per object and per MB so they can be scaled.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
SONGS=${BENCH_SONGS:-10000}
USERS=${BENCH_USERS:-10000}
OBJECT_KB=${BENCH_OBJECT_KB:-64}
ALBUMS=$(((SONGS + 19) / 20))
NAME="cadenza_bench_restore_$$"
BUCKET="cadenza-bench-restore-$$"
WORK=$(mktemp -d)

./dev infra up >/dev/null
set -a
# shellcheck disable=SC1091
source .dev/env
set +a
: "${CARGO_TARGET_DIR:=${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"
PROFILE=${BENCH_PROFILE:-release}
if [[ $PROFILE == release ]]; then
  cargo build -q --release -p cadenza-backup -p admin-svc
else
  cargo build -q -p cadenza-backup -p admin-svc
  PROFILE=debug
fi
BIN="$CARGO_TARGET_DIR/$PROFILE/cadenza-backup"
PY="$CADENZA_VENV/bin/python"

export DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/$NAME"
export MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB="$NAME"
export S3_BUCKET="$BUCKET" S3_FORCE_PATH_STYLE=true AWS_ENDPOINT_URL_S3="$CADENZA_S3_ENDPOINT"
export RUST_LOG=warn

cleanup() {
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  "$PY" - "$BUCKET" <<'PY' >/dev/null 2>&1 || true
import os, sys, boto3, pymongo
pymongo.MongoClient(os.environ["MONGODB_URI"]).drop_database(os.environ["MONGODB_DB"])
s3 = boto3.resource("s3", endpoint_url=os.environ["CADENZA_S3_ENDPOINT"])
b = s3.Bucket(sys.argv[1]); b.objects.all().delete(); b.delete()
PY
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

fresh_db() {
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$NAME\" WITH (FORCE)" >/dev/null
  psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$NAME\"" >/dev/null
}

echo "filling: $ALBUMS albums, $SONGS songs, $USERS accounts, $((SONGS + ALBUMS)) objects of ~${OBJECT_KB} KiB"
fresh_db
"$CARGO_TARGET_DIR/$PROFILE/admin-svc" migrate >/dev/null
psql "$DATABASE_URL" -q <<SQL
INSERT INTO albums (id, name, artist, thumbnail_key)
SELECT md5('a' || a)::uuid, 'Album ' || a, 'Artist ' || (a % 50), 'thumbnails/' || md5('a' || a)::uuid || '.jpg'
  FROM generate_series(1, $ALBUMS) a;
INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number)
SELECT md5('a' || (1 + (s - 1) / 20))::uuid, 'Song ' || s, 'Artist ' || (s % 50),
       'songs/' || md5('s' || s)::uuid || '.mp3', 'audio/mpeg', $OBJECT_KB * 1024, 180 + s % 120, 1 + (s - 1) % 20
  FROM generate_series(1, $SONGS) s;
SQL
"$PY" - "$BUCKET" "$SONGS" "$ALBUMS" "$USERS" "$OBJECT_KB" <<'PY'
import hashlib, os, sys, uuid, datetime, boto3, pymongo
from concurrent.futures import ThreadPoolExecutor
bucket, songs, albums, users, kb = sys.argv[1], *map(int, sys.argv[2:])
def uid(s): return str(uuid.UUID(hashlib.md5(s.encode()).hexdigest()))
s3 = boto3.client("s3", endpoint_url=os.environ["CADENZA_S3_ENDPOINT"])
s3.create_bucket(Bucket=bucket)
body = os.urandom(kb * 1024)
jobs = [(f"songs/{uid(f's{i}')}.mp3", "audio/mpeg") for i in range(1, songs + 1)]
jobs += [(f"thumbnails/{uid(f'a{i}')}.jpg", "image/jpeg") for i in range(1, albums + 1)]
with ThreadPoolExecutor(16) as ex:
    list(ex.map(lambda j: s3.put_object(Bucket=bucket, Key=j[0], ContentType=j[1], Body=body), jobs))
db = pymongo.MongoClient(os.environ["MONGODB_URI"])[os.environ["MONGODB_DB"]]
now = datetime.datetime.now(datetime.timezone.utc)
db.users.insert_many([{"_id": f"u{i}", "email": f"listener{i}@example.com", "passwordHash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + "x" * 43,
                       "role": "user", "verified": True, "tokenVersion": 0, "createdAt": now} for i in range(users)])
db.users.create_index("email", unique=True)
db.sessions.insert_many([{"_id": f"s{i}", "userId": f"u{i}", "tokenHash": hashlib.sha256(str(i).encode()).hexdigest(),
                          "createdAt": now, "expiresAt": now} for i in range(users)])
db.favorites.insert_many([{"userId": f"u{i % users}", "songId": uid(f"s{1 + i % songs}"), "addedAt": now} for i in range(users * 5)])
PY

t=$(now)
"$BIN" create --out "$WORK/backup" >"$WORK/create.json"
BACKUP_S=$(since "$t")
SIZE=$(du -sm "$WORK/backup" | cut -f1)

# The disaster: all three stores emptied.
fresh_db
"$PY" - "$BUCKET" <<'PY'
import os, sys, boto3, pymongo
pymongo.MongoClient(os.environ["MONGODB_URI"]).drop_database(os.environ["MONGODB_DB"])
boto3.resource("s3", endpoint_url=os.environ["CADENZA_S3_ENDPOINT"]).Bucket(sys.argv[1]).objects.all().delete()
PY

t=$(now)
"$BIN" restore --from "$WORK/backup" --yes >"$WORK/restore.json"
RESTORE_S=$(since "$t")

got=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM songs")
[[ "$got" == "$SONGS" ]] || { echo "restored $got songs, expected $SONGS" >&2; exit 1; }
"$PY" - "$BUCKET" "$((SONGS + ALBUMS))" "$USERS" <<'PY'
import os, sys, boto3, pymongo
bucket, objects, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = sum(1 for _ in boto3.resource("s3", endpoint_url=os.environ["CADENZA_S3_ENDPOINT"]).Bucket(bucket).objects.all())
assert n == objects, f"restored {n} objects, expected {objects}"
u = pymongo.MongoClient(os.environ["MONGODB_URI"])[os.environ["MONGODB_DB"]].users.count_documents({})
assert u == users, f"restored {u} accounts, expected {users}"
PY

echo "cadenza-backup: $PROFILE build"
printf '\n| data | backup | restore into empty stores | backup size |\n|---|---|---|---|\n'
printf '| %s songs, %s albums, %s accounts (+%s sessions, %s favourites), %s objects of %s KiB | %s s | %s s | %s MB |\n' \
  "$SONGS" "$ALBUMS" "$USERS" "$USERS" "$((USERS * 5))" "$((SONGS + ALBUMS))" "$OBJECT_KB" "$BACKUP_S" "$RESTORE_S" "$SIZE"
echo "create: $(cat "$WORK/create.json")"
echo "restore: $(cat "$WORK/restore.json")"
