"""api-campaigns (campaigns and templates) against moto tables created from the plan."""

from __future__ import annotations

TEMPLATE = {"name": "Intro", "subject": "Hi {{firstName | there}}", "html": "<p>Hello {{firstName}} at {{company}}</p>",
            "text": "Hello {{ firstName | there }} ({{custom.plan}})"}


def campaign_body(template_id: str, **overrides) -> dict:
    return {"name": "November", "templateId": template_id, "fromEmail": "news@pivotr.example.com",
            "audience": {"statuses": ["valid", "new"]}, **overrides}


def test_templates_crud(api) -> None:
    created = api.post("/templates", TEMPLATE)
    assert created.status == 201
    template_id = created.body["id"]
    assert api.get(f"/templates/{template_id}").body["subject"] == TEMPLATE["subject"]
    assert api.put(f"/templates/{template_id}", {"subject": "New {{lastName}}"}).body["subject"] == "New {{lastName}}"
    assert [t["id"] for t in api.get("/templates").body["items"]] == [template_id]
    assert api.delete(f"/templates/{template_id}").status == 204
    assert api.get(f"/templates/{template_id}").status == 404


def test_unknown_and_malformed_merge_fields_are_rejected_at_save_time(api) -> None:
    reply = api.post("/templates", {**TEMPLATE, "html": "<p>{{firstname}} {{ssn}}</p>", "text": "Hi {{firstName"})
    assert reply.status == 400 and reply.error_fields == {"html", "text"}
    messages = {d["field"]: d["message"] for d in reply.body["error"]["details"]}
    assert "firstname, ssn" in messages["html"] and "malformed" in messages["text"]


def test_no_header_injection_through_the_subject(api) -> None:
    assert api.post("/templates", {**TEMPLATE, "subject": "Hi\r\nBcc: everyone@example.com"}).error_fields == {"subject"}


def test_a_template_needs_a_body(api) -> None:
    assert api.post("/templates", {"name": "x", "subject": "s"}).status == 400


def test_campaign_needs_an_existing_template_and_a_sender_under_the_identity(api) -> None:
    template_id = api.post("/templates", TEMPLATE).body["id"]
    assert api.post("/campaigns", campaign_body("tp_missing")).error_fields == {"templateId"}
    assert api.post("/campaigns", campaign_body(template_id, fromEmail="me@gmail.com")).error_fields == {"fromEmail"}
    assert api.post("/campaigns", campaign_body(template_id, fromName="A\r\nB")).error_fields == {"fromName"}
    bad = campaign_body(template_id, audience={"statuses": ["bounced"]}, pacing={"minDelaySeconds": 9, "maxDelaySeconds": 3},
                        sendingWindow={"startHour": 9, "endHour": 17, "timeZone": "Mars/Olympus"}, startAt="tomorrow")
    assert api.post("/campaigns", bad).error_fields == {"audience", "pacing", "sendingWindow", "startAt"}
    created = api.post("/campaigns", campaign_body(template_id, sendingWindow={"startHour": 9, "endHour": 17, "timeZone": "Asia/Kolkata"}))
    assert created.status == 201 and created.body["status"] == "draft"
    assert created.body["pacing"] == {"minDelaySeconds": 30, "maxDelaySeconds": 120}


def test_the_state_machine_answers_409_with_the_current_state(api) -> None:
    template_id = api.post("/templates", TEMPLATE).body["id"]
    cid = api.post("/campaigns", campaign_body(template_id)).body["id"]
    assert api.post(f"/campaigns/{cid}/pause").status == 409  # draft cannot pause
    assert api.post(f"/campaigns/{cid}/start").body["status"] == "running"
    assert api.put(f"/campaigns/{cid}", {"name": "edited"}).status == 409  # not while running
    assert api.post(f"/campaigns/{cid}/pause").body["status"] == "paused"
    assert api.put(f"/campaigns/{cid}", {"name": "edited"}).body["name"] == "edited"
    assert api.post(f"/campaigns/{cid}/start").body["status"] == "running"  # resume
    assert api.post(f"/campaigns/{cid}/abort").body["status"] == "aborted"
    reply = api.post(f"/campaigns/{cid}/start")
    assert reply.status == 409
    assert reply.body["error"]["details"][0]["currentStatus"] == "aborted"
    assert api.post("/campaigns/cp_missing/start").status == 404


