"""Sending: who is in a campaign's audience, when each e-mail may go, what it says. No AWS here.

A running campaign is driven by a chain of *dispatch* messages on the sending queue. Each one is a
tick: it snapshots a page of the audience into recipient records, or releases the next sends
(spaced by the pacing gap, inside the window and the daily limit), or, once everything is
released, checks whether the campaign is complete. Times are epoch seconds from an injected clock.
"""

from __future__ import annotations

import html as html_escaping
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import formataddr
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pivotr import safejson
from pivotr.domain import leads, templates
from pivotr.domain.leads import SUPPRESSED, UNVERIFIED
from pivotr.domain.rate import SlotBook, WaitReason
from pivotr.timestamps import iso

HORIZON = 900  # seconds: SQS's longest message delay, so a tick plans at most this far ahead
RELEASE_MAX = 500  # sends released per tick: bounded work inside send-email's 30 s
SNAPSHOT_PAGE = 1_000  # leads read per snapshot tick
DRAIN_CHECK = 300  # seconds between completion checks once everything is released
DRAIN_CHECK_VERIFYING = 60  # ... while recipients wait for verification (a verified one waits at most this for the gate)
DRAIN_PAGE = 500  # open recipients per read of a completion check
DRAIN_BUDGET = 2_000  # open recipients one completion tick reads at most (the pass goes on in the next tick)
SUMMARY_PAGES = 4  # reads (up to 1 MB each) one tick makes counting the final summary
EARLY = 2.5  # seconds: an order may be claimed this long before its slot (delays are rounded down and shared by a
# batch of ten sends within it, see order_delays; send-email waits for each slot)
SWEEP_AFTER = 1_800  # seconds past its slot before a released e-mail whose message never came is released again
STALE_CLAIM = 60  # seconds: twice send-email's 30 s timeout, so an older claim's holder is certainly dead
AUTO_PAUSE = {"bounceRate": 0.05, "complaintRate": 0.001, "minSends": 100}  # SES reviews accounts at 5 % / 0.1 %


class RecipientStatus(StrEnum):
    """One recipient of one campaign. Only a claim (``released`` -> ``sending``) can hand it to SES."""

    VERIFYING = "verifying"  # waits for verify-email (verify-first campaigns), which hands it to the gate
    PENDING = "pending"  # waits for the release gate
    RELEASED = "released"  # the gate gave it a slot (``dueAt``) and queued its message, for run ``run``
    SENDING = "sending"  # claimed under ``claimToken``: at most one SendEmail request from here
    SENT = "sent"
    SKIPPED = "skipped"  # suppressed, deleted, left the audience, or invalid after verification
    FAILED = "failed"  # SES refused this recipient or message for good
    UNCONFIRMED = "unconfirmed"  # SES may have it (lost answer, dead claim): never re-sent; a Send event confirms


PENDING, VERIFYING, RELEASED, SENDING = (RecipientStatus.PENDING, RecipientStatus.VERIFYING, RecipientStatus.RELEASED,
                                         RecipientStatus.SENDING)
SENT, SKIPPED, FAILED, UNCONFIRMED = (RecipientStatus.SENT, RecipientStatus.SKIPPED, RecipientStatus.FAILED,
                                      RecipientStatus.UNCONFIRMED)
OPEN = frozenset({PENDING, VERIFYING, RELEASED, SENDING})  # the campaign is complete when none is left
CLOSED = frozenset(RecipientStatus) - OPEN
WAITING = frozenset({PENDING, VERIFYING, RELEASED})  # open and unclaimed: a new run may take them over


class Phase(StrEnum):
    """What a run's next dispatch tick does."""

    SNAPSHOT = "snapshot"  # one page of the audience into recipients stamped with the run
    RELEASE = "release"  # the gate: slots for the next sends (start time, window, daily limit, pacing)
    DRAIN = "drain"  # completion check: triage what is open (a pass over a few ticks), on when nothing is
    SUMMARY = "summary"  # count the recipients by status (a pass over a few ticks), then complete


