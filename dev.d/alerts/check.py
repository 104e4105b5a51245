#!/usr/bin/env python3
"""Checks of the chart's alerts and dashboards (run by dev.d/test/65-alerts.sh
and dev.d/test/72-metrics-live.sh). Needs PyYAML.

  check.py extract RENDERED.yaml OUT.yaml
      write the spec (groups) of the one PrometheusRule in a `helm template`
      output as a Prometheus rules file; fails when there is none.
  check.py coverage RULES.yaml TEST.yaml...
      every alert has a test case where it fires (non-empty exp_alerts) and
      one where it stays silent (exp_alerts: []); every tested alert exists.
  check.py runbooks RULES.yaml RUNBOOKS.md
      every alert has severity, summary, description and a runbook_url ending
      in #<alert name in lower case>; that anchor is a "## " heading of the
      runbooks; every "## Cadenza..." heading is an alert of the rules.
  check.py metrics KNOWN.txt RULES.yaml DASHBOARD_DIR [LIVE.txt]
      dashboards: valid JSON, unique uids, every PromQL expression names only
      metrics the services export (KNOWN.txt, or LIVE.txt: a live scrape) or
      recording rules of RULES.yaml; rules: only those plus kube-state-metrics
      and Prometheus' own series.
  check.py scrape OUT.txt URL...
      GET each /metrics URL; write the metric families it exports (one
      "name type" a line). Fails when a URL has no "# TYPE" line.
  check.py known-vs-live KNOWN.txt LIVE.txt
      every live family is listed in KNOWN.txt (a new metric needs an entry),
      and every KNOWN entry not marked "lazy" was seen live.
"""
import json
import re
import sys
import urllib.request
from pathlib import Path

import yaml

ALERT_NAME = re.compile(r"^Cadenza[A-Za-z]+$")
# Series no service exports but the rules may read.
EXTERNAL = {
    "up",  # Prometheus, per scrape target
    "kube_pod_status_ready",  # kube-state-metrics
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_cronjob_status_last_successful_time",
    "kube_cronjob_created",
}
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan", "le", "atan2",
}


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def load_rules(path):
    doc = yaml.safe_load(Path(path).read_text())
    if not doc or not doc.get("groups"):
        fail(f"{path}: no rule groups")
    return doc["groups"]


def alerts_of(groups):
    return [r for g in groups for r in g["rules"] if "alert" in r]


def records_of(groups):
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def cmd_extract(rendered, out):
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(rules) != 1:
        fail(f"{rendered}: expected one PrometheusRule, found {len(rules)}")
    Path(out).write_text(yaml.safe_dump(rules[0]["spec"], sort_keys=False, width=200))
    n = len(alerts_of(rules[0]["spec"]["groups"]))
    print(f"extract: {n} alerts, {len(records_of(rules[0]['spec']['groups']))} recording rules -> {out}")


def cmd_coverage(rules, *tests):
    names = {a["alert"] for a in alerts_of(load_rules(rules))}
    fires, silent = set(), set()
    for t in tests:
        for case in yaml.safe_load(Path(t).read_text()).get("tests", []):
            for at in case.get("alert_rule_test", []):
                n = at["alertname"]
                if n not in names:
                    fail(f"{t}: test of an alert that does not exist: {n}")
                (fires if at.get("exp_alerts") else silent).add(n)
    bad = [f"{n}: no case where it fires" for n in sorted(names - fires)]
    bad += [f"{n}: no case where it stays silent" for n in sorted(names - silent)]
    for b in bad:
        print(f"  {b}")
    if bad:
        fail(f"{len(bad)} alert test gaps")
    print(f"coverage: all {len(names)} alerts fire in a test and stay silent in another")


