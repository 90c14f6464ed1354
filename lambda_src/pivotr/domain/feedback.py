"""SES feedback: both notification formats, wrapped in SNS, parsed into one plain event. No AWS here.

- Identity notifications carry ``notificationType`` (Bounce, Complaint, Delivery).
- Configuration-set events carry ``eventType`` (Send, Delivery, Bounce, Complaint, Reject, Open,
  Click, DeliveryDelay, RenderingFailure, Subscription).

Campaign and lead come from the message tags send-email sets (``campaign``, ``lead``); without them,
the lead of a bounce or complaint still follows from the address (lead ids derive from e-mails).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pivotr import safejson
from pivotr.domain.leads import BOUNCED, COMPLAINED, lead_id, normalize_email

CAMPAIGN_TAG = "campaign"
LEAD_TAG = "lead"
# event kind -> the metrics counter it increments (None: logged only)
COUNTER = {
    "send": None,
    "delivery": "delivered",
    "bounce": "bounced",  # the counter (domain.metrics), not the lead status; permanent bounces only; transient ones are logged only
    "complaint": "complained",
    "open": "opened",
    "click": "clicked",
    "reject": "failed",
    "deliverydelay": None,
    "renderingfailure": "failed",
    "subscription": None,
}


class Unparseable(ValueError):
    """Not an SES notification we understand; logged and dropped, never retried."""


@dataclass(frozen=True)
class FeedbackEvent:
    event_id: str  # the SNS message id: the same for every redelivery of one notification
    kind: str  # a key of COUNTER
    message_id: str  # SES message id
    timestamp: str
    campaign_id: str | None
    lead_ids: tuple[str, ...]  # the leads it is about
    addresses: tuple[str, ...] = ()  # the recipients' addresses it names (normalized)
    permanent: bool = False  # bounces: only permanent ones suppress
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def counter(self) -> str | None:
        if self.kind == "bounce" and not self.permanent:
            return None
        return COUNTER[self.kind]

    @property
    def suppresses_as(self) -> str | None:
        """The lead status this event sets: permanent bounce -> bounced, complaint -> complained."""
        if self.kind == "bounce" and self.permanent:
            return BOUNCED
        if self.kind == "complaint":
            return COMPLAINED
        return None


def _first(tags: dict[str, Any], name: str) -> str | None:
    values = tags.get(name) or []
    return str(values[0]) if isinstance(values, list) and values else None


def _addresses(ses: dict[str, Any], kind: str) -> list[str]:
    section = ses.get(kind) or {}
    recipients = section.get("bouncedRecipients") or section.get("complainedRecipients") or []
    found = [r.get("emailAddress", "") for r in recipients if isinstance(r, dict)]
    if not found:
        found = [str(a) for a in section.get("recipients") or (ses.get("mail") or {}).get("destination") or []]
    return [a for a in found if a]


def parse(message: str, event_id: str = "") -> FeedbackEvent:
    """One SES notification: the ``Message`` of an authenticated SNS notification (``event_id`` its SNS
    message id), or the SQS body itself under raw delivery (no SNS id: one is derived)."""
    try:
        ses = safejson.loads(message, max_bytes=safejson.MAX_MESSAGE)
        if not isinstance(ses, dict):
            raise Unparseable("SES message is not a JSON object")
        raw_kind = ses.get("eventType") or ses.get("notificationType")
        if not isinstance(raw_kind, str) or raw_kind.lower() not in COUNTER:
            raise Unparseable("unknown SES event type")
        kind = raw_kind.lower()
        mail = ses.get("mail") or {}
        message_id = mail.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            raise Unparseable("no mail.messageId")
        section = ses.get({"deliverydelay": "deliveryDelay", "renderingfailure": "failure"}.get(kind, kind)) or {}
        timestamp = str(section.get("timestamp") or mail.get("timestamp") or "")
        tags = mail.get("tags") or {}
        tagged_lead = _first(tags, LEAD_TAG)
        leads = (tagged_lead,) if tagged_lead else tuple(dict.fromkeys(lead_id(a) for a in _addresses(ses, kind)))
        detail = {k: section.get(k) for k in ("bounceType", "bounceSubType", "complaintFeedbackType", "reason",
                                                "delayType", "link") if section.get(k)}
        return FeedbackEvent(
            event_id=event_id or f"{message_id}:{kind}:{timestamp}",
            kind=kind,
            message_id=message_id,
            timestamp=timestamp,
            campaign_id=_first(tags, CAMPAIGN_TAG),
            lead_ids=leads,
            addresses=tuple(dict.fromkeys(normalize_email(a) for a in _addresses(ses, kind))),
            permanent=kind == "bounce" and section.get("bounceType") == "Permanent",
            detail=detail,
        )
    except Unparseable:
        raise
    except safejson.Unreadable as error:
        raise Unparseable(error.reason) from None
    except (ValueError, TypeError, AttributeError, KeyError) as error:  # the type only: texts quote the content
        raise Unparseable(f"{type(error).__name__} reading the notification") from None
