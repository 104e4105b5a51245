#!/usr/bin/env python3
"""Policy assertions over rendered Kubernetes manifests (helm template output).

The schema checks prove the manifests are well-formed; this proves they are
the manifests we mean: probes, hardening, autoscaling, disruption budgets,
network isolation, TLS, no plaintext Secret, CronJobs that never overlap
and run under their own ServiceAccount and NetworkPolicy. Usage: policy-check.py FILE...
Exit 1 with one line per violation.
"""
import sys

import yaml

errors = []


def err(obj, msg):
    md = obj.get("metadata", {})
    errors.append(f"{obj.get('kind')}/{md.get('name')}: {msg}")


def pod_spec(obj):
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def check_hardening(obj, spec):
    psc = spec.get("securityContext") or {}
    if spec.get("automountServiceAccountToken") is not False:
        err(obj, "automountServiceAccountToken must be false")
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        err(obj, "host namespaces are forbidden")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        csc = c.get("securityContext") or {}
        where = f"container {c['name']}"

        def eff(key):
            return csc.get(key, psc.get(key))

        if eff("runAsNonRoot") is not True:
            err(obj, f"{where}: runAsNonRoot must be true")
        uid = eff("runAsUser")
        if not isinstance(uid, int) or uid <= 10000:
            err(obj, f"{where}: runAsUser must be > 10000 (got {uid})")
        if csc.get("readOnlyRootFilesystem") is not True:
            err(obj, f"{where}: readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            err(obj, f"{where}: allowPrivilegeEscalation must be false")
        if csc.get("privileged"):
            err(obj, f"{where}: privileged")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            err(obj, f"{where}: capabilities must drop ALL")
        if caps.get("add"):
            err(obj, f"{where}: capabilities.add must be empty")
        seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp != "RuntimeDefault":
            err(obj, f"{where}: seccompProfile must be RuntimeDefault (got {seccomp})")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(part) or {}):
                    err(obj, f"{where}: resources.{part}.{r} missing")
        image = c.get("image", "")
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            err(obj, f"{where}: image must carry a tag other than latest or a digest ({image})")


def probe_key(p):
    if not p:
        return None
    h = p.get("httpGet") or {}
    return (h.get("path"), str(h.get("port")), str(p.get("exec")), str(p.get("tcpSocket")))


# Queue workers (by app.kubernetes.io/component): no traffic is routed to them, so no /readyz; a
# startup and a liveness probe on /healthz, and a fixed replica count (their load is a queue depth,
# not CPU or memory) with an HPA optional.
QUEUE_WORKERS = {"media-worker"}


def is_worker(obj):
    labels = obj["spec"]["template"]["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/component") in QUEUE_WORKERS


def check_worker(obj, spec):
    for c in spec["containers"]:
        s, l = c.get("startupProbe"), c.get("livenessProbe")
        if not l or (l.get("httpGet") or {}).get("path") != "/healthz":
            err(obj, f"container {c['name']}: a worker's liveness must GET /healthz")
        if not s or (s.get("httpGet") or {}).get("path") != "/healthz":
            err(obj, f"container {c['name']}: a worker needs a startupProbe on /healthz (it is ready once started)")
        if c.get("readinessProbe"):
            err(obj, f"container {c['name']}: a worker has no readiness probe (nothing routes to it)")
    if not obj["spec"].get("replicas") and not spec.get("terminationGracePeriodSeconds"):
        err(obj, "a worker states its replicas (or an HPA) and a grace period for its job in hand")


def check_deployment(obj, spec):
    if is_worker(obj):
        return check_worker(obj, spec)
    for c in spec["containers"]:
        r, l = c.get("readinessProbe"), c.get("livenessProbe")
        if not r:
            err(obj, f"container {c['name']}: readinessProbe missing")
        if not l:
            err(obj, f"container {c['name']}: livenessProbe missing")
        if r and l and probe_key(r) == probe_key(l):
            err(obj, f"container {c['name']}: readiness and liveness probe the same endpoint")
        if r and (r.get("httpGet") or {}).get("path") != "/readyz":
            err(obj, f"container {c['name']}: readiness must GET /readyz")
        if l and (l.get("httpGet") or {}).get("path") != "/healthz":
            err(obj, f"container {c['name']}: liveness must GET /healthz")


def selects(selector, labels):
    ml = (selector or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in ml.items())


