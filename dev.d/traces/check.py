#!/usr/bin/env python3
"""One trace across the running dev stack (./dev up with the OTLP sink).

Each check sends a request through the nginx gateway with a traceparent of
its own, as a tracing gateway would, then reads the spans every service
exported to the dev OTLP sink (tools/otlp-sink) and checks the chain:

  register:  caller -> user-svc server span -> ... -> sqs.SendMessage (producer)
             -> mailer email_job (consumer) -> ses.SendEmail (client),
             with MongoDB and Redis (rate limit) spans under the server
             span, and the trace id in
             user-svc's and the mailer's log lines;
  catalogue: caller -> admin-svc server span -> db.update_album and
             redis.PUBLISH (producer) -> song-svc "album:updated process"
             (consumer), and the trace id on admin-svc's audit line
             ("catalogue change committed").

Usage: check.py GATEWAY_URL SINK_URL LOG_DIR  (admin credentials in
CADENZA_DEMO_ADMIN_EMAIL / CADENZA_DEMO_ADMIN_PASSWORD). Prints one line per
check and exits non-zero on the first failure, with the spans it saw.
"""
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request


def call(method, url, body=None, headers=None, timeout=15):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def new_caller():
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


class Failed(Exception):
    pass


def spans_until(sink, trace_id, done, what, timeout=60):
    deadline = time.monotonic() + timeout
    spans = []
    while time.monotonic() < deadline:
        status, spans = call("GET", f"{sink}/traces/{trace_id}")
        if status == 200 and done(spans):
            return spans
        time.sleep(0.25)
    raise Failed(f"{what} did not arrive within {timeout}s; trace {trace_id} has:\n" + describe(spans))


def describe(spans):
    return "\n".join(
        f"  {s['service']:>10} {s['kind']:<9} {s['name']:<28} span {s['span_id']} parent {s['parent_span_id'] or '-'}"
        for s in spans or []
    )


def one(spans, what, **want):
    found = [s for s in spans if all(s.get(k) == v for k, v in want.items())]
    if len(found) != 1:
        raise Failed(f"expected one {what} ({want}), found {len(found)}:\n" + describe(spans))
    return found[0]


def descends(spans, span, ancestor):
    by_id = {s["span_id"]: s for s in spans}
    seen = 0
    while span and seen < 64:
        if span["span_id"] == ancestor["span_id"]:
            return True
        span = by_id.get(span["parent_span_id"])
        seen += 1
    return False


def expect(cond, msg, spans):
    if not cond:
        raise Failed(msg + "\n" + describe(spans))


def log_has(log_dir, name, trace_id, message=""):
    """Whether a line of NAME.log carries TRACE_ID (and MESSAGE)."""
    try:
        with open(os.path.join(log_dir, f"{name}.log"), errors="replace") as f:
            return any(trace_id in line and message in line for line in f)
    except FileNotFoundError:
        return False


