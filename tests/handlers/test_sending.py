"""send-email end to end on moto provisioned from the plan: start, pacing, pause and resume, headers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from pivotr.domain.leads import lead_id


def leads(n: int, status: str = "valid", prefix: str = "lead") -> list[dict]:
    return [{"id": lead_id(f"{prefix}{i}@example.com"), "email": f"{prefix}{i}@example.com", "status": status,
             "firstName": f"Name{i}"} for i in range(n)]


def test_a_started_campaign_sends_once_to_each_eligible_lead_and_completes(mailer) -> None:
    # Given 25 valid leads and 5 unsubscribed ones
    mailer.add_leads(leads(25) + leads(5, "unsubscribed", "gone"))
    campaign = mailer.campaign()
    # When the campaign starts and the sending queue is drained
    assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200
    mailer.queue.run()
    # Then each valid lead got exactly one e-mail, the campaign completed, and the metrics agree
    assert sorted(mailer.ses.leads()) == sorted(lead["id"] for lead in leads(25))
    item = mailer.read(campaign)
    assert item["status"] == "completed" and item["summary"]["sent"] == 25
    assert mailer.totals(campaign) == {"queued": 25, "sent": 25}


def test_pause_stops_sending_and_resume_sends_only_to_the_unsent(mailer) -> None:
    # Given 10 leads and a campaign pacing one e-mail every 60 s
    mailer.add_leads(leads(10))
    campaign = mailer.campaign(pacing={"minDelaySeconds": 60, "maxDelaySeconds": 60})
    mailer.api.post(f"/campaigns/{campaign}/start")
    # When it is paused after 4 sends and the queue drains for a day
    mailer.queue.run(until=lambda: len(mailer.ses.accepted) >= 4)
    assert mailer.api.post(f"/campaigns/{campaign}/pause").status == 200
    mailer.queue.run(horizon=86_400)
    # Then nothing more was sent while paused
    assert len(mailer.ses.accepted) == 4
    # When resumed
    assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200
    mailer.queue.run()
    # Then the other 6 got theirs, nobody got two, and the campaign completed
    assert sorted(mailer.ses.leads()) == sorted(lead["id"] for lead in leads(10))
    assert mailer.read(campaign)["status"] == "completed"


def test_pacing_spaces_the_sends_on_the_clock(mailer) -> None:
    mailer.add_leads(leads(6))
    campaign = mailer.campaign(pacing={"minDelaySeconds": 30, "maxDelaySeconds": 90})
    times: list[float] = []
    real = mailer.ses.real.send_email
    mailer.ses.real.send_email = lambda **request: (times.append(mailer.clock()), real(**request))[1]
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run()
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 6 and all(29 <= gap <= 92 for gap in gaps), gaps  # whole-second delays, poll jitter


def test_a_scheduled_start_sends_nothing_before_its_time(mailer) -> None:
    from pivotr.domain.sending import iso

    mailer.add_leads(leads(3))
    start_at = iso(mailer.clock() + 5 * 3600).replace("Z", "+00:00")
    campaign = mailer.campaign(startAt=start_at)
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run(until=lambda: bool(mailer.ses.accepted))
    assert mailer.ses.accepted and mailer.clock() >= datetime.fromisoformat(start_at).timestamp()


def test_the_daily_limit_carries_the_rest_to_the_next_day(mailer) -> None:
    from pivotr.domain.sending import iso

    mailer.add_leads(leads(8))
    campaign = mailer.campaign(dailyLimit=5)
    days: list[str] = []
    real = mailer.ses.real.send_email
    mailer.ses.real.send_email = lambda **request: (days.append(iso(mailer.clock())[:10]), real(**request))[1]
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run()
    assert sorted(Counter(days).values()) == [3, 5]
    assert mailer.read(campaign)["status"] == "completed"


def test_outside_the_sending_window_sends_wait_for_it_to_open(mailer) -> None:
    # Given a window of 14:00-15:00 UTC while the clock is at 08:53 UTC
    mailer.add_leads(leads(3))
    campaign = mailer.campaign(sendingWindow={"startHour": 14, "endHour": 15, "timeZone": "UTC"})
    times: list[float] = []
    real = mailer.ses.real.send_email
    mailer.ses.real.send_email = lambda **request: (times.append(mailer.clock()), real(**request))[1]
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run()
    assert len(times) == 3
    assert all(datetime.fromtimestamp(t, timezone.utc).hour == 14 for t in times)


def test_a_deleted_template_pauses_the_campaign_with_its_reason(mailer) -> None:
    mailer.add_leads(leads(3))
    campaign = mailer.campaign()
    template = mailer.read(campaign)["templateId"]
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run(until=lambda: mailer.read(campaign).get("runPhase") == "release")  # snapshot taken
    assert mailer.api.delete(f"/templates/{template}").status == 204
    mailer.queue.run()
    item = mailer.read(campaign)
    assert item["status"] == "paused" and "was deleted" in item["pauseReason"]
    assert not mailer.ses.accepted
    # waiting, never attempted: a resume's snapshot takes them over
    assert {r["status"] for r in mailer.recipients(campaign).values()} == {"released"}


def test_unreadable_sending_messages_are_dropped_without_blocking_the_batch(mailer) -> None:
    from simulator.clock import Context

    records = [{"messageId": f"m{i}", "body": body} for i, body in
               enumerate(["not json", "[]", '{"campaignId": 7}', '{"campaignId": "cp_x", "runId": "r", "tick": "0"}',
                          '{"campaignId": "cp_missing", "leadId": "ld_1"}'])]
    assert mailer.send_module.handler({"Records": records}, Context()) == {"batchItemFailures": []}


def test_a_send_event_confirms_a_claim_left_unconfirmed_and_counts_it(mailer) -> None:
    from pivotr.domain.sending import iso
    from simulator.ses import send_event
    from simulator.notifications import sns

    # Given a recipient whose send crashed after SES took it, marked unconfirmed
    mailer.add_leads(leads(1))
    campaign = mailer.campaign()
    lead = leads(1)[0]["id"]
    mailer.tables["recipients"].put_item(Item={"campaignId": campaign, "leadId": lead, "status": "unconfirmed",
                                               "claimToken": "t", "claimedAt": 1})
    # When SES's Send event for it arrives, twice
    accepted = {"EmailTags": [{"Name": "campaign", "Value": campaign}, {"Name": "lead", "Value": lead}],
                "FromEmailAddress": "a@b.co", "Destination": {"ToAddresses": ["lead0@example.com"]}, "MessageId": "ses-1"}
    body = sns(send_event(accepted, iso(mailer.clock())), "sns-1")
    mailer.feedback(body)
    mailer.feedback(body)
    # Then it is sent, with SES's message id, and counted once
    recipient = mailer.recipients(campaign)[lead]
    assert (recipient["status"], recipient["messageId"]) == ("sent", "ses-1")
    assert mailer.totals(campaign) == {"sent": 1}


def test_bounces_past_the_threshold_pause_a_running_campaign(mailer) -> None:
    from simulator import notifications as ses

    # Given a running campaign that sent 10 e-mails, auto-pausing at 20 % bounces after 10 sends
    mailer.add_leads(leads(10))
    campaign = mailer.campaign(autoPause={"bounceRate": 0.2, "minSends": 10}, pacing={"minDelaySeconds": 0, "maxDelaySeconds": 0})
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run(until=lambda: len(mailer.ses.accepted) == 10)
    mailer.tables["campaigns"].update_item(Key={"id": campaign}, UpdateExpression="SET #s = :r",
                                           ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":r": "running"})

    def bounce(i: int) -> str:
        mail = {**ses.tagged(campaign, leads(10)[i]["id"]), "messageId": f"m{i}"}
        return ses.sns(ses.event("Bounce", ses.bounce(email=f"lead{i}@example.com"), mail), f"sns-b{i}")

    # When one bounces, it keeps running; when a second does (20 %), it pauses with the reason
    mailer.feedback(bounce(0))
    assert mailer.read(campaign)["status"] == "running"
    mailer.feedback(bounce(1))
    item = mailer.read(campaign)
    assert item["status"] == "paused" and item["pauseReason"].startswith("bounceRate 20.00%")


def test_verify_first_holds_unverified_recipients_until_verification_hands_them_on(mailer, handler_module) -> None:
    import json

    import boto3

    from simulator.event_source import LambdaQueue

    # Given 2 new (unverified) leads and a campaign that verifies first
    mailer.add_leads(leads(2, status="new"))
    campaign = mailer.campaign(audience={"statuses": ["new"]}, verifyFirst=True)
    mailer.api.post(f"/campaigns/{campaign}/start")
    mailer.queue.run(horizon=3_600)  # the campaign keeps waiting for verification meanwhile
    # Then nothing is sent yet, and both are queued for verification with the campaign
    assert not mailer.ses.accepted
    url = mailer.service.verification.url
    bodies = [json.loads(m["Body"]) for m in boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]]
    assert sorted(b["leadId"] for b in bodies) == sorted(lead["id"] for lead in leads(2))
    assert all(b["campaignId"] == campaign for b in bodies)
    # When verify-email finds one valid and one invalid
    verify = handler_module("verify-email")
    answers = {"lead0@example.com": "Valid", "lead1@example.com": "Invalid"}
    verify.service.verifier.check = lambda email, timeout=0: {"Status": answers[email]}
    LambdaQueue(url, verify.handler, mailer.clock).run()
    mailer.queue.run(until=lambda: mailer.read(campaign)["status"] == "completed")
    # Then only the valid one got the e-mail, through the gate; the invalid one is skipped
    assert mailer.ses.leads() == [leads(2)[0]["id"]]
    assert mailer.read(campaign)["summary"] == {"sent": 1, "skipped": 1}
