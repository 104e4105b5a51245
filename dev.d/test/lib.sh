# shellcheck shell=bash
# The shared preamble of the test hooks that install their own tools into
# .dev/ops (60-deploy.sh, 62-infra.sh, 65-alerts.sh). Set TAG (the prefix of
# every line: deploy, infra, alerts) first, then
#
#   TAG=deploy
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sources dev.d/lib.sh (its warn/die, wait_for, ... stay available), changes
# to the repository root of the sourcing script and sets:
#   ROOT, OPS (.dev/ops), STAMPS (.dev/ops/stamps, created), T0 (start, epoch s)
#   log MSG / fail MSG          "[TAG] MSG" on stdout / "[TAG] FAIL: MSG" on
#                               stderr, then exit 1 (replaces dev.d/lib.sh's log)
#   ok MSG                      "[TAG]   ok  MSG", counted in PASSED
#   stamped NAME KEY            NAME was installed with KEY (.dev/ops/stamps/NAME)
#   stamp NAME KEY              record it
: "${TAG:?set TAG before sourcing dev.d/test/lib.sh}"

# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
ROOT=$(pwd)
OPS="$ROOT/.dev/ops"
STAMPS="$OPS/stamps"
mkdir -p "$STAMPS"

# shellcheck disable=SC2034 # read by the hooks
T0=$(date +%s)
log()  { printf '\033[1;34m[%s]\033[0m %s\n' "$TAG" "$*"; }
fail() { printf '\033[1;31m[%s] FAIL:\033[0m %s\n' "$TAG" "$*" >&2; exit 1; }
PASSED=0
ok() { PASSED=$((PASSED + 1)); printf '[%s]   ok  %s\n' "$TAG" "$*"; }
# stamped NAME KEY: true when NAME was installed with the same KEY before
stamped() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp()   { printf '%s' "$2" > "$STAMPS/$1"; }
