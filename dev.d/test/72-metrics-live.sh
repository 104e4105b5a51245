#!/usr/bin/env bash
# Dashboards and alert rules against what the running dev services really
# export. Runs after 70-e2e.sh, which leaves the stack of `./dev up` running
# with traffic behind it:
#  - scrapes GET /metrics of every dev service (every one must have "# TYPE" lines);
#  - every exported family is listed in dev.d/alerts/exported-metrics.txt (with
#    the same type), and every entry not marked "lazy" is exported;
#  - the dashboards and the chart's rules name only live families, the lazy
#    entries of that list and the rules' own recording rules;
#  - when the local Prometheus of dev.d/up/45-prometheus.sh runs: it loaded every
#    rule of the chart without an evaluation error and scrapes every service.
# With no service running it falls back to the committed list and says so.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=dev.d/alerts/targets.sh
source "$CADENZA_ROOT/dev.d/alerts/targets.sh"

cd "$CADENZA_ROOT"
OPS="$CADENZA_DEV/ops"
PY="$OPS/venv/bin/python"
OUT="$OPS/out-alerts/live"
KNOWN=dev.d/alerts/exported-metrics.txt
CHART=helm/cadenza
[[ -x "$PY" && -x "$OPS/bin/helm" ]] || die "metrics-live: run dev.d/test/60-deploy.sh first (installs helm and the tools venv)"
rm -rf "$OUT"
mkdir -p "$OUT"

"$OPS/bin/helm" template cadenza "$CHART" --namespace cadenza --set prometheusRule.enabled=true \
  --show-only templates/prometheusrule.yaml >"$OUT/prometheusrule.yaml"
"$PY" dev.d/alerts/check.py extract "$OUT/prometheusrule.yaml" "$OUT/rules.yaml" >/dev/null

mapfile -t targets < <(metrics_targets)
if ((${#targets[@]} == 0)); then
  warn "metrics-live: no dev service answers GET /metrics; checking against the committed list $KNOWN only (NOT a live check)"
  "$PY" dev.d/alerts/check.py metrics "$KNOWN" "$OUT/rules.yaml" "$CHART/dashboards"
  printf 'metrics-live: 1 passed, 0 failed (committed list only: services not running)\n'
  exit 0
fi

urls=()
for t in "${targets[@]}"; do
  read -r _ port <<<"$t"
  urls+=("http://127.0.0.1:$port/metrics")
done
passed=0
"$PY" dev.d/alerts/check.py scrape "$OUT/live.txt" "${urls[@]}"
passed=$((passed + 1))
"$PY" dev.d/alerts/check.py known-vs-live "$KNOWN" "$OUT/live.txt"
passed=$((passed + 1))
# Self-test: a list that lacks an exported family, or claims one that is not exported, must fail.
grep -v '^http_requests_total ' "$KNOWN" >"$OUT/known-missing.txt"
printf 'cadenza_never_exported_total counter\n' | cat "$KNOWN" - >"$OUT/known-stale.txt"
for bad in known-missing known-stale; do
  if "$PY" dev.d/alerts/check.py known-vs-live "$OUT/$bad.txt" "$OUT/live.txt" >"$OUT/selftest-$bad.log" 2>&1; then
    die "metrics-live self-test: the $bad list PASSED the comparison with the live scrape"
  fi
done
log "metrics-live: self-test ok (a list missing an exported family and a list with a family never exported both fail)"
passed=$((passed + 1))
"$PY" dev.d/alerts/check.py metrics "$KNOWN" "$OUT/rules.yaml" "$CHART/dashboards" "$OUT/live.txt"
passed=$((passed + 1))

# The local Prometheus of ./dev up, if it runs: rules loaded, targets scraped.
if is_running prometheus; then
  prom=$(awk '$1 == "prometheus" { print $2; exit }' "$CADENZA_RUN/urls" | sed -nE 's#^(http://[^/]+).*#\1#p')
  [[ -n "$prom" ]] || die "metrics-live: prometheus runs but registered no URL"
  # A fresh start needs one scrape (5 s) and one rule evaluation before every target and rule has a state.
  check_prom() {
    curl -sf -m 5 "$prom/api/v1/rules" >"$OUT/prom-rules.json" &&
      curl -sf -m 5 "$prom/api/v1/targets" >"$OUT/prom-targets.json" &&
      "$PY" dev.d/test/metrics-live/prom_check.py "$OUT/prom-rules.json" "$OUT/prom-targets.json" "$OUT/rules.yaml" "${#targets[@]}" >"$OUT/prom-check.log" 2>&1
  }
  if ! wait_for 30 check_prom; then
    cat "$OUT/prom-check.log" >&2
    die "metrics-live: the local Prometheus ($prom) does not scrape every service or has broken rules"
  fi
  tail -n 1 "$OUT/prom-check.log"
  passed=$((passed + 1))
else
  warn "metrics-live: the local Prometheus (dev.d/up/45-prometheus.sh) is not running; its check is skipped"
fi
printf 'metrics-live: %d passed, 0 failed\n' "$passed"