def slug(heading):
    """GitLab/GitHub heading anchor: lower case, punctuation dropped, spaces to '-'."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def cmd_runbooks(rules, md):
    headings = {}
    for line in Path(md).read_text().splitlines():
        m = re.match(r"^## (.+)$", line)
        if m:
            headings[slug(m.group(1))] = m.group(1).strip()
    alerts = alerts_of(load_rules(rules))
    names = {a["alert"] for a in alerts}
    bad = []
    for a in alerts:
        n = a["alert"]
        if not ALERT_NAME.match(n):
            bad.append(f"{n}: alert names are Cadenza<CamelCase>")
        if a.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            bad.append(f"{n}: severity label must be critical, warning or info")
        ann = a.get("annotations", {})
        for k in ("summary", "description", "runbook_url"):
            if not str(ann.get(k, "")).strip():
                bad.append(f"{n}: no {k} annotation")
        url = str(ann.get("runbook_url", ""))
        anchor = url.rpartition("#")[2]
        if not url.startswith("https://") or "/docs/runbooks.md#" not in url:
            bad.append(f"{n}: runbook_url {url!r} is not https://.../docs/runbooks.md#...")
        if anchor != n.lower():
            bad.append(f"{n}: runbook_url anchor #{anchor} is not #{n.lower()}")
        elif anchor not in headings:
            bad.append(f"{n}: docs/runbooks.md has no section '## {n}' (anchor #{anchor})")
    for s, h in headings.items():
        if h.startswith("Cadenza") and h not in names:
            bad.append(f"docs/runbooks.md section '## {h}' is no alert of the chart")
    for b in bad:
        print(f"  {b}")
    if bad:
        fail(f"{len(bad)} alert/runbook problems")
    print(f"runbooks: {len(names)} alerts, each with severity, summary, description and a runbook section")


def metric_names(expr):
    """Metric names in a PromQL expression (a lexical approximation that is
    exact for the expressions of this chart: no string literals outside
    label matchers)."""
    m = re.fullmatch(r"\s*label_values\(\s*([^,]+?)\s*,\s*\w+\s*\)\s*", expr)
    if m:  # a Grafana variable query: label_values(SELECTOR, LABEL)
        expr = m.group(1)
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^{}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)  # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        tok = m.group(0)
        after = e[m.end():].lstrip()
        if after.startswith("("):
            continue  # a function or aggregation
        if tok.lower() in PROMQL_WORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", tok):
            continue
        names.add(tok)
    return names


def family_of(name, known):
    """The exported family a series name belongs to (histogram suffixes)."""
    if name in known:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and known.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return None


def read_known(path, only_lazy=False):
    """A metric list: "name type" a line; a trailing "# lazy: why" marks a
    family that appears only after its first use."""
    known = {}
    for raw in Path(path).read_text().splitlines():
        line, _, comment = raw.partition("#")
        if not line.strip():
            continue
        name, typ = line.split()[:2]
        if only_lazy and not comment.strip().startswith("lazy"):
            continue
        known[name] = typ
    return known


def dashboard_exprs(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "expr" and isinstance(v, str):
                yield v
            elif k == "query" and isinstance(v, str) and obj.get("type") == "query":
                yield v  # a templating variable's query
            else:
                yield from dashboard_exprs(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from dashboard_exprs(v)


def cmd_metrics(known_path, rules, dash_dir, live_path=None):
    known = read_known(known_path)
    source = known_path
    if live_path:
        known = read_known(live_path) | read_known(known_path, only_lazy=True)
        source = f"{live_path} (live scrape) + the lazy entries of {known_path}"
    groups = load_rules(rules)
    records = records_of(groups)
    bad = []
    for g in groups:
        for r in g["rules"]:
            for n in metric_names(r["expr"]):
                if n not in records and n not in EXTERNAL and not family_of(n, known):
                    bad.append(f"rule {r.get('alert') or r.get('record')}: unknown metric {n}")
    files = sorted(Path(dash_dir).glob("*.json"))
    if not files:
        fail(f"no dashboards in {dash_dir}")
    uids, titles, nexpr = {}, set(), 0
    for f in files:
        try:
            d = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            bad.append(f"{f.name}: invalid JSON: {e}")
            continue
        uid, title = d.get("uid"), d.get("title")
        if not uid or not title:
            bad.append(f"{f.name}: dashboard needs a uid and a title")
        elif uid in uids:
            bad.append(f"{f.name}: uid {uid} already used by {uids[uid]}")
        else:
            uids[uid] = f.name
        if title in titles:
            bad.append(f"{f.name}: title {title!r} used twice")
        titles.add(title)
        exprs = list(dashboard_exprs(d))
        if not exprs:
            bad.append(f"{f.name}: no PromQL query at all")
        for e in exprs:
            nexpr += 1
            names = metric_names(e)
            if not names:
                bad.append(f"{f.name}: query names no metric: {e}")
            for n in names:
                if n not in records and n != "up" and not family_of(n, known):
                    bad.append(f"{f.name}: unknown metric {n} in {e}")
    for b in bad:
        print(f"  {b}")
    if bad:
        fail(f"{len(bad)} unknown metrics or dashboard problems (known list: {source})")
    print(f"metrics: {len(files)} dashboards ({nexpr} queries, unique uids) and the rules name only "
          f"exported metrics ({source}) or the {len(records)} recording rules")


def cmd_scrape(out, *urls):
    fams = {}
    for url in urls:
        with urllib.request.urlopen(url, timeout=5) as resp:
            text = resp.read().decode()
        types = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
        if not types:
            fail(f"{url}: no '# TYPE' line (a fresh process exports nothing until its first request?)")
        for name, typ in types:
            fams[name] = typ
        print(f"scrape: {url}: {len(types)} families")
    Path(out).write_text("".join(f"{n} {t}\n" for n, t in sorted(fams.items())))


def cmd_known_vs_live(known_path, live_path):
    known, live = read_known(known_path), read_known(live_path)
    lazy = set(read_known(known_path, only_lazy=True))
    bad = [f"{n} ({t}) is exported but not in {known_path}" for n, t in sorted(live.items()) if n not in known]
    bad += [f"{n} is in {known_path} (not marked lazy) but was not exported" for n in sorted(known)
            if n not in live and n not in lazy]
    bad += [f"{n}: {known_path} says {known[n]}, the scrape says {live[n]}" for n in sorted(known)
            if n in live and live[n] != known[n]]
    for b in bad:
        print(f"  {b}")
    if bad:
        fail(f"{len(bad)} differences between the committed metric list and the live scrape")
    print(f"known-vs-live: {len(live)} live families all listed; "
          f"{len(set(known) - set(live))} lazy ones not seen this run ({', '.join(sorted(set(known) - set(live))) or '-'})")


if __name__ == "__main__":
    cmds = {"extract": cmd_extract, "coverage": cmd_coverage, "runbooks": cmd_runbooks,
            "metrics": cmd_metrics, "scrape": cmd_scrape, "known-vs-live": cmd_known_vs_live}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])
