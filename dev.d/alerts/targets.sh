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

METRICS_SERVICES=(user-svc:5000 admin-svc:5001 song-svc:7000 media-worker:7100 dev-edge:8090 mailer:5003)
metrics_targets() {
  local entry name port reg code
  for entry in "${METRICS_SERVICES[@]}"; do
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
