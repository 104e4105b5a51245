"""Run the chart's rendered output with `podman kube play` (issue 18).

Renders helm/cadenza with helm/cadenza/ci/kube-play-values.yaml plus the
addresses of the local infrastructure (`./dev infra`), then:

1. writes the Secrets the chart expects (`existingSecret`: no SealedSecrets
   controller here) with fresh keys and a database of its own, projected
   into the pods as the kubelet would (see `secret_volumes`);
2. runs the migration Job's pod template as a pod and requires exit 0;
3. plays every Deployment with its ConfigMap and Secret, on the host
   network, from the images 60-deploy built (localhost/cadenza/NAME:dev);
4. requires each pod's readiness probe (path and named port as rendered;
   a worker's startup probe, as it has none) to answer 200, and each
   Service's port to resolve to a container port that answers. The media
   worker reads a queue of its own, created here and deleted afterwards
   (it consumes: the dev stack's queue is never touched);
5. plays the chart's `helm test` pod (Service names resolved to the host's
   loopback by a mounted /etc/hosts, in place of cluster DNS) and requires
   every container to exit 0;
6. tears everything down: SIGTERM must stop each service container with
   exit 0 within the grace period.

Kinds podman cannot represent are listed, not run (helm/README.md).

Usage: kube-play.py HELM CHART OUTDIR [HELM-TEMPLATE-ARGS...]
       (env: CADENZA_* from .dev/env)
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

PLAYED = {"Deployment", "ConfigMap"}
NOT_PLAYED = {
    "NetworkPolicy": "no policy engine in podman (checked statically by the policy checks)",
    "PodDisruptionBudget": "no evictions in podman",
    "HorizontalPodAutoscaler": "no metrics server in podman",
    "ServiceAccount": "no API server; the pods never mount a token",
    "Ingress": "no ingress controller; the services are reached on their ports",
    "HTTPRoute": "no Gateway controller",
    "Service": "no cluster networking: its ports are resolved to the pods' container ports and called",
}
DB = "cadenza_kubeplay"
NAMESPACE = "kubeplay"
MEDIA_QUEUE = "cadenza-kubeplay-media"


def log(msg: str) -> None:
    print(f"[kube-play] {msg}", flush=True)


def fail(msg: str) -> None:
    print(f"[kube-play] FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        fail(f"{' '.join(cmd[:4])} ...: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        fail(f"{name} is not set: run under ./dev test (./dev infra up)")
    return v


def openssl_key(kind: str, out: Path) -> tuple[str, str]:
    if kind == "rsa":
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(out))
    else:
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(out))
    pub = run("openssl", "pkey", "-in", str(out), "-pubout").stdout
    return out.read_text(), pub


def pg_url(admin: str, db: str) -> str:
    # postgres://user@host:port/postgres -> .../<db>
    return admin.rsplit("/", 1)[0] + "/" + db


def http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return 0


def sqs(endpoint: str, action: str, **params: str) -> ET.Element:
    """One SQS query-API call to the local emulator (moto takes it unsigned)."""
    body = urllib.parse.urlencode({"Action": action, "Version": "2012-11-05", **params}).encode()
    # moto routes an unsigned request by its credential scope: name the service.
    scope = f"test/{time.strftime('%Y%m%d', time.gmtime())}/us-east-1/sqs/aws4_request"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=00",
    }
    req = urllib.request.Request(endpoint, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        fail(f"SQS {action} at {endpoint}: {e.code} {e.read()[:500]!r}")
    except (urllib.error.URLError, OSError) as e:
        fail(f"SQS {action} at {endpoint}: {e}")
    raise AssertionError


def create_queue(endpoint: str, name: str) -> str:
    root = sqs(endpoint, "CreateQueue", QueueName=name)
    url = next((e.text for e in root.iter() if e.tag.endswith("QueueUrl")), None)
    if not url:
        fail(f"SQS CreateQueue {name}: no QueueUrl in {ET.tostring(root)[:300]!r}")
    return url


def ready_probe(container: dict) -> dict:
    """The probe that makes a pod ready: its readiness probe, or (a queue
    worker, which has none) the startup probe after which it counts as ready."""
    probe = container.get("readinessProbe") or container.get("startupProbe")
    if not probe:
        fail(f"container {container['name']}: neither a readiness nor a startup probe")
    return probe


def named_port(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    fail(f"container {container['name']}: no port named {port!r}")
    return 0


def pod_of(job: dict) -> dict:
    """A Job's pod template as a Pod (podman plays no Jobs)."""
    t = job["spec"]["template"]
    meta = {"name": job["metadata"]["name"], "labels": t.get("metadata", {}).get("labels", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": t["spec"]}


def wait_exited(pod: str, limit: float) -> dict[str, int]:
    """Exit codes of a pod's containers (infra container left out) once all exited."""
    deadline = time.monotonic() + limit
    while True:
        r = run("podman", "pod", "inspect", pod)
        info = json.loads(r.stdout)
        info = info[0] if isinstance(info, list) else info
        ids = [c["Id"] for c in info.get("Containers", []) if c["Id"] != info.get("InfraContainerID")]
        states = [json.loads(run("podman", "inspect", i).stdout)[0] for i in ids]
        if states and all(not s["State"]["Running"] and s["State"]["Status"] in ("exited", "stopped") for s in states):
            return {s["Name"]: s["State"]["ExitCode"] for s in states}
        if time.monotonic() > deadline:
            fail(f"pod {pod}: containers still running after {limit:.0f}s")
        time.sleep(0.5)


# Debian's busybox-static 1.35 crashes on `wget -T` (the chart's test image,
# busybox 1.37, does not): the stand-in's `wget` keeps the timeout with the
# `timeout` applet instead.
WGET = """#!/bin/busybox sh
t=5; set -- "$@" --
while [ "$1" != -- ]; do
  case $1 in -T) t=$2; shift 2 ;; *) set -- "$@" "$1"; shift ;; esac
done
shift
exec /bin/busybox timeout "$t" /bin/busybox wget "$@"
"""


def test_image(tag: str) -> None:
    """The test pod's image (no registry here): a static busybox with `wget`."""
    ctx = Path(tempfile.mkdtemp())
    (ctx / "busybox").write_bytes(Path("/bin/busybox").read_bytes())
    (ctx / "busybox").chmod(0o755)
    (ctx / "wget").write_text(WGET)
    (ctx / "wget").chmod(0o755)
    (ctx / "Containerfile").write_text(
        "FROM scratch\nCOPY busybox wget /bin/\nUSER 10001:10001\n"
    )
    run("podman", "build", "--pull=never", "-q", "-t", tag, str(ctx))


def secret_volumes(objs: list[dict], secrets: dict[str, dict[str, str]], root: Path) -> None:
    """Secret volumes as the kubelet would project them, in directories.

    podman 4.3's own secret volumes cannot stand in: they panic on an unset
    `optional`, mount the values still base64-encoded, and keep a stale copy
    in a named volume. So each secret volume becomes a hostPath directory
    holding the Secret's keys (or the volume's `items`) as files, with the
    volume's `defaultMode`, owned by the pod's `fsGroup`.
    """
    for o in objs:
        spec = o.get("spec", {})
        spec = spec.get("template", {}).get("spec", spec)
        group = spec.get("securityContext", {}).get("fsGroup", 0)
        for v in spec.get("volumes", []):
            src = v.pop("secret", None)
            if src is None:
                continue
            data = secrets.get(src["secretName"])
            if data is None:
                fail(f"{o['kind']} {o['metadata']['name']}: no Secret {src['secretName']}")
            items = src.get("items") or [{"key": k, "path": k} for k in data]
            d = root / f"{o['metadata']['name']}-{v['name']}"
            d.mkdir(parents=True, exist_ok=True)
            os.chown(d, 0, group)
            d.chmod(0o750)
            for it in items:
                if it["key"] not in data:
                    fail(f"{o['kind']} {o['metadata']['name']}: Secret {src['secretName']} has no key {it['key']}")
                f = d / it["path"]
                f.write_text(data[it["key"]])
                os.chown(f, 0, group)
                f.chmod(it.get("mode", src.get("defaultMode", 0o644)))
            v["hostPath"] = {"path": str(d), "type": "Directory"}


def pod_named(name: str) -> str:
    """The pod podman made for a Pod or Deployment `name` (podman names a
    Deployment's pod `<name>-pod-0` in 4.3, `<name>-pod` later)."""
    names = run("podman", "pod", "ps", "--format", "{{.Name}}").stdout.split()
    for candidate in (name, f"{name}-pod", f"{name}-pod-0"):
        if candidate in names:
            return candidate
    fail(f"no pod for {name} among {names}")
    return ""


def host_network_ports(objs: list[dict]) -> None:
    """podman 4.3 publishes every `containerPort`, which a host-network pod
    refuses: the played copy drops the port list and gives the probes the
    port numbers their names stood for (the pods listen on them anyway)."""
    for o in objs:
        spec = o.get("spec", {})
        spec = spec.get("template", {}).get("spec", spec)
        for c in spec.get("containers", []):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = c.get(probe, {}).get("httpGet")
                if get:
                    get["port"] = named_port(c, get["port"])
            c.pop("ports", None)


def play(path: Path, *extra: str) -> list[str]:
    r = run("podman", "kube", "play", "--network", "host", *extra, str(path))
    return [line.strip() for line in r.stdout.splitlines()]


def main() -> None:
    helm, chart, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    # Further arguments go to `helm template` (the self-test breaks the
    # chart's output with them and requires this script to fail).
    extra = sys.argv[4:]
    out.mkdir(parents=True, exist_ok=True)
    pg_admin = env("CADENZA_PG_ADMIN_URL")
    redis = env("CADENZA_REDIS_URL")
    mongo = env("CADENZA_MONGODB_URI")
    s3 = env("CADENZA_S3_ENDPOINT")
    aws = env("CADENZA_AWS_ENDPOINT")
    queue = env("CADENZA_SQS_QUEUE_URL")
    # The worker's own queue (it receives and deletes messages: never the dev stack's).
    media_queue = create_queue(aws, MEDIA_QUEUE)

    rendered = run(
        helm, "template", "cadenza", str(chart), "--namespace", "cadenza-kubeplay",
        "-f", str(chart / "ci" / "kube-play-values.yaml"),
        "--set-string", f"config.REDIS_NAMESPACE={NAMESPACE}",
        "--set-string", f"services.user.config.SQS_EMAIL_QUEUE_URL={queue}",
        "--set-string", f"services.user.config.AWS_ENDPOINT_URL_SQS={aws}",
        "--set-string", f"services.admin.config.AWS_ENDPOINT_URL_S3={s3}",
        "--set-string", f"services.admin.config.AWS_ENDPOINT_URL_SQS={aws}",
        "--set-string", f"mediaWorker.queueUrl={media_queue}",
        "--set-string", f"mediaWorker.config.AWS_ENDPOINT_URL_S3={s3}",
        "--set-string", f"mediaWorker.config.AWS_ENDPOINT_URL_SQS={aws}",
        # The emulators' dummy credentials, standing in for IRSA (in a
        # cluster the role's web identity token; never keys in a ConfigMap).
        "--set-string", f"config.AWS_ACCESS_KEY_ID={env('AWS_ACCESS_KEY_ID')}",
        "--set-string", f"config.AWS_SECRET_ACCESS_KEY={env('AWS_SECRET_ACCESS_KEY')}",
        *extra,
    ).stdout
    (out / "rendered.yaml").write_text(rendered)
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in sorted(by_kind):
        if kind in PLAYED or kind in ("Job", "Pod"):
            continue
        if kind not in NOT_PLAYED:
            fail(f"the chart renders {kind}, which this script neither plays nor lists as unplayable")
        log(f"not played: {len(by_kind[kind])} {kind} ({NOT_PLAYED[kind]})")

    # Secrets, named as the values' existingSecret, with fresh keys.
    tmp = Path(tempfile.mkdtemp())
    jwt_priv, jwt_pub = openssl_key("rsa", tmp / "jwt.pem")
    cf_priv, _ = openssl_key("ec", tmp / "cf.pem")
    db_url = pg_url(pg_admin, DB)
    secrets = {
        "cadenza-kubeplay-user": {
            "MONGODB_URI": mongo, "REDIS_URL": redis,
            "JWT_PRIVATE_KEY": jwt_priv, "JWT_PUBLIC_KEYS": jwt_pub,
        },
        "cadenza-kubeplay-admin": {"DATABASE_URL": db_url, "REDIS_URL": redis, "JWT_PUBLIC_KEYS": jwt_pub},
        "cadenza-kubeplay-song": {
            "DATABASE_URL": db_url, "REDIS_URL": redis,
            "CLOUDFRONT_PRIVATE_KEY": cf_priv, "JWT_PUBLIC_KEYS": jwt_pub,
        },
        "cadenza-kubeplay-migrate": {"DATABASE_URL": db_url},
        "cadenza-kubeplay-media-worker": {"DATABASE_URL": db_url, "REDIS_URL": redis},
    }
    files: list[Path] = []

    def write(name: str, objs: list[dict]) -> Path:
        # The played copy only: the checks below read the chart's own output.
        objs = copy.deepcopy(objs)
        secret_volumes(objs, secrets, tmp / "secrets")
        host_network_ports(objs)
        p = out / name
        p.write_text(yaml.safe_dump_all(objs, sort_keys=False))
        files.append(p)
        return p

    run("psql", pg_admin, "-qc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    run("psql", pg_admin, "-qc", f"CREATE DATABASE {DB}")
    try:
        # 1. The migration Job's pod (a PreSync hook: first).
        jobs = by_kind.get("Job", [])
        if len(jobs) != 1:
            fail(f"expected the one migration Job, got {len(jobs)}")
        job = pod_of(jobs[0])
        play(write("migrate.yaml", [job]))
        codes = wait_exited(pod_named(job["metadata"]["name"]), 120)
        if any(codes.values()):
            logs = run("podman", "pod", "logs", pod_named(job["metadata"]["name"]), check=False).stdout
            fail(f"migration pod exited {codes}\n{logs[-3000:]}")
        log(f"migration Job's pod exited 0 ({', '.join(codes)})")

        # 2. The services.
        deployments = by_kind["Deployment"]
        play(write("services.yaml", by_kind.get("ConfigMap", []) + deployments))
        probes: dict[str, tuple[int, str]] = {}
        for d in deployments:
            c = d["spec"]["template"]["spec"]["containers"][0]
            get = ready_probe(c)["httpGet"]
            probes[d["metadata"]["name"]] = (named_port(c, get["port"]), get["path"])
        ready_within = float(os.environ.get("KUBE_PLAY_READY_SECONDS", "90"))
        deadline = time.monotonic() + ready_within
        pending = dict(probes)
        while pending and time.monotonic() < deadline:
            for name, (port, path) in list(pending.items()):
                if http_status(f"http://127.0.0.1:{port}{path}") == 200:
                    log(f"{name}: ready (GET :{port}{path} 200)")
                    del pending[name]
            time.sleep(0.5)
        if pending:
            for name in pending:
                print(f"[kube-play] {name}: readiness GET :{pending[name][0]}{pending[name][1]} never answered 200", file=sys.stderr)
                logs = run("podman", "pod", "logs", pod_named(name), check=False)
                print(logs.stdout[-3000:], logs.stderr[-1000:], file=sys.stderr)
            fail(f"not ready within {ready_within:.0f} s: {', '.join(pending)}")

        # 3. Each Service's port resolves to a container port that answers.
        selected = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: d for d in deployments}
        hosts = []
        for svc in by_kind.get("Service", []):
            target = selected.get(svc["spec"]["selector"].get("app.kubernetes.io/name"))
            if target is None:
                fail(f"Service {svc['metadata']['name']} selects no Deployment")
            c = target["spec"]["template"]["spec"]["containers"][0]
            for p in svc["spec"]["ports"]:
                port = named_port(c, p.get("targetPort", p["port"]))
                if port != p["port"]:
                    fail(f"Service {svc['metadata']['name']}: port {p['port']} -> {port}; "
                         "the pods share the host network here, so only equal ports can be called")
                if http_status(f"http://127.0.0.1:{port}/healthz") != 200:
                    fail(f"Service {svc['metadata']['name']}: :{port}/healthz does not answer 200")
            hosts.append(svc["metadata"]["name"])
        log(f"Services {', '.join(hosts)}: ports resolve to named container ports that answer")

        # 4. helm test: the chart's test pod.
        tests = [p for p in by_kind.get("Pod", []) if "test" in p["metadata"].get("annotations", {}).get("helm.sh/hook", "")]
        if len(tests) != 1:
            fail(f"expected the chart's one helm test pod, got {len(tests)}")
        test = copy.deepcopy(tests[0])
        test_image(test["spec"]["containers"][0]["image"])
        # Cluster DNS stood in for by an /etc/hosts naming every Service
        # (podman 4.3 drops a host-network pod's hostAliases, and manages
        # /etc/hosts itself unless a file is mounted there).
        dns = tmp / "hosts"
        dns.write_text(f"127.0.0.1 localhost {' '.join(hosts)}\n")
        dns.chmod(0o644)
        test["spec"].setdefault("volumes", []).append(
            {"name": "cluster-dns", "hostPath": {"path": str(dns), "type": "File"}}
        )
        for c in test["spec"]["containers"]:
            c.setdefault("volumeMounts", []).append(
                {"name": "cluster-dns", "mountPath": "/etc/hosts", "readOnly": True}
            )
        play(write("helm-test.yaml", [test]))
        codes = wait_exited(pod_named(test["metadata"]["name"]), 60)
        if any(codes.values()):
            logs = run("podman", "pod", "logs", pod_named(test["metadata"]["name"]), check=False).stdout
            fail(f"helm test pod: {codes}\n{logs[-2000:]}")
        log(f"helm test pod: every container exited 0 ({len(codes)} services via their Service names)")

        # 5. SIGTERM stops every service container with 0 within the grace period.
        for d in deployments:
            pod = pod_named(d["metadata"]["name"])
            grace = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
            t0 = time.monotonic()
            run("podman", "pod", "stop", "-t", str(grace), pod)
            codes = wait_exited(pod, grace + 5)
            if any(codes.values()):
                fail(f"{pod}: exit codes after SIGTERM {codes} (137: SIGKILLed after the grace period)")
            log(f"{pod}: stopped by SIGTERM in {time.monotonic() - t0:.1f}s, exit 0")
    finally:
        for f in reversed(files):
            run("podman", "kube", "down", str(f), check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        run("psql", pg_admin, "-qc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", check=False)
        try:
            sqs(aws, "DeleteQueue", QueueUrl=media_queue)
        except SystemExit:
            log(f"could not delete {media_queue}")


if __name__ == "__main__":
    main()
