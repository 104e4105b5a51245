"""Check the local Prometheus of dev.d/up/45-prometheus.sh from its HTTP API
answers, for dev.d/test/72-metrics-live.sh: it loaded as many rules as the
chart renders, every rule is healthy, and it scrapes one cadenza-* target per
service serving /metrics, each up. Prints the problems (or a summary line);
exit 1 on any.

    prom_check.py RULES.json TARGETS.json RULES.yaml SERVICE_COUNT
"""
import json, sys, yaml
rules = json.load(open(sys.argv[1]))["data"]["groups"]
targets = json.load(open(sys.argv[2]))["data"]["activeTargets"]
want = sum(len(g["rules"]) for g in yaml.safe_load(open(sys.argv[3]))["groups"])
loaded = [r for g in rules for r in g["rules"]]
bad = [f"rule {r.get('name')}: {r.get('health')} {r.get('lastError', '')}" for r in loaded if r.get("health") != "ok"]
if len(loaded) != want:
    bad.append(f"Prometheus loaded {len(loaded)} rules, the chart renders {want}")
svc = [t for t in targets if t["labels"]["job"].startswith("cadenza-")]
bad += [f"target {t['labels']['job']}: {t['health']} {t.get('lastError', '')}" for t in svc if t["health"] != "up"]
if len(svc) != int(sys.argv[4]):
    bad.append(f"Prometheus scrapes {len(svc)} cadenza targets, {sys.argv[4]} services serve /metrics")
print("\n".join(bad) if bad else f"local Prometheus: {len(loaded)} rules healthy, {len(svc)} service targets up")
sys.exit(1 if bad else 0)
