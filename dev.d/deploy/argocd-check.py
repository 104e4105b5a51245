#!/usr/bin/env python3
"""GitOps invariants of argocd/ and the chart's environment files.

Usage: argocd-check.py ROOT   (ROOT holds argocd/ and helm/cadenza/)

- The ApplicationSet deploys helm/cadenza with values-<env>.yaml for every
  environment, both synced automatically with prune + selfHeal;
- staging follows main, production is pinned to a release tag (vX.Y.Z), never
  a branch, so a merge to main never changes production by itself;
- every repoURL / sourceRepos in argocd/ is Chart.yaml's `sources[0]` + .git;
- no environment file or ArgoCD manifest holds a `REPLACE-WITH` placeholder,
  and sealed values are kubeseal ciphertext (^Ag...), never anything else.
Prints what it checked, or one line per violation (exit 1).
"""
import glob
import os
import re
import sys

import yaml

ERR = []
NOTES = []
TAG = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$")
SEALED = re.compile(r"^Ag[A-Za-z0-9+/=]+$")


def sealed_values(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "encryptedData" and isinstance(v, dict):
                for key, val in v.items():
                    yield f"{path}.{k}.{key}", val
            else:
                yield from sealed_values(v, f"{path}.{k}")


def main(root):
    chart = yaml.safe_load(open(f"{root}/helm/cadenza/Chart.yaml"))
    repo = chart["sources"][0].rstrip("/") + ".git"
    if chart.get("home", "").rstrip("/") + ".git" != repo:
        ERR.append(f"Chart.yaml home {chart.get('home')} differs from sources[0] {chart['sources'][0]}")
    docs = []
    for f in sorted(glob.glob(f"{root}/argocd/*.yaml") + glob.glob(f"{root}/argocd/apps/*.yaml")):
        text = open(f).read()
        if "REPLACE-WITH" in text:
            ERR.append(f"{f}: holds a REPLACE-WITH placeholder")
        for d in yaml.safe_load_all(text):
            if d:
                docs.append((f, d))
        for url in re.findall(r"repoURL:\s*(\S+)", text) + re.findall(r"^\s*-\s*(https://\S+\.git)\s*$", text, re.M):
            if url != repo:
                ERR.append(f"{f}: repository {url} is not Chart.yaml's {repo}")
    kinds = [(f, d) for f, d in docs if d.get("kind") == "Application" and d["spec"]["source"].get("path") == "helm/cadenza"]
    if kinds:
        ERR.append("an Application deploys helm/cadenza directly; environments come from the ApplicationSet only")
    sets = [(f, d) for f, d in docs if d.get("kind") == "ApplicationSet"]
    if len(sets) != 1:
        ERR.append(f"expected one ApplicationSet, found {len(sets)}")
    envs = {}
    for f, d in sets:
        tpl = d["spec"]["template"]["spec"]
        src = tpl["source"]
        if src.get("path") != "helm/cadenza" or src.get("helm", {}).get("valueFiles") != ["values-{{ .env }}.yaml"]:
            ERR.append(f"{f}: template must deploy helm/cadenza with values-{{{{ .env }}}}.yaml")
        if src.get("targetRevision") != "{{ .revision }}":
            ERR.append(f"{f}: targetRevision must come from the element's revision")
        auto = tpl.get("syncPolicy", {}).get("automated", {})
        if auto.get("prune") is not True or auto.get("selfHeal") is not True:
            ERR.append(f"{f}: automated sync needs prune + selfHeal")
        for gen in d["spec"]["generators"]:
            for el in gen.get("list", {}).get("elements", []):
                envs[el["env"]] = str(el["revision"])
    if envs.get("staging") != "main":
        ERR.append(f"staging must follow main (revision {envs.get('staging')})")
    if not TAG.match(envs.get("production", "")):
        ERR.append(f"production must be pinned to a release tag vX.Y.Z, not {envs.get('production')!r}")
    for env in envs:
        vf = f"{root}/helm/cadenza/values-{env}.yaml"
        if not os.path.isfile(vf):
            ERR.append(f"{env}: no {vf}")
            continue
        text = open(vf).read()
        if "REPLACE-WITH" in text:
            ERR.append(f"{vf}: holds a REPLACE-WITH placeholder (seal the value with dev.d/deploy/seal-secrets.sh)")
        values = yaml.safe_load(text) or {}
        for where, val in sealed_values(values):
            if not (isinstance(val, str) and SEALED.match(val)):
                ERR.append(f"{vf}: {where} is not kubeseal ciphertext (^Ag...)")
        unsealed = [k for k, svc in (values.get("services") or {}).items()
                    if not svc.get("secret", {}).get("encryptedData") and not svc.get("secret", {}).get("existingSecret")]
        mig = values.get("migration", {}).get("secret", {})
        if not mig.get("encryptedData") and not mig.get("existingSecret"):
            unsealed.append("migration")
        if unsealed:
            NOTES.append(f"values-{env}.yaml has no sealed secret yet for {', '.join(unsealed)}: "
                         "it renders and syncs, but those pods wait for their Secret until it is sealed")
    for e in ERR:
        print("ARGOCD " + e)
    for n in NOTES:
        print("NOTE " + n)
    if not ERR:
        print(f"argocd: {', '.join(f'{k}@{v}' for k, v in envs.items())}; repo {repo}; no placeholders")
    return 1 if ERR else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
