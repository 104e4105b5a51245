"""The dashboards as the production values render them, for
dev.d/test/65-alerts.sh: every ConfigMap labelled grafana_dashboard holds
valid dashboard JSON with a uid and the runbook link filled in
(no @RUNBOOKS_URL@ left), and there is one per dashboard of the chart.
Fails with an AssertionError naming the key (or the counts).

    rendered_dashboards.py RENDERED.yaml DASHBOARD_COUNT
"""
import json, sys, yaml
n = 0
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "ConfigMap" and (doc["metadata"].get("labels") or {}).get("grafana_dashboard"):
        for key, text in doc["data"].items():
            d = json.loads(text)
            assert d["uid"] and "@RUNBOOKS_URL@" not in text, key
            n += 1
assert n == int(sys.argv[2]), f"{n} dashboards rendered, {sys.argv[2]} in the chart"
