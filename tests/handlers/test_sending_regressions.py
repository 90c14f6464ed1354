"""Issue 11's twelve defects, one test each, on the mailer as AWS treats it (``strict_mailer``: SES behind
the real botocore client on a local endpoint, send-email killed at its 30 s timeout on the simulated
clock, faults armed where AWS has them). Each failed on the engine as it was before issue 11."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from pivotr.data.dynamo import Table
from pivotr.domain import sending
from pivotr.domain.leads import lead_id
from simulator.clock import Context
from simulator.event_source import LambdaQueue
from tests.ses_stub import Answer


def leads(n: int, status: str = "valid", prefix: str = "lead", tags: tuple[str, ...] = ()) -> list[dict]:
    return [{"id": lead_id(f"{prefix}{i}@example.com"), "email": f"{prefix}{i}@example.com", "status": status,
             "firstName": f"Name{i}", "tags": list(tags)} for i in range(n)]


def ids(people: list[dict]) -> set[str]:
    return {lead["id"] for lead in people}


def statuses(mailer, campaign: str) -> Counter:
    return Counter(r["status"] for r in mailer.recipients(campaign).values())


def start(mailer, campaign: str) -> None:
    reply = mailer.api.post(f"/campaigns/{campaign}/start")
    assert reply.status == 200, reply.body


def run_to_completion(mailer, campaign: str) -> None:
    mailer.queue.run(until=lambda: mailer.read(campaign)["status"] in ("completed", "aborted"), max_steps=20_000)
    assert mailer.read(campaign)["status"] == "completed", mailer.read(campaign)


# 1 -------------------------------------------------------------------------------------------------
def test_1_an_ambiguous_ses_answer_is_never_sent_again_and_the_send_event_settles_it(strict_mailer) -> None:
    mailer = strict_mailer
    # Given 6 leads, and SES that answers the 2nd request too late, drops the 3rd's connection after
    # taking it, and answers the 4th with a 500
    people = leads(6)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    mailer.stub.behaviours.extend([Answer.OK, Answer.SLOW, Answer.RESET, Answer.ERROR_5XX])
    # When the campaign runs to completion
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    # Then each lead's e-mail reached SES exactly once, the three ambiguous ones are unconfirmed
    assert Counter(mailer.sent_leads()) == Counter(ids(people))
    assert mailer.read(campaign)["summary"] == {"sent": 3, "unconfirmed": 3}
    # When SES's Send events arrive for what it took (slow and reset ones included)
    mailer.confirm_sends()
    # Then those become sent, counted once, in the completed campaign's summary too; the 5xx one (not
    # taken) stays unconfirmed, never re-sent
    assert statuses(mailer, campaign) == Counter({"sent": 5, "unconfirmed": 1})
    assert mailer.totals(campaign)["sent"] == 5
    assert mailer.read(campaign)["summary"] == {"sent": 5, "unconfirmed": 1}
    mailer.confirmed = 0
    mailer.confirm_sends()  # SNS delivers the events again: nothing changes
    assert mailer.read(campaign)["summary"] == {"sent": 5, "unconfirmed": 1} and mailer.totals(campaign)["sent"] == 5
    assert len(mailer.stub.requests) == 6


# 2 -------------------------------------------------------------------------------------------------
def test_2_verify_first_goes_through_the_gate_start_time_daily_limit_and_pacing(strict_mailer, handler_module) -> None:
    mailer = strict_mailer
    # Given 2 new leads, a verify-first campaign starting tomorrow, 1 e-mail a day, 600 s apart
    mailer.add_leads(leads(2, status="new"))
    start_at = mailer.clock() + 86_400
    campaign = mailer.campaign(audience={"statuses": ["new"]}, verifyFirst=True, dailyLimit=1,
                               pacing={"minDelaySeconds": 600, "maxDelaySeconds": 600},
                               startAt=sending.iso(start_at).replace("Z", "+00:00"))
    start(mailer, campaign)
    mailer.queue.run(horizon=120)  # the snapshot queues the leads for verification
    # When verify-email finds them valid, and 20 minutes pass
    verify = handler_module("verify-email")
    verify.service.verifier.check = lambda email, timeout=0: {"Status": "Valid"}
    LambdaQueue(mailer.service.verification.url, verify.handler, mailer.clock).run()
    mailer.queue.run(horizon=1_200)
    # Then nothing was sent before the start time (it used to send all of them within 20 minutes)
    assert not mailer.stub.requests
    # When the campaign runs on
    run_to_completion(mailer, campaign)
    # Then every send honoured the start time, one a day
    times = [r.at for r in mailer.stub.requests]
    assert len(times) == 2 and min(times) >= start_at
    assert len({sending.iso(t)[:10] for t in times}) == 2


# 3 -------------------------------------------------------------------------------------------------
def test_3a_a_pause_during_a_multi_page_snapshot_loses_nobody(strict_mailer, monkeypatch) -> None:
    mailer = strict_mailer
    monkeypatch.setattr(sending, "SNAPSHOT_PAGE", 5)
    # Given 20 eligible leads, snapshot 5 at a time, and a pause after the first page
    people = leads(20)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    start(mailer, campaign)
    mailer.queue.run(until=lambda: mailer.read(campaign).get("runSnapshot"))
    assert mailer.api.post(f"/campaigns/{campaign}/pause").status == 200
    mailer.queue.run(horizon=3_600)
    # When it resumes and runs to completion
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    # Then all 20 got exactly one e-mail (the campaign used to complete after 5)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))
    assert mailer.read(campaign)["audienceSize"] == 20 and mailer.totals(campaign)["queued"] == 20


def test_3b_an_audience_edited_while_paused_is_honoured_on_resume(strict_mailer) -> None:
    mailer = strict_mailer
    # Given leads tagged a, b, or both, and a paced campaign for tag a paused after 2 sends
    only_a, both, only_b = leads(4, prefix="a", tags=("a",)), leads(4, prefix="ab", tags=("a", "b")), leads(3, prefix="b", tags=("b",))
    mailer.add_leads(only_a + both + only_b)
    campaign = mailer.campaign(audience={"tags": ["a"]}, pacing={"minDelaySeconds": 60, "maxDelaySeconds": 60})
    start(mailer, campaign)
    mailer.queue.run(until=lambda: len(mailer.stub.requests) >= 2)
    assert mailer.api.post(f"/campaigns/{campaign}/pause").status == 200
    early = set(mailer.sent_leads())
    # When its audience becomes tag b, and it resumes
    assert mailer.api.put(f"/campaigns/{campaign}", {"audience": {"tags": ["b"]}}).status == 200
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    # Then tag b got its e-mails, those sent before stayed sent (never twice), and the leads that left
    # the audience got nothing more (they used to be mailed anyway)
    sent = Counter(mailer.sent_leads())
    assert max(sent.values()) == 1
    assert set(sent) == early | ids(both) | ids(only_b)
    recipients = mailer.recipients(campaign)
    left = ids(only_a) - early
    assert left and all(recipients[lead]["status"] == "skipped" and recipients[lead]["reason"] == "left the audience"
                        for lead in left)


# 4 -------------------------------------------------------------------------------------------------
def test_4_a_dispatch_tick_sqs_would_not_take_is_retried_not_dropped(strict_mailer) -> None:
    mailer = strict_mailer
    people = leads(3)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    mailer.faults.batch_match = lambda params: all('"tick"' in e["MessageBody"] for e in params["Entries"])
    # Given SQS refusing a start's first tick: the API answers 503 and the campaign stays a draft
    mailer.faults.batch_failures = 3
    refused = mailer.api.post(f"/campaigns/{campaign}/start")
    assert refused.status == 503 and mailer.read(campaign)["status"] == "draft"
    # Given SQS reporting the next dispatch tick failed three times in a row (every retry round)
    start(mailer, campaign)
    mailer.faults.batch_failures = 3
    # When the campaign runs
    run_to_completion(mailer, campaign)
    # Then the tick was retried and the campaign completed (it used to stay running with nothing queued)
    assert mailer.faults.fired["batch"] == 6
    assert Counter(mailer.sent_leads()) == Counter(ids(people))


# 5 -------------------------------------------------------------------------------------------------
def test_5a_a_secret_read_failure_happens_before_the_claim_and_loses_nothing(strict_mailer) -> None:
    mailer = strict_mailer
    people = leads(10)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    # Given Secrets Manager failing the signing key's next two reads
    mailer.faults.fail_secret_reads(2)
    # When the campaign runs
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    # Then every lead got its e-mail and none is unconfirmed (10/10 used to be)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))
    assert mailer.read(campaign)["summary"] == {"sent": 10}
    assert mailer.faults.fired["secret"] == 2


def test_5b_a_signing_key_with_no_value_pauses_the_campaign_with_the_reason(strict_mailer) -> None:
    mailer = strict_mailer
    people = leads(3)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    # Given a stage whose signing-key secret has no value yet
    mailer.faults.fail_secret_reads(1_000, code="ResourceNotFoundException")
    start(mailer, campaign)
    mailer.queue.run(horizon=600)
    # Then the campaign pauses and says why; nothing was claimed or sent
    item = mailer.read(campaign)
    assert item["status"] == "paused" and "signing key" in item["pauseReason"]
    assert not mailer.stub.requests and "unconfirmed" not in statuses(mailer, campaign)
    # When the value is set and the campaign resumed, everyone gets the e-mail
    mailer.faults.fail_secret_reads(0)
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))



def test_5c_a_signing_secret_that_is_no_key_pauses_the_campaign_instead_of_retrying(strict_mailer) -> None:
    """Issue 14: the secret may now hold a key ring (rotation); a value that is neither is an operator's
    mistake, named in the pause reason, never retried into the DLQ."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    mailer = strict_mailer
    people = leads(2)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    secrets = boto3.client("secretsmanager")
    arn = mailer.service.env.unsubscribe_signing_key_secret_arn
    good = secrets.get_secret_value(SecretId=arn)["SecretString"]
    try:
        # Given a half-pasted key ring
        secrets.put_secret_value(SecretId=arn, SecretString='{"current": ')
        parameters.clear_caches()
        start(mailer, campaign)
        mailer.queue.run(horizon=600)
        # Then the campaign pauses with the reason; nothing was sent
        item = mailer.read(campaign)
        assert item["status"] == "paused" and "neither a key nor a key ring" in item["pauseReason"]
        assert not mailer.stub.requests
    finally:
        secrets.put_secret_value(SecretId=arn, SecretString=good)
        parameters.clear_caches()
    # When the value is put right and the campaign resumed, everyone gets the e-mail
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))

