"""A 500-lead campaign (1,000 in make soak) run to completion under injected faults (issue 5's proof).

Faults: SES throttles ~20 % of calls; every SQS batch is delivered a second time, once while the
first delivery is still sending and once after it finished; the process dies once between claim and
SES call and once just after SES accepted; the campaign is paused and resumed mid-run; two starts
race. Send events are fed back to process-feedback as SES would publish them.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from urllib.parse import parse_qs, urlparse

from pivotr.data.dynamo import Table
from pivotr.domain import unsubscribe
from pivotr.domain.leads import lead_id

ELIGIBLE = int(os.environ.get("FAULT_LEADS", "500"))  # make soak runs 1,000; the faults scale with it
SUPPRESSED = {"bounced": 10, "complained": 5, "unsubscribed": 10, "invalid": 5}  # tagged, but never sent to
LATE_SUPPRESSED = 20  # eligible at the snapshot, unsubscribed before their turn
REJECTED = 5  # SES refuses these addresses for good


def people(n: int, status: str, prefix: str) -> list[dict]:
    return [{"id": lead_id(f"{prefix}{i}@example.com"), "email": f"{prefix}{i}@example.com", "status": status,
             "firstName": f"P{i}", "tags": ["launch"]} for i in range(n)]


def faulty_run(mailer, monkeypatch) -> dict:
    """Given ELIGIBLE leads (5 of them refused by SES) and 30 suppressed ones, all tagged; when a
    campaign for the tag runs under every fault, returns what the assertions need."""
    eligible = people(ELIGIBLE - REJECTED, "valid", "ok") + people(REJECTED, "valid", "reject")
    suppressed = [lead for status, n in SUPPRESSED.items() for lead in people(n, status, status)]
    mailer.add_leads(eligible + suppressed)
    campaign = mailer.campaign(audience={"tags": ["launch"]}, dailyLimit=50_000)  # limits: test_sending.py
    ses = mailer.ses
    ses.throttle = 0.2
    ses.reject = frozenset(lead["email"] for lead in eligible if lead["email"].startswith("reject"))
    ses.crash_before, ses.crash_after = frozenset({ELIGIBLE * 137 // 1000}), frozenset({ELIGIBLE * 42 // 100})

    # Two starts race: both read the draft; the second's conditional update loses (409), and the tick
    # it queued before committing carries a run id the campaign never had, so it stops at once.
    draft = mailer.read(campaign)
    assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200
    real_get = Table.get
    monkeypatch.setattr(Table, "get", lambda self, key: copy.deepcopy(draft) if key == {"id": campaign} and
                        self.name.endswith("-campaigns") else real_get(self, key))
    second = mailer.api.post(f"/campaigns/{campaign}/start")
    monkeypatch.setattr(Table, "get", real_get)
    assert second.status == 409

    # Every batch is delivered twice: in turn, concurrently (inside its first SES call, while the
    # first delivery holds its claims) or again after the first delivery finished.
    turn = {"n": 0}

    def before(records):
        turn["n"] += 1
        if turn["n"] % 2:
            ses.during_send = lambda: mailer.queue.invoke(copy.deepcopy(records))

    def after(records):
        if ses.during_send is not None or turn["n"] % 2 == 0:  # not fired (no e-mail sent), or its turn
            ses.during_send = None
            mailer.queue.invoke(copy.deepcopy(records))
        mailer.confirm_sends()

    mailer.queue.before, mailer.queue.after = before, after

    # The snapshot tick runs; then some snapshotted leads unsubscribe before their turn.
    mailer.queue.run(until=lambda: mailer.read(campaign).get("runPhase") != "snapshot")
    late = [lead["id"] for lead in eligible[:LATE_SUPPRESSED]]
    for lead in late:
        mailer.tables["leads"].update_item(Key={"id": lead}, UpdateExpression="SET #s = :u",
                                           ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":u": "unsubscribed"})

    # Pause mid-run, let the queue drain while paused, then resume.
    mailer.queue.run(until=lambda: len(ses.accepted) >= ELIGIBLE * 2 // 5)
    assert mailer.api.post(f"/campaigns/{campaign}/pause").status == 200
    sent_at_pause = len(ses.accepted)
    mailer.queue.run(max_steps=2_000)
    held = len(ses.accepted) - sent_at_pause
    assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200

    # Run to completion (the clock jumps over delays, visibility timeouts and sweeps).
    ses.throttle = 0.2
    mailer.queue.run(until=lambda: mailer.read(campaign)["status"] == "completed", max_steps=20_000, check_every=10)
    ses.throttle = 0.0
    mailer.confirm_sends()
    return {"campaign": campaign, "eligible": eligible, "suppressed": suppressed, "late": late, "held": held,
            "rejected": [lead["id"] for lead in eligible if lead["email"].startswith("reject")]}


def test_a_large_campaign_under_faults_sends_each_email_at_most_once(mailer, monkeypatch) -> None:
    run = faulty_run(mailer, monkeypatch)

    # Then no lead gets two e-mails, and every eligible lead gets one (crash-window claims aside, and reported)
    sent = Counter(mailer.ses.leads())
    assert max(sent.values()) == 1, [lead for lead, n in sent.items() if n > 1]
    recipients = mailer.recipients(run["campaign"])
    unconfirmed = {lead for lead, r in recipients.items() if r["status"] == "unconfirmed"}
    # Crash-window claims: claimed by a batch whose process died before SES had them (two crashes, at
    # most ten each); never re-sent, and reported
    assert 1 <= len(unconfirmed) <= 20 and not unconfirmed & set(sent)
    expected = {lead["id"] for lead in run["eligible"]} - set(run["late"]) - set(run["rejected"]) - unconfirmed
    assert set(sent) == expected
    assert mailer.read(run["campaign"])["summary"] == {
        "sent": len(expected), "skipped": LATE_SUPPRESSED, "failed": REJECTED, "unconfirmed": len(unconfirmed)}

    # Then suppressed leads get nothing, and nothing reached SES while the campaign was paused
    assert not set(sent) & {lead["id"] for lead in run["suppressed"]}
    assert not set(sent) & set(run["late"])
    assert run["held"] == 0

    # Then metrics equal the true counts
    totals = {"queued": ELIGIBLE, "sent": len(mailer.ses.accepted), "failed": REJECTED}
    assert mailer.totals(run["campaign"]) == totals
    assert mailer.totals("ALL") == totals

    # Then the faults really happened
    assert mailer.queue.crashes == 2
    assert mailer.ses.calls > len(mailer.ses.accepted) * 1.2  # throttled calls, retried through the queue

    # Then every e-mail carries one-click unsubscribe with a token for its own lead, and its tags
    from pivotr.data.unsubscribe import signing_key

    key = signing_key(mailer.service.env.unsubscribe_signing_key_secret_arn)
    for email in mailer.ses.accepted:
        headers = {h["Name"]: h["Value"] for h in email["Content"]["Simple"]["Headers"]}
        tags = mailer.ses.tags(email)
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = urlparse(headers["List-Unsubscribe"].strip("<>"))
        assert url.scheme == "https"
        token = parse_qs(url.query)["token"][0]
        assert unsubscribe.verify(token, key) == unsubscribe.Subscription(tags["lead"], run["campaign"])
        assert tags["campaign"] == run["campaign"] and email["ConfigurationSetName"] == mailer.service.env.ses_configuration_set
