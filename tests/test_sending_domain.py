"""Sending decisions without AWS: pacing, windows, daily limits, scheduled starts, composition, auto-pause.

Times are epoch seconds handed in by the test (a controllable clock); randomness comes from a seeded RNG.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest

from pivotr.domain import sending

UTC = timezone.utc
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()  # epoch seconds


def campaign(**fields) -> dict:
    return {"id": "cp_1", "fromEmail": "outreach@pivotr.example.com", "pacing": {"minDelaySeconds": 30, "maxDelaySeconds": 120},
            "dailyLimit": 500, **fields}


def test_sends_are_spaced_by_a_random_gap_within_the_pacing_bounds() -> None:
    # Given pacing of 30-120 s; When a tick plans 100 sends from 09:00
    plan = sending.schedule(campaign(), MONDAY_9, 100, random.Random(1))
    # Then the first goes now, each gap lies in [30, 120], and none is planned past the 900 s horizon
    gaps = [b - a for a, b in zip(plan.times, plan.times[1:], strict=False)]
    assert plan.times[0] == MONDAY_9
    assert gaps and all(30 <= g <= 120 for g in gaps)
    assert plan.times[-1] < MONDAY_9 + sending.HORIZON <= plan.next_send_at
    assert len(set(round(g) for g in gaps)) > 3  # random, not a fixed step


def test_a_tick_never_plans_beyond_what_is_available_and_continues_from_the_last_send() -> None:
    plan = sending.schedule(campaign(), MONDAY_9, 3, random.Random(2))
    assert len(plan.times) == 3 and plan.next_send_at > plan.times[-1]
    later = sending.schedule(campaign(runNextSendAt=plan.next_send_at, runDayKey=plan.day_key, runDayCount=plan.day_count),
                             MONDAY_9, 1, random.Random(3))
    assert later.times == (plan.next_send_at,)  # the gap carries over exactly


def test_outside_the_window_nothing_is_planned_until_it_opens_in_its_own_time_zone() -> None:
    # Given a 10:00-17:00 window in Kolkata (UTC+05:30) and a clock at 09:00 UTC = 14:30 Kolkata
    window = campaign(sendingWindow={"startHour": 10, "endHour": 17, "timeZone": "Asia/Kolkata"})
    assert sending.in_window(window, MONDAY_9)
    # When the clock is 12:00 UTC = 17:30 Kolkata (closed)
    closed = MONDAY_9 + 3 * 3600
    assert not sending.in_window(window, closed)
    plan = sending.schedule(window, closed, 10, random.Random(4))
    # Then nothing goes now, and the next send is at 10:00 Kolkata the next day (04:30 UTC)
    assert plan.times == ()
    assert plan.next_send_at == datetime(2026, 11, 24, 4, 30, tzinfo=UTC).timestamp()


def test_a_window_may_span_midnight() -> None:
    night = campaign(sendingWindow={"startHour": 22, "endHour": 6, "timeZone": "UTC"})
    assert sending.in_window(night, datetime(2026, 11, 23, 23, 0, tzinfo=UTC).timestamp())
    assert sending.in_window(night, datetime(2026, 11, 24, 5, 59, tzinfo=UTC).timestamp())
    assert not sending.in_window(night, datetime(2026, 11, 24, 6, 0, tzinfo=UTC).timestamp())


def test_the_daily_limit_moves_the_rest_to_the_next_day() -> None:
    # Given a limit of 5 a day and no gap, with 3 already released today
    limited = campaign(dailyLimit=5, pacing={"minDelaySeconds": 0, "maxDelaySeconds": 0},
                       runDayKey="2026-11-23", runDayCount=3)
    plan = sending.schedule(limited, MONDAY_9, 10, random.Random(5))
    # Then only 2 more go today, and the next send waits for midnight
    assert len(plan.times) == 2 and plan.day_count == 5
    assert plan.next_send_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC).timestamp()


def test_a_scheduled_start_holds_every_send_until_its_time() -> None:
    later = campaign(startAt="2026-11-23T12:00:00+00:00")
    plan = sending.schedule(later, MONDAY_9, 10, random.Random(6))
    assert plan.times == () and plan.next_send_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()
    assert sending.wake_delay(plan.next_send_at, MONDAY_9) == sending.HORIZON  # hops of at most 900 s
    assert sending.schedule(later, plan.next_send_at, 1, random.Random(6)).times == (plan.next_send_at,)


def test_release_limit_reads_no_more_recipients_than_a_tick_can_use() -> None:
    assert sending.release_limit(campaign()) == sending.HORIZON // 30 + 1
    assert sending.release_limit(campaign(pacing={"minDelaySeconds": 0, "maxDelaySeconds": 0})) == sending.RELEASE_MAX
    assert sending.release_limit(campaign(dailyLimit=7, pacing={"minDelaySeconds": 0, "maxDelaySeconds": 5})) == 7


@pytest.mark.parametrize(("lead", "audience", "member"), [
    ({"status": "valid", "tags": ["a"]}, {"statuses": ["valid"]}, True),
    ({"status": "risky", "tags": ["a"]}, {"statuses": ["valid"]}, False),
    ({"status": "valid", "tags": ["a", "b"]}, {"tags": ["b", "c"]}, True),
    ({"status": "valid", "tags": ["a"]}, {"tags": ["b"]}, False),
    ({"status": "valid", "tags": ["b"]}, {"statuses": ["valid"], "tags": ["b"]}, True),
    ({"status": "bounced", "tags": ["b"]}, {"tags": ["b"]}, False),
    ({"status": "unsubscribed"}, {"leadIds": ["x"]}, False),
])
def test_audience_membership_never_admits_a_suppressed_lead(lead, audience, member) -> None:
    assert sending.in_audience(lead, audience) is member


def test_the_email_has_one_click_unsubscribe_tags_and_an_encoded_sender() -> None:
    # Given a sender name with non-ASCII and quotes, and a template without an unsubscribe link
    c = campaign(fromName='Zoë "Ops" Team')
    template = {"subject": "Hi {{firstName}}", "html": "<p>Hello</p>", "text": "Hello"}
    lead = {"id": "ld_1", "email": "jane@example.com", "firstName": "Jane\r\nBcc: evil@example.com"}
    email = sending.compose(c, template, lead, "https://api.example.com/unsubscribe?token=a&b")
    # Then the headers carry the https link and the RFC 8058 one-click value
    assert dict(email.headers) == {"List-Unsubscribe": "<https://api.example.com/unsubscribe?token=a&b>",
                                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert dict(email.tags) == {"campaign": "cp_1", "lead": "ld_1"}
    # And the subject cannot inject a header, the bodies get a visible link (escaped in HTML)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert 'href="https://api.example.com/unsubscribe?token=a&amp;b"' in email.html
    assert email.text.rstrip().endswith("https://api.example.com/unsubscribe?token=a&b")
    # And the From header round-trips to the name and address
    name, address = parseaddr(email.from_address)
    assert address == "outreach@pivotr.example.com" and str(make_header(decode_header(name))) == 'Zoë "Ops" Team'


def test_a_template_that_places_the_link_itself_gets_no_footer() -> None:
    template = {"subject": "Hi", "text": "Bye: {{unsubscribeUrl}}"}
    email = sending.compose(campaign(), template, {"id": "ld_1", "email": "a@b.co"}, "https://x.test/u?token=t")
    assert email.text == "Bye: https://x.test/u?token=t" and email.html is None


@pytest.mark.parametrize(("totals", "limits", "paused"), [
    ({"sent": 99, "bounced": 50}, {}, False),  # too few sends to judge
    ({"sent": 100, "bounced": 4}, {}, False),
    ({"sent": 100, "bounced": 5}, {}, True),  # 5 % bounces
    ({"sent": 1000, "complained": 1}, {}, True),  # 0.1 % complaints
    ({"sent": 1000, "complained": 1}, {"complaintRate": 0.002}, False),
    ({"sent": 20, "bounced": 2}, {"minSends": 10, "bounceRate": 0.1}, True),
])
def test_auto_pause_at_the_configured_rates_after_enough_sends(totals, limits, paused) -> None:
    reason = sending.pause_reason(campaign(autoPause=limits), totals)
    assert (reason is not None) is paused
    if paused:
        assert "Rate" in reason and "sends" in reason


# -- the gate's triage and the queue's messages (issue 11) ---------------------------------------------
def test_triage_sorts_each_open_recipient_of_the_current_run() -> None:
    from pivotr.domain.sending import STALE_CLAIM, SWEEP_AFTER, Triage, triage

    now = 10_000.0
    cases = {
        Triage.RELEASE: {"status": "pending", "run": "r2"},
        Triage.DEPART: {"status": "released", "run": "r1", "dueAt": now},  # the current snapshot did not take it over
        Triage.REVIVE: {"status": "released", "run": "r2", "dueAt": now - SWEEP_AFTER},  # its message was lost
        Triage.SETTLE: {"status": "sending", "run": "r2", "claimedAt": now - STALE_CLAIM},  # its holder is dead
    }
    for expected, recipient in cases.items():
        assert triage(recipient, "r2", now) == expected, recipient
    for waiting in ({"status": "verifying", "run": "r2"}, {"status": "released", "run": "r2", "dueAt": now + 5},
                    {"status": "sending", "run": "r2", "claimedAt": now - 1}):
        assert triage(waiting, "r2", now) == Triage.WAIT, waiting
    assert triage({"status": "verifying"}, "r2", now) == Triage.DEPART  # from before runs were stamped


def test_sending_messages_are_read_strictly() -> None:
    from pivotr.domain.sending import Order, Tick, read_message

    assert read_message('{"campaignId": "c", "runId": "r", "tick": 3}') == Tick("c", "r", 3)
    assert read_message('{"campaignId": "c", "leadId": "l", "runId": "r"}') == Order("c", "l", "r")
    for bad in ("not json", "[]", '{"campaignId": "c", "runId": "r", "tick": "3"}', '{"campaignId": "c", "leadId": "l"}',
                '{"campaignId": "c", "runId": "r", "tick": true}', "[" * 100_000):
        assert read_message(bad) is None, bad[:40]


def test_every_order_arrives_within_the_second_before_its_slot_and_within_sqs_delays() -> None:
    """An order's SQS delay is rounded down (send-email waits the rest), and must fit SQS's 900 s:
    one that did not would be cut to 900 and arrive early (the lifecycle test found it once)."""
    from pivotr.domain.sending import HORIZON, order_delay, schedule

    campaign = {"pacing": {"minDelaySeconds": 0, "maxDelaySeconds": 0}, "dailyLimit": 10, "runNextSendAt": 0}
    now = 1_000.5
    assert not schedule({**campaign, "runNextSendAt": now + HORIZON + 0.25}, now, 1, random.Random(1)).times
    for offset in (0.0, 0.25, 899.75, HORIZON):
        [due] = schedule({**campaign, "runNextSendAt": now + offset}, now, 1, random.Random(1)).times
        arrival = now + order_delay(due, now)
        assert order_delay(due, now) <= HORIZON and due - 1 < arrival <= due


def test_slots_are_inside_the_window_and_paced_across_ticks() -> None:
    """The window is checked at the slot itself, and the next-send time carries the gap across ticks
    (stored rounded up to the millisecond, so never inside the gap)."""
    window = {"startHour": 9, "endHour": 10, "timeZone": "UTC"}
    rng = random.Random(4)
    c = campaign(pacing={"minDelaySeconds": 30, "maxDelaySeconds": 31}, sendingWindow=window)
    now, slots = MONDAY_9 + 0.4, []
    while now < MONDAY_9 + 3_600:
        plan = sending.schedule(c, now, 7, rng)
        slots += plan.times
        c = {**c, "runNextSendAt": math.ceil(plan.next_send_at * 1000) / 1000, "runDayKey": plan.day_key,
             "runDayCount": plan.day_count}
        now += 200.3
    assert slots and all(sending.in_window(c, t) for t in slots)
    assert all(30 <= b - a <= 31.001 for a, b in zip(slots, slots[1:], strict=False))


def test_ten_sends_close_together_share_one_delay_and_arrive_before_the_first_is_due() -> None:
    """A batch of ten orders visible at once reaches one invocation: one read, claim and record for ten."""
    from pivotr.domain.sending import EARLY, order_delays

    now = 1_000.4
    close = [1_010.0 + i / 12.6 for i in range(10)]  # the account's rate: ten within 0.8 s
    sparse = [1_010.0 + 30 * i for i in range(10)]  # a paced campaign: a send every 30 s
    delays = order_delays(close + sparse, now)
    assert len(set(delays[:10])) == 1 and now + delays[0] <= close[0] and close[-1] - (now + delays[0]) <= EARLY
    assert delays[10:] == [int(due - now) for due in sparse]  # each its own, arriving within the second before it
