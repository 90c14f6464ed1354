"""simulator/moto_speed.py changes only how fast moto answers: the same requests get the same answers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import moto.dynamodb.models as models
import pytest
from moto import mock_aws

from simulator import moto_speed
from simulator.clock import START, Clock

RETENTION_SECONDS = 60  # SQS's smallest retention period


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(os.environ, "AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setitem(os.environ, "AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setitem(os.environ, "AWS_DEFAULT_REGION", "ap-south-1")
    with mock_aws():
        yield


def _receive(clock: Clock, wait_seconds: float) -> list[str]:
    """Two messages 50 s apart, then a receive ``wait_seconds`` after the second; what it returns."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"q{int(clock.now)}", Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    clock.advance(RETENTION_SECONDS - 10)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    clock.advance(wait_seconds)
    return sorted(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))


@pytest.mark.parametrize(("wait_seconds", "received"), [(5, ["new", "old"]), (20, [])])
def test_a_receive_answers_the_same_with_and_without_the_speed_patch(account: None, monkeypatch: pytest.MonkeyPatch,
                                                                    wait_seconds: float, received: list[str]) -> None:
    # Given a queue whose first message is within its retention period or past it, on moto as it ships
    clock = Clock(START)
    clock.install(monkeypatch)
    plain = _receive(clock, wait_seconds)

    # When the same happens with the speed patch installed
    moto_speed.install()
    try:
        patched = _receive(clock, wait_seconds)
    finally:
        moto_speed.uninstall()

    # Then both return the same: both messages, or (moto stops at the first expired message) none
    assert plain == patched == received


# The second action of a two-action transaction (the first puts a new item "b"): it holds, loses its
# condition, fails DynamoDB's validation while being applied (an arithmetic on a string), or names the
# item the first action writes (two actions on one item).
SECOND_ACTIONS: dict[str, dict[str, Any]] = {
    "holds": {"Update": {"Key": {"id": {"S": "a"}}, "UpdateExpression": "SET n = :n", "ConditionExpression": "n = :e",
                         "ExpressionAttributeValues": {":n": {"N": "5"}, ":e": {"N": "1"}}}},
    "condition fails": {"Update": {"Key": {"id": {"S": "a"}}, "UpdateExpression": "SET n = :n", "ConditionExpression": "n = :e",
                                   "ExpressionAttributeValues": {":n": {"N": "5"}, ":e": {"N": "2"}}}},
    "invalid update": {"Update": {"Key": {"id": {"S": "a"}}, "UpdateExpression": "SET n = s + :n",
                                  "ExpressionAttributeValues": {":n": {"N": "5"}}}},
    "same item twice": {"Update": {"Key": {"id": {"S": "b"}}, "UpdateExpression": "SET n = :n",
                                   "ExpressionAttributeValues": {":n": {"N": "5"}}}},
}


def _transact(second: str) -> tuple[Any, list[dict[str, Any]]]:
    db = boto3.client("dynamodb")
    name = "t" + second.replace(" ", "-")
    db.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    db.put_item(TableName=name, Item={"id": {"S": "a"}, "n": {"N": "1"}, "s": {"S": "text"}})
    (kind, action), = SECOND_ACTIONS[second].items()
    error = None
    try:
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"id": {"S": "b"}}}},
            {kind: {"TableName": name, **action}},
        ])
    except db.exceptions.TransactionCanceledException as e:
        error = [r.get("Code") for r in e.response["CancellationReasons"]]
    except db.exceptions.ClientError as e:
        error = e.response["Error"]["Code"]
    items = sorted(db.scan(TableName=name)["Items"], key=lambda i: i["id"]["S"])
    db.delete_table(TableName=name)
    return error, items


@pytest.mark.parametrize("second", sorted(SECOND_ACTIONS))
def test_a_transaction_writes_or_cancels_the_same_with_and_without_the_speed_patch(account: None, second: str) -> None:
    # Given a transaction whose second action holds or fails in one of the ways DynamoDB refuses, on moto as it ships
    plain = _transact(second)

    # When it runs with the speed patch installed
    moto_speed.install()
    try:
        patched = _transact(second)
    finally:
        moto_speed.uninstall()

    # Then it writes both items or neither (all or nothing whatever the failure), with the same error
    assert plain == patched
    assert (plain[0] is None) == (second == "holds")
    assert len(plain[1]) == (2 if second == "holds" else 1)


def test_an_inner_install_and_uninstall_leaves_the_outer_install_on() -> None:
    # Given the speed patch installed for the session (tests/handlers/conftest.py does that)
    before = models.DynamoDBBackend.transact_write_items  # on already, when this worker ran handler tests
    moto_speed.install()
    try:
        # When a test installs and uninstalls it again (as the tests above do)
        moto_speed.install()
        moto_speed.uninstall()
        # Then the session's install is still on: without it moto copies every table per transaction
        assert models.DynamoDBBackend.transact_write_items is moto_speed.transact_write_items
    finally:
        moto_speed.uninstall()
    assert models.DynamoDBBackend.transact_write_items is before  # as it was: the session's own uninstall restores moto
