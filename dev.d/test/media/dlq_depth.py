"""Print the approximate number of messages in the dev media dead-letter
queue (cadenza-media-dlq on moto, at $CADENZA_AWS_ENDPOINT), for
dev.d/test/73-media.sh.

    dlq_depth.py
"""
import os, boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["CADENZA_AWS_ENDPOINT"], region_name="us-east-1")
url = sqs.get_queue_url(QueueName="cadenza-media-dlq")["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
print(a["Attributes"]["ApproximateNumberOfMessages"])
