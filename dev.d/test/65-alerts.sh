#!/usr/bin/env bash
# Alerts and dashboards of the Helm chart, without a cluster:
#  - promtool (Debian's prometheus package, unpacked into .dev/ops/prometheus,
#    no daemon started) checks the PrometheusRule of every environment and runs
#    the unit tests in helm/cadenza/tests-alerts/ against the default render;
#  - every alert fires in one test and stays silent in another, has a severity,
#    summary, description and a runbook_url whose anchor is a section of
#    docs/runbooks.md (and every alert section there is an alert);
#  - dashboards are valid JSON with unique uids, and dashboards and rules name
#    only metrics the services export (dev.d/alerts/exported-metrics.txt; the
#    live comparison is dev.d/test/72-metrics-live.sh);
#  - self-tests: a broken rule, a missing runbook section and a dashboard with an
#    unknown metric must each make these checks fail.
#   ALERTS_SKIP_SELFTEST=1  skip the self-tests
set -euo pipefail

TAG=alerts
# shellcheck source=dev.d/test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHART=helm/cadenza
OUT="$OPS/out-alerts"

# ---------------------------------------------------------------- tools
# helm, yamllint and a Python with PyYAML come from 60-deploy.sh's install (same .dev/ops).
if [[ ! -x "$OPS/bin/helm" || ! -x "$OPS/venv/bin/python" || ! -x "$OPS/bin/yamllint" ]]; then
  log "installing the deploy tools (dev.d/test/60-deploy.sh, install only)"
  DEPLOY_ONLY_INSTALL=1 DEPLOY_SKIP_IMAGES=1 bash dev.d/test/60-deploy.sh >/dev/null
fi
export PATH="$OPS/bin:$PATH"
PY="$OPS/venv/bin/python"
# shellcheck source=dev.d/alerts/promtool.sh
source dev.d/alerts/promtool.sh
ensure_prometheus_bins || fail "could not unpack Debian's prometheus package"
log "$("$PROMTOOL" --version 2>&1 | head -n 1)"

rm -rf "$OUT"
mkdir -p "$OUT"
quiet() { # LOG CMD...: output in $OUT/LOG.log, shown on failure
  local f="$OUT/$1.log" rc=0
  shift
  "$@" >"$f" 2>&1 || rc=$?
  if ((rc != 0)); then tail -n 40 "$f" | sed 's/^/    | /' >&2; fi
  return "$rc"
}

# render_rules CHART OUT.yaml HELM-ARGS...: the chart's PrometheusRule only.
render_rules() {
  local chart=$1 out=$2
  shift 2
  helm template cadenza "$chart" --namespace cadenza "$@" --show-only templates/prometheusrule.yaml >"$out"
}