# 6 -------------------------------------------------------------------------------------------------
def test_6_no_ses_call_starts_unless_a_worst_case_call_fits_before_the_timeout(strict_mailer) -> None:
    mailer = strict_mailer
    # Given SES taking 3 s per answer, and from the 8th request on answering past the read timeout
    people = leads(10)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    mailer.stub.latency = 3.0
    mailer.stub.choose = lambda body: Answer.SLOW if len(mailer.stub.requests) >= 7 else None
    # When the campaign runs (one batch of 10 in a 30 s invocation)
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    # Then no invocation was killed mid-batch: the calls that could not fit were handed back and sent
    # by the next invocation (the old 5 s margin started an 8th call with 9 s left, and the kill left
    # the rest of the batch claimed forever)
    assert mailer.faults.fired["killed"] == 0 and mailer.queue.crashes == 0
    assert Counter(mailer.sent_leads()) == Counter(ids(people))
    summary = mailer.read(campaign)["summary"]
    assert summary["unconfirmed"] == 3  # the slow answers themselves: taken, answer lost
    assert summary["sent"] == 7


# 7 -------------------------------------------------------------------------------------------------
def test_7_a_lead_changing_status_during_the_snapshot_is_counted_once(strict_mailer, monkeypatch) -> None:
    mailer = strict_mailer
    monkeypatch.setattr(sending, "SNAPSHOT_PAGE", 5)
    # Given 10 new and 10 valid leads, a campaign for both statuses, snapshot 5 at a time
    new, valid = leads(10, "new", "n"), leads(10, "valid", "v")
    mailer.add_leads(new + valid)
    campaign = mailer.campaign(audience={"statuses": ["new", "valid"]})
    start(mailer, campaign)
    mailer.queue.run(until=lambda: mailer.read(campaign).get("runSnapshot"))
    # When every lead flips between new and valid after the first page
    for lead in new:
        mailer.set_lead(lead["id"], status="valid")
    for lead in valid:
        mailer.set_lead(lead["id"], status="new")
    run_to_completion(mailer, campaign)
    # Then the audience is all 20, each counted and mailed once
    assert Counter(mailer.sent_leads()) == Counter(ids(new + valid))
    assert mailer.read(campaign)["audienceSize"] == 20 and mailer.totals(campaign)["queued"] == 20


