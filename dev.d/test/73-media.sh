#!/usr/bin/env bash
# The media pipeline end to end on the dev stack (issue 20): every song
# admin-svc holds (the demo catalogue, the e2e uploads) went through its
# outbox, the media queue and the media worker. Within 180 s the outbox is
# empty and every song has a reading of its current audio; the demo
# catalogue's and the e2e run's songs (real audio) are all `ready`. Other
# songs a developer added by hand may be rejected: they are listed, not
# failed on; so are dead-lettered jobs, which moto keeps across runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=dev.d/lib.sh
source dev.d/lib.sh
: "${CADENZA_PG_ADMIN_URL:?run through ./dev test}" "${CADENZA_VENV:?}" "${CADENZA_AWS_ENDPOINT:?}"

if ! is_running media-worker; then
  printf 'media: 0 passed, 1 failed (media-worker is not running: ./dev up starts it)\n'
  exit 1
fi
DB="${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}"
# The demo catalogue's artists, as an SQL list (from dev.d/demo/catalogue.py).
OURS=$(PYTHONPATH=dev.d/demo "$CADENZA_VENV/bin/python" dev.d/test/media/demo_artists_sql.py)
q() { psql "$DB" -tAc "$1"; }
SUMMARY="SELECT (SELECT count(*) FROM media_jobs) || ' ' ||
  (SELECT count(*) FROM songs s WHERE NOT EXISTS
    (SELECT 1 FROM song_media m WHERE m.song_id = s.id AND m.audio_key = s.audio_key)) || ' ' ||
  (SELECT count(*) FROM song_media m JOIN songs s ON s.id = m.song_id AND s.audio_key = m.audio_key
    WHERE m.status = 'ready') || ' ' ||
  (SELECT count(*) FROM song_media m JOIN songs s ON s.id = m.song_id AND s.audio_key = m.audio_key
    JOIN albums a ON a.id = s.album_id
    WHERE m.status = 'rejected' AND (a.artist IN ($OURS) OR s.title LIKE '%Test Tone%'))"
deadline=$((SECONDS + 180))
while :; do
  read -r pending unread ready rejected <<<"$(q "$SUMMARY")"
  ((pending == 0 && unread == 0)) && break
  if ((SECONDS > deadline)); then
    log_tail media-worker
    printf 'media: 0 passed, 1 failed (after 180 s: %s jobs not sent, %s songs not read)\n' "$pending" "$unread"
    exit 1
  fi
  sleep 1
done
others=$(q "SELECT m.song_id || ' ' || m.audio_key || ': ' || m.reason FROM song_media m
  JOIN songs s ON s.id = m.song_id AND s.audio_key = m.audio_key WHERE m.status = 'rejected'")
[[ -z "$others" ]] || warn "media: rejected songs on this stack: $others"
if ((rejected > 0)); then
  printf 'media: 0 passed, 1 failed (%s demo or e2e songs rejected)\n' "$rejected"
  exit 1
fi
dlq=$("$CADENZA_VENV/bin/python" dev.d/test/media/dlq_depth.py)
((dlq == 0)) || warn "media: $dlq jobs in cadenza-media-dlq (kept by moto across runs)"
((ready > 0)) || { printf 'media: 0 passed, 1 failed (no song was read)\n'; exit 1; }
log "media: $ready songs read by the worker (outbox empty, every song read, no demo or e2e song rejected)"
printf 'media: 1 passed, 0 failed\n'
