#!/usr/bin/env bash
# A real Prometheus (Debian's package, unpacked into .dev/ops/prometheus: see
# dev.d/alerts/promtool.sh) on 127.0.0.1:59090, scraping GET /metrics of every
# dev process that serves it (user-svc, admin-svc, song-svc; the dev edge and
# the mailer poller export none yet) every 5 s, with the chart's PrometheusRule
# loaded (rendered for release and namespace "cadenza", so the alerts select
# these jobs). Data in .dev/prometheus, log .dev/log/prometheus.log.
#   CADENZA_PROMETHEUS_PORT  listen port (default 59090)
#   CADENZA_PROMETHEUS_DIR   config + data directory (default .dev/prometheus)
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=dev.d/alerts/promtool.sh
source "$CADENZA_ROOT/dev.d/alerts/promtool.sh"
# shellcheck source=dev.d/alerts/targets.sh
source "$CADENZA_ROOT/dev.d/alerts/targets.sh"

PORT=${CADENZA_PROMETHEUS_PORT:-59090}
DIR=${CADENZA_PROMETHEUS_DIR:-$CADENZA_DEV/prometheus}
OPS="$CADENZA_DEV/ops"
NAME=prometheus
mkdir -p "$DIR"

ensure_prometheus_bins || die "could not unpack Debian's prometheus package"
ensure_prometheus_ui || warn "prometheus: the classic web UI will lack its scripts (the API and /alerts work)"
# helm renders the chart's rules; it comes with 60-deploy.sh's tools (one-time install).
if [[ ! -x "$OPS/bin/helm" || ! -x "$OPS/venv/bin/python" ]]; then
  log "prometheus: installing helm (dev.d/test/60-deploy.sh, install only; once)"
  DEPLOY_ONLY_INSTALL=1 DEPLOY_SKIP_IMAGES=1 bash "$CADENZA_ROOT/dev.d/test/60-deploy.sh" >"$CADENZA_LOG/prometheus-tools.log" 2>&1 ||
    { log_tail "$CADENZA_LOG/prometheus-tools.log"; die "could not install helm"; }
fi

# The chart's rules, as the cluster's Prometheus would load them.
"$OPS/bin/helm" template cadenza "$CADENZA_ROOT/helm/cadenza" --namespace cadenza --set prometheusRule.enabled=true \
  --show-only templates/prometheusrule.yaml >"$DIR/prometheusrule.yaml"
"$OPS/venv/bin/python" "$CADENZA_ROOT/dev.d/alerts/check.py" extract "$DIR/prometheusrule.yaml" "$DIR/rules.yaml.new" >/dev/null
mv -f "$DIR/rules.yaml.new" "$DIR/rules.yaml"

# Scrape jobs named like the cluster's ServiceMonitor jobs (cadenza-<service>).
mapfile -t targets < <(metrics_targets)
((${#targets[@]} > 0)) || die "prometheus: no dev service answers GET /metrics (run after the service hooks)"
{
  printf '# Written by dev.d/up/45-prometheus.sh on every ./dev up.\n'
  printf 'global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n'
  printf 'rule_files:\n  - %s\n' "$DIR/rules.yaml"
  printf 'scrape_configs:\n'
  printf '  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$PORT"
  for t in "${targets[@]}"; do
    read -r svc port <<<"$t"
    printf '  - job_name: cadenza-%s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$svc" "$port"
    printf '        labels: {namespace: cadenza, pod: %s-dev}\n' "$svc"
  done
} >"$DIR/prometheus.yml.new"
"$PROMTOOL" check config "$DIR/prometheus.yml.new" >"$CADENZA_LOG/prometheus-check.log" 2>&1 ||
  { log_tail "$CADENZA_LOG/prometheus-check.log"; die "prometheus: invalid configuration"; }
mv -f "$DIR/prometheus.yml.new" "$DIR/prometheus.yml"

if pid=$(pid_of "$NAME"); then
  # Running from an earlier ./dev up: reload the (possibly changed) config and rules.
  kill -HUP "$pid"
  log "prometheus: reloaded configuration and rules (pid $pid)"
else
  if port_in_use "$PORT"; then
    die "port $PORT is taken by $(port_owner "$PORT"); Prometheus needs it (CADENZA_PROMETHEUS_PORT)"
  fi
  start_bg "$NAME" "$CADENZA_LOG/prometheus.log" "$PROMETHEUS" \
    --config.file="$DIR/prometheus.yml" \
    --storage.tsdb.path="$DIR/data" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PORT" \
    --web.local-assets="$(dirname "$(dirname "$PROMETHEUS")")/share/prometheus/web/" \
    --web.console.templates="$DIR/consoles" --web.console.libraries="$DIR/console_libraries"
fi
if ! wait_http "http://127.0.0.1:$PORT/-/ready" 30; then
  log_tail "$NAME"
  die "prometheus did not become ready on port $PORT"
fi
register_url prometheus "http://127.0.0.1:$PORT/classic/alerts (scrapes ${targets[*]// /:})"
log "prometheus ready on :$PORT, scraping ${#targets[@]} target(s) with $(grep -c '^ *- alert:' "$DIR/rules.yaml") alert rules"