def check_register(gw, sink, log_dir):
    trace_id, caller, tp = new_caller()
    email = f"trace-{secrets.token_hex(4)}@example.com"
    status, body = call("POST", f"{gw}/api/user/register",
                        {"email": email, "password": "Trace-Check-" + secrets.token_hex(8)},
                        {"traceparent": tp})
    if status not in (200, 201):
        raise Failed(f"register answered {status}: {body}")
    spans = spans_until(sink, trace_id,
                        lambda s: any(x["service"] == "mailer" and x["name"] == "ses.SendEmail" for x in s),
                        "the mailer's SES send")
    server = one(spans, "user-svc server span", service="user-svc", kind="server")
    expect(server["parent_span_id"] == caller, "user-svc's server span is not the caller's child", spans)
    expect(server["attributes"].get("path") == "/api/user/register", "the server span names another path", spans)
    mongo = [s for s in spans if s["service"] == "user-svc" and s["name"].startswith("mongodb.")]
    expect(mongo and all(descends(spans, s, server) for s in mongo),
           "no MongoDB span under user-svc's server span", spans)
    limits = [s for s in spans if s["service"] == "user-svc" and s["name"] == "redis.ratelimit"]
    expect(limits and all(descends(spans, s, server) for s in limits),
           "no Redis rate-limit span under user-svc's server span", spans)
    producer = one(spans, "SQS producer span", service="user-svc", name="sqs.SendMessage", kind="producer")
    expect(descends(spans, producer, server), "the SQS send is not in the request's span tree", spans)
    job = one(spans, "mailer consumer span", service="mailer", name="email_job", kind="consumer")
    expect(job["parent_span_id"] == producer["span_id"], "the mailer's job span is not the SQS send's child", spans)
    ses = one(spans, "SES span", service="mailer", name="ses.SendEmail", kind="client")
    expect(ses["parent_span_id"] == job["span_id"], "the SES send is not the job span's child", spans)
    for svc in ("user-svc", "mailer"):
        if not log_has(log_dir, svc, trace_id):
            raise Failed(f"no line of {log_dir}/{svc}.log carries trace id {trace_id}")
    return f"register -> SQS -> mailer: one trace {trace_id}, {len(spans)} spans (gateway caller, user-svc, {len(mongo)} MongoDB, {len(limits)} Redis, SQS, mailer, SES)"


def check_catalogue(gw, sink, log_dir):
    email = os.environ["CADENZA_DEMO_ADMIN_EMAIL"]
    password = os.environ["CADENZA_DEMO_ADMIN_PASSWORD"]
    status, body = call("POST", f"{gw}/api/user/login", {"email": email, "password": password})
    if status != 200 or not body.get("accessToken"):
        raise Failed(f"admin login answered {status}: {body}")
    auth = {"Authorization": f"Bearer {body['accessToken']}"}
    status, body = call("GET", f"{gw}/api/admin/album", headers=auth)
    albums = (body or {}).get("albums") if status == 200 else None
    if not albums:
        raise Failed(f"GET /api/admin/album answered {status} with no album (is the demo catalogue loaded?)")
    album = albums[0]
    trace_id, caller, tp = new_caller()
    # The same artist again: a real update and its event, no visible change.
    status, body = call("PATCH", f"{gw}/api/admin/album/{album['id']}", {"artist": album["artist"]},
                        {**auth, "traceparent": tp})
    if status != 200:
        raise Failed(f"PATCH album answered {status}: {body}")
    spans = spans_until(sink, trace_id,
                        lambda s: any(x["service"] == "song-svc" and x["kind"] == "consumer" for x in s),
                        "song-svc's event span")
    server = one(spans, "admin-svc server span", service="admin-svc", kind="server")
    expect(server["parent_span_id"] == caller, "admin-svc's server span is not the caller's child", spans)
    db = one(spans, "catalogue write span", service="admin-svc", name="db.update_album")
    expect(descends(spans, db, server), "the SQL write is not under the request", spans)
    publish = one(spans, "publish span", service="admin-svc", name="redis.PUBLISH", kind="producer")
    expect(descends(spans, publish, server), "the publish is not under the request", spans)
    consumer = one(spans, "song-svc consumer span", service="song-svc", kind="consumer")
    expect(consumer["name"] == "album:updated process", f"song-svc's span is {consumer['name']!r}", spans)
    expect(consumer["parent_span_id"] == publish["span_id"], "song-svc's event span is not the publish's child", spans)
    audit = "catalogue change committed"
    if not log_has(log_dir, "admin-svc", trace_id, audit):
        raise Failed(f"no {audit!r} line of {log_dir}/admin-svc.log carries trace id {trace_id}")
    return f"admin PATCH -> Redis Pub/Sub -> song-svc: one trace {trace_id}, {len(spans)} spans"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    gw, sink, log_dir = argv[1].rstrip("/"), argv[2].rstrip("/"), argv[3]
    passed = failed = 0
    for check in (check_register, check_catalogue):
        try:
            print(f"traces: ok   {check(gw, sink, log_dir)}")
            passed += 1
        except Failed as e:
            print(f"traces: FAIL {check.__name__}: {e}")
            failed += 1
    print(f"traces: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
