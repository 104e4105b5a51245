#!/usr/bin/env python3
"""Deploy infra/*.yaml into a moto server and check what it built.

Usage: infra-moto.py ENDPOINT_URL

edge.yaml, mailer.yaml (SAM: transformed first with aws-sam-translator, the
library `sam deploy` uses, after the code zip is uploaded to moto's S3) and
iam.yaml are created as stacks with staging parameters, in dependency order
(outputs feed the next stack, as infra/README.md does by hand). Each stack must
reach CREATE_COMPLETE; then the key resources are read back through their own
service APIs. Resource types moto's CloudFormation does not implement are
reported by name (moto skips them with a warning): they are checked by
cfn-lint, sam validate and checkov only.
"""

import ast
import io
import json
import os
import re
import urllib.parse
import sys
import time
import zipfile

import boto3
from cfnlint.decode import cfn_yaml
from moto.cloudformation.parsing import get_model_map
from samtranslator.translator.transform import transform as sam_transform

REGION = "eu-west-1"
ENV = "staging"
DOMAIN = "staging.cadenza.example.com"
FAILURES = []
UNSUPPORTED = {}
# aws-sam-translator resolves AWS::Region from the default session.
os.environ["AWS_DEFAULT_REGION"] = REGION
IGNORED = []


def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def policy(doc):
    """A policy document as IAM returns it: a dict, or (URL-encoded) JSON text.

    moto returns an inline role policy created by CloudFormation as a Python repr.
    """
    if not isinstance(doc, str):
        return doc
    text = urllib.parse.unquote(doc)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text)


def client(name, endpoint):
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test")


def load(path):
    # cfn-lint's loader understands the short intrinsic tags (!Sub, !GetAtt ...).
    return json.loads(json.dumps(cfn_yaml.load(path)))


class NoManagedPolicies:
    """The templates attach no AWS managed policy by name; refuse if one appears."""

    def load(self):
        return {}


