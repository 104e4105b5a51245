#!/usr/bin/env bash
# The Rust services (user-svc, admin-svc, song-svc, media-worker), one row
# each in dev.d/services.tsv, in its order. First every service's `prepare`
# (prerequisites), then ONE `cargo build` of all their packages, then for each
# service in turn: restart it if its binary was rebuilt, export its
# environment, `before_start`, start it unless it runs, wait for its readiness
# path, `after_ready`, register its URL. What is specific to a service (its
# environment in `service_env`, the optional `prepare`, `before_start` and
# `after_ready` steps) is in dev.d/services/NAME.sh. Each service is handled
# in a subshell of its own, so one service's environment never reaches the
# next.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TABLE="$CADENZA_ROOT/dev.d/services.tsv"
BIN_DIR="${CARGO_TARGET_DIR:-$CADENZA_ROOT/target}/debug"
# shellcheck disable=SC2034 # read by the service files
KEYS="$CADENZA_DEV/keys"

NAMES=() PACKAGES=() PORTS=() ARGS=() READY=() URLS=()
while IFS=$'\t' read -r name package port args ready url; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -f "$CADENZA_ROOT/dev.d/services/$name.sh" ]] || die "$TABLE: no dev.d/services/$name.sh for $name"
  [[ "$port" =~ ^[0-9]+$ && "$ready" == /* && "$url" == /* ]] ||
    die "$TABLE: bad row for $name (want: name package port args /ready /url)"
  NAMES+=("$name") PACKAGES+=("$package") PORTS+=("$port") ARGS+=("$args") READY+=("$ready") URLS+=("$url")
done <"$TABLE"
((${#NAMES[@]} > 0)) || die "$TABLE lists no service"

# load_service NAME: define NAME's service_env and its optional steps.
load_service() {
  # shellcheck source=/dev/null # one of dev.d/services/*.sh
  source "$CADENZA_ROOT/dev.d/services/$1.sh"
  declare -F service_env >/dev/null || die "dev.d/services/$1.sh defines no service_env"
}

# start_service I: the whole start of the I-th service of the table. Run in a
# subshell: the environment it exports is its own.
start_service() {
  local name=${NAMES[$1]} port=${PORTS[$1]} cmd args
  # Read by the service files (the demo accounts, the backfill).
  BIN="$BIN_DIR/$name"
  load_service "$name"
  restart_if_rebuilt "$name" "$BIN"

  export PORT=$port
  service_env
  if declare -F before_start >/dev/null; then
    before_start
  fi

  if ! is_running "$name" && port_in_use "$port"; then
    die "port $port is taken by $(port_owner "$port"); $name needs it"
  fi
  cmd=("$BIN")
  if [[ "${ARGS[$1]}" != - ]]; then
    read -r -a args <<<"${ARGS[$1]}"
    cmd+=("${args[@]}")
  fi
  otel_export "$name"
  start_bg "$name" "$CADENZA_LOG/$name.log" "${cmd[@]}"
  if ! wait_http "http://127.0.0.1:$port${READY[$1]}" 60; then
    log_tail "$name"
    die "$name did not become ready on port $port"
  fi
  if declare -F after_ready >/dev/null; then
    after_ready
  fi
  register_url "$name" "http://127.0.0.1:$port${URLS[$1]}"
  log "$name ready on :$port"
}

for i in "${!NAMES[@]}"; do
  (
    load_service "${NAMES[i]}"
    if declare -F prepare >/dev/null; then
      prepare
    fi
  )
done

build=()
for package in "${PACKAGES[@]}"; do
  build+=(-p "$package")
done
log "cargo build ${build[*]}"
cargo build -q "${build[@]}" || die "the services do not build (${PACKAGES[*]})"

for i in "${!NAMES[@]}"; do
  (start_service "$i")
done
