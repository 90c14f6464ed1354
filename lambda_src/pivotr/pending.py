"""Placeholders for functions whose behaviour lands with later issues.

They keep a deployed stage honest: API routes answer 501 in the error envelope, and SQS consumers
hand every record back as a batch item failure so nothing is consumed and lost (messages wait, then
reach the queue's DLQ, whose alarm fires).
"""

from __future__ import annotations

import json
from typing import Any


def not_implemented(event: dict[str, Any]) -> dict[str, Any]:
    route = event.get("routeKey", "this route")
    return {
        "statusCode": 501,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"error": {"code": "NOT_IMPLEMENTED", "message": f"{route} is not implemented yet", "details": []}}),
    }


def leave_every_record(event: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event.get("Records", []) if "messageId" in r]}
