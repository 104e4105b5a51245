#!/usr/bin/env python3
"""The fuzzing instances' private S3 bucket and SQS queue (run with the dev
venv's python, which has boto3; credentials and endpoints from .dev/env).

    aws.py bucket-create NAME     idempotent
    aws.py bucket-delete NAME     empties it first; a missing bucket is fine
    aws.py queue-create NAME      idempotent; prints the queue URL
    aws.py queue-delete NAME      a missing queue is fine
"""
import os
import sys

import boto3
from botocore.config import Config

KW = dict(
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)


def s3():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["CADENZA_S3_ENDPOINT"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        **KW,
    )


def sqs():
    return boto3.client("sqs", endpoint_url=os.environ["CADENZA_AWS_ENDPOINT"], **KW)


def main(cmd: str, name: str) -> None:
    if cmd == "bucket-create":
        c = s3()
        try:
            c.head_bucket(Bucket=name)
        except Exception:
            c.create_bucket(Bucket=name)
    elif cmd == "bucket-delete":
        c = s3()
        try:
            c.head_bucket(Bucket=name)
        except Exception:
            return
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                c.delete_object(Bucket=name, Key=obj["Key"])
        c.delete_bucket(Bucket=name)
    elif cmd == "queue-create":
        print(sqs().create_queue(QueueName=name)["QueueUrl"])
    elif cmd == "queue-delete":
        c = sqs()
        try:
            c.delete_queue(QueueUrl=c.get_queue_url(QueueName=name)["QueueUrl"])
        except c.exceptions.QueueDoesNotExist:
            pass
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
