"""api-leads against moto tables created from the plan."""

from __future__ import annotations

import boto3
import pytest

LEAD = {"email": "  Asha.Rao@Example.COM ", "firstName": "Asha", "company": "Rao & Co", "tags": ["india", "beta", "beta"]}


def test_create_normalizes_the_email_and_answers_201(api) -> None:
    reply = api.post("/leads", LEAD)
    assert reply.status == 201
    assert reply.body["email"] == "asha.rao@example.com"
    assert reply.body["status"] == "new" and reply.body["tags"] == ["beta", "india"]
    assert api.get(f"/leads/{reply.body['id']}").body == reply.body


def test_a_duplicate_email_in_any_case_answers_409_naming_the_existing_lead(api) -> None:
    first = api.post("/leads", LEAD).body
    # When the same address arrives in another case
    reply = api.post("/leads", {"email": "ASHA.RAO@example.com"})
    # Then 409 names the lead that has it
    assert reply.status == 409
    assert reply.body["error"]["code"] == "DUPLICATE_EMAIL"
    assert reply.body["error"]["details"][0]["existingId"] == first["id"]


def test_every_bad_field_is_named(api) -> None:
    reply = api.post("/leads", {"email": "not-an-address", "firstName": 7, "tags": "x", "nickname": "A", "status": "vip"})
    assert reply.status == 400
    assert reply.error_fields == {"email", "firstName", "tags", "nickname", "status"}
    assert api.post("/leads", {}).error_fields == {"email"}


def test_malformed_wrongly_typed_and_oversized_bodies_are_4xx(api) -> None:
    assert api.post("/leads", raw="{not json").status == 400
    assert api.post("/leads", raw="[1, 2]").status == 400
    assert api.post("/leads", LEAD, headers={"content-type": "text/plain"}).status == 415
    assert api.post("/leads", raw='{"email": "' + "a" * 300_000 + '@x.com"}').status == 413


def test_read_update_delete(api) -> None:
    lead = api.post("/leads", LEAD).body
    updated = api.put(f"/leads/{lead['id']}", {"lastName": "Rao", "status": "valid"})
    assert updated.status == 200 and updated.body["lastName"] == "Rao" and updated.body["status"] == "valid"
    assert updated.body["firstName"] == "Asha"  # fields not sent stay
    assert api.put(f"/leads/{lead['id']}", {"email": "other@example.com"}).error_fields == {"email"}
    assert api.delete(f"/leads/{lead['id']}").status == 204
    assert api.get(f"/leads/{lead['id']}").status == 404
    assert api.delete(f"/leads/{lead['id']}").status == 404
    assert api.put(f"/leads/{lead['id']}", {"lastName": "X"}).status == 404


def test_bad_ids_are_400_not_500(api) -> None:
    assert api.get("/leads/" + "x" * 65).status == 400
    assert api.get("/leads/a.b").error_fields == {"id"}


def test_lists_paginate_with_opaque_tokens_and_filter(api) -> None:
    ids = {api.post("/leads", {"email": f"p{i}@example.com", "tags": ["odd" if i % 2 else "even"]}).body["id"] for i in range(7)}
    seen, token, pages = [], None, 0
    while True:
        reply = api.get("/leads", query={"limit": "3", **({"nextToken": token} if token else {})})
        assert reply.status == 200
        seen += [lead["id"] for lead in reply.body["items"]]
        pages += 1
        token = reply.body["nextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(ids) and pages >= 3
    odd = api.get("/leads", query={"tag": "odd", "limit": "100"}).body["items"]
    assert len(odd) == 3
    new = api.get("/leads", query={"status": "new", "limit": "100"}).body["items"]
    assert len(new) == 7


def test_bad_paging_parameters_are_400(api) -> None:
    for query in ({"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"nextToken": "garbage"},
                  {"status": "vip"}, {"nextToken": "A" * 3000}):
        reply = api.get("/leads", query=query)
        assert reply.status == 400, query
    # a token of another list is refused too
    for i in range(3):
        api.post("/leads", {"email": f"t{i}@example.com"})
    token = api.get("/leads", query={"limit": "1"}).body["nextToken"]
    assert api.get("/leads", query={"status": "new", "nextToken": token}).error_fields == {"nextToken"}


def test_history_comes_from_the_logs_index_by_lead(api, synth) -> None:
    lead = api.post("/leads", LEAD).body
    logs = boto3.resource("dynamodb").Table(synth.function_environment("dev", "api-leads")["LOGS_TABLE"])
    for i, event in enumerate(["sent", "delivered", "opened"]):
        logs.put_item(Item={"campaignId": "cp_1", "timestamp": f"2026-11-2{i}T10:00:00Z", "leadId": lead["id"], "event": event})
    logs.put_item(Item={"campaignId": "cp_1", "timestamp": "2026-11-20T11:00:00Z", "leadId": "ld_other", "event": "sent"})
    history = api.get(f"/leads/{lead['id']}/history").body["items"]
    assert [h["event"] for h in history] == ["opened", "delivered", "sent"]  # newest first
    assert api.get("/leads/ld_missing/history").status == 404


def test_a_token_forged_with_the_key_once_written_in_the_source_is_a_400(api) -> None:
    """Issue 15 item 3, reproduced on the old code: this token listed the leads table from any key."""
    import base64
    import hashlib
    import hmac

    api.post("/leads", {"email": "token@example.com"})
    payload = b'{"id":"ld_0"}'
    mac = hmac.new(b"pivotr-mailer-pagination-v1" + b"leads::", payload, hashlib.sha256).digest()[:16]
    forged = base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")
    reply = api.get("/leads", query={"nextToken": forged})
    assert reply.status == 400 and reply.error_fields == {"nextToken"}


def test_a_start_key_dynamodb_refuses_is_the_callers_bad_token_not_a_5xx() -> None:
    from botocore.exceptions import ClientError

    from pivotr.errors import Invalid
    from pivotr.routes.common import page_from

    def refused():
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "The provided starting key is invalid"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "Scan")

    with pytest.raises(Invalid) as error:
        page_from({"id": "x"}, refused)
    assert error.value.details[0]["field"] == "nextToken"
    with pytest.raises(ClientError):  # without a token it is ours: it propagates
        page_from(None, refused)


def test_import_and_export_job_lists_page_with_signed_tokens(api) -> None:
    for _ in range(3):
        assert api.post("/imports", {}).status == 201
    first = api.get("/imports", query={"limit": "2"})
    assert len(first.body["items"]) == 2 and first.body["nextToken"]
    rest = api.get("/imports", query={"limit": "2", "nextToken": first.body["nextToken"]})
    assert rest.status == 200 and rest.body["items"]
    assert api.get("/exports", query={"nextToken": first.body["nextToken"]}).error_fields == {"nextToken"}