def test_two_concurrent_starts_cannot_both_win(api, monkeypatch) -> None:
    """The race, made deterministic: the second caller read "draft" before the first one's write landed.

    (moto does not make conditional writes atomic across threads, DynamoDB does; so the test fixes the
    interleaving instead of racing threads.)
    """
    from pivotr.data.dynamo import Table

    template_id = api.post("/templates", TEMPLATE).body["id"]
    draft = api.post("/campaigns", campaign_body(template_id)).body
    cid = draft["id"]
    # Given the first start has won
    assert api.post(f"/campaigns/{cid}/start").status == 200
    # When a second start arrives whose read of the campaign is stale (still "draft")
    real_get, stale = Table.get, [draft]

    def stale_first_read(self, key):
        return stale.pop() if stale and key == {"id": cid} else real_get(self, key)

    monkeypatch.setattr(Table, "get", stale_first_read)
    reply = api.post(f"/campaigns/{cid}/start")
    # Then its conditional write loses: 409 with the real current state, and no second start happened
    assert reply.status == 409
    assert reply.body["error"]["details"][0]["currentStatus"] == "running"


def test_start_is_refused_when_the_template_was_deleted(api) -> None:
    template_id = api.post("/templates", TEMPLATE).body["id"]
    cid = api.post("/campaigns", campaign_body(template_id)).body["id"]
    api.delete(f"/templates/{template_id}")
    reply = api.post(f"/campaigns/{cid}/start")
    assert reply.status == 409 and reply.body["error"]["code"] == "TEMPLATE_MISSING"


def test_auto_pause_limits_and_verify_first_are_validated_and_stored(api) -> None:
    template_id = api.post("/templates", TEMPLATE).body["id"]
    # Given limits out of range and of the wrong type
    for bad in ({"bounceRate": 0}, {"bounceRate": 1.5}, {"complaintRate": "high"}, {"minSends": 0}, {}):
        reply = api.post("/campaigns", campaign_body(template_id, autoPause=bad))
        # Then each is refused naming the field
        assert reply.status == 400 and "autoPause" in reply.error_fields, bad
    assert api.post("/campaigns", campaign_body(template_id, verifyFirst="yes")).error_fields == {"verifyFirst"}
    # Given valid ones, they come back as sent (rates as numbers)
    created = api.post("/campaigns", campaign_body(template_id, autoPause={"bounceRate": 0.03, "minSends": 50}, verifyFirst=True))
    assert created.status == 201
    assert created.body["autoPause"] == {"bounceRate": 0.03, "minSends": 50} and created.body["verifyFirst"] is True
    assert api.get(f"/campaigns/{created.body['id']}").body["autoPause"]["bounceRate"] == 0.03


def test_a_start_queues_the_first_dispatch_tick_and_hides_the_run_bookkeeping(api) -> None:
    import json
    import os

    import boto3

    template_id = api.post("/templates", TEMPLATE).body["id"]
    cid = api.post("/campaigns", campaign_body(template_id)).body["id"]
    started = api.post(f"/campaigns/{cid}/start").body
    assert not [k for k in started if k.startswith("run")]
    assert not [k for k in api.get(f"/campaigns/{cid}").body if k.startswith("run")]
    url = os.environ["SENDING_QUEUE_URL"]  # api-campaigns' environment from the plan, resolved into moto
    [message] = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    tick = json.loads(message["Body"])
    assert tick["campaignId"] == cid and tick["tick"] == 0 and tick["runId"].startswith("run_")


def test_templates_and_campaigns_page_with_tokens_only_this_stage_can_sign(api) -> None:
    """Issue 15 item 3: api-campaigns signs its nextTokens with the stage's key ring too."""
    for i in range(3):
        api.post("/templates", {"name": f"page-{i}", "subject": "s", "text": "b"})
    seen, token = [], None
    while True:
        reply = api.get("/templates", query={"limit": "1", **({"nextToken": token} if token else {})})
        assert reply.status == 200
        seen += [t["id"] for t in reply.body["items"]]
        token = reply.body["nextToken"]
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3
    first = api.get("/templates", query={"limit": "1"}).body["nextToken"]
    assert api.get("/campaigns", query={"nextToken": first}).error_fields == {"nextToken"}  # another list's token
