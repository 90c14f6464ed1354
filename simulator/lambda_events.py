"""API Gateway HTTP API (payload 2.0) events and a Lambda context, as the services send them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    function_name: str = "pivotr-mailer-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-south-1:123456789012:function:pivotr-mailer-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, route: str | None = None) -> dict[str, Any]:
    encoded = isinstance(body, bytes)
    raw_body = base64.b64encode(body).decode() if encoded else body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": f"{method} {route or path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "requestId": "req",
            "routeKey": f"{method} {route or path}",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795000000000,
        },
        "body": raw_body,
        "isBase64Encoded": encoded,
    }
