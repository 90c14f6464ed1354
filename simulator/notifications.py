"""SES notifications shaped like the examples in the Amazon SES developer guide, in both formats."""

from __future__ import annotations

import json
from typing import Any

MAIL = {
    "timestamp": "2026-11-25T10:00:00.000Z",
    "source": "outreach@pivotr.example.com",
    "sourceArn": "arn:aws:ses:ap-south-1:123456789012:identity/pivotr.example.com",
    "sendingAccountId": "123456789012",
    "messageId": "0109019a1b2c3d4e-aaaa-bbbb-cccc-000000000001-000000",
    "destination": ["jane@example.com"],
    "headersTruncated": False,
    "commonHeaders": {"from": ["outreach@pivotr.example.com"], "to": ["jane@example.com"], "subject": "Hello"},
}


def tagged(campaign: str | None = "cp_1", lead: str | None = "ld_jane") -> dict[str, Any]:
    tags = {"ses:configuration-set": ["pivotr-mailer"], "ses:source-ip": ["192.0.2.0"]}
    if campaign:
        tags["campaign"] = [campaign]
    if lead:
        tags["lead"] = [lead]
    return {**MAIL, "tags": tags}


def bounce(bounce_type: str = "Permanent", email: str = "jane@example.com") -> dict[str, Any]:
    return {"bounceType": bounce_type, "bounceSubType": "General", "feedbackId": "0100-bounce",
            "timestamp": "2026-11-25T10:00:05.000Z", "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com",
            "bouncedRecipients": [{"emailAddress": email, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}


COMPLAINT = {"userAgent": "ExampleCorp Feedback Loop (V0.01)", "complaintFeedbackType": "abuse",
             "complainedRecipients": [{"emailAddress": "jane@example.com"}], "timestamp": "2026-11-25T11:00:00.000Z",
             "feedbackId": "0100-complaint"}
DELIVERY = {"timestamp": "2026-11-25T10:00:02.000Z", "processingTimeMillis": 546, "recipients": ["jane@example.com"],
            "smtpResponse": "250 ok", "reportingMTA": "a8-70.smtp-out.amazonses.com"}
OPEN = {"ipAddress": "192.0.2.1", "timestamp": "2026-11-25T12:00:00.000Z", "userAgent": "Mozilla/5.0"}
CLICK = {"ipAddress": "192.0.2.1", "link": "https://pivotr.example.com/", "linkTags": {}, "timestamp": "2026-11-25T12:01:00.000Z",
         "userAgent": "Mozilla/5.0"}


def identity(kind: str, section: dict[str, Any], mail: dict[str, Any] | None = None) -> dict[str, Any]:
    """An identity notification (``notificationType``)."""
    return {"notificationType": kind, kind.lower(): section, "mail": mail or MAIL}


def event(kind: str, section: dict[str, Any] | None, mail: dict[str, Any] | None = None) -> dict[str, Any]:
    """A configuration-set event (``eventType``)."""
    key = {"DeliveryDelay": "deliveryDelay"}.get(kind, kind.lower())
    body = {"eventType": kind, "mail": mail or tagged()}
    if section is not None:
        body[key] = section
    return body


# The dev stage's topic as the handler tests create it from the plan (moto's account).
TOPIC_ARN = "arn:aws:sns:ap-south-1:123456789012:pivotr-mailer-dev-ses-events"


def sns(message: dict[str, Any], message_id: str, topic: str = TOPIC_ARN, version: str = "1") -> str:
    """An SQS body as SNS delivers it: the notification envelope, signed (simulator/sns_signing.py)."""
    from simulator.sns_signing import sign

    return json.dumps(sign({"Type": "Notification", "MessageId": message_id, "TopicArn": topic,
                            "Message": json.dumps(message), "Timestamp": "2026-11-25T12:00:00.000Z"}, version))


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"sqs-{i}", "receiptHandle": "r", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:ap-south-1:123456789012:feedback", "awsRegion": "ap-south-1"}
                        for i, body in enumerate(bodies)]}
