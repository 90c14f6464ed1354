"""The account's SES rate across campaigns, on moto from the plan, with SES's limits enforced.

SES here (``SesLimits``) refuses any send above 14 in a sliding second and above its 24-hour quota,
and reports both through GetAccount, as SES does. The mailer may use 90 % of each (the dev stage's
``SES_QUOTA_SHARE``, from the plan).
"""

from __future__ import annotations

from typing import Any

from pivotr.domain.leads import lead_id

from tests.test_rate_domain import most_in_one_second


def leads(n: int, prefix: str) -> list[dict]:
    return [{"id": lead_id(f"{prefix}{i}@example.com"), "email": f"{prefix}{i}@example.com", "status": "valid",
             "firstName": f"N{i}", "tags": [prefix]} for i in range(n)]


def retried_messages(mailer: Any) -> list[str]:
    """Collect every message send-email hands back to SQS (a receive that counts toward the DLQ)."""
    retried: list[str] = []
    handler = mailer.queue.handler

    def counting(event: dict, context: Any) -> dict:
        result = handler(event, context)
        retried.extend(f["itemIdentifier"] for f in result["batchItemFailures"])
        return result

    mailer.queue.handler = counting
    return retried


def test_campaigns_running_together_stay_within_the_share_of_the_account_rate(mailer) -> None:
    # Given three unpaced campaigns of 60 leads each on a 14/s account, started together
    campaigns = []
    for prefix in ("a", "b", "c"):
        mailer.add_leads(leads(60, prefix))
        campaigns.append(mailer.campaign(audience={"tags": [prefix]}))
    for campaign in campaigns:
        assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200
    times: list[float] = []
    real = mailer.ses.real.send_email
    mailer.ses.real.send_email = lambda **request: (times.append(mailer.clock()), real(**request))[1]
    # When the sending queue is drained
    mailer.queue.run(max_steps=20_000)
    # Then every lead got one e-mail, SES throttled none, and any ten seconds held at most 90 % of 140
    # (one second may hold 14 once slots are rounded to the millisecond: SES's limit, never above it)
    assert len(mailer.ses.accepted) == 180 == len(set(mailer.ses.leads()))
    assert mailer.ses.limits.throttled == 0
    assert most_in_one_second(times) <= 14 and most_in_one_second(times, 10.0) <= 127
    # and they went out at the shared rate, not one campaign after another at full speed each
    assert (max(times) - min(times)) >= 179 / 12.6 - 1


def test_two_releases_that_read_the_rate_book_at_once_never_share_a_slot(mailer, monkeypatch) -> None:
    # Given a release whose book another release (another campaign, another invocation) writes to
    # between its read and its commit
    mailer.add_leads(leads(40, "a"))
    campaign = mailer.campaign()
    store, rate = mailer.service.dispatcher.recipients, mailer.service.rate
    commit, rival = store.commit_run, []

    def racing_commit(campaign_id: str, *args: Any, **kwargs: Any) -> bool:
        if kwargs.get("also") and not rival:
            book = rate.open(mailer.clock())
            rival.extend(book.take(book.first_free(mailer.clock())) for _ in range(25))
            assert rate.save(book)
        return commit(campaign_id, *args, **kwargs)

    monkeypatch.setattr(store, "commit_run", racing_commit)
    times: list[float] = []
    real = mailer.ses.real.send_email
    mailer.ses.real.send_email = lambda **request: (times.append(mailer.clock()), real(**request))[1]
    mailer.api.post(f"/campaigns/{campaign}/start")
    # When everything is sent
    mailer.queue.run(max_steps=20_000)
    # Then the first commit lost, the release planned again from the new book, and no slot is shared:
    # the campaign's sends (each at its slot) and the rival's slots together stay spaced by the rate
    together = sorted(times + rival)
    assert len(rival) == 25 and len(times) == 40
    assert min(b - a for a, b in zip(together, together[1:])) >= 1 / 13 - 0.002  # slots are stored to the ms
    assert most_in_one_second(together, 10.0) <= 127
    assert sorted(mailer.ses.leads()) == sorted(lead["id"] for lead in leads(40, "a"))


