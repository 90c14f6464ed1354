"""IAM versus calls: what each function's synthesized policy grants, and what each AWS call needs.

Both sides become (action, resource) pairs with resources named as the plan names them:
``table:<name>``, ``table:<name>/index/<index>``, ``queue:<name>``, ``secret:<name>``,
``ses:identity/<domain>``, ``ses:configuration-set/<name>``, ``log-group:<name>``, ``*``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

Pair = tuple[str, str]

_REF = re.compile(r"\$\{(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
_SES = re.compile(r"arn:aws:ses:[a-z0-9-]+:\$\{[^}]+\}:(identity|configuration-set)/(.+)")
_KIND = {"aws_dynamodb_table": "table", "aws_sqs_queue": "queue", "aws_secretsmanager_secret": "secret",
         "aws_cloudwatch_log_group": "log-group", "aws_s3_bucket": "bucket"}
# S3 calls -> the action IAM checks (multipart uploads are checked as s3:PutObject)
_S3_ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
               "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
               "AbortMultipartUpload": "s3:AbortMultipartUpload"}


def _resource(plan: dict[str, Any], value: str) -> str:
    if value == "*":
        return value
    ses = _SES.fullmatch(value)
    if ses:
        return f"ses:{ses.group(1)}/{ses.group(2)}"
    match = _REF.match(value)
    if not match:
        raise ValueError(f"unknown policy resource {value!r}")
    data, rtype, logical_id, _ = match.groups()
    body = plan["data" if data else "resource"][rtype][logical_id]
    if rtype == "aws_s3_bucket":
        from simulator.provision import bucket_name

        return f"bucket:{bucket_name(body)}{value[match.end():]}"
    return f"{_KIND[rtype]}:{body['name']}{value[match.end():].replace(':*', '')}"


def grants(plan: dict[str, Any], function_name: str) -> set[Pair]:
    """Every (action, resource) the function's role policy allows."""
    [policy] = [json.loads(p["policy"]) for p in plan["resource"]["aws_iam_role_policy"].values() if p["name"] == function_name]
    allowed: set[Pair] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        allowed |= {(action, _resource(plan, r)) for action in actions for r in resources}
    return allowed


def _secret_name(arn: str) -> str:
    return arn.split(":secret:", 1)[1].rsplit("-", 1)[0] if ":secret:" in arn else arn


def needs(service: str, operation: str, params: dict[str, Any]) -> set[Pair]:
    """The (action, resource) pairs IAM checks for one API call."""
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return {(f"dynamodb:{operation}", f"table:{t}") for t in params["RequestItems"]}
        if operation == "TransactWriteItems":
            per_item = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
            return {(f"dynamodb:{per_item[kind]}", f"table:{body['TableName']}")
                    for item in params["TransactItems"] for kind, body in item.items()}
        index = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
        return {(f"dynamodb:{operation}", f"table:{params['TableName']}{index}")}
    if service == "sqs":
        action = "SendMessage" if operation == "SendMessageBatch" else operation
        return {(f"sqs:{action}", f"queue:{params['QueueUrl'].rsplit('/', 1)[-1]}")}
    if service == "sesv2" and operation == "GetAccount":
        return {("ses:GetAccount", "*")}  # an account-level read: SES offers no resource to scope it to
    if service == "sesv2" and operation == "SendEmail":
        # SES authorizes the domain's identity, the From address's own identity (when the address is
        # verified on its own) and, in the sandbox (where dev and staging start), each recipient's.
        sender = params["FromEmailAddress"].rsplit("<", 1)[-1].rstrip(">")
        recipients = [address for field in ("ToAddresses", "CcAddresses", "BccAddresses")
                      for address in params.get("Destination", {}).get(field, [])]
        return {("ses:SendEmail", f"ses:identity/{sender.rsplit('@', 1)[-1]}"), ("ses:SendEmail", f"ses:identity/{sender}"),
                ("ses:SendEmail", f"ses:configuration-set/{params['ConfigurationSetName']}")} | {
                ("ses:SendEmail", f"ses:identity/{address.rsplit('<', 1)[-1].rstrip('>')}") for address in recipients}
    if service == "s3" and operation == "ListObjectsV2":
        return {("s3:ListBucket", f"bucket:{params['Bucket']}")}
    if service == "s3" and operation in _S3_ACTIONS:  # objects by prefix, as the grants name them
        return {(_S3_ACTIONS[operation], f"bucket:{params['Bucket']}/{params['Key'].split('/', 1)[0]}/*")}
    if service == "secretsmanager":
        return {(f"secretsmanager:{operation}", f"secret:{_secret_name(params['SecretId'])}")}
    return {(f"{service}:{operation}", "?")}