# 9 -------------------------------------------------------------------------------------------------
def test_9_completion_reads_every_open_recipient_not_one_page(strict_mailer, monkeypatch) -> None:
    mailer = strict_mailer
    monkeypatch.setattr(sending, "DRAIN_PAGE", 2)
    # Given a running campaign at a completion check whose first page of open recipients holds two dead
    # claims, and whose later recipients are released with slots still ahead
    people = sorted(leads(5), key=lambda lead: lead["id"])
    mailer.add_leads(people)
    campaign = mailer.campaign()
    now = mailer.clock()
    mailer.tables["campaigns"].update_item(Key={"id": campaign}, UpdateExpression=(
        "SET #s = :running, runId = :run, runTick = :t, runPhase = :drain, runMessage = :m"),
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={
            ":running": "running", ":run": "r1", ":t": 5, ":drain": "drain", ":m": ""})
    for i, lead in enumerate(people):
        item = {"campaignId": campaign, "leadId": lead["id"], "run": "r1", "openCampaign": campaign}
        if i < 2:
            item |= {"status": "sending", "claimToken": "dead", "claimedAt": int(now - 3_600)}
        else:
            item |= {"status": "released", "dueAt": int(now + 300)}
        mailer.tables["recipients"].put_item(Item=item)
    # When the completion check runs
    body = json.dumps({"campaignId": campaign, "runId": "r1", "tick": 5})
    mailer.send_module.handler({"Records": [{"messageId": "m-drain", "body": body}]}, Context())
    # Then it settled the dead claims but did not complete: three recipients are still open
    item = mailer.read(campaign)
    assert item["status"] == "running" and item["runTick"] == 6
    assert statuses(mailer, campaign) == Counter({"unconfirmed": 2, "released": 3})


