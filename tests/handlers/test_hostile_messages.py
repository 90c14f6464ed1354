"""Issue 15 item 2 for the queues: a message nested past the bound, or larger than SQS allows, is
handled like any unreadable message of its queue (dropped with its reason, never a RecursionError
that would fail the whole batch), and nothing of its content is logged."""

from __future__ import annotations

import pytest

from simulator import notifications as ses
from simulator.lambda_events import LambdaContext

HOSTILE = {"with an address": "jane@example.com is not JSON", "nested": "[" * 100_000, "nested object": '{"leadId": ' * 40_000, "oversized": '{"x": "' + "y" * (1024 * 1024) + '"}'}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_each_queue_consumer_drops_a_hostile_message_and_keeps_its_batch(handler_module, body: str, caplog) -> None:
    from pivotr.domain import sending

    # sending queue: not a tick nor an order
    assert sending.read_message(body) is None
    # verification queue: unreadable, dropped; its neighbour is still handled
    verify = handler_module("verify-email")
    records = [{"messageId": "m1", "body": body}]
    assert verify.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    # transfers queue and feedback queue: dropped, the batch succeeds
    transfer = handler_module("transfer-worker")
    assert transfer.handler(ses.sqs_event(body), LambdaContext()) == {"batchItemFailures": []}
    feedback = handler_module("process-feedback")
    assert feedback.handler(ses.sqs_event(body), LambdaContext()) == {"batchItemFailures": []}
    # and no log line carries the body
    assert not any(body[:40] in r.getMessage() or body[:40] in str(r.__dict__) for r in caplog.records)