def main(files):
    docs = []
    for f in files:
        with open(f) as fh:
            docs += [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)

    for d in docs:
        spec = pod_spec(d)
        if spec is not None:
            check_hardening(d, spec)
        if d["kind"] == "Deployment":
            check_deployment(d, spec)
        if d["kind"] == "Secret":
            err(d, "plaintext Secret rendered: use a SealedSecret or an existing Secret")

    deployments = by_kind.get("Deployment", [])
    if not deployments:
        errors.append("no Deployment rendered")
    hpas = by_kind.get("HorizontalPodAutoscaler", [])
    pdbs = by_kind.get("PodDisruptionBudget", [])
    nps = by_kind.get("NetworkPolicy", [])
    services = by_kind.get("Service", [])
    if not any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not np["spec"].get("ingress") and not np["spec"].get("egress") for np in nps):
        errors.append("no default-deny NetworkPolicy (podSelector {}, Ingress+Egress, no rules)")
    for dep in deployments:
        name = dep["metadata"]["name"]
        labels = dep["spec"]["template"]["metadata"].get("labels", {})
        hpa = [h for h in hpas if h["spec"]["scaleTargetRef"]["name"] == name]
        if not hpa and is_worker(dep):
            if not dep["spec"].get("replicas"):
                err(dep, "a worker without an HPA needs spec.replicas")
        elif not hpa:
            err(dep, "no HorizontalPodAutoscaler")
        else:
            res = {m["resource"]["name"] for m in hpa[0]["spec"].get("metrics", []) if m["type"] == "Resource"}
            if res != {"cpu", "memory"}:
                err(hpa[0], f"must scale on cpu and memory (got {sorted(res)})")
            if hpa[0]["apiVersion"] != "autoscaling/v2":
                err(hpa[0], "must be autoscaling/v2")
        if not any(selects(p["spec"].get("selector"), labels) for p in pdbs):
            err(dep, "no PodDisruptionBudget selects it")
        if not any(np["spec"].get("podSelector") and selects(np["spec"]["podSelector"], labels) for np in nps):
            err(dep, "no NetworkPolicy of its own")
        if not any(selects({"matchLabels": s["spec"].get("selector", {})}, labels) for s in services):
            err(dep, "no Service selects it")

    for ing in by_kind.get("Ingress", []):
        if not ing["spec"].get("tls"):
            err(ing, "Ingress without TLS")
        if "cert-manager.io/cluster-issuer" not in (ing["metadata"].get("annotations") or {}):
            err(ing, "Ingress without cert-manager.io/cluster-issuer")

    for cm in by_kind.get("ConfigMap", []):
        data = cm.get("data") or {}
        if str(data.get("TRUST_PROXY_HEADERS", "")).lower() == "true":
            # Every address in TRUSTED_PROXIES can pick the client IP that rate limits count on.
            proxies = [c.strip() for c in str(data.get("TRUSTED_PROXIES", "")).split(",") if c.strip()]
            if not proxies:
                err(cm, "TRUST_PROXY_HEADERS=true without TRUSTED_PROXIES (the ingress controller's pod CIDRs)")
            for c in proxies:
                if c in ("0.0.0.0/0", "::/0") or c.endswith("/0"):
                    err(cm, f"TRUSTED_PROXIES trusts every address ({c})")
        # Whoever answers the JWKS URL can mint tokens: https only, never the dev escape hatch.
        jwks = str(data.get("JWT_JWKS_URL", ""))
        if jwks and not jwks.startswith("https://"):
            err(cm, f"JWT_JWKS_URL must be https (got {jwks}); prefer JWT_PUBLIC_KEYS from the Secret")
        if str(data.get("JWT_JWKS_ALLOW_HTTP", "")).lower() in ("true", "1", "yes", "on"):
            err(cm, "JWT_JWKS_ALLOW_HTTP is for dev and tests only")

    for job in by_kind.get("Job", []):
        ann = job["metadata"].get("annotations") or {}
        if job["metadata"]["name"].endswith("-migrate"):
            if set(ann.get("helm.sh/hook", "").split(",")) != {"pre-install", "pre-upgrade"}:
                err(job, "migration must be a pre-install,pre-upgrade hook")
            if "argocd.argoproj.io/sync-wave" not in ann:
                err(job, "migration needs an ArgoCD sync-wave")
            if job["spec"]["template"]["spec"]["containers"][0].get("args") != ["migrate"]:
                err(job, "migration must run `admin-svc migrate`")

    service_accounts = {sa["metadata"]["name"] for sa in by_kind.get("ServiceAccount", [])}
    deployment_sas = {d["spec"]["template"]["spec"].get("serviceAccountName") for d in deployments}
    for cj in by_kind.get("CronJob", []):
        spec = cj["spec"]
        pod = spec["jobTemplate"]["spec"]["template"]
        labels = pod["metadata"].get("labels", {})
        if spec.get("concurrencyPolicy") != "Forbid":
            err(cj, f"concurrencyPolicy must be Forbid (got {spec.get('concurrencyPolicy')})")
        if pod["spec"].get("restartPolicy") not in ("Never", "OnFailure"):
            err(cj, "restartPolicy must be Never or OnFailure")
        sa = pod["spec"].get("serviceAccountName")
        if not sa or sa == "default" or sa not in service_accounts:
            err(cj, f"needs a ServiceAccount of its own rendered by the chart (got {sa})")
        elif sa in deployment_sas:
            err(cj, f"shares ServiceAccount {sa} with a Deployment; give it its own")
        if not any(np["spec"].get("podSelector") and selects(np["spec"]["podSelector"], labels)
                   and "Egress" in np["spec"].get("policyTypes", []) for np in nps):
            err(cj, "no NetworkPolicy of its own (with Egress rules)")
        for c in pod["spec"]["containers"]:
            if c.get("readinessProbe") or c.get("livenessProbe"):
                err(cj, f"container {c['name']}: a run-to-completion Job has no probes")

    for e in errors:
        print(f"POLICY: {e}")
    print(f"policy-check: {len(docs)} objects, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
