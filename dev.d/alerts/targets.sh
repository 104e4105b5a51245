# shellcheck shell=bash
# Sourced by dev.d/up/45-prometheus.sh and dev.d/test/72-metrics-live.sh (after dev.d/lib.sh).
#
# metrics_targets: "NAME PORT" for every dev process that serves GET /metrics,
# from the URLs the up hooks registered ($CADENZA_RUN/urls), falling back to
# the services' fixed dev ports. A process whose /metrics answers 404 (the dev
# edge) is left out. The mailer poller serves /metrics on METRICS_ADDR
# (127.0.0.1:5003 in dev.d/up/40-mailer.sh).
# Its callers have loaded it already (then this returns at once); it
# provides http_code and CADENZA_RUN.
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The Rust services and their ports come from the service table
# (dev.d/services.tsv, "name package port ..."), the others are listed here.
metrics_services() {
  awk -F'\t' '!/^#/ && NF >= 3 { print $1 ":" $3 }' "$CADENZA_ROOT/dev.d/services.tsv"
  printf '%s\n' dev-edge:8090 mailer:5003
}
metrics_targets() {
  local entry name port reg code
  for entry in $(metrics_services); do
    name=${entry%%:*}
    port=${entry#*:}
    if [[ -f "$CADENZA_RUN/urls" ]]; then
      reg=$(awk -v n="$name" '$1 == n { print $2; exit }' "$CADENZA_RUN/urls" | sed -nE 's#^[a-z]+://[^/:]+:([0-9]+).*#\1#p')
      port=${reg:-$port}
    fi
    code=$(http_code "http://127.0.0.1:$port/metrics")
    [[ "$code" == 200 ]] && printf '%s %s\n' "$name" "$port"
  done
  return 0
}
