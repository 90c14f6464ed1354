"""Leads: fields, statuses, e-mail normalization and the deterministic id that makes e-mails unique."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Any

from pivotr.errors import invalid
from pivotr.validation import Field, validate


class LeadStatus(StrEnum):
    NEW = "new"
    VERIFYING = "verifying"
    VALID = "valid"
    RISKY = "risky"
    INVALID = "invalid"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


NEW, VERIFYING, VALID, RISKY, INVALID, BOUNCED, COMPLAINED, UNSUBSCRIBED = LeadStatus
STATUSES = tuple(LeadStatus)
SUPPRESSED = frozenset({INVALID, BOUNCED, COMPLAINED, UNSUBSCRIBED})  # never sent to
SUPPRESSION_REASONS = (BOUNCED, COMPLAINED, UNSUBSCRIBED)  # the statuses an entry of the suppression list stands for
FEEDBACK_ONLY = frozenset({BOUNCED, COMPLAINED})  # set by SES feedback, never by hand
UNVERIFIED = frozenset({NEW, VERIFYING})  # a verification result may replace these
# A status is only ever replaced by a stronger suppression: complaints win over everything.
REPLACEABLE_BY = {BOUNCED: (NEW, VERIFYING, VALID, RISKY, INVALID),
                  COMPLAINED: (NEW, VERIFYING, VALID, RISKY, INVALID, BOUNCED, UNSUBSCRIBED)}
UNSUBSCRIBE_KEEPS = (UNSUBSCRIBED, COMPLAINED)  # an unsubscribe leaves these as they are
MAX_EMAIL = 254  # characters (RFC 5321 path limit)
MAX_TAGS = 50
MAX_ATTRIBUTES = 50
_ID_NAMESPACE = uuid.UUID("6f1c8c1e-7d8a-4a55-9a39-2f3c1f6d6c11")  # fixed: ids must never change
_TAG = re.compile(r"[\w .:/+-]{1,64}")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: addresses are unique case-insensitively (the last step of
    ``canonical_email``, and the form stored ids are derived from)."""
    return raw.strip().lower()


def ascii_address(email: str) -> str:
    """A stored address with its domain in Punycode (``x@xn--bcher-kva.de``): what SES accepts. idna
    is imported only for an internationalized domain."""
    local, _, domain = email.rpartition("@")
    if domain.isascii():
        return email
    import idna

    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


def canonical_email(raw: str) -> str:
    """The one stored form of a valid address (domain/emails.py); the caller has validated it."""
    from pivotr.domain import emails

    return emails.normalized(raw)


def email_problem(value: Any) -> str | None:
    """The one validator (domain/emails.py), imported on first use: email-validator's import costs
    cold-start time that the leads and campaigns functions pay only when an address arrives."""
    from pivotr.domain import emails

    return emails.problem(value)


def lead_id(email: str) -> str:
    """The lead id follows from the normalized e-mail, so a conditional put makes e-mails unique."""
    return "ld_" + uuid.uuid5(_ID_NAMESPACE, normalize_email(email)).hex


def _attribute_keys_problem(value: dict[str, Any]) -> str | None:
    for key in value:
        if not _ATTRIBUTE_KEY.fullmatch(key):
            return f"key {key[:70]!r} must start with a letter and use letters, digits or _"
    return None


FIELDS = {
    "email": Field(str, required=True, max_length=MAX_EMAIL, check=email_problem, doc={"format": "email"}),
    "firstName": Field(str, max_length=100, nullable=True),
    "lastName": Field(str, max_length=100, nullable=True),
    "company": Field(str, max_length=200, nullable=True),
    "customAttributes": Field(dict, max_length=MAX_ATTRIBUTES, values=Field(str, max_length=1_000), check=_attribute_keys_problem,
                              doc={"description": "Keys start with a letter and use letters, digits or _ (at most 64)"}),
    "tags": Field(list, max_length=MAX_TAGS, item=Field(str, max_length=64, pattern=_TAG)),
    "status": Field(str, choices=frozenset(STATUSES)),
}


def new_lead(body: Any, now: str) -> dict[str, Any]:
    """A validated lead item from a create request."""
    values = validate(body, FIELDS)
    email = canonical_email(values["email"])
    lead = {"status": NEW, "customAttributes": {}, **{k: v for k, v in values.items() if v is not None}}
    lead.update(id=lead_id(email), email=email, tags=sorted(set(values.get("tags", []))), createdAt=now, updatedAt=now)
    return lead


def changes(body: Any, current: dict[str, Any], now: str) -> dict[str, Any]:
    """The fields an update request sets (only those present); the e-mail identifies a lead and stays."""
    values = validate(body, FIELDS, partial=True)
    if "email" in values and canonical_email(values["email"]) != current["email"]:
        raise invalid([{"field": "email", "message": "cannot change: the e-mail identifies the lead; create a new lead"}])
    values.pop("email", None)
    if "tags" in values:
        values["tags"] = sorted(set(values["tags"]))
    return {**values, "updatedAt": now}
