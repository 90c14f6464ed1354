"""Campaigns: fields, and the state machine draft -> running <-> paused -> completed, aborted."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pivotr.domain.leads import STATUSES, SUPPRESSED, email_problem
from pivotr.errors import invalid
from pivotr.validation import Field, validate


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"


DRAFT, RUNNING, PAUSED, COMPLETED, ABORTED = CampaignStatus
EDITABLE = frozenset({DRAFT, PAUSED})
FINISHED = frozenset({COMPLETED, ABORTED})


class Action(StrEnum):
    """Every move of the state machine: the API's (start, pause, abort) and the sending pipeline's."""

    START = "start"
    PAUSE = "pause"
    ABORT = "abort"
    COMPLETE = "complete"  # the run's last recipient is closed
    AUTOPAUSE = "autopause"  # the campaign's bounce or complaint rate crossed its limit


class Move(NamedTuple):  # a NamedTuple, not a dataclass: cheaper to define at every cold start
    allowed_from: frozenset[CampaignStatus]
    target: CampaignStatus
    stamp: str  # the attribute that records when the campaign last made this move

    def values(self, at: str) -> dict[str, Any]:
        """What the move writes: the new status, its time stamp and ``updatedAt``."""
        return {"status": self.target, self.stamp: at, "updatedAt": at}


# The one table of moves: every path that changes a campaign's status (API, dispatcher, feedback) reads it.
TRANSITIONS: dict[Action, Move] = {
    Action.START: Move(frozenset({DRAFT, PAUSED}), RUNNING, "startedAt"),
    Action.PAUSE: Move(frozenset({RUNNING}), PAUSED, "pausedAt"),
    Action.ABORT: Move(frozenset({DRAFT, RUNNING, PAUSED}), ABORTED, "abortedAt"),
    Action.COMPLETE: Move(frozenset({RUNNING}), COMPLETED, "completedAt"),
    Action.AUTOPAUSE: Move(frozenset({RUNNING}), PAUSED, "pausedAt"),
}
MAX_DELAY = 3_600  # seconds between two sends
MAX_DAILY_LIMIT = 1_000_000  # e-mails per day: the account's SES 24-hour quota, shared by all campaigns, is the real bound (domain.rate)
MAX_LEAD_IDS = 1_000
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DISPLAY_NAME = re.compile(r"[^\x00-\x1f\x7f\"<>]{1,100}")


def _iso_datetime(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return "must be an ISO 8601 date-time"
    return None if parsed.tzinfo else "must include a time zone offset, e.g. 2026-12-01T09:00:00+05:30"


def _object(fields: dict[str, Field], check=None, *, required: bool = False) -> Field:
    """An object with exactly ``fields``; ``check`` then sees it whole (rules across its fields)."""
    return Field(dict, properties=fields, check=check, required=required)


def _pacing(values: dict[str, Any]) -> str | None:
    if values["minDelaySeconds"] > values["maxDelaySeconds"]:
        return "minDelaySeconds must not exceed maxDelaySeconds"
    return None


def _window(values: dict[str, Any]) -> str | None:
    try:
        ZoneInfo(values["timeZone"])
    except (ZoneInfoNotFoundError, ValueError):
        return f"timeZone {values['timeZone'][:60]!r} is not an IANA time zone"
    if values["startHour"] == values["endHour"]:
        return "startHour and endHour must differ"
    return None


def _audience(values: dict[str, Any]) -> str | None:
    if not any(values.get(k) for k in ("statuses", "tags", "leadIds")):
        return "needs statuses, tags or leadIds"
    suppressed = sorted(set(values.get("statuses", [])) & SUPPRESSED)
    if suppressed:
        return f"statuses {', '.join(suppressed)} are suppressed and are never sent to"
    return None


def _rate(value: Any) -> str | None:
    return None if 0 < value <= 1 else "must be a fraction above 0 and at most 1 (0.05 is 5 %)"


def _auto_pause(values: dict[str, Any]) -> str | None:
    return None if values else "needs bounceRate, complaintRate or minSends"


_RATE = {"minimum": 0, "exclusiveMinimum": True, "maximum": 1}  # what _rate checks
_HOUR = Field(int, required=True, minimum=0, maximum=23)
_DELAY = Field(int, required=True, minimum=0, maximum=MAX_DELAY)
FIELDS = {
    "name": Field(str, required=True, max_length=200),
    "templateId": Field(str, required=True, pattern=_ID),
    "fromEmail": Field(str, required=True, max_length=254, check=email_problem,
                       doc={"format": "email", "description": "Under the verified SES domain"}),
    "fromName": Field(str, pattern=_DISPLAY_NAME, nullable=True),
    "audience": _object(
        {
            "statuses": Field(list, max_length=len(STATUSES), item=Field(str, choices=frozenset(STATUSES))),
            "tags": Field(list, max_length=50, item=Field(str, max_length=64)),
            "leadIds": Field(list, max_length=MAX_LEAD_IDS, item=Field(str, pattern=_ID)),
        },
        _audience,
        required=True,
    ),
    "startAt": Field(str, max_length=40, check=_iso_datetime, nullable=True, doc={"format": "date-time"}),
    "pacing": _object({"minDelaySeconds": _DELAY, "maxDelaySeconds": _DELAY}, _pacing),
    "dailyLimit": Field(int, minimum=1, maximum=MAX_DAILY_LIMIT),
    "sendingWindow": _object(
        {"startHour": _HOUR, "endHour": _HOUR,
         "timeZone": Field(str, required=True, max_length=64,
                           doc={"description": "IANA time zone", "example": "Europe/Berlin"})},
        _window
    ),
    "verifyFirst": Field(bool, doc={"description": "Verify unverified (new) leads with MyEmailVerifier before sending to them"}),
    "autoPause": _object(
        {"bounceRate": Field((int, float), check=_rate, doc=_RATE | {"default": 0.05}),
         "complaintRate": Field((int, float), check=_rate, doc=_RATE | {"default": 0.001}),
         "minSends": Field(int, minimum=1, maximum=1_000_000, doc={"default": 100})},
        _auto_pause,
    ),
}
# Dispatcher state (see domain/sending.py): kept on the item, never shown by the API.
INTERNAL = frozenset({"runId", "runTick", "runMessage", "runPhase", "runCursor", "runSnapshot", "runNextSendAt",
                      "runDayKey", "runDayCount", "runReleasedAt", "runWakeAt", "runPlan", "runDrain", "runSummary"})
DEFAULTS = {"pacing": {"minDelaySeconds": 30, "maxDelaySeconds": 120}, "dailyLimit": 500}


def _check_sender(values: dict[str, Any], identity_domain: str) -> None:
    if "fromEmail" not in values:
        return
    from pivotr.domain import emails  # noqa: I001 (the one validator, imported only when a sender arrives)

    values["fromEmail"] = emails.normalized(values["fromEmail"])
    domain = emails.ascii_form(values["fromEmail"]).rsplit("@", 1)[-1]  # SES identities are ASCII (Punycode)
    identity = emails.ascii_form("x@" + identity_domain.lower()).rsplit("@", 1)[-1]
    if domain != identity and not domain.endswith("." + identity):
        raise invalid([{"field": "fromEmail", "message": f"must be an address under the verified domain {identity}"}])


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB takes no floats: auto-pause rates become Decimals (read back as floats)."""
    if values.get("autoPause"):
        values["autoPause"] = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in values["autoPause"].items()}
    return values


