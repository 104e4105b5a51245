"""Drop the S3 buckets that integration tests leave behind (cadenza-st-*,
cadenza-bk-*, cadenza-t-*), objects first.

Run by `./dev test` before the tests:
    drop_test_buckets.py S3_ENDPOINT ACCESS_KEY SECRET_KEY
"""
import sys, boto3
s3 = boto3.resource("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2],
                    aws_secret_access_key=sys.argv[3], region_name="us-east-1")
for b in s3.buckets.all():
    if b.name.startswith(("cadenza-st-", "cadenza-bk-", "cadenza-t-")):
        b.objects.all().delete()
        b.delete()
