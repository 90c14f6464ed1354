"""boto3 clients for the operator tooling: the caller's credentials, short timeouts, few retries.

botocore itself honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), so the same code
runs against a local moto server in tests. Tests may also hand in clients wrapped in botocore's
Stubber for the calls moto does not serve.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 3})
# Cost Explorer answers in us-east-1 only, whatever the stage's region.
GLOBAL_REGIONS = {"ce": "us-east-1"}


class Clients:
    def __init__(self, region: str, overrides: Mapping[str, Any] | None = None) -> None:
        self.region = region
        self._clients: dict[str, Any] = dict(overrides or {})

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=GLOBAL_REGIONS.get(service, self.region), config=CONFIG)
        return self._clients[service]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def unless_missing(call: Callable[..., Any], missing: str | tuple[str, ...], **params: Any) -> Any:
    """``call(**params)``, or None when AWS answers with an error code of ``missing`` (the thing does
    not exist); any other error propagates."""
    try:
        return call(**params)
    except ClientError as error:
        if error_code(error) in ((missing,) if isinstance(missing, str) else missing):
            return None
        raise
