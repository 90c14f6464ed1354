"""The account's SES rate, shared by every running campaign of a stage. No AWS here.

SES accepts at most ``MaxSendRate`` e-mails per second and ``Max24HourSend`` per rolling 24 hours
for the whole account (and region); above either it answers ``Throttling`` and drops the message.
The mailer may use a configured share of both (``quota_share``, 0.9 by default: the rest absorbs
the jitter of SQS delivery and any other sender on the account).

Every release of every campaign reserves its sends in one **slot book** (one DynamoDB item, written
with optimistic concurrency, see ``data.rate``). The book counts the sends reserved in each whole
second ahead. Second ``k`` holds at most ``capacity(k)`` of them, spread evenly across it, so the
sends of all campaigns together are spaced ``1 / rate`` apart and never burst, whatever order the
releases come in. The capacities of consecutive seconds add up to the share of the rate exactly
(12, 13, 12, 13, 13, ... for 12.6/s): a fractional rate is neither rounded up nor wasted.

The 24-hour quota: the book also counts what was reserved since SES last reported
``SentLast24Hours``; a release that would exceed the share of ``Max24HourSend`` waits until SES
reports that the window has rolled (``QUOTA_RECHECK``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

QUOTA_MAX_AGE = 300  # seconds: re-read SES's quota (GetAccount) when the cached one is older
QUOTA_RECHECK = 600  # seconds to wait before looking again once the 24-hour quota is used up (SES's advice: up to 10 min)
THROTTLE_BACKOFF = 2  # seconds: a send SES throttled anyway gets a new slot at least this far ahead
DEFAULT_SHARE = 0.9  # of the account's rate and 24-hour quota, unless the stage configures another
STALE_AHEAD = 3_600  # seconds: a book starting further ahead of the clock than this came from a clock set back
MILLI = 1000  # rates are kept in sends per 1,000 s: integer arithmetic, no float drift over epoch seconds


class WaitReason(StrEnum):
    """Why a running campaign released nothing this time (shown on the campaign as ``waitReason``)."""

    SCHEDULED = "scheduled-start"  # startAt is ahead
    WINDOW = "sending-window"  # outside its sending window
    DAILY_LIMIT = "daily-limit"  # the campaign's own dailyLimit is reached for today
    PACING = "pacing"  # its own pacing gap puts the next send beyond SQS's 900 s horizon
    ACCOUNT_RATE = "ses-rate"  # other campaigns hold every slot of the account's rate within the horizon
    ACCOUNT_QUOTA = "ses-daily-quota"  # the share of SES's 24-hour quota is used up: waits for the window to roll


@dataclass(frozen=True)
class SendQuota:
    """SES v2 ``GetAccount`` -> ``SendQuota``, as read at ``read_at`` (epoch seconds)."""

    max_send_rate: float  # e-mails per second
    max_24_hour_send: float  # -1: unlimited
    sent_last_24_hours: float
    read_at: float

    def fresh(self, now: float) -> bool:
        return now - self.read_at < QUOTA_MAX_AGE

    def to_item(self) -> dict[str, Any]:
        return {"maxSendRate": str(self.max_send_rate), "max24HourSend": str(self.max_24_hour_send),
                "sentLast24Hours": str(self.sent_last_24_hours), "readAt": str(self.read_at)}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> SendQuota | None:
        if not item:
            return None
        return cls(float(item["maxSendRate"]), float(item["max24HourSend"]), float(item["sentLast24Hours"]),
                   float(item["readAt"]))


def rate_milli(quota: SendQuota, share: float) -> int:
    """The mailer's share of the account's rate, in sends per 1,000 s (at least one send per 1,000 s)."""
    return max(1, math.floor(quota.max_send_rate * share * MILLI))


def capacity(second: int, milli: int) -> int:
    """Sends second ``second`` may hold: the whole sends the rate accrues during it."""
    return (second + 1) * milli // MILLI - second * milli // MILLI


def pack(counts: list[int]) -> str:
    """Counts per second as stored: a short string, runs of empty seconds as ``-n`` (a paced campaign
    reserves a send every minute or so: a list of 900 mostly zeros would be read and written whole)."""
    parts: list[str] = []
    for count in counts:
        if count == 0 and parts and parts[-1].startswith("-"):
            parts[-1] = f"-{int(parts[-1][1:]) + 1}"
        else:
            parts.append("-1" if count == 0 else str(count))
    return ",".join(parts)


def unpack(packed: str) -> list[int]:
    counts: list[int] = []
    for part in filter(None, packed.split(",")):
        counts += [0] * int(part[1:]) if part.startswith("-") else [int(part)]
    return counts


@dataclass
class SlotBook:
    """The account's reserved sends per second from ``base`` on, plus the 24-hour accounting.

    ``reserved_since`` counts sends reserved since the quota was read, and ``pending_at_read`` the
    ones reserved earlier for seconds after the read (not yet in ``SentLast24Hours``): both are
    added to SES's figure, so the 24-hour check can only err on the side of waiting."""

    quota: SendQuota
    share: float
    base: int
    counts: list[int]
    reserved_since: int = 0
    pending_at_read: int = 0
    version: int = 0
    taken: list[float] = field(default_factory=list)  # this release's reservations, in order

    @classmethod
    def open(cls, item: dict[str, Any] | None, quota: SendQuota, share: float, now: float) -> SlotBook:
        """The book as stored (``item``, None when it was never written), brought to ``now``: seconds
        already past are dropped, and a quota newer than the stored one resets the 24-hour count."""
        item = item or {}
        start = math.floor(now)
        if int(item.get("base", start)) > start + STALE_AHEAD:  # written by a clock set far ahead: nothing in it is real
            item = {k: v for k, v in item.items() if k not in ("base", "counts")}
        base, counts = int(item.get("base", start)), unpack(str(item.get("counts", "")))
        if base < start:
            counts, base = counts[start - base:], start
        book = cls(quota, share, base, counts, int(item.get("reservedSince", 0)), int(item.get("pendingAtRead", 0)),
                   int(item.get("version", 0)))
        stored = SendQuota.from_item(item.get("quota"))
        if stored is None or stored.read_at != quota.read_at:
            book.reserved_since, book.pending_at_read = 0, sum(book.counts[max(0, math.ceil(quota.read_at) - base):])
        return book

    def to_item(self) -> dict[str, Any]:
        """The attributes to store (the caller conditions the write on ``version``)."""
        while self.counts and self.counts[-1] == 0:
            self.counts.pop()
        while self.counts and self.counts[0] == 0:  # empty seconds ahead of the first reservation: not stored
            self.counts.pop(0)
            self.base += 1
        return {"base": self.base, "counts": pack(self.counts), "quota": self.quota.to_item(),
                "reservedSince": self.reserved_since, "pendingAtRead": self.pending_at_read, "version": self.version + 1}

    # -- the rate ---------------------------------------------------------------------------------
    @property
    def milli(self) -> int:
        return rate_milli(self.quota, self.share)

    def _count(self, second: int) -> int:
        index = second - self.base
        return self.counts[index] if 0 <= index < len(self.counts) else 0

    def first_free(self, at: float) -> float:
        """The earliest free position at or after ``at``: second ``k``'s ``j``-th send goes at
        ``k + j / capacity(k)``, so the positions of all campaigns are spaced by the rate."""
        second = max(math.floor(at), self.base)
        while True:
            room, used = capacity(second, self.milli), self._count(second)
            if used < room:
                position = second + used / room
                if position >= at:
                    return position
            second += 1

    def take(self, position: float) -> float:
        """Reserve the position ``first_free`` returned."""
        second = math.floor(position)
        index = second - self.base
        if index < 0:
            raise ValueError(f"second {second} is before the book's base {self.base}")
        self.counts.extend([0] * (index + 1 - len(self.counts)))
        self.counts[index] += 1
        self.reserved_since += 1
        self.taken.append(position)
        return position

    # -- the 24-hour quota ------------------------------------------------------------------------
    def allowance(self) -> int | None:
        """Sends the share of the 24-hour quota still allows (None: unlimited)."""
        if self.quota.max_24_hour_send < 0:
            return None
        allowed = math.floor(self.quota.max_24_hour_send * self.share)
        used = math.ceil(self.quota.sent_last_24_hours) + self.pending_at_read + self.reserved_since
        return max(0, allowed - used)

    def exhausted(self) -> bool:
        allowance = self.allowance()
        return allowance is not None and allowance <= 0
