"""Provision moto from the synthesized plan, so code and infrastructure cannot drift."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import boto3

from modules.rules import resources

# The HTTP API's invoke URL (e.g. in UNSUBSCRIBE_BASE_URL): known only after apply; a stand-in here
_STAGE_URL = re.compile(r"\$\{aws_apigatewayv2_stage\.[A-Za-z0-9_-]+\.invoke_url\}")
LOCAL_API_URL = "https://api.pivotr.test/"
_REF = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")


def create_tables(plan: dict[str, Any]) -> list[str]:
    """Every aws_dynamodb_table of the plan, with its keys and indexes, in the mocked account."""
    client = boto3.client("dynamodb")
    names = []
    for _, _, table in resources(plan, "aws_dynamodb_table"):
        schema = lambda pk, sk: [{"AttributeName": pk, "KeyType": "HASH"}] + (  # noqa: E731
            [{"AttributeName": sk, "KeyType": "RANGE"}] if sk else [])
        args: dict[str, Any] = {
            "TableName": table["name"],
            "BillingMode": table["billing_mode"],
            "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attribute"]],
            "KeySchema": schema(table["hash_key"], table.get("range_key")),
        }
        if table.get("global_secondary_index"):
            args["GlobalSecondaryIndexes"] = [
                {"IndexName": i["name"], "KeySchema": schema(i["hash_key"], i.get("range_key")),
                 "Projection": {"ProjectionType": i["projection_type"]}}
                for i in table["global_secondary_index"]
            ]
        client.create_table(**args)
        names.append(table["name"])
    return names


def resolve_environment(plan: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """Environment values with Terraform references (queue URLs, secret ARNs) made real in moto."""
    resolved = {}
    for key, value in env.items():
        value = _STAGE_URL.sub(LOCAL_API_URL, value)
        match = _REF.fullmatch(value)
        if not match:
            resolved[key] = value
            continue
        rtype, logical_id, attribute = match.groups()
        body = plan["resource"][rtype][logical_id]
        if rtype == "aws_sqs_queue":
            url = create_queue(plan, logical_id)
            resolved[key] = url if attribute == "url" else boto3.client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        elif rtype == "aws_secretsmanager_secret":
            resolved[key] = _secret_arn(body["name"])
        elif rtype == "aws_s3_bucket":
            resolved[key] = create_bucket(plan, logical_id)
        elif rtype == "aws_sns_topic":
            resolved[key] = boto3.client("sns").create_topic(Name=body["name"])["TopicArn"]
        else:
            resolved[key] = value  # e.g. the API URL: not an AWS resource the code calls
    return resolved


# plan attribute -> SQS attribute, for what changes how messages move: visibility, delays, retention
_QUEUE_ATTRIBUTES = {"visibility_timeout_seconds": "VisibilityTimeout", "delay_seconds": "DelaySeconds",
                     "message_retention_seconds": "MessageRetentionPeriod"}


def create_queue(plan: dict[str, Any], logical_id: str) -> str:
    """The plan's queue in moto with its visibility timeout and its redrive policy (DLQ created too)."""
    body = plan["resource"]["aws_sqs_queue"][logical_id]
    sqs = boto3.client("sqs")
    attributes = {name: str(body[key]) for key, name in _QUEUE_ATTRIBUTES.items() if key in body}
    if body.get("redrive_policy"):
        policy = json.loads(body["redrive_policy"])
        dlq = _REF.fullmatch(policy["deadLetterTargetArn"])
        assert dlq is not None, policy
        dlq_url = create_queue(plan, dlq.group(2))
        policy["deadLetterTargetArn"] = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(policy)
    return sqs.create_queue(QueueName=body["name"], Attributes=attributes)["QueueUrl"]


def _secret_arn(name: str) -> str:
    client = boto3.client("secretsmanager")
    try:
        return client.describe_secret(SecretId=name)["ARN"]
    except client.exceptions.ResourceNotFoundException:
        return client.create_secret(Name=name, SecretString="test-secret")["ARN"]


ACCOUNT = "123456789012"  # moto's account
_ACCOUNT_REF = re.compile(r"\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}")


def bucket_name(body: dict[str, Any]) -> str:
    """The plan's bucket name, its account id reference made moto's account."""
    return _ACCOUNT_REF.sub(ACCOUNT, body["bucket"])


def create_bucket(plan: dict[str, Any], logical_id: str) -> str:
    """The plan's bucket in moto (once), with the plan's S3 event notifications to its queues."""
    name = bucket_name(plan["resource"]["aws_s3_bucket"][logical_id])
    s3 = boto3.client("s3")
    if name in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        return name
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": boto3.session.Session().region_name})
    for _, _, notification in resources(plan, "aws_s3_bucket_notification"):
        if notification["bucket"] != f"${{aws_s3_bucket.{logical_id}.id}}":
            continue
        queues = []
        for queue in notification.get("queue", []):
            ref = _REF.fullmatch(queue["queue_arn"])
            assert ref is not None, queue
            url = create_queue(plan, ref.group(2))
            arn = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            rules = [{"Name": "prefix", "Value": queue["filter_prefix"]}] if queue.get("filter_prefix") else []
            rules += [{"Name": "suffix", "Value": queue["filter_suffix"]}] if queue.get("filter_suffix") else []
            queues.append({"QueueArn": arn, "Events": queue["events"], "Filter": {"Key": {"FilterRules": rules}}})
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": queues})
    return name


def plan_of(outdir: Path, stage: str = "dev") -> dict[str, Any]:
    """The synthesized plan of a stage, from ``make synth``'s output folder."""
    return json.loads((outdir / "stacks" / f"pivotr-mailer-{stage}" / "cdk.tf.json").read_text())


def offline_account(**extra: str) -> None:
    """The process environment of code run against moto: stand-in credentials and region, no X-Ray
    daemon, quiet Powertools logs."""
    os.environ.update(AWS_ACCESS_KEY_ID="simulated", AWS_SECRET_ACCESS_KEY="simulated", AWS_DEFAULT_REGION="ap-south-1",
                      POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_LOG_LEVEL="WARNING", **extra)
