#!/usr/bin/env bash
# The media pipeline end to end on the dev stack (issue 20): every song
# admin-svc holds (the demo catalogue, the e2e uploads) went through its
# outbox, the media queue and the media worker. Within 120 s the outbox is
# empty, the dead-letter queue holds nothing, and every song has a `ready`
# reading of its current audio (none rejected: the demo and e2e files are
# real audio, and a rejection would have deleted one).
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
q() { psql "$DB" -tAc "$1"; }
SUMMARY="SELECT (SELECT count(*) FROM media_jobs) || ' ' ||
  (SELECT count(*) FROM songs s WHERE NOT EXISTS
    (SELECT 1 FROM song_media m WHERE m.song_id = s.id AND m.audio_key = s.audio_key)) || ' ' ||
  (SELECT count(*) FROM song_media WHERE status = 'ready') || ' ' ||
  (SELECT count(*) FROM song_media WHERE status = 'rejected')"
deadline=$((SECONDS + 120))
while :; do
  read -r pending unread ready rejected <<<"$(q "$SUMMARY")"
  ((pending == 0 && unread == 0)) && break
  if ((SECONDS > deadline)); then
    log_tail media-worker
    printf 'media: 0 passed, 1 failed (after 120 s: %s jobs not sent, %s songs not read)\n' "$pending" "$unread"
    exit 1
  fi
  sleep 1
done
if ((rejected > 0)); then
  q "SELECT song_id || ' ' || audio_key || ': ' || reason FROM song_media WHERE status = 'rejected'" >&2
  printf 'media: 0 passed, 1 failed (%s songs rejected)\n' "$rejected"
  exit 1
fi
dlq=$("$CADENZA_VENV/bin/python" - <<'PY'
import os, boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["CADENZA_AWS_ENDPOINT"], region_name="us-east-1")
url = sqs.get_queue_url(QueueName="cadenza-media-dlq")["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
print(a["Attributes"]["ApproximateNumberOfMessages"])
PY
)
if ((dlq > 0)); then
  printf 'media: 0 passed, 1 failed (%s jobs dead-lettered)\n' "$dlq"
  exit 1
fi
((ready > 0)) || { printf 'media: 0 passed, 1 failed (no song was read)\n'; exit 1; }
log "media: $ready songs read by the worker (outbox empty, nothing rejected or dead-lettered)"
printf 'media: 1 passed, 0 failed\n'
