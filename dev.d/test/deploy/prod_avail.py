"""Production availability of a rendered chart: every Deployment scales from
2 (its HPA's minReplicas, or its fixed replicas for a worker without an HPA)
and has a PodDisruptionBudget with minAvailable 1. Prints the offenders (or a
summary); exit 1 on any, or when the render has no Deployment. Run by
dev.d/test/60-deploy.sh (prod_avail):

    prod_avail.py RENDERED.yaml
"""
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
deps = {d["metadata"]["name"]: d["spec"].get("replicas", 0) for d in docs if d["kind"] == "Deployment"}
hpa = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["minReplicas"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
pdb = {d["metadata"]["name"]: d["spec"].get("minAvailable") for d in docs if d["kind"] == "PodDisruptionBudget"}
bad = [f"{n}: minReplicas {hpa.get(n)} (replicas {r}), PDB minAvailable {pdb.get(n)}" for n, r in deps.items()
       if not (hpa.get(n, r) >= 2 and pdb.get(n) == 1)]
print("\n".join(bad) or f"{len(deps)} Deployments: minReplicas (or fixed replicas) >= 2, PDB minAvailable 1")
sys.exit(1 if bad or not deps else 0)