class Triage(StrEnum):
    """What the gate does with one open recipient of the current run (see ``triage``)."""

    RELEASE = "release"  # pending in this run: give it a slot
    DEPART = "depart"  # waiting, but the current run's snapshot did not include it: it left the audience
    REVIVE = "revive"  # released long ago and never claimed: its message was lost; pending again
    SETTLE = "settle"  # claimed by an invocation that is certainly dead: sent (if SES said so) or unconfirmed
    WAIT = "wait"  # verifying, released on time, or freshly claimed


def triage(recipient: dict[str, Any], run_id: str, now: float) -> Triage:
    """Only asked once the run's snapshot is complete, so a waiting recipient it did not stamp has left."""
    status = recipient["status"]
    if status in WAITING and recipient.get("run") != run_id:
        return Triage.DEPART
    if status == PENDING:
        return Triage.RELEASE
    if status == RELEASED and now - float(recipient.get("dueAt", now)) >= SWEEP_AFTER:
        return Triage.REVIVE
    if status == SENDING and now - float(recipient.get("claimedAt", now)) >= STALE_CLAIM:
        return Triage.SETTLE
    return Triage.WAIT


@dataclass(frozen=True)
class Tick:
    """A dispatch message: runs tick number ``tick`` of run ``run_id``."""

    campaign_id: str
    run_id: str
    tick: int

    def body(self) -> dict[str, Any]:
        return {"campaignId": self.campaign_id, "runId": self.run_id, "tick": self.tick}


@dataclass(frozen=True)
class Order:
    """A send message: the e-mail of one recipient, released by run ``run_id`` (another run's is
    dropped), due at ``due`` (epoch seconds; the message arrives up to a second before it)."""

    campaign_id: str
    lead_id: str
    run_id: str
    due: float = 0.0

    def body(self) -> dict[str, Any]:
        return {"campaignId": self.campaign_id, "leadId": self.lead_id, "runId": self.run_id, "due": round(self.due, 3)}


def read_message(body: str) -> Tick | Order | None:
    """A sending-queue message, or None when it is not one."""
    try:
        message = safejson.loads(body, max_bytes=safejson.MAX_MESSAGE)
    except safejson.Unreadable:
        return None
    if not isinstance(message, dict) or not all(isinstance(message.get(k), str) for k in ("campaignId", "runId")):
        return None
    if "tick" in message:
        return Tick(message["campaignId"], message["runId"], message["tick"]) if type(message["tick"]) is int else None
    if not isinstance(message.get("leadId"), str):
        return None
    due = message.get("due", 0.0)  # absent from orders queued before sends were placed within the second
    return Order(message["campaignId"], message["leadId"], message["runId"],
                 float(due) if isinstance(due, (int, float)) and not isinstance(due, bool) else 0.0)


def tick_message(campaign_id: str, run_id: str, tick: int) -> dict[str, Any]:
    """The sending-queue message that runs a dispatch tick."""
    return Tick(campaign_id, run_id, tick).body()


def log_entry(campaign_id: str, lead_id: str | None, event: str, at: float, **detail: Any) -> dict[str, Any]:
    """A Logs item: one per sent, failed or skipped recipient (sort key unique per lead), or per campaign event."""
    entry = {"campaignId": campaign_id, "timestamp": f"{iso(at)}#{event}#{lead_id or uuid.uuid4().hex}", "event": event,
             **{k: v for k, v in detail.items() if v is not None}}
    if lead_id:
        entry["leadId"] = lead_id
    return entry


# -- audience ---------------------------------------------------------------------------------------
def in_audience(lead: dict[str, Any], audience: dict[str, Any]) -> bool:
    """Suppressed leads never are; statuses and tags, when given, must both match (any tag)."""
    if lead.get("status") in SUPPRESSED:
        return False
    statuses, tags = audience.get("statuses"), audience.get("tags")
    if statuses and lead.get("status") not in statuses:
        return False
    return not tags or bool(set(tags) & set(lead.get("tags") or ()))