# 10 ------------------------------------------------------------------------------------------------
def test_10a_a_late_duplicate_snapshot_tick_overwrites_nothing(strict_mailer, monkeypatch) -> None:
    mailer = strict_mailer
    # Given a campaign whose tick 0 (the snapshot) is delivered twice, the copy running late, reading
    # the campaign as it was before the first copy committed
    people = leads(5)
    mailer.add_leads(people)
    campaign = mailer.campaign(pacing={"minDelaySeconds": 60, "maxDelaySeconds": 60})
    start(mailer, campaign)
    before = copy.deepcopy(mailer.read(campaign))
    mailer.queue.run(until=lambda: len(mailer.stub.requests) >= 2)
    real_get = Table.get
    monkeypatch.setattr(Table, "get", lambda self, key: {**before, "runTick": 0} if key == {"id": campaign}
                        and self.name.endswith("-campaigns") else real_get(self, key))
    body = json.dumps({"campaignId": campaign, "runId": before["runId"], "tick": 0})
    mailer.send_module.handler({"Records": [{"messageId": "late-copy", "body": body}]}, Context())
    monkeypatch.setattr(Table, "get", real_get)
    # Then the sent recipients stayed sent, and after a long run nobody got two e-mails
    assert statuses(mailer, campaign)["sent"] == 2
    run_to_completion(mailer, campaign)
    mailer.queue.run(horizon=4 * 3_600)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))


