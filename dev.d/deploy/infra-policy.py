#!/usr/bin/env python3
"""Security and contract assertions on infra/*.yaml that moto cannot show.

Usage: infra-policy.py INFRA_DIR GITLAB_CI_FILE

moto's CloudFormation does not apply bucket policies, public-access blocks,
versioning, lifecycles, CloudFront or alarms (dev.d/test/62-infra.sh prints
the list), so these are asserted on the templates themselves:
  - every bucket: no ACL grant, all four public-access blocks, SSE, versioning,
    noncurrent versions expire, and a bucket policy that denies non-TLS access
    to the bucket and its objects and allows no anonymous principal;
  - every queue encrypted; the email queue redrives after exactly 5 receives;
  - CloudFront: HTTPS only, TLS 1.2 (2021 policy) minimum, S3 origins through
    OAC, the media distribution trusts a key group, the app one routes /api/*
    to an https-only custom origin;
  - the mailer: architecture = the pipeline's build target, an SQS mapping
    with ReportBatchItemFailures, the idempotency table (pk, TTL expires_at)
    named by IDEMPOTENCY_TABLE, alarms on DLQ depth and function errors;
  - IAM: no Allow of "*" actions or service wildcards on "*".
  - backups: the backup bucket locks every version (Object Lock) and expires
    backups; a role may touch it only with s3:PutObject, s3:GetObject and
    s3:ListBucket, and a role that writes backups may do nothing else with
    them (it can never read, list or delete one).
Prints one line per violation and exits 1 if there is any.
"""

import glob
import json
import re
import sys

from cfnlint.decode import cfn_yaml

ERRORS = []


def err(path, msg):
    ERRORS.append(f"POLICY {path}: {msg}")