def granting(granted: set[Pair], needed: Pair) -> Pair | None:
    """The granted pair that allows ``needed``: itself, the action on "*", or an SES identity pattern."""
    from fnmatch import fnmatchcase

    action, resource = needed
    if needed in granted:
        return needed
    if (action, "*") in granted:
        return (action, "*")
    return next((pair for pair in sorted(granted) if pair[0] == action and pair[1].startswith("ses:identity/")
                 and "*" in pair[1] and fnmatchcase(resource, pair[1])), None)


def allowed(granted: set[Pair], needed: Pair) -> bool:
    return granting(granted, needed) is not None


# Granted but never called by our code, each with its reason. Keys: (function or "*", action, resource
# pattern). Everything else a policy grants must be exercised by some handler test.
REASONS: dict[tuple[str, str, str], str] = {
    ("*", "logs:CreateLogStream", "log-group:*"): "the Lambda runtime writes the function's own log group",
    ("*", "logs:PutLogEvents", "log-group:*"): "the Lambda runtime writes the function's own log group",
    ("*", "xray:PutTraceSegments", "*"): "X-Ray tracing (the runtime and Powertools' tracer); X-Ray has no resource scoping",
    ("*", "xray:PutTelemetryRecords", "*"): "X-Ray tracing; X-Ray has no resource scoping",
    ("*", "sqs:SendMessage", "queue:*-async-dlq"): "Lambda itself sends failed asynchronous invocations to the function's DLQ",
    ("*", "sqs:ReceiveMessage", "queue:*"): "the SQS event source mapping polls the consumer's queue with its role",
    ("*", "sqs:DeleteMessage", "queue:*"): "the SQS event source mapping deletes what the consumer handled",
    ("*", "sqs:ChangeMessageVisibility", "queue:*"): "the SQS event source mapping returns failed records",
    ("*", "sqs:GetQueueAttributes", "queue:*"): "the SQS event source mapping reads the queue's settings",
    ("lead-import", "s3:PutObject", "bucket:*/uploads/*"):
        "signs the upload policy (POST /imports): the browser's upload acts with the signer's rights; signing makes no call",
    ("lead-import", "s3:GetObject", "bucket:*/reports/*"):
        "signs the invalid-row report link (GET /imports/{id}); the download acts with the signer's rights",
    ("lead-import", "s3:GetObject", "bucket:*/exports/*"):
        "signs the export's download link (GET /exports/{id}); the download acts with the signer's rights",
}


def reason_for(function: str, pair: Pair) -> str | None:
    from fnmatch import fnmatch

    for (fn, action, resource), reason in REASONS.items():
        if fnmatch(function, fn) and fnmatch(pair[0], action) and fnmatch(pair[1], resource):
            return reason
    return None


# -- the completeness check across the whole session (all xdist workers) -----------------------------
RECORDS = Path(__file__).resolve().parent.parent / ".pytest_cache" / "iam-calls"


def save(granted: dict[str, set[Pair]], used: dict[str, set[Pair]]) -> None:
    """One file per process: what each function was granted and what its calls used."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    body = {fn: {"granted": sorted(map(list, pairs)), "used": sorted(map(list, used.get(fn, set())))} for fn, pairs in granted.items()}
    (RECORDS / f"{os.getpid()}.json").write_text(json.dumps(body))


def clear() -> None:
    shutil.rmtree(RECORDS, ignore_errors=True)


def unused_without_reason() -> list[str] | None:
    """Granted pairs no handler call used and no reason covers; None when no handler test recorded."""
    files = sorted(RECORDS.glob("*.json")) if RECORDS.exists() else []
    if not files:
        return None
    granted: dict[str, set[Pair]] = {}
    used: dict[str, set[Pair]] = {}
    for file in files:
        for fn, body in json.loads(file.read_text()).items():
            granted.setdefault(fn, set()).update(map(tuple, body["granted"]))
            used.setdefault(fn, set()).update(map(tuple, body["used"]))
    return sorted(f"{fn}: {action} on {resource}" for fn, pairs in granted.items() for action, resource in pairs
                  if (action, resource) not in used[fn] and reason_for(fn, (action, resource)) is None)
