# shellcheck shell=bash
# ensure_fuzz_venv: .dev/fuzz-venv with exactly dev.d/fuzz/requirements.txt
# (schemathesis, aiohttp). Idempotent: the stamp file holds the requirements
# it was built from; a changed file reinstalls. Sourced after dev.d/lib.sh by
# dev.d/test/75-schemathesis.sh and bench/soak.sh. Sets FUZZ_VENV.

# Both callers have loaded it already (then this returns at once); it provides
# log, warn, ensure_apt, _now_ms and CADENZA_DEV.
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

FUZZ_VENV="$CADENZA_DEV/fuzz-venv"
FUZZ_REQUIREMENTS="$CADENZA_ROOT/dev.d/fuzz/requirements.txt"

ensure_fuzz_venv() {
  local stamp="$FUZZ_VENV/.cadenza-requirements" py t0
  if [[ -x "$FUZZ_VENV/bin/python" && -f "$stamp" ]] && cmp -s "$stamp" "$FUZZ_REQUIREMENTS" &&
    "$FUZZ_VENV/bin/python" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  t0=$(_now_ms)
  if [[ -x "$FUZZ_VENV/bin/python" ]] && ! "$FUZZ_VENV/bin/python" -c 'import sys' 2>/dev/null; then
    warn "$FUZZ_VENV is broken (its base python is gone); recreating it"
    rm -rf "$FUZZ_VENV"
  fi
  if [[ ! -x "$FUZZ_VENV/bin/python" ]]; then
    py=python3
    command -v python3 >/dev/null && python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
      { ensure_apt python3 python3-venv; py=/usr/bin/python3; }
    log "creating $FUZZ_VENV"
    "$py" -m venv "$FUZZ_VENV"
  fi
  log "pip install -r dev.d/fuzz/requirements.txt (log .dev/log/fuzz-pip.log)"
  if ! "$FUZZ_VENV/bin/python" -m pip install --disable-pip-version-check \
    -r "$FUZZ_REQUIREMENTS" >>"$CADENZA_LOG/fuzz-pip.log" 2>&1; then
    log_tail "$CADENZA_LOG/fuzz-pip.log"
    die "pip install into $FUZZ_VENV failed"
  fi
  cp "$FUZZ_REQUIREMENTS" "$stamp"
  log "fuzz venv ready in $((($(_now_ms) - t0) / 1000))s"
}
