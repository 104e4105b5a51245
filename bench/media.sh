#!/usr/bin/env bash
# The media worker's analysis throughput (issue 20). NOT part of the test
# suite.
#
#   bench/media.sh        # needs ffmpeg (./dev test installs it)
#
# Makes stereo 44.1 kHz files with ffmpeg (MP3 192 kbit/s of 30 s, 3 min and
# 10 min; FLAC and AAC/M4A of 3 min), then times `cadenza_media::analyse`
# (release build, one core, in memory: the decode, tags, EBU R128 with true
# peak and the waveform, i.e. all the worker does besides S3 and PostgreSQL)
# BENCH_RUNS times each (default 5). Results: bench/results/media-<UTC>.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=dev.d/lib.sh
source "$ROOT/dev.d/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"
command -v ffmpeg >/dev/null || ensure_apt ffmpeg

RUNS=${BENCH_RUNS:-5}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
REPORT="$OUT/media-$STAMP.md"

log "cargo build --release -p cadenza-media --example analyse"
cargo build -q --release -p cadenza-media --example analyse || die "the example does not build"
BIN="$CARGO_TARGET_DIR/release/examples/analyse"

make() { # NAME SECONDS ENCODER-ARGS...
  local name=$1 secs=$2
  shift 2
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:duration=$secs" \
    -f lavfi -i "anoisesrc=duration=$secs:amplitude=0.05" \
    -filter_complex "[0][1]amix=inputs=2,volume=4" -ar 44100 -ac 2 "$@" "$WORK/$name"
}
log "making the files"
make mp3-30s.mp3 30 -c:a libmp3lame -b:a 192k
make mp3-3min.mp3 180 -c:a libmp3lame -b:a 192k
make mp3-10min.mp3 600 -c:a libmp3lame -b:a 192k
make flac-3min.flac 180 -c:a flac
make aac-3min.m4a 180 -c:a aac -b:a 192k

{
  echo "# Media analysis throughput, $STAMP"
  echo
  echo "$(nproc) CPUs; one analysis at a time on one core (release build); best and median of $RUNS runs."
  echo
  echo "| file | size | audio | best s | median s | x real time | files/min per core (median) |"
  echo "|---|---|---|---|---|---|---|"
  for f in mp3-30s.mp3 mp3-3min.mp3 mp3-10min.mp3 flac-3min.flac aac-3min.m4a; do
    for _ in $(seq "$RUNS"); do "$BIN" "$WORK/$f"; done | sort -t$'\t' -k2,2g |
      awk -F'\t' -v f="$f" '{ t[NR] = $2; d = $3; b = $4 }
        END {
          med = t[int((NR + 1) / 2)];
          printf "| %s | %.1f MB | %.0f s | %.3f | %.3f | %.0fx | %.0f |\n", f, b / 1e6, d, t[1], med, d / med, 60 / med
        }'
  done
} >"$REPORT"
cat "$REPORT"
log "report: ${REPORT#"$ROOT"/}"