def test_the_24_hour_quota_holds_and_the_campaign_says_it_waits(mailer) -> None:
    # Given an account allowed 100 e-mails a day that sent 50 in the last 24 hours: 90 % leaves 40
    mailer.ses.limits.max_24_hour_send, mailer.ses.limits.sent_before = 100, 50
    mailer.add_leads(leads(60, "q"))
    campaign = mailer.campaign()
    mailer.api.post(f"/campaigns/{campaign}/start")
    # When the queue runs for an hour
    mailer.queue.run(horizon=3_600)
    # Then 40 went out, SES refused none, and the campaign is running and says why it waits
    assert len(mailer.ses.accepted) == 40 and mailer.ses.limits.throttled == 0
    shown = mailer.api.get(f"/campaigns/{campaign}").body
    assert shown["status"] == "running" and shown["waitReason"] == "ses-daily-quota"
    # When SES's 24-hour window rolls (the earlier 50 age out, and ours a day later)
    mailer.ses.limits.sent_before = 0
    mailer.queue.run(horizon=2 * 86_400)
    # Then the other 20 go, nobody twice, and the wait is over
    assert len(mailer.ses.accepted) == 60 == len(set(mailer.ses.leads())) and mailer.ses.limits.throttled == 0
    shown = mailer.api.get(f"/campaigns/{campaign}").body
    assert shown["status"] == "completed" and "waitReason" not in shown


def test_a_throttle_that_happens_anyway_is_sent_again_without_counting_toward_the_dlq(mailer) -> None:
    # Given SES reports 14/s but takes only 4/s (another sender on the account uses the rest)
    mailer.ses.limits.max_send_rate = 4
    account = mailer.ses.limits.account
    mailer.ses.limits.account = lambda: {**account(), "SendQuota": {**account()["SendQuota"], "MaxSendRate": 14.0}}
    mailer.add_leads(leads(60, "t"))
    campaign = mailer.campaign()
    retried = retried_messages(mailer)
    mailer.api.post(f"/campaigns/{campaign}/start")
    # When the queue drains
    mailer.queue.run(max_steps=20_000)
    # Then SES throttled some, yet every lead got exactly one e-mail, no message was handed back to SQS
    # (none came closer to the DLQ), and the DLQ is empty
    assert mailer.ses.limits.throttled > 0
    assert sorted(mailer.ses.leads()) == sorted(lead["id"] for lead in leads(60, "t"))
    assert retried == [] and mailer.queue.dlq_depth() == 0
    assert mailer.read(campaign)["status"] == "completed"


def test_the_quota_is_read_once_per_cache_age_not_per_release(mailer) -> None:
    from pivotr.domain.rate import QUOTA_MAX_AGE

    # Given the rate book as send-email opens it, on the dev plan's settings table
    rate, start = mailer.service.rate, mailer.clock()
    # When releases open and write it over ten minutes
    for at in (start, start + 10, start + QUOTA_MAX_AGE - 1, start + QUOTA_MAX_AGE + 1, start + QUOTA_MAX_AGE + 60):
        book = rate.open(at)
        book.take(book.first_free(at))
        assert rate.save(book)
    # Then SES was asked twice: once, then once the cached answer was older than QUOTA_MAX_AGE
    assert mailer.ses.limits.account_reads == 2


def test_when_ses_cannot_tell_its_quota_the_last_one_read_is_used(mailer) -> None:
    rate, start = mailer.service.rate, mailer.clock()
    book = rate.open(start)
    book.take(book.first_free(start))
    assert rate.save(book)

    def unreachable() -> dict:
        raise ConnectionError("SES unreachable")

    mailer.ses.limits.account = unreachable
    later = rate.open(start + 3_600)
    assert later.quota == book.quota and later.first_free(start + 3_600) >= start + 3_600


def test_a_throttle_over_http_gets_a_new_slot_and_its_message_is_done(strict_mailer) -> None:
    """The real botocore client against the local SES endpoint: a 429 proves the e-mail was not taken."""
    from tests.ses_stub import Answer

    m = strict_mailer
    m.add_leads(leads(12, "h"))
    campaign = m.campaign()
    m.stub.behaviours.extend([Answer.OK, Answer.THROTTLE])  # the second request is throttled
    retried = retried_messages(m)
    m.api.post(f"/campaigns/{campaign}/start")
    m.queue.run(max_steps=2_000)
    # Then the throttled recipient went again later, once accepted; nothing was handed back to SQS
    taken = [r.lead for r in m.stub.taken()]
    throttled = [r for r in m.stub.requests if r.answer == Answer.THROTTLE]
    assert len(throttled) == 1 and sorted(taken) == sorted(lead["id"] for lead in leads(12, "h"))
    assert taken.index(throttled[0].lead) > 1 and throttled[0].at < m.stub.requests[-1].at
    assert retried == [] and m.queue.dlq_depth() == 0
    assert m.read(campaign)["status"] == "completed"