def first_status(campaign: dict[str, Any], lead: dict[str, Any]) -> str:
    """A new recipient waits for verification first when the campaign asks for it and the lead is unverified."""
    return VERIFYING if campaign.get("verifyFirst") and lead.get("status") in UNVERIFIED else PENDING


# -- clock: windows and days --------------------------------------------------------------------------
def _zone(campaign: dict[str, Any]) -> ZoneInfo | timezone:
    window = campaign.get("sendingWindow")
    return ZoneInfo(window["timeZone"]) if window else timezone.utc


def in_window(campaign: dict[str, Any], at: float) -> bool:
    window = campaign.get("sendingWindow")
    if not window:
        return True
    hour, start, end = datetime.fromtimestamp(at, _zone(campaign)).hour, window["startHour"], window["endHour"]
    return start <= hour < end if start < end else (hour >= start or hour < end)  # a window may span midnight


def next_window_open(campaign: dict[str, Any], at: float) -> float:
    """The next time (after ``at``) the window opens."""
    local = datetime.fromtimestamp(at, _zone(campaign))
    opens = local.replace(hour=campaign["sendingWindow"]["startHour"], minute=0, second=0, microsecond=0)
    if opens.timestamp() <= at:
        opens += timedelta(days=1)
    return opens.timestamp()


def day_key(campaign: dict[str, Any], at: float) -> str:
    """The calendar day the daily limit counts in: the window's time zone, else UTC."""
    return datetime.fromtimestamp(at, _zone(campaign)).date().isoformat()


def next_day(campaign: dict[str, Any], at: float) -> float:
    local = datetime.fromtimestamp(at, _zone(campaign))
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).timestamp()


def start_at(campaign: dict[str, Any]) -> float:
    return datetime.fromisoformat(campaign["startAt"]).timestamp() if campaign.get("startAt") else 0.0


# -- pacing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    times: tuple[float, ...]  # when each released send may go, in order
    next_send_at: float  # when the send after them may go
    day_key: str | None
    day_count: int  # sends released on day_key, these included
    waiting: WaitReason | None = None  # why the plan stopped before ``available`` (None: it did not, or the horizon)


