"""The account's SES rate without AWS: the slot book every release shares (pivotr/domain/rate.py).

Times are epoch seconds handed in by the test; randomness comes from seeded RNGs.
"""

from __future__ import annotations

import math
import random

from pivotr.domain import sending
from pivotr.domain.rate import SendQuota, SlotBook, WaitReason, capacity

NOW = 1_795_000_000.25  # epoch seconds
QUOTA = SendQuota(max_send_rate=14.0, max_24_hour_send=50_000.0, sent_last_24_hours=0.0, read_at=NOW)


def unpaced(**fields) -> dict:
    return {"id": "cp", "pacing": {"minDelaySeconds": 0, "maxDelaySeconds": 0}, "dailyLimit": 100_000, **fields}


def most_in_one_second(times: list[float], seconds: float = 1.0) -> int:
    """The largest number of sends in any sliding window of ``seconds`` (one: SES's per-second rate)."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_capacities_add_up_to_the_share_of_the_rate_exactly() -> None:
    # Given 90 % of 14/s = 12.6/s; When the capacities of 1,000 consecutive seconds are added
    milli = round(14 * 0.9 * 1000)
    # Then they hold 12,600 sends, each second 12 or 13: the fraction is neither rounded up nor lost
    assert sum(capacity(s, milli) for s in range(1_795_000_000, 1_795_001_000)) == 12_600
    assert {capacity(s, milli) for s in range(1_795_000_000, 1_795_000_100)} == {12, 13}
    # and a sandbox account (1/s at 90 %) gets 9 sends in 10 seconds, never 2 in one
    assert [capacity(s, 900) for s in range(10)] == [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]


def test_releases_of_many_campaigns_never_exceed_the_share_in_any_second() -> None:
    # Given five unpaced campaigns releasing interleaved, each from its own book read (written back in turn)
    item: dict | None = None
    times: list[float] = []
    rng = random.Random(3)
    for tick in range(40):
        book = SlotBook.open(item, QUOTA, 0.9, NOW + tick * 2)
        plan = sending.schedule(unpaced(runNextSendAt=NOW + rng.uniform(0, 60)), NOW + tick * 2, 50, rng, book)
        times += plan.times
        item = book.to_item()
    # Then all their sends together stay within 13 in any second (12.6/s, spread through each second)
    assert len(times) == 2_000
    assert most_in_one_second(times) <= 13
    assert min(b - a for a, b in zip(sorted(times), sorted(times)[1:])) >= 1 / 13 - 1e-6  # epoch floats: µs precision


def test_a_book_read_by_two_releases_is_written_once() -> None:
    # Given two releases that read the same book
    first, second = SlotBook.open(None, QUOTA, 0.9, NOW), SlotBook.open(None, QUOTA, 0.9, NOW)
    first.take(first.first_free(NOW))
    second.take(second.first_free(NOW))
    # Then both would write the same next version: the write conditional on the version read lets one in
    assert first.to_item()["version"] == second.to_item()["version"] == 1
    reread = SlotBook.open(first.to_item(), QUOTA, 0.9, NOW)
    assert reread.version == 1 and reread.first_free(NOW) > first.taken[0]


def test_the_book_is_stored_compactly_and_read_back_exactly() -> None:
    from pivotr.domain.rate import pack, unpack

    counts = [12, 13, 0, 0, 0, 1, 0, 13] + [0] * 800 + [1]
    assert unpack(pack(counts)) == counts and len(pack(counts)) < 40


def test_seconds_already_past_are_dropped_and_not_reused() -> None:
    book = SlotBook.open(None, QUOTA, 0.9, NOW)
    for _ in range(30):
        book.take(book.first_free(NOW))
    later = SlotBook.open(book.to_item(), QUOTA, 0.9, NOW + 10)
    assert later.base == int(NOW + 10) and later.first_free(int(NOW + 10)) == int(NOW + 10)


def test_the_24_hour_quota_holds_and_counts_what_was_reserved_since_ses_reported() -> None:
    # Given 1,000 sends a day, 880 sent in the last 24 hours by SES's report: 90 % leaves 20
    quota = SendQuota(14.0, 1_000.0, 880.0, NOW)
    book = SlotBook.open(None, quota, 0.9, NOW)
    plan = sending.schedule(unpaced(), NOW, 100, random.Random(1), book)
    # Then 20 are released and the campaign says it waits for SES's 24-hour window
    assert len(plan.times) == 20 and plan.waiting == WaitReason.ACCOUNT_QUOTA
    # And a release that reads the book back (same quota report) gets nothing more
    again = SlotBook.open(book.to_item(), quota, 0.9, NOW + 60)
    assert sending.schedule(unpaced(), NOW + 60, 100, random.Random(1), again).times == ()
    # When SES reports a second later that the window rolled (300 sent), some of our 20 still ahead of it
    report = SendQuota(14.0, 1_000.0, 300.0, NOW + 1)
    rolled = SlotBook.open(book.to_item(), report, 0.9, NOW + 1)
    ahead = sum(1 for t in plan.times if t >= math.ceil(report.read_at))
    # Then those count on top of SES's figure (they are not in it yet) and the rest is allowed again
    assert 0 < ahead < 20 and rolled.allowance() == 900 - 300 - ahead


def test_an_unlimited_24_hour_quota_never_waits() -> None:
    book = SlotBook.open(None, SendQuota(14.0, -1.0, 10**9, NOW), 0.9, NOW)
    assert book.allowance() is None and not book.exhausted()


def test_a_campaign_waits_when_others_hold_every_slot_within_the_horizon() -> None:
    # Given a sandbox rate (0.9/s) and a book already full for the next 900 s
    quota = SendQuota(1.0, -1.0, 0.0, NOW)
    book = SlotBook.open(None, quota, 0.9, NOW)
    while book.first_free(NOW) <= NOW + sending.HORIZON:
        book.take(book.first_free(NOW))
    # When another campaign releases, Then it gets nothing and says why
    plan = sending.schedule(unpaced(), NOW, 10, random.Random(1), book)
    assert plan.times == () and plan.waiting == WaitReason.ACCOUNT_RATE


def test_per_campaign_pacing_still_applies_on_top_of_the_account_rate() -> None:
    book = SlotBook.open(None, QUOTA, 0.9, NOW)
    paced = unpaced(pacing={"minDelaySeconds": 30, "maxDelaySeconds": 60})
    plan = sending.schedule(paced, NOW, 10, random.Random(2), book)
    assert all(30 <= b - a <= 60 for a, b in zip(plan.times, plan.times[1:]))


def test_a_book_from_a_clock_set_far_ahead_is_not_trusted() -> None:
    ahead = SlotBook.open(None, QUOTA, 0.9, NOW + 86_400)
    ahead.take(ahead.first_free(NOW + 86_400))
    now = SlotBook.open(ahead.to_item(), QUOTA, 0.9, NOW)
    assert now.first_free(NOW) < NOW + 1


def test_the_api_document_lists_every_wait_reason() -> None:
    import json
    from pathlib import Path

    document = json.loads((Path(__file__).parent.parent / "docs" / "openapi.json").read_text())
    assert document["components"]["schemas"]["Campaign"]["properties"]["waitReason"]["enum"] == [r.value for r in WaitReason]