def public(campaign: dict[str, Any]) -> dict[str, Any]:
    """The campaign as the API shows it: without the dispatcher's bookkeeping. ``waitReason``
    (``domain.rate.WaitReason``) says why a running campaign is sending nothing right now."""
    shown = {k: v for k, v in campaign.items() if k not in INTERNAL}
    if not shown.get("waitReason") or shown.get("status") != RUNNING:
        shown.pop("waitReason", None)
    return shown


def new_campaign(body: Any, *, id_: str, now: str, identity_domain: str) -> dict[str, Any]:
    values = _storable(validate(body, FIELDS))
    _check_sender(values, identity_domain)
    return {**DEFAULTS, **{k: v for k, v in values.items() if v is not None}, "id": id_, "status": DRAFT,
            "createdAt": now, "updatedAt": now}


def changes(body: Any, *, now: str, identity_domain: str) -> dict[str, Any]:
    values = _storable(validate(body, FIELDS, partial=True))
    _check_sender(values, identity_domain)
    return {**values, "updatedAt": now}


def transition(action: Action | str) -> Move:
    """The move ``action`` makes: the states it may start from, the state it leads to, its time stamp."""
    return TRANSITIONS[Action(action)]


def new_run(campaign: dict[str, Any], *, run_id: str) -> dict[str, Any]:
    """Dispatcher state for a start or a resume. Both snapshot the audience as it is now: a resume
    adds leads that joined it, takes over the waiting recipients that are still in it, and the gate
    skips the ones that left (sent, failed or claimed recipients are never touched again). The pacing
    clock and the day's count carry over, so a resume can never send sooner than the run before it would."""
    return {"runId": run_id, "runTick": 0, "runMessage": "", "runPhase": "snapshot", "runSnapshot": "",
            "runCursor": "", "runNextSendAt": Decimal(str(campaign.get("runNextSendAt") or 0)), "pauseReason": None,
            "waitReason": "", "runDrain": "", "runSummary": ""}