def test_10b_settling_a_dead_claim_yields_to_the_send_event_that_raced_it(strict_mailer) -> None:
    mailer = strict_mailer
    store = mailer.service.dispatcher.recipients
    campaign, lead, now = "cp_race", "ld_race", mailer.clock()
    mailer.tables["recipients"].put_item(Item={"campaignId": campaign, "leadId": lead, "status": "sending",
                                               "claimToken": "t1", "claimedAt": int(now - 3_600), "openCampaign": campaign})
    # Given the completion check read the dead claim, and SES's Send event noted the message id just after
    seen = store.table.get({"campaignId": campaign, "leadId": lead})
    assert store.note_message(campaign, lead, "ses-123") == "sending"
    # When the check settles what it read
    outcome = store.settle(campaign, seen, sending.iso(now), sending.iso(now)[:10])
    # Then it is sent with SES's id (it used to become unconfirmed, the Send event's note lost), counted once
    recipient = mailer.recipients(campaign)[lead]
    assert outcome == "sent" and (recipient["status"], recipient["messageId"]) == ("sent", "ses-123")
    assert mailer.totals(campaign) == {"sent": 1}


# 11 ------------------------------------------------------------------------------------------------
@pytest.fixture
def signing_key(api) -> bytes:
    import boto3

    from pivotr.domain import unsubscribe

    api.get("/leads")  # loading api-leads creates its secret in moto, from the plan
    return unsubscribe.KeyRing.parse(boto3.client("secretsmanager").get_secret_value(
        SecretId="pivotr-mailer-dev-unsubscribe-signing-key")["SecretString"]).current


def test_11_an_opt_out_outlives_the_lead_record(strict_mailer, signing_key) -> None:
    from pivotr.domain import unsubscribe

    mailer, api = strict_mailer, strict_mailer.api
    # Given a lead who unsubscribed through the one-click link
    lead = api.post("/leads", {"email": "Optout@Example.com", "firstName": "O"}).body
    token = unsubscribe.sign(unsubscribe.Subscription(lead["id"], "cp_1"), signing_key)
    assert api.post("/unsubscribe", query={"token": token}, raw="List-Unsubscribe=One-Click").status == 200
    # When the lead is deleted and created again, by hand and by an import
    assert api.delete(f"/leads/{lead['id']}").status == 204
    again = api.post("/leads", {"email": "optout@example.com"})
    assert again.status == 201 and again.body["status"] == "unsubscribed"
    assert api.delete(f"/leads/{lead['id']}").status == 204
    imported = api.call("POST", "/leads/import", raw="email,firstName\noptout@example.com,O\n",
                        headers={"content-type": "text/csv"})
    assert imported.status == 200 and imported.body["imported"] == 1
    # Then it is unsubscribed each time, the API cannot move it out, and no campaign mails it
    assert api.get(f"/leads/{lead['id']}").body["status"] == "unsubscribed"
    refused = api.put(f"/leads/{lead['id']}", {"status": "valid"})
    assert refused.status == 409 and refused.body["error"]["code"] == "SUPPRESSED"
    mailer.add_leads(leads(2))
    mailer.tables["leads"].update_item(Key={"id": lead["id"]}, UpdateExpression="SET #s = :v",  # even by a stray write
                                       ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":v": "valid"})
    campaign = mailer.campaign()
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    assert lead["id"] not in mailer.sent_leads() and len(mailer.sent_leads()) == 2


def test_11b_a_complaint_suppresses_the_address_even_for_a_lead_recreated_later(strict_mailer) -> None:
    from simulator import notifications as ses

    mailer, api = strict_mailer, strict_mailer.api
    lead = api.post("/leads", {"email": "angry@example.com"}).body
    mail = {**ses.tagged("cp_1", lead["id"]), "messageId": "m-angry"}
    complaint = ses.event("Complaint", {"complainedRecipients": [{"emailAddress": "angry@example.com"}],
                                        "timestamp": "2026-11-18T10:00:00.000Z"}, mail)
    assert mailer.feedback(ses.sns(complaint, "sns-c1")) == {"batchItemFailures": []}
    assert api.delete(f"/leads/{lead['id']}").status == 204
    assert api.post("/leads", {"email": "angry@example.com"}).body["status"] == "complained"
    entry = mailer.tables["suppression"].get_item(Key={"id": lead["id"]})["Item"]
    assert (entry["reason"], entry["email"]) == ("complained", "angry@example.com")


