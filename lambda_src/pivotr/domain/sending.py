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
from typing import Any
from zoneinfo import ZoneInfo

from pivotr.domain import templates
from pivotr.domain.leads import SUPPRESSED

HORIZON = 900  # seconds: SQS's longest message delay, so a tick plans at most this far ahead
RELEASE_MAX = 500  # sends released per tick: bounded work inside send-email's 30 s
SNAPSHOT_PAGE = 1_000  # leads read per snapshot tick
DRAIN_CHECK = 300  # seconds between completion checks once everything is released
DRAIN_PAGE = 100  # open recipients one completion check reads
SWEEP_AFTER = 1_800  # seconds after the last release before still-pending recipients are released again
STALE_CLAIM = 60  # seconds: twice send-email's 30 s timeout, so an older claim's holder is certainly dead
AUTO_PAUSE = {"bounceRate": 0.05, "complaintRate": 0.001, "minSends": 100}  # SES reviews accounts at 5 % / 0.1 %

# Recipient statuses. A recipient is handed to SES only from "sending", which one claim sets.
PENDING, VERIFYING, SENDING = "pending", "verifying", "sending"
SENT, SKIPPED, FAILED, UNCONFIRMED = "sent", "skipped", "failed", "unconfirmed"
OPEN = frozenset({PENDING, VERIFYING, SENDING})  # the campaign is complete when none is left
RECIPIENT_STATUSES = (PENDING, VERIFYING, SENDING, SENT, SKIPPED, FAILED, UNCONFIRMED)
UNVERIFIED = frozenset({"new", "verifying"})


def tick_message(campaign_id: str, run_id: str, tick: int) -> dict[str, Any]:
    """The sending-queue message that runs a dispatch tick."""
    return {"campaignId": campaign_id, "runId": run_id, "tick": tick}


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def release_limit(campaign: dict[str, Any]) -> int:
    """At most how many sends one tick can release (so it reads no more recipients than it can use)."""
    gap = max(campaign["pacing"]["minDelaySeconds"], 1)
    return min(RELEASE_MAX, HORIZON // gap + 1, campaign["dailyLimit"])


def schedule(campaign: dict[str, Any], now: float, available: int, rng: random.Random) -> Plan:
    """Times for up to ``available`` sends within the next HORIZON seconds, honouring the scheduled
    start, the pacing gap (uniform in [min, max]), the sending window and the daily limit."""
    low, high = campaign["pacing"]["minDelaySeconds"], campaign["pacing"]["maxDelaySeconds"]
    at = max(now, float(campaign.get("runNextSendAt") or 0), start_at(campaign))
    key, count = campaign.get("runDayKey"), int(campaign.get("runDayCount") or 0)
    times: list[float] = []
    while len(times) < available and at < now + HORIZON:
        if not in_window(campaign, at):
            at = next_window_open(campaign, at)
            continue
        if day_key(campaign, at) != key:
            key, count = day_key(campaign, at), 0
        if count >= campaign["dailyLimit"]:
            at = next_day(campaign, at)
            continue
        times.append(at)
        count += 1
        at += rng.uniform(low, high)
    return Plan(tuple(times), at, key, count)


def wake_delay(at: float, now: float) -> int:
    """SQS delay (whole seconds, rounded up so it never arrives early; at most HORIZON) for a message
    that should arrive at ``at``."""
    return min(HORIZON, max(0, math.ceil(at - now)))


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
        to=lead["email"],
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
