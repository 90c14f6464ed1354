"""Every AWS client the Lambda code uses is made here, and only here: each store asks for its client on
first use (importing a handler makes none), from boto3's default session, so the region, the endpoint
(``AWS_ENDPOINT_URL`` locally) and the credentials come from the function's environment the same way."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def dynamodb() -> Any:
    """DynamoDB's low-level client as the resource builds it: plain Python values in and out."""
    return boto3.resource("dynamodb").meta.client


def dynamodb_table(name: str) -> Any:
    """A DynamoDB table resource (for its condition and key expressions)."""
    return boto3.resource("dynamodb").Table(name)


def sqs() -> Any:
    return boto3.client("sqs")


def s3() -> Any:
    return boto3.client("s3", config=Config(signature_version="s3v4"))  # SigV4: presigned posts and URLs in every region


def sesv2(config: Config, endpoint_url: str | None = None) -> Any:
    return boto3.client("sesv2", config=config, endpoint_url=endpoint_url)
