"""tests/calls.py sees AWS calls through botocore's events: every real call, never a presigned one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests import calls


class Seen:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def before(self, service: str, operation: str, params: dict[str, Any], context: dict[str, Any]) -> None:
        self.operations.append(f"{service}:{operation}")

    @staticmethod
    def answer(service: str, operation: str, context: dict[str, Any]) -> dict[str, Any] | None:
        return {"QueueUrls": ["https://observer.invalid/q"]} if operation == "ListQueues" else None


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-south-1"}.items():
        monkeypatch.setitem(os.environ, key, value)
    observer = Seen()
    with mock_aws():
        calls.install()
        monkeypatch.setattr(calls, "OBSERVERS", [*calls.OBSERVERS, observer])
        yield observer


def test_real_calls_are_seen_and_presigning_is_not(seen: Seen) -> None:
    # Given a bucket (one call)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pivotr-calls", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    # When an object is put and an upload policy and a download URL are presigned (no request is made)
    s3.put_object(Bucket="pivotr-calls", Key="k", Body=b"x")
    s3.generate_presigned_post("pivotr-calls", "uploads/k")
    s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    # Then the observer saw the two calls only
    assert seen.operations == ["s3:CreateBucket", "s3:PutObject"]


def test_an_observer_can_answer_instead_of_aws(seen: Seen) -> None:
    # Given an observer that answers ListQueues itself / When a client asks
    # Then the caller gets the observer's answer, through botocore's parsing path
    assert boto3.client("sqs").list_queues()["QueueUrls"] == ["https://observer.invalid/q"]