def refs(node):
    """Logical ids a value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    out = set()
    if isinstance(node, dict):
        if "Ref" in node:
            out.add(node["Ref"])
        if "Fn::GetAtt" in node:
            g = node["Fn::GetAtt"]
            out.add(g[0] if isinstance(g, list) else g.split(".")[0])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            out |= {m.split(".")[0] for m in re.findall(r"\$\{([A-Za-z0-9.]+)\}", text)}
        for v in node.values():
            out |= refs(v)
    elif isinstance(node, list):
        for v in node:
            out |= refs(v)
    return out


def as_list(x):
    return x if isinstance(x, list) else [x]


def check_buckets(path, res):
    policies = {}
    for lid, r in res.items():
        if r["Type"] == "AWS::S3::BucketPolicy":
            for b in refs(r["Properties"].get("Bucket")):
                policies[b] = r["Properties"].get("PolicyDocument", {})
    for lid, r in res.items():
        if r["Type"] != "AWS::S3::Bucket":
            continue
        p = r.get("Properties", {})
        if "AccessControl" in p and p["AccessControl"] not in ("Private", "BucketOwnerFullControl"):
            err(path, f"{lid}: AccessControl {p['AccessControl']} grants access by ACL")
        pab = p.get("PublicAccessBlockConfiguration", {})
        for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            if pab.get(k) is not True:
                err(path, f"{lid}: PublicAccessBlockConfiguration.{k} is not true")
        if not p.get("BucketEncryption"):
            err(path, f"{lid}: no BucketEncryption")
        if p.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            err(path, f"{lid}: versioning is not Enabled")
        rules = p.get("LifecycleConfiguration", {}).get("Rules", [])
        if not any("NoncurrentVersionExpiration" in x or "NoncurrentVersionExpirationInDays" in x for x in rules):
            err(path, f"{lid}: no lifecycle rule expires noncurrent versions")
        doc = policies.get(lid)
        if doc is None:
            err(path, f"{lid}: no AWS::S3::BucketPolicy (TLS-only access is not enforced)")
            continue
        tls = False
        for st in as_list(doc.get("Statement", [])):
            principal = st.get("Principal")
            if st.get("Effect") == "Allow" and principal in ("*", {"AWS": "*"}):
                err(path, f"{lid}: bucket policy allows an anonymous principal ({st.get('Sid')})")
            cond = st.get("Condition", {}).get("Bool", {})
            if (st.get("Effect") == "Deny" and principal == "*" and "s3:*" in as_list(st.get("Action"))
                    and str(cond.get("aws:SecureTransport")).lower() == "false"):
                covered = [json.dumps(x) for x in as_list(st.get("Resource"))]
                tls = any("/*" not in c for c in covered) and any("/*" in c for c in covered)
        if not tls:
            err(path, f"{lid}: bucket policy lacks a Deny of s3:* without aws:SecureTransport on the bucket and its objects")


def check_queues(path, res):
    for lid, r in res.items():
        if r["Type"] != "AWS::SQS::Queue":
            continue
        p = r.get("Properties", {})
        if p.get("SqsManagedSseEnabled") is not True and not p.get("KmsMasterKeyId"):
            err(path, f"{lid}: queue not encrypted at rest")
        if "RedrivePolicy" in p and int(p["RedrivePolicy"].get("maxReceiveCount", 0)) != 5:
            err(path, f"{lid}: maxReceiveCount {p['RedrivePolicy'].get('maxReceiveCount')} (contract: 5)")


def check_cloudfront(path, res):
    dists = {lid: r["Properties"]["DistributionConfig"] for lid, r in res.items()
             if r["Type"] == "AWS::CloudFront::Distribution"}
    for lid, d in dists.items():
        if d.get("ViewerCertificate", {}).get("MinimumProtocolVersion") != "TLSv1.2_2021":
            err(path, f"{lid}: MinimumProtocolVersion is not TLSv1.2_2021")
        behaviours = [d.get("DefaultCacheBehavior", {})] + d.get("CacheBehaviors", [])
        for b in behaviours:
            if b.get("ViewerProtocolPolicy") not in ("https-only", "redirect-to-https"):
                err(path, f"{lid}: behaviour {b.get('PathPattern', 'default')} allows plain HTTP")
        origins = {o["Id"]: o for o in d.get("Origins", [])}
        for o in origins.values():
            if "S3OriginConfig" in o and (not o.get("OriginAccessControlId") or o["S3OriginConfig"].get("OriginAccessIdentity")):
                err(path, f"{lid}: S3 origin {o['Id']} not through Origin Access Control")
            if "CustomOriginConfig" in o and o["CustomOriginConfig"].get("OriginProtocolPolicy") != "https-only":
                err(path, f"{lid}: custom origin {o['Id']} not https-only")
        default_origin = origins.get(d.get("DefaultCacheBehavior", {}).get("TargetOriginId"), {})
        if "MediaBucket" in refs(default_origin) and not d["DefaultCacheBehavior"].get("TrustedKeyGroups"):
            err(path, f"{lid}: media served without TrustedKeyGroups (signed URLs not required)")
    if dists:
        api = [b for d in dists.values() for b in d.get("CacheBehaviors", []) if b.get("PathPattern") == "/api/*"]
        if not api:
            err(path, "no CloudFront behaviour routes /api/* to the cluster")


def check_mailer(path, tmpl, ci_text):
    res = tmpl["Resources"]
    fns = {lid: r for lid, r in res.items() if r["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")}
    if not fns:
        return
    target = re.search(r"--target (x86_64|aarch64)-unknown-linux-musl -p mailer", ci_text)
    want = {"x86_64": "x86_64", "aarch64": "arm64"}.get(target.group(1) if target else "", None)
    if want is None:
        err(path, "cannot find the mailer's musl build target in .gitlab-ci.yml")
    glob_fn = tmpl.get("Globals", {}).get("Function", {})
    for lid, r in fns.items():
        p = {**glob_fn, **r.get("Properties", {})}
        if want and p.get("Architectures") != [want]:
            err(path, f"{lid}: Architectures {p.get('Architectures')} but CI builds {want}")
        if p.get("Runtime") != "provided.al2023" or p.get("Handler") != "bootstrap":
            err(path, f"{lid}: must be provided.al2023 with handler bootstrap")
        env = p.get("Environment", {}).get("Variables", {})
        table = env.get("IDEMPOTENCY_TABLE")
        tid = next(iter(refs(table)), None) if table else None
        t = res.get(tid, {})
        if t.get("Type") != "AWS::DynamoDB::Table":
            err(path, f"{lid}: IDEMPOTENCY_TABLE does not name a DynamoDB table of this template")
        else:
            tp = t["Properties"]
            if tp.get("KeySchema") != [{"AttributeName": "pk", "KeyType": "HASH"}]:
                err(path, f"{tid}: key must be pk (HASH)")
            if tp.get("TimeToLiveSpecification") != {"AttributeName": "expires_at", "Enabled": True}:
                err(path, f"{tid}: TTL must be enabled on expires_at")
        maps = [m for m in res.values() if m["Type"] == "AWS::Lambda::EventSourceMapping" and lid in refs(m["Properties"].get("FunctionName"))]
        if not maps or any(m["Properties"].get("FunctionResponseTypes") != ["ReportBatchItemFailures"] for m in maps):
            err(path, f"{lid}: its SQS mapping must report batch item failures")
    alarms = [r["Properties"] for r in res.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    dlqs = {m for r in res.values() if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r.get("Properties", {})
            for m in refs(r["Properties"]["RedrivePolicy"].get("deadLetterTargetArn"))}
    if not any(a.get("MetricName") == "ApproximateNumberOfMessagesVisible" and a.get("AlarmActions")
               and dlqs & refs(a.get("Dimensions")) and a.get("ComparisonOperator") == "GreaterThanThreshold"
               and a.get("Threshold") == 0 for a in alarms):
        err(path, "no alarm (with an action) on the DLQ's depth > 0")
    if not any(a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == "Errors" and a.get("AlarmActions")
               for a in alarms):
        err(path, "no alarm (with an action) on the mailer's Errors")


def check_iam(path, res):
    for lid, r in res.items():
        if r["Type"] != "AWS::IAM::Role":
            continue
        for pol in r["Properties"].get("Policies", []):
            for st in as_list(pol["PolicyDocument"].get("Statement", [])):
                if st.get("Effect") != "Allow":
                    continue
                actions = as_list(st.get("Action", []))
                if any(a == "*" or a.endswith(":*") for a in actions):
                    err(path, f"{lid}/{pol['PolicyName']}: wildcard action {actions}")
                if "*" in as_list(st.get("Resource", [])):
                    err(path, f"{lid}/{pol['PolicyName']}: Resource \"*\"")


BACKUP_ACTIONS = {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}


def check_backups(path, res):
    for lid, r in res.items():
        if r["Type"] != "AWS::S3::Bucket" or "backups" not in json.dumps(r["Properties"].get("BucketName", "")):
            continue
        p = r["Properties"]
        lock = p.get("ObjectLockConfiguration", {})
        mode = lock.get("Rule", {}).get("DefaultRetention", {}).get("Mode")
        if p.get("ObjectLockEnabled") is not True or lock.get("ObjectLockEnabled") != "Enabled" or mode not in ("GOVERNANCE", "COMPLIANCE"):
            err(path, f"{lid}: backups without Object Lock default retention")
        if not any("ExpirationInDays" in x for x in p.get("LifecycleConfiguration", {}).get("Rules", [])):
            err(path, f"{lid}: no lifecycle rule expires backups")
    for lid, r in res.items():
        if r["Type"] != "AWS::IAM::Role":
            continue
        actions = set()
        for pol in r["Properties"].get("Policies", []):
            for st in as_list(pol["PolicyDocument"].get("Statement", [])):
                if st.get("Effect") == "Allow" and "BackupBucketName" in refs(st.get("Resource")):
                    actions |= set(as_list(st.get("Action", [])))
        if actions - BACKUP_ACTIONS:
            err(path, f"{lid}: may {sorted(actions - BACKUP_ACTIONS)} on the backup bucket (only {sorted(BACKUP_ACTIONS)})")
        if "s3:PutObject" in actions and actions != {"s3:PutObject"}:
            err(path, f"{lid}: writes backups and may also {sorted(actions - {'s3:PutObject'})} them (the writer must be write-only)")


def main(infra_dir, ci_file):
    ci_text = open(ci_file).read()
    files = sorted(glob.glob(f"{infra_dir}/*.yaml"))
    if not files:
        err(infra_dir, "no templates")
    for path in files:
        tmpl = json.loads(json.dumps(cfn_yaml.load(path)))
        res = tmpl.get("Resources", {})
        check_buckets(path, res)
        check_queues(path, res)
        check_cloudfront(path, res)
        check_mailer(path, tmpl, ci_text)
        check_iam(path, res)
        check_backups(path, res)
    for e in ERRORS:
        print(e)
    print(f"infra policy: {len(files)} templates, {len(ERRORS)} violation(s)")
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
