"""Provision the dev AWS resources, idempotently: the S3 bucket (SeaweedFS), the
email and media SQS queues, each with a dead-letter queue and a redrive
policy (moto), and the SES sender identity (moto).

Run by `./dev infra up`; everything comes from the environment:
    K, S                 access key id and secret
    S3_URL, AWS_URL      the S3 endpoint and the moto endpoint
    BUCKET               the media bucket
    QUEUE, DLQ           the email queue and its dead-letter queue
    MEDIA_QUEUE, MEDIA_DLQ  the media queue and its dead-letter queue
    FROM                 the SES sender address
Prints the email and media queue URLs on one line, separated by a space.
"""
import json, os, sys
import boto3
from botocore.config import Config

kw = dict(region_name="us-east-1", aws_access_key_id=os.environ["K"],
          aws_secret_access_key=os.environ["S"])
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}), **kw)
bucket = os.environ["BUCKET"]
try:
    s3.head_bucket(Bucket=bucket)
except Exception:
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    print("created bucket " + bucket, file=sys.stderr)

sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_URL"], **kw)
urls = []
for name, dead in [(os.environ["QUEUE"], os.environ["DLQ"]), (os.environ["MEDIA_QUEUE"], os.environ["MEDIA_DLQ"])]:
    dlq = sqs.create_queue(QueueName=dead)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attrs = {"VisibilityTimeout": "60",
             "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})}
    try:
        q = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    except sqs.exceptions.QueueNameExists:
        q = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=q, Attributes=attrs)
    urls.append(q)

ses = boto3.client("sesv2", endpoint_url=os.environ["AWS_URL"], **kw)
try:
    ses.get_email_identity(EmailIdentity=os.environ["FROM"])
except ses.exceptions.NotFoundException:
    ses.create_email_identity(EmailIdentity=os.environ["FROM"])
    print("created SES identity " + os.environ["FROM"], file=sys.stderr)
print(" ".join(urls))
