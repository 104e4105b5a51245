# shellcheck shell=bash
# Cadenza dev helpers. Sourced by ./dev and by the hook scripts in
# dev.d/up/*.sh and dev.d/test/*.sh (the tool-installing test hooks through
# dev.d/test/lib.sh), and by the files they source (dev.d/demo/accounts.sh,
# dev.d/alerts/*.sh, dev.d/fuzz/venv.sh; a second load returns at once):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# The Rust services are no hook each: dev.d/up/30-services.sh starts the rows
# of dev.d/services.tsv with the settings of dev.d/services/NAME.sh.
#
# Hooks: every *executable* dev.d/up/*.sh (./dev up) and dev.d/test/*.sh
# (./dev test) runs in sorted (C locale) order, from the repository root, with
# .dev/env already sourced (CADENZA_*_URL/URI, AWS_*, CADENZA_VENV) and
# CARGO_TARGET_DIR exported. A non-zero exit stops the run. Up hooks must
# return: start long-running things with start_bg (pidfile in .dev/run, so
# `./dev down` stops them) and announce them with register_url.
#
# Layout (all runtime state lives in the git-ignored .dev/):
#   $CADENZA_DEV/log/NAME.log   logs
#   $CADENZA_DEV/run/NAME.pid   pidfiles (+ NAME.start: process start time,
#                               so a recycled pid is never mistaken for ours)
#   $CADENZA_DEV/run/urls       "NAME URL" lines printed by `./dev up`
#
# Functions:
#   log MSG... / warn MSG... / die MSG...
#   start_bg NAME LOGFILE CMD...      start CMD in the background (own session,
#                                     nohup), write the pidfile; no-op when
#                                     NAME is already running
#   wait_http URL TIMEOUT [CODES]     wait until URL answers with an HTTP
#                                     status matching the regex CODES
#                                     (default 2xx/3xx)
#   wait_tcp HOST PORT TIMEOUT        wait until a TCP connect succeeds
#   stop_pid NAME [SIGNAL] [GRACE] [group|pid]
#                                     stop the process of NAME's pidfile and
#                                     its process group (SIGNAL, default TERM;
#                                     KILL after GRACE seconds, default 20)
#   pid_of NAME / is_running NAME     pid of a live NAME process / test
#   record_pid NAME PID               write the pidfile for a process that
#                                     daemonised itself
#   log_tail NAME|FILE [LINES]        print the end of a log
#   ensure_apt PKG...                 apt-get install only the missing
#                                     packages (apt-get update once per run)
#   register_url NAME URL             listed by `./dev up` at the end
#   wait_for TIMEOUT CMD...           retry CMD every 0.2 s until it succeeds
#   http_code URL                     HTTP status of a GET (000: no answer)
#   port_in_use PORT / port_owner PORT  probe / describe 127.0.0.1:PORT
#   close_fds                         close fds > 2 (before exec'ing a daemon)

if [[ -n "${_CADENZA_LIB_LOADED:-}" ]]; then
  return 0
fi
_CADENZA_LIB_LOADED=1

CADENZA_ROOT="${CADENZA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CADENZA_DEV="${CADENZA_DEV:-$CADENZA_ROOT/.dev}"
CADENZA_RUN="$CADENZA_DEV/run"
CADENZA_LOG="$CADENZA_DEV/log"
export CADENZA_ROOT CADENZA_DEV CADENZA_RUN CADENZA_LOG

mkdir -p "$CADENZA_RUN" "$CADENZA_LOG"

if [[ -t 2 ]]; then
  _c_dim=$'\e[2m' _c_red=$'\e[31m' _c_yel=$'\e[33m' _c_off=$'\e[0m'
else
  _c_dim='' _c_red='' _c_yel='' _c_off=''
fi

log() { printf '%s[dev %s]%s %s\n' "$_c_dim" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2; }
warn() { printf '%s[dev %s] warning:%s %s\n' "$_c_yel" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2; }
die() {
  printf '%s[dev %s] error:%s %s\n' "$_c_red" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2
  exit 1
}

_pidfile() { printf '%s/%s.pid' "$CADENZA_RUN" "$1"; }

# Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat).
_proc_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the command name may contain spaces; cut after ") "
  # shellcheck disable=SC2086
  set -- $stat
  # after the cut, field 1 is the state (field 3 overall): start time is field 20
  [[ "$1" != Z ]] || return 1
  printf '%s' "${20}"
}

# _kill_target PID: "-PID" (the whole process group) when PID leads its own
# group, as everything start_bg launches does (setsid): a `cargo run` wrapper
# then takes its child down with it. Otherwise just PID.
_kill_target() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
    printf '%s' "$1"
    return 0
  }
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- "$1" $stat
  # $2 state, $3 ppid, $4 pgrp
  if [[ "$4" == "$1" ]]; then printf -- '-%s' "$1"; else printf '%s' "$1"; fi
}

# pid_of NAME: print the pid of NAME when its pidfile names a live process that
# is the very one we started (same start time), else fail.
pid_of() {
  local f pid start want
  f=$(_pidfile "$1")
  [[ -s "$f" ]] || return 1
  read -r pid <"$f" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  start=$(_proc_start "$pid") || return 1
  if [[ -s "$CADENZA_RUN/$1.start" ]]; then
    read -r want <"$CADENZA_RUN/$1.start" || true
    [[ "$start" == "$want" ]] || return 1
  fi
  printf '%s' "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

# record_pid NAME PID: remember a process that we started but that forked
# itself into the background (postgres, redis).
record_pid() {
  local start
  start=$(_proc_start "$2") || die "record_pid $1: no live process $2"
  printf '%s\n' "$2" >"$(_pidfile "$1")"
  printf '%s\n' "$start" >"$CADENZA_RUN/$1.start"
}

log_tail() {
  local f=$1 n=${2:-40}
  [[ -f "$f" ]] || f="$CADENZA_LOG/$1.log"
  if [[ -f "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
    printf -- '-----\n' >&2
  else
    printf -- '(no log at %s)\n' "$f" >&2
  fi
}

# close_fds: close every descriptor above 2 in the current (sub)shell, so that a
# daemon never holds the caller's pipes open (`./dev up | tee x` must end).
close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then
      { eval "exec $fd>&-"; } 2>/dev/null || true
    fi
  done
}

# start_bg NAME LOGFILE CMD...: run CMD detached (new session, stdin from
# /dev/null, stdout+stderr appended to LOGFILE) from the current directory.
# Writes $CADENZA_RUN/NAME.pid. Does nothing when NAME is already running.
start_bg() {
  local name=$1 logfile=$2 pid
  shift 2
  (($# > 0)) || die "start_bg $name: no command"
  if pid=$(pid_of "$name"); then
    log "$name already running (pid $pid)"
    return 0
  fi
  rm -f "$(_pidfile "$name")" "$CADENZA_RUN/$name.start"
  mkdir -p "$(dirname "$logfile")"
  printf '\n===== %s: starting %s: %s\n' "$(date -u +%FT%TZ)" "$name" "$*" >>"$logfile"
  # In a non-interactive shell a background job is not a process-group leader,
  # so setsid does not fork again: the subshell execs setsid, which execs
  # nohup, which execs CMD, and $! is the pid of CMD itself.
  (
    close_fds
    exec setsid nohup "$@" </dev/null >>"$logfile" 2>&1
  ) &
  pid=$!
  record_pid "$name" "$pid" 2>/dev/null || {
    log_tail "$logfile"
    die "$name exited immediately"
  }
  log "$name started (pid $pid, log ${logfile#"$CADENZA_ROOT"/})"
}

# stop_pid NAME [SIGNAL] [GRACE_SECONDS] [group|pid]: send SIGNAL (default
# TERM) to the process in NAME's pidfile (to its process group when it leads
# one, as start_bg's processes do, unless the 4th argument is "pid"), wait up
# to GRACE_SECONDS (default 20), then KILL.
# Only ever signals the pid we recorded, and only if it is still that process.
stop_pid() {
  local name=$1 sig=${2:-TERM} grace=${3:-20} scope=${4:-group} pid target i
  if ! pid=$(pid_of "$name"); then
    rm -f "$(_pidfile "$name")" "$CADENZA_RUN/$name.start"
    return 0
  fi
  target=$pid
  [[ "$scope" == pid ]] || target=$(_kill_target "$pid")
  log "stopping $name (pid $pid, SIG$sig)"
  kill "-$sig" -- "$target" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    is_running "$name" || break
    sleep 0.1
  done
  if is_running "$name"; then
    warn "$name did not stop within ${grace}s, sending KILL"
    kill -KILL -- "$target" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      is_running "$name" || break
      sleep 0.1
    done
  fi
  rm -f "$(_pidfile "$name")" "$CADENZA_RUN/$name.start"
}

_now_ms() { date +%s%3N; }

# wait_tcp HOST PORT TIMEOUT
wait_tcp() {
  local host=$1 port=$2 timeout=${3:-30} deadline
  deadline=$(($(_now_ms) + timeout * 1000))
  while :; do
    # shellcheck disable=SC2016 # expanded by the inner bash
    if timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null; then
      return 0
    fi
    (($(_now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# wait_for TIMEOUT CMD...: run CMD every 0.2 s until it succeeds or TIMEOUT
# seconds have passed.
wait_for() {
  local timeout=$1 deadline
  shift
  deadline=$(($(_now_ms) + timeout * 1000))
  until "$@"; do
    (($(_now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# port_in_use PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# port_owner PORT: a human description of who listens on PORT (best effort).
port_owner() {
  local out=''
  if command -v ss >/dev/null; then
    out=$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n 1 || true)
  fi
  printf '%s' "${out:-unknown process}"
}

# http_code URL: print the HTTP status of a GET (000 when nothing answers).
http_code() {
  curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true
}

# wait_http URL TIMEOUT [CODES]: CODES is an extended regex matched against
# the whole status, default '[23][0-9][0-9]'.
wait_http() {
  local url=$1 timeout=${2:-30} codes=${3:-'[23][0-9][0-9]'} deadline code
  deadline=$(($(_now_ms) + timeout * 1000))
  while :; do
    code=$(http_code "$url")
    if [[ "$code" =~ ^($codes)$ ]]; then
      return 0
    fi
    (($(_now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# ensure_apt PKG...: install the packages that are not installed yet.
ensure_apt() {
  local p missing=()
  for p in "$@"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]]; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  command -v apt-get >/dev/null || die "need ${missing[*]} but apt-get is not available"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "need root (or sudo) to install ${missing[*]}"
    sudo=(sudo)
  fi
  # apt-get update once per run: the flag is exported so hooks inherit it.
  if [[ -z "${CADENZA_APT_UPDATED:-}" ]]; then
    log "apt-get update"
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
    export CADENZA_APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

# register_url NAME URL: shown in the table printed by `./dev up`.
register_url() {
  local f="$CADENZA_RUN/urls" tmp
  tmp=$(mktemp "$CADENZA_RUN/urls.XXXXXX")
  if [[ -f "$f" ]]; then
    awk -v n="$1" '$1 != n' "$f" >"$tmp"
  fi
  printf '%s %s\n' "$1" "$2" >>"$tmp"
  mv -f "$tmp" "$f"
}

# otel_export NAME: a service started next exports its spans to the dev OTLP
# sink (dev.d/up/25-otlp-sink.sh) when it runs, as OTEL service NAME, in
# batches every 200 ms; without the sink, trace export stays off. It joins
# the traceparent its callers send (TRUST_TRACEPARENT=true).
otel_export() {
  # The dev gateway is the only way in: its callers' traceparent is joined
  # (dev.d/test/74-traces.sh sends one through it).
  export TRUST_TRACEPARENT=true
  if is_running otlp-sink; then
    export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:${CADENZA_OTLP_PORT:-54318}"
    export OTEL_SERVICE_NAME="$1" OTEL_BSP_SCHEDULE_DELAY=200
  else
    unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_SERVICE_NAME OTEL_BSP_SCHEDULE_DELAY
  fi
}

# restart_if_rebuilt NAME BIN: a service started from an older build keeps
# running old code; stop it when BIN is newer than its pidfile, so the
# start_bg that follows runs the new binary.
restart_if_rebuilt() {
  local name=$1 bin=$2 pid
  if pid=$(pid_of "$name") && [[ "$bin" -nt "$(_pidfile "$name")" ]]; then
    log "$name binary rebuilt; restarting it (pid $pid)"
    stop_pid "$name"
  fi
}
