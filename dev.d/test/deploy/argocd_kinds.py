"""Every kind the chart renders must be in the ArgoCD AppProject's
namespaceResourceWhitelist, or ArgoCD refuses to sync it. Prints an ARGOCD
line per missing kind and a summary line; exit 1 when a kind is missing.
Run by dev.d/test/60-deploy.sh:

    argocd_kinds.py PROJECT.yaml RENDERED.yaml...
"""
import sys, yaml
proj = yaml.safe_load(open(sys.argv[1]))
allowed = {(k.get("group", ""), k["kind"]) for k in proj["spec"]["namespaceResourceWhitelist"]}
seen = {}
for f in sys.argv[2:]:
    for d in yaml.safe_load_all(open(f)):
        if d:
            group = d["apiVersion"].rsplit("/", 1)[0] if "/" in d["apiVersion"] else ""
            seen.setdefault((group, d["kind"]), f.rsplit("/", 1)[-1])
missing = sorted(k for k in seen if k not in allowed)
for g, k in missing:
    print(f"ARGOCD {k} ({g or 'core'}) is rendered ({seen[(g, k)]}) but not in the AppProject's namespaceResourceWhitelist")
print(f"argocd-kinds: {len(seen)} kinds rendered, {len(missing)} not whitelisted")
sys.exit(1 if missing else 0)