# check_all CHART_DIR RUNBOOKS DASHBOARD_DIR DIR TAG: render, promtool check + test,
# coverage, runbooks, metric names. Non-zero on the first failure (the self-tests rely on it).
check_all() {
  local chart=$1 runbooks=$2 dashdir=$3 dir=$4 tag=$5 env
  local -a vf
  mkdir -p "$dir"
  # Cheap checks first: a self-test mutation fails at the first check that notices it.
  # "default": the default values plus every optional alert (the backup's needs backup.enabled).
  quiet "$tag-render-default" render_rules "$chart" "$dir/render-default.yaml" --set prometheusRule.enabled=true \
    --set backup.enabled=true --set backup.bucket=cadenza-test-backups || return 1
  quiet "$tag-extract-default" "$PY" dev.d/alerts/check.py extract "$dir/render-default.yaml" "$dir/rules-default.yaml" || return 1
  quiet "$tag-runbooks" "$PY" dev.d/alerts/check.py runbooks "$dir/rules-default.yaml" "$runbooks" || return 1
  quiet "$tag-metrics" "$PY" dev.d/alerts/check.py metrics dev.d/alerts/exported-metrics.txt "$dir/rules-default.yaml" "$dashdir" || return 1
  quiet "$tag-coverage" "$PY" dev.d/alerts/check.py coverage "$dir/rules-default.yaml" "$chart"/tests-alerts/*.test.yaml || return 1
  for env in default staging production; do
    if [[ $env != default ]]; then
      vf=(-f "$chart/values-$env.yaml" --set prometheusRule.enabled=true)
      quiet "$tag-render-$env" render_rules "$chart" "$dir/render-$env.yaml" "${vf[@]}" || return 1
      quiet "$tag-extract-$env" "$PY" dev.d/alerts/check.py extract "$dir/render-$env.yaml" "$dir/rules-$env.yaml" || return 1
    fi
    quiet "$tag-check-$env" "$PROMTOOL" check rules "$dir/rules-$env.yaml" || return 1
  done
  # The unit tests are written against the default values (release and namespace "cadenza"),
  # with a fixed runbook base URL (the default one follows Chart.yaml's home).
  quiet "$tag-render-test" render_rules "$chart" "$dir/render-test.yaml" --set prometheusRule.enabled=true \
    --set backup.enabled=true --set backup.bucket=cadenza-test-backups \
    --set prometheusRule.runbookBaseUrl=https://runbooks.example/docs/runbooks.md || return 1
  quiet "$tag-extract-test" "$PY" dev.d/alerts/check.py extract "$dir/render-test.yaml" "$dir/rules.yaml" || return 1
  cp "$chart"/tests-alerts/*.test.yaml "$dir/"
  # shellcheck disable=SC2016 # expanded by the inner bash
  quiet "$tag-promtool-test" bash -c 'cd "$1" && "$2" test rules ./*.test.yaml' _ "$dir" "$PROMTOOL" || return 1
}

log "== rules, runbooks, dashboards"
check_all "$CHART" docs/runbooks.md "$CHART/dashboards" "$OUT/main" main || fail "alert/dashboard checks (logs in ${OUT#"$ROOT"/})"
ok "$(cat "$OUT/main-extract-default.log")"
ok "promtool check rules: PrometheusRule of default, staging and production values"
ok "promtool test rules: $(grep -c '^  - name:' "$CHART"/tests-alerts/*.test.yaml | awk -F: '{ s += $2 } END { print s }') cases in ${CHART}/tests-alerts/"
ok "$(tail -n 1 "$OUT/main-coverage.log")"
ok "$(tail -n 1 "$OUT/main-runbooks.log")"
ok "$(tail -n 1 "$OUT/main-metrics.log")"

# The environments that enable the rules must render them (not only with --set).
helm template cadenza "$CHART" --namespace cadenza -f "$CHART/values-production.yaml" >"$OUT/production.yaml"
grep -q '^kind: PrometheusRule$' "$OUT/production.yaml" || fail "production values render no PrometheusRule"
grep -q 'grafana_dashboard: "1"' "$OUT/production.yaml" || fail "production values render no dashboard ConfigMap"
"$PY" dev.d/test/alerts/rendered_dashboards.py "$OUT/production.yaml" "$(find "$CHART/dashboards" -name '*.json' | wc -l)" || fail "a rendered dashboard ConfigMap is not valid dashboard JSON"
ok "production values render the PrometheusRule and a ConfigMap per dashboard (valid JSON, runbook link filled in)"

YAMLLINT_CONF='{extends: relaxed, rules: {line-length: {max: 200}, indentation: {spaces: consistent, indent-sequences: whatever}}}'
quiet yamllint yamllint -s -d "$YAMLLINT_CONF" "$CHART"/tests-alerts "$OUT/main/render-default.yaml" "$OUT/main/render-production.yaml" || fail "yamllint"
ok "yamllint: tests-alerts, rendered PrometheusRule (default, production)"
quiet shellcheck shellcheck -x dev.d/test/65-alerts.sh dev.d/test/72-metrics-live.sh dev.d/alerts/promtool.sh dev.d/alerts/targets.sh dev.d/up/45-prometheus.sh ||
  fail "shellcheck"
ok "shellcheck"

# ---------------------------------------------------------------- self-tests
if [[ "${ALERTS_SKIP_SELFTEST:-0}" != 1 ]]; then
  log "== self-tests: each broken input must fail the checks above"
  # mutate NAME FILE SED-SCRIPT: FILE is relative to a copy of the repo parts checked here.
  mutate() {
    local name=$1 file=$2 script=$3 tmp why orig
    tmp=$(mktemp -d)
    mkdir -p "$tmp/docs"
    cp -r "$CHART" "$tmp/chart"
    cp docs/runbooks.md "$tmp/docs/"
    sed -i -e "$script" "$tmp/$file"
    orig=$file
    [[ $file == chart/* ]] && orig="$CHART/${file#chart/}"
    if cmp -s "$tmp/$file" "$orig"; then
      rm -rf "$tmp"
      fail "self-test '$name': the mutation changed nothing"
    fi
    if check_all "$tmp/chart" "$tmp/docs/runbooks.md" "$tmp/chart/dashboards" "$tmp/out" "selftest" 2>"$tmp/err"; then
      rm -rf "$tmp"
      fail "self-test '$name': the broken input PASSED"
    fi
    why=$({ grep -m1 -E 'alertname:|parse error|unknown metric|no section|is no alert|already used|Error|error:' "$tmp/err" ||
      grep -m1 FAIL "$tmp/err" || head -n1 "$tmp/err"; } | sed 's/^[ |]*//' | cut -c1-140)
    rm -rf "$tmp"
    ok "rejects $name: $why"
  }
  # shellcheck disable=SC2016 # literal template text
  # A wrong comparison: the refresh-reuse alert would page on quiet days and stay silent in a spike.
  mutate 'inverted alert threshold' chart/templates/prometheusrule.yaml \
    's/\[15m\])) > {{ $pr.thresholds.refreshReusePer15m }}/[15m])) < {{ $pr.thresholds.refreshReusePer15m }}/'
  # The fast burn without its short window: it would keep paging after recovery.
  mutate 'fast burn without its 5m window' chart/templates/prometheusrule.yaml \
    's/(dict "speed" "Fast" "long" "1h" "short" "5m"/(dict "speed" "Fast" "long" "1h" "short" "1h"/'
  mutate 'PromQL syntax error' chart/templates/prometheusrule.yaml 's/sum by (namespace, pod) (increase(/sum by (namespace, pod) (increase((/'
  mutate 'misspelt metric' chart/templates/prometheusrule.yaml 's/songsvc_cache_errors_total/songsvc_cache_error_total/'
  mutate 'runbook section missing' docs/runbooks.md '/^## CadenzaPodNotReady$/d'
  mutate 'runbook section for no alert' docs/runbooks.md 's/^## CadenzaPodNotReady$/## CadenzaPodGone\n\nStale.\n\n&/'
  mutate 'dashboard with an unknown metric' chart/dashboards/song-svc.json 's/songsvc_stream_sign_total/songsvc_stream_signed_total/'
  mutate 'dashboard uid used twice' chart/dashboards/song-svc.json 's/"uid": "cadenza-song-svc"/"uid": "cadenza-overview"/'
fi

log "alerts checks finished in $(($(date +%s) - T0))s"
printf 'alerts: %d passed, 0 failed\n' "$PASSED"