def for_moto(template):
    """Drop the resource types moto's CloudFormation does not implement.

    moto would skip them itself, but then fails the whole stack on a GetAtt of
    one in Outputs; references to them become visible placeholders instead.
    Returns the adapted template and {logical id: type} of what was dropped.
    """
    known = get_model_map()
    dropped = {lid: r["Type"] for lid, r in template["Resources"].items() if r["Type"] not in known}

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in dropped:
                return f"moto-unsupported-{node['Ref']}"
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in dropped:
                return "moto-unsupported-" + ".".join(node["Fn::GetAtt"])
            if set(node) == {"Fn::Sub"}:
                arg = node["Fn::Sub"]
                text = arg if isinstance(arg, str) else arg[0]
                for lid in dropped:
                    text = re.sub(r"\$\{" + lid + r"(\.[A-Za-z0-9.]+)?\}", f"moto-unsupported-{lid}", text)
                return {"Fn::Sub": text if isinstance(arg, str) else [text, walk(arg[1])]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk({k: v for k, v in template.items() if k != "Resources"})
    out["Resources"] = {}
    for lid, res in template["Resources"].items():
        if lid in dropped:
            continue
        res = walk(res)
        deps = res.get("DependsOn")
        if deps:
            deps = [d for d in ([deps] if isinstance(deps, str) else deps) if d not in dropped]
            res["DependsOn"] = deps
            if not deps:
                del res["DependsOn"]
        out["Resources"][lid] = res
    return out, dropped


def create(cfn, name, template, params):
    template, dropped = for_moto(template)
    if dropped:
        UNSUPPORTED[name] = dropped
    body = json.dumps(template)
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    status = "?"
    for _ in range(120):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(0.5)
    check(status == "CREATE_COMPLETE", f"stack {name}: {status}")
    if status != "CREATE_COMPLETE":
        for ev in cfn.describe_stack_events(StackName=name)["StackEvents"][:10]:
            print("      ", ev.get("LogicalResourceId"), ev.get("ResourceStatus"), ev.get("ResourceStatusReason", ""))
        return {}
    created = {r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    missing = sorted(lid for lid, res in template["Resources"].items() if lid not in created and "Condition" not in res)
    check(not missing, f"stack {name}: every supported resource created {missing or ''}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(endpoint):
    cfn = client("cloudformation", endpoint)
    s3 = client("s3", endpoint)
    sqs = client("sqs", endpoint)
    ddb = client("dynamodb", endpoint)
    lam = client("lambda", endpoint)
    iam = client("iam", endpoint)
    account = client("sts", endpoint).get_caller_identity()["Account"]

    print("edge.yaml")
    pub = open(sys.argv[2]).read() if len(sys.argv) > 2 else None
    edge_params = {
        "EnvironmentName": ENV, "Domain": DOMAIN, "MediaDomain": "media." + DOMAIN,
        "ApiOriginDomain": "api." + DOMAIN,
        "CertificateArn": f"arn:aws:acm:us-east-1:{account}:certificate/0f0e0d0c-1111-2222-3333-444455556666",
        "SigningPublicKeyPem": pub,
    }
    edge = create(cfn, "cadenza-staging-edge", load("infra/edge.yaml"), edge_params)
    media = f"cadenza-{ENV}-media-{account}"
    if edge:
        check(edge.get("MediaBucketName") == media, f"output MediaBucketName = {media}")
        backups = f"cadenza-{ENV}-backups-{account}"
        check(edge.get("BackupBucketName") == backups, f"output BackupBucketName = {backups}")
        for bucket in (media, f"cadenza-{ENV}-frontend-{account}", f"cadenza-{ENV}-logs-{account}", backups):
            sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            check(sse[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", f"{bucket}: exists, SSE-S3")
            acl = s3.get_bucket_acl(Bucket=bucket)["Grants"]
            check(not any(g["Grantee"].get("URI", "").endswith(("AllUsers", "AuthenticatedUsers")) for g in acl),
                  f"{bucket}: no public ACL grant")
        # moto's AWS::S3::Bucket applies only BucketName, BucketEncryption and Tags.
        IGNORED.append("AWS::S3::Bucket VersioningConfiguration, PublicAccessBlockConfiguration, "
                       "LifecycleConfiguration, OwnershipControls, LoggingConfiguration, CorsConfiguration, "
                       "ObjectLockEnabled, ObjectLockConfiguration")

    print("mailer.yaml (SAM, transformed with aws-sam-translator)")
    code_bucket = f"cadenza-{ENV}-artifacts-{account}"
    s3.create_bucket(Bucket=code_bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # Stand-in for the mailer:zip job's artifact: moto stores code, it never runs it.
        z.writestr(zipfile.ZipInfo("bootstrap"), "#!/bin/sh\nexit 1\n")
    s3.put_object(Bucket=code_bucket, Key="mailer/bootstrap.zip", Body=buf.getvalue())
    sam = load("infra/mailer.yaml")
    sam["Resources"]["Mailer"]["Properties"]["CodeUri"] = f"s3://{code_bucket}/mailer/bootstrap.zip"
    mailer_params = {"EnvironmentName": ENV, "Domain": DOMAIN,
                     "AlarmTopicArn": f"arn:aws:sns:{REGION}:{account}:cadenza-oncall"}
    plain = sam_transform(sam, mailer_params, NoManagedPolicies())
    check("Transform" not in plain and not any(r["Type"].startswith("AWS::Serverless::")
                                               for r in plain["Resources"].values()),
          "SAM transform leaves plain CloudFormation")
    mailer = create(cfn, "cadenza-staging-mailer", plain, mailer_params)
    if mailer:
        q = mailer["EmailQueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attrs.get("RedrivePolicy", "{}"))
        check(int(redrive.get("maxReceiveCount", 0)) == 5, f"queue redrive maxReceiveCount = {redrive.get('maxReceiveCount')}")
        dlq_arn = sqs.get_queue_attributes(QueueUrl=mailer["EmailDLQUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        check(redrive.get("deadLetterTargetArn") == dlq_arn, "queue redrives into the DLQ")
        check(attrs.get("VisibilityTimeout") == "180", f"queue visibility timeout {attrs.get('VisibilityTimeout')} s")
        check(attrs.get("SqsManagedSseEnabled") == "true", "queue SSE-SQS on")
        table = mailer["IdempotencyTableName"]
        desc = ddb.describe_table(TableName=table)["Table"]
        check(desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
              and desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}],
              f"table {table}: key pk (S)")
        check(desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST", "table on-demand")
        IGNORED.append("AWS::DynamoDB::Table TimeToLiveSpecification (describe-time-to-live says DISABLED)")
        fn = lam.get_function_configuration(FunctionName=mailer["MailerFunctionName"])
        check(fn["Runtime"] == "provided.al2023" and fn["Handler"] == "bootstrap", "function provided.al2023, bootstrap")
        check(fn.get("Architectures") == ["x86_64"], f"function architecture {fn.get('Architectures')}")
        check(fn["Environment"]["Variables"].get("IDEMPOTENCY_TABLE") == table, "function env IDEMPOTENCY_TABLE names the table")
        check(fn["Role"].endswith(f"role/cadenza-{ENV}-mailer"), "function runs as its own role")
        maps = lam.list_event_source_mappings(FunctionName=mailer["MailerFunctionName"])["EventSourceMappings"]
        check(len(maps) == 1 and maps[0]["EventSourceArn"] == attrs["QueueArn"], "one event-source mapping from the queue")
        if maps:
            check(maps[0].get("FunctionResponseTypes") == ["ReportBatchItemFailures"],
                  f"mapping FunctionResponseTypes {maps[0].get('FunctionResponseTypes')}")

    print("media.yaml")
    media_params = {"EnvironmentName": ENV, "AlarmTopicArn": f"arn:aws:sns:{REGION}:{account}:cadenza-oncall"}
    mq = create(cfn, "cadenza-staging-media", load("infra/media.yaml"), media_params)
    if mq:
        attrs = sqs.get_queue_attributes(QueueUrl=mq["MediaQueueUrl"], AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attrs.get("RedrivePolicy", "{}"))
        check(int(redrive.get("maxReceiveCount", 0)) == 5, f"media queue redrive maxReceiveCount = {redrive.get('maxReceiveCount')}")
        check(redrive.get("deadLetterTargetArn") == mq["MediaDLQArn"], "media queue redrives into its DLQ")
        check(attrs.get("QueueArn") == mq["MediaQueueArn"], "output MediaQueueArn is the queue's")
        check(attrs.get("SqsManagedSseEnabled") == "true", "media queue SSE-SQS on")
        check(attrs.get("MessageRetentionPeriod") == "1209600", f"media queue retention {attrs.get('MessageRetentionPeriod')} s (14 days)")
        dlq = sqs.get_queue_attributes(QueueUrl=mq["MediaDLQUrl"], AttributeNames=["All"])["Attributes"]
        check(dlq.get("MessageRetentionPeriod") == "1209600" and dlq.get("SqsManagedSseEnabled") == "true",
              "media DLQ: 14 days, SSE-SQS")

    print("iam.yaml")
    iam_params = {
        "EnvironmentName": ENV,
        "ClusterOidcProviderArn": f"arn:aws:iam::{account}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/0123456789ABCDEF",
        # The distributions are not represented by moto: stand-in ids.
        "MediaDistributionId": "E0000000000001", "AppDistributionId": "E0000000000002",
        "MediaBucketName": media, "FrontendBucketName": f"cadenza-{ENV}-frontend-{account}",
        "BackupBucketName": f"cadenza-{ENV}-backups-{account}",
        "EmailQueueArn": mailer.get("EmailQueueArn", f"arn:aws:sqs:{REGION}:{account}:x"),
        "MediaQueueArn": mq.get("MediaQueueArn", f"arn:aws:sqs:{REGION}:{account}:y"),
        "MailerFunctionArn": mailer.get("MailerFunctionArn", f"arn:aws:lambda:{REGION}:{account}:function:x"),
        "GitLabProjectPath": "cadenza/cadenza",
    }
    out = create(cfn, "cadenza-staging-iam", load("infra/iam.yaml"), iam_params)
    if out:
        issuer = f"oidc.eks.{REGION}.amazonaws.com/id/0123456789ABCDEF"
        for svc in ("admin-svc", "user-svc", "media-worker", "backup", "backup-restore"):
            role = iam.get_role(RoleName=f"cadenza-{ENV}-{svc}")["Role"]
            doc = policy(role["AssumeRolePolicyDocument"])
            cond = doc["Statement"][0]["Condition"]["StringEquals"]
            check(cond.get(f"{issuer}:sub") == f"system:serviceaccount:cadenza-{ENV}:cadenza-{svc}",
                  f"{svc} role trusts only its service account ({cond.get(issuer + ':sub')})")
        pol = policy(iam.get_role_policy(RoleName=f"cadenza-{ENV}-user-svc", PolicyName="email-jobs")["PolicyDocument"])
        stmt = pol["Statement"][0]
        check(stmt["Action"] == "sqs:SendMessage" and stmt["Resource"] == iam_params["EmailQueueArn"],
              "user-svc may only SendMessage to the email queue")
        pol = policy(iam.get_role_policy(RoleName=f"cadenza-{ENV}-admin-svc", PolicyName="media-jobs")["PolicyDocument"])
        stmt = pol["Statement"][0]
        check(stmt["Action"] == "sqs:SendMessage" and stmt["Resource"] == iam_params["MediaQueueArn"],
              "admin-svc may SendMessage to the media queue (and nothing else on it)")
        pol = policy(iam.get_role_policy(RoleName=f"cadenza-{ENV}-media-worker", PolicyName="media-worker")["PolicyDocument"])
        got = {(tuple(sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]])), st["Resource"])
               for st in pol["Statement"]}
        want = {(("s3:DeleteObject", "s3:GetObject"), f"arn:aws:s3:::{media}/songs/*"),
                (("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"),
                 iam_params["MediaQueueArn"])}
        check(got == want, f"media-worker role: S3 get/delete on songs/*, SQS consume on the media queue only ({got})")
        pol = policy(iam.get_role_policy(RoleName=f"cadenza-{ENV}-backup", PolicyName="write-backups")["PolicyDocument"])
        stmts = pol["Statement"] if isinstance(pol["Statement"], list) else [pol["Statement"]]
        check(len(stmts) == 1 and stmts[0]["Action"] == "s3:PutObject"
              and stmts[0]["Resource"] == f"arn:aws:s3:::{iam_params['BackupBucketName']}/cadenza/*",
              "backup role may only PutObject under <backup bucket>/cadenza/")
        names = iam.list_role_policies(RoleName=f"cadenza-{ENV}-backup")["PolicyNames"]
        attached = iam.list_attached_role_policies(RoleName=f"cadenza-{ENV}-backup")["AttachedPolicies"]
        check(names == ["write-backups"] and not attached, f"backup role has no other policy ({names}, {attached})")
        pol = policy(iam.get_role_policy(RoleName=f"cadenza-{ENV}-backup-restore", PolicyName="read-backups")["PolicyDocument"])
        acts = sorted(a for st in pol["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
        check(acts == ["s3:GetObject", "s3:ListBucket"], f"backup-restore role may only list and read ({acts})")
        gl = policy(iam.get_role(RoleName=f"cadenza-{ENV}-gitlab-deploy")["Role"]["AssumeRolePolicyDocument"])
        cond = gl["Statement"][0]["Condition"]["StringEquals"]
        check(cond.get("gitlab.com:sub") == "project_path:cadenza/cadenza:ref_type:branch:ref:main",
              "GitLab role trusts one project's main branch only")

    if UNSUPPORTED:
        print("not represented by moto's CloudFormation (checked by cfn-lint, sam validate and checkov only):")
        for stack, res in UNSUPPORTED.items():
            print(f"  {stack}: " + ", ".join(f"{k} ({v})" for k, v in sorted(res.items())))
    for what in IGNORED:
        print(f"  accepted but not applied by moto: {what}")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
