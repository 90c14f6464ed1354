"""process-feedback against moto provisioned from the plan, with SES's documented notification shapes."""

from __future__ import annotations

import boto3
import pytest

from simulator import notifications as ses
from simulator.lambda_events import LambdaContext


@pytest.fixture
def feedback(handler_module, synth):
    module = handler_module("process-feedback")
    env = synth.function_environment("dev", "process-feedback")
    tables = {name: boto3.resource("dynamodb").Table(env[f"{name.upper()}_TABLE"]) for name in ("leads", "logs", "metrics")}

    def run(*bodies: str) -> dict:
        return module.handler(ses.sqs_event(*bodies), LambdaContext())

    run.tables = tables
    return run


def lead(feedback, id_: str, status: str = "valid") -> None:
    feedback.tables["leads"].put_item(Item={"id": id_, "email": "jane@example.com", "status": status})


def counters(feedback, campaign: str) -> dict:
    item = feedback.tables["metrics"].get_item(Key={"campaignId": campaign, "date": "2026-11-25"}).get("Item", {})
    return {k: int(v) for k, v in item.items() if k not in ("campaignId", "date")}


def test_permanent_bounce_suppresses_the_lead_and_counts_in_both_formats(feedback) -> None:
    from pivotr.domain.leads import lead_id

    # Given two valid leads: one tagged (event format), one found by its address (identity format)
    lead(feedback, "ld_jane")
    lead(feedback, lead_id("jane@example.com"))
    # When both bounce permanently
    assert feedback(ses.sns(ses.event("Bounce", ses.bounce()), "n1"),
                    ses.sns(ses.identity("Bounce", ses.bounce()), "n2")) == {"batchItemFailures": []}
    # Then both are bounced, and the tagged campaign counts one bounce
    assert feedback.tables["leads"].get_item(Key={"id": "ld_jane"})["Item"]["status"] == "bounced"
    assert feedback.tables["leads"].get_item(Key={"id": lead_id("jane@example.com")})["Item"]["status"] == "bounced"
    assert counters(feedback, "cp_1") == {"bounced": 1}
    assert counters(feedback, "ALL") == {"bounced": 2}


def test_complaint_marks_complained_even_after_a_bounce(feedback) -> None:
    lead(feedback, "ld_jane", "bounced")
    feedback(ses.sns(ses.event("Complaint", ses.COMPLAINT), "c1"))
    assert feedback.tables["leads"].get_item(Key={"id": "ld_jane"})["Item"]["status"] == "complained"
    assert counters(feedback, "cp_1") == {"complained": 1}


def test_a_bounce_never_downgrades_an_unsubscribed_or_complained_lead(feedback) -> None:
    lead(feedback, "ld_jane", "unsubscribed")
    feedback(ses.sns(ses.event("Bounce", ses.bounce()), "b1"))
    assert feedback.tables["leads"].get_item(Key={"id": "ld_jane"})["Item"]["status"] == "unsubscribed"


def test_transient_bounce_is_logged_only(feedback) -> None:
    lead(feedback, "ld_jane")
    feedback(ses.sns(ses.event("Bounce", ses.bounce("Transient")), "t1"))
    assert feedback.tables["leads"].get_item(Key={"id": "ld_jane"})["Item"]["status"] == "valid"
    assert counters(feedback, "cp_1") == {}
    [entry] = feedback.tables["logs"].scan()["Items"]
    assert entry["event"] == "bounce" and entry["leadId"] == "ld_jane" and "Transient" in entry["detail"]


@pytest.mark.parametrize(("kind", "section", "counter"), [
    ("Delivery", ses.DELIVERY, "delivered"),
    ("Open", ses.OPEN, "opened"),
    ("Click", ses.CLICK, "clicked"),
    ("Reject", {"reason": "Bad content"}, "failed"),
])
def test_events_count_once_per_kind(feedback, kind: str, section: dict, counter: str) -> None:
    feedback(ses.sns(ses.event(kind, section), f"{kind}-1"))
    assert counters(feedback, "cp_1") == {counter: 1}


def test_delivery_delay_and_identity_delivery_are_logged(feedback) -> None:
    delay = {"timestamp": "2026-11-25T10:05:00.000Z", "delayType": "MailboxFull", "expirationTime": "2026-11-26T10:00:00.000Z",
             "delayedRecipients": [{"emailAddress": "jane@example.com"}]}
    feedback(ses.sns(ses.event("DeliveryDelay", delay), "d1"), ses.sns(ses.identity("Delivery", ses.DELIVERY), "d2"))
    assert sorted(e["event"] for e in feedback.tables["logs"].scan()["Items"]) == ["delivery", "deliverydelay"]
    assert counters(feedback, "ALL") == {"delivered": 1}


def test_a_duplicate_notification_changes_nothing(feedback) -> None:
    lead(feedback, "ld_jane")
    body = ses.sns(ses.event("Open", ses.OPEN), "same-sns-id")
    # When SNS/SQS deliver the same notification twice, in one batch and again later
    feedback(body, body)
    feedback(body)
    # Then it was logged and counted once
    assert counters(feedback, "cp_1") == {"opened": 1}
    assert len(feedback.tables["logs"].scan()["Items"]) == 1


def test_an_unparseable_message_is_dropped_without_blocking_its_batch(feedback) -> None:
    result = feedback("not json", '{"Type": "Notification", "MessageId": "x", "Message": "{\\"eventType\\": \\"Nope\\"}"}',
                      ses.sns(ses.event("Delivery", ses.DELIVERY), "ok-1"))
    assert result == {"batchItemFailures": []}
    assert counters(feedback, "cp_1") == {"delivered": 1}


def test_a_failing_write_leaves_only_its_record_for_retry(feedback, monkeypatch) -> None:
    from pivotr.data.feedback import FeedbackStore

    real = FeedbackStore.record_once

    def flaky(self, event):
        if event.event_id == "boom":
            raise RuntimeError("DynamoDB throttled")
        return real(self, event)

    monkeypatch.setattr(FeedbackStore, "record_once", flaky)
    result = feedback(ses.sns(ses.event("Open", ses.OPEN), "boom"), ses.sns(ses.event("Click", ses.CLICK), "fine"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "sqs-0"}]}
    assert counters(feedback, "cp_1") == {"clicked": 1}