def test_11c_bounced_and_complained_are_set_by_ses_feedback_only(strict_mailer) -> None:
    api = strict_mailer.api
    lead = api.post("/leads", {"email": "x@example.com"}).body
    reply = api.put(f"/leads/{lead['id']}", {"status": "bounced"})
    assert reply.status == 400 and reply.error_fields == {"status"}
    # an opt-out taken by hand is recorded on the list too
    assert api.put(f"/leads/{lead['id']}", {"status": "unsubscribed"}).status == 200
    assert strict_mailer.tables["suppression"].get_item(Key={"id": lead["id"]})["Item"]["reason"] == "unsubscribed"


# 12 ------------------------------------------------------------------------------------------------
def test_12_a_resume_never_sends_faster_than_the_pacing(strict_mailer) -> None:
    mailer = strict_mailer
    # Given a campaign pacing one e-mail a minute, paused after 3 sends and resumed at once
    people = leads(12)
    mailer.add_leads(people)
    campaign = mailer.campaign(pacing={"minDelaySeconds": 60, "maxDelaySeconds": 60})
    start(mailer, campaign)
    mailer.queue.run(until=lambda: len(mailer.stub.requests) >= 3)
    assert mailer.api.post(f"/campaigns/{campaign}/pause").status == 200
    start(mailer, campaign)
    # When it runs to completion
    run_to_completion(mailer, campaign)
    # Then everyone got one e-mail, never two closer than the pacing allows (the earlier run's
    # releases used to be sent alongside the new run's: 40-55 a minute against 30 allowed)
    assert Counter(mailer.sent_leads()) == Counter(ids(people))
    times = sorted(r.at for r in mailer.stub.requests)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 59, gaps  # whole-second SQS delays


def test_an_account_level_refusal_pauses_the_campaign_instead_of_failing_everyone(strict_mailer) -> None:
    mailer = strict_mailer
    # Given SES refusing with "sending paused for the account"
    people = leads(5)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    mailer.stub.default = Answer.ACCOUNT
    start(mailer, campaign)
    mailer.queue.run(horizon=600)
    # Then the campaign paused with the reason after one refused request; nobody is failed
    item = mailer.read(campaign)
    assert item["status"] == "paused" and "SendingPausedException" in item["pauseReason"]
    assert len(mailer.stub.requests) == 1 and "failed" not in statuses(mailer, campaign)
    # When the account is fixed and the campaign resumed, everyone gets the e-mail
    mailer.stub.default = Answer.OK
    start(mailer, campaign)
    run_to_completion(mailer, campaign)
    assert Counter(r.lead for r in mailer.stub.taken()) == Counter(ids(people))


def test_a_pause_answers_how_many_emails_were_in_flight_and_nothing_is_claimed_after_it(strict_mailer) -> None:
    mailer = strict_mailer
    # Given a batch of 10 e-mails being sent, and a pause arriving while SES takes the first
    people = leads(10)
    mailer.add_leads(people)
    campaign = mailer.campaign()
    paused: dict = {}
    mailer.stub.during = lambda request: paused.update(mailer.api.post(f"/campaigns/{campaign}/pause").body)
    start(mailer, campaign)
    mailer.queue.run(until=lambda: bool(paused))
    in_flight = paused["inFlight"]
    # Then the answer counted the batch's claims, at most those reached SES, and nothing after
    mailer.queue.run(horizon=86_400)
    assert paused["status"] == "paused" and 1 <= in_flight <= 10
    assert len(mailer.stub.requests) <= in_flight
    assert max(Counter(mailer.sent_leads()).values()) == 1