def release_limit(campaign: dict[str, Any]) -> int:
    """At most how many sends one tick can release (so it reads no more recipients than it can use)."""
    gap = max(campaign["pacing"]["minDelaySeconds"], 1)
    return min(RELEASE_MAX, HORIZON // gap + 1, campaign["dailyLimit"])


def schedule(campaign: dict[str, Any], now: float, available: int, rng: random.Random, book: SlotBook | None = None) -> Plan:
    """Times for up to ``available`` sends within the next HORIZON seconds, honouring the scheduled
    start, the pacing gap (uniform in [min, max]), the sending window, the daily limit and, with a
    ``book``, the account's SES rate and 24-hour quota shared with every other campaign
    (``domain.rate``): each send takes the first free position of the book at or after the time the
    campaign's own rules allow, then the window and the day are checked at that position.

    A send's message arrives up to a second before its time (its SQS delay is rounded down, see
    ``order_delay``) and send-email waits for the time itself, so the sends of all campaigns reach
    SES spaced as the book placed them."""
    low, high = campaign["pacing"]["minDelaySeconds"], campaign["pacing"]["maxDelaySeconds"]
    at: float = max(now, float(campaign.get("runNextSendAt") or 0), start_at(campaign))
    key, count = campaign.get("runDayKey"), int(campaign.get("runDayCount") or 0)
    times: list[float] = []
    waiting: WaitReason | None = WaitReason.SCHEDULED if start_at(campaign) > now + HORIZON else None
    while len(times) < available:
        if book is not None and book.exhausted():
            waiting = WaitReason.ACCOUNT_QUOTA
            break
        position = book.first_free(at) if book is not None else at
        if position > now + HORIZON:
            if waiting is None:
                waiting = WaitReason.ACCOUNT_RATE if at <= now + HORIZON else WaitReason.PACING
            break
        if not in_window(campaign, position):
            at, waiting = next_window_open(campaign, position), WaitReason.WINDOW
            continue
        if day_key(campaign, position) != key:
            key, count = day_key(campaign, position), 0
        if count >= campaign["dailyLimit"]:
            at, waiting = next_day(campaign, position), WaitReason.DAILY_LIMIT
            continue
        times.append(book.take(position) if book is not None else position)
        count += 1
        at = position + rng.uniform(low, high)
    if len(times) == available:
        waiting = None
    return Plan(tuple(times), at, key, count, waiting)


def wake_delay(at: float, now: float) -> int:
    """SQS delay of a dispatch tick that should arrive at ``at``: whole seconds rounded up (never
    early), at most HORIZON (a tick further away hops)."""
    return min(HORIZON, max(0, math.ceil(at - now)))


def order_delays(dues: list[float], now: float, batch: int = 10) -> list[int]:
    """SQS delays for sends due at ``dues`` (in order), queued ``batch`` per SendMessageBatch: a batch
    whose sends all fall within EARLY of its first one's arrival shares that delay, so its messages
    become visible together and reach one invocation together (a full batch: one read, one claim,
    one record for ten e-mails); otherwise each send has its own (``order_delay``)."""
    delays: list[int] = []
    for start in range(0, len(dues), batch):
        chunk = dues[start:start + batch]
        shared = order_delay(min(chunk), now)
        if max(chunk) - (now + shared) <= EARLY:
            delays += [shared] * len(chunk)
        else:
            delays += [order_delay(due, now) for due in chunk]
    return delays


def order_delay(due: float, now: float) -> int:
    """SQS delay of a send due at ``due``: whole seconds rounded **down**, so the message arrives in the
    second before ``due`` and send-email waits for ``due`` itself (``Delivery``): SQS delays cannot
    place a send more finely than a second, and sends must reach SES spaced to a fraction of one."""
    return min(HORIZON, max(0, math.floor(due - now)))


# -- send time ------------------------------------------------------------------------------------
def skip_reason(lead: dict[str, Any] | None) -> str | None:
    """Why this lead must not get the e-mail now (None: it may)."""
    if lead is None:
        return "lead deleted"
    if lead.get("status") in SUPPRESSED:
        return f"lead {lead['status']}"
    return None


@dataclass(frozen=True)
class Email:
    from_address: str
    to: str
    subject: str
    html: str | None
    text: str | None
    headers: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]


def compose(campaign: dict[str, Any], template: dict[str, Any], lead: dict[str, Any], unsubscribe_url: str) -> Email:
    """The rendered e-mail with its one-click unsubscribe headers (RFC 8058) and SES tags."""
    rendered = templates.render(template, {**lead, "unsubscribeUrl": unsubscribe_url})
    html, text = rendered.html, rendered.text
    if text is not None and unsubscribe_url not in text:
        text += f"\n\n--\nUnsubscribe: {unsubscribe_url}\n"
    if html is not None and unsubscribe_url not in html:
        link = html_escaping.escape(unsubscribe_url)
        html += f'<p style="font-size:12px;color:#666"><a href="{link}">Unsubscribe</a></p>'
    return Email(
        from_address=formataddr((campaign.get("fromName") or "", campaign["fromEmail"]), charset="utf-8"),
        to=leads.ascii_address(lead["email"]),
        subject=rendered.subject,
        html=html,
        text=text,
        headers=(("List-Unsubscribe", f"<{unsubscribe_url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")),
        tags=(("campaign", campaign["id"]), ("lead", lead["id"])),
    )


# -- auto-pause -----------------------------------------------------------------------------------
def pause_reason(campaign: dict[str, Any], totals: dict[str, int]) -> str | None:
    """Why a running campaign must pause itself, given its metric totals (None: it need not)."""
    limits = {**AUTO_PAUSE, **(campaign.get("autoPause") or {})}
    sent = totals.get("sent", 0)
    if sent < limits["minSends"]:
        return None
    for counter, rate in (("bounced", "bounceRate"), ("complained", "complaintRate")):
        observed = totals.get(counter, 0) / sent
        if observed >= limits[rate]:
            return f"{rate} {observed:.2%} reached the {limits[rate]:.2%} limit after {sent} sends"
    return None
