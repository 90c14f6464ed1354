"""Export jobs on moto from the plan: POST /exports, transfer-worker builds the CSV part by part, the
download link serves it with formula-looking cells neutralized and every other value as stored."""

from __future__ import annotations

import csv
import io
from typing import Any

import boto3
import pytest
import requests

from simulator.clock import Clock
from simulator.event_source import LambdaQueue


@pytest.fixture
def exporter(api, handler_module, monkeypatch):
    clock = Clock()
    clock.install(monkeypatch)
    worker = handler_module("transfer-worker")
    queue = LambdaQueue(worker.worker.service.work.url, worker.handler, clock, timeout=120.0)

    def export(request: dict[str, Any]) -> tuple[dict[str, Any], list[list[str]]]:
        reply = api.post("/exports", request)
        assert reply.status == 202, reply.body
        queue.run(max_steps=200)
        job = api.get(f"/exports/{reply.body['id']}").body
        assert job["status"] == "completed", job
        text = requests.get(job["download"]["url"]).content.decode("utf-8")
        return job, list(csv.reader(io.StringIO(text)))

    return export


def test_an_export_neutralizes_formula_cells_and_leaves_every_other_value_as_stored(api, exporter) -> None:
    # Given leads whose fields look like formulas, a phone number with a +, and plain text
    api.post("/leads", {"email": "f@example.com", "firstName": "=HYPERLINK(\"http://x\",\"y\")", "company": "@SUM(A1)",
                        "customAttributes": {"phone": "+91 98765 43210"}, "tags": ["vip"]})
    api.post("/leads", {"email": "p@example.com", "firstName": "Zoë", "lastName": "-minus", "company": "Acme, Inc."})
    # When they are exported
    job, rows = exporter({"kind": "leads"})
    # Then the header comes first, formula-looking cells gain a leading ', and the rest is untouched
    assert rows[0][:4] == ["email", "firstName", "lastName", "company"] and job["download"]["rows"] == 2
    by_email = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_email["f@example.com"]["firstName"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert by_email["f@example.com"]["company"] == "'@SUM(A1)"
    assert by_email["f@example.com"]["customAttributes"] == '{"phone":"+91 98765 43210"}'  # inside JSON: not a formula
    assert by_email["p@example.com"]["lastName"] == "'-minus"
    assert (by_email["p@example.com"]["firstName"], by_email["p@example.com"]["company"]) == ("Zoë", "Acme, Inc.")
    # And the stored lead was never changed
    stored = api.get("/leads", query={"limit": "10"}).body["items"]
    assert {lead["email"]: lead["customAttributes"].get("phone") for lead in stored}["f@example.com"] == "+91 98765 43210"


def test_an_export_by_status_and_tag_holds_only_those_leads(api, exporter) -> None:
    api.post("/leads", {"email": "a@example.com", "tags": ["x"]})
    api.post("/leads", {"email": "b@example.com", "tags": ["y"]})
    api.post("/leads", {"email": "c@example.com", "tags": ["x"], "status": "valid"})
    _, tagged = exporter({"kind": "leads", "tag": "x"})
    assert sorted(row[0] for row in tagged[1:]) == ["a@example.com", "c@example.com"]
    _, valid = exporter({"kind": "leads", "status": "valid"})
    assert [row[0] for row in valid[1:]] == ["c@example.com"]


def test_a_large_export_is_written_in_parts_each_checkpointed(api, exporter, monkeypatch) -> None:
    from pivotr.data import objects
    from pivotr.services import transfers

    # Given more leads than one page, and parts of a few KB (S3's 5 MiB minimum, scaled down)
    monkeypatch.setattr(transfers, "EXPORT_PAGE", 40)
    monkeypatch.setattr(transfers, "MIN_PART", 3_000)
    monkeypatch.setattr(objects, "MIN_PART", 3_000)
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 3_000)  # moto holds parts to S3's minimum, scaled alike
    table = boto3.resource("dynamodb").Table("pivotr-mailer-dev-leads")
    with table.batch_writer() as batch:
        for i in range(300):
            batch.put_item(Item={"id": f"ld_{i:04d}", "email": f"n{i}@example.com", "status": "new", "createdAt": "t",
                                 "tags": [], "customAttributes": {}})
    # When exported
    job, rows = exporter({"kind": "leads"})
    # Then every lead is there once, after one header
    assert rows[0][0] == "email" and sorted(row[0] for row in rows[1:]) == sorted(f"n{i}@example.com" for i in range(300))
    assert job["progress"]["rowsDone"] == 300
    stored = boto3.resource("dynamodb").Table("pivotr-mailer-dev-jobs").get_item(Key={"id": job["id"]})["Item"]
    assert len(stored["parts"]) >= 3 and stored["step"] == len(stored["parts"])  # one checkpoint per part


def test_a_campaign_export_lists_each_recipient_with_its_outcome(api, exporter) -> None:
    # Given a campaign's recipients as the sender leaves them
    lead = api.post("/leads", {"email": "r@example.com"}).body
    recipients = boto3.resource("dynamodb").Table("pivotr-mailer-dev-recipients")
    recipients.put_item(Item={"campaignId": "cp_1", "leadId": lead["id"], "status": "sent", "addedAt": "2026-11-20T00:00:00Z",
                              "doneAt": "2026-11-20T01:00:00Z", "messageId": "m-1"})
    recipients.put_item(Item={"campaignId": "cp_1", "leadId": "ld_gone", "status": "skipped", "reason": "lead deleted"})
    recipients.put_item(Item={"campaignId": "cp_2", "leadId": lead["id"], "status": "sent"})
    # When exported
    _, rows = exporter({"kind": "recipients", "campaignId": "cp_1"})
    # Then each recipient of that campaign appears with its outcome and the lead's e-mail
    table = {row[-1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(table) == {lead["id"], "ld_gone"}
    assert (table[lead["id"]]["email"], table[lead["id"]]["status"], table[lead["id"]]["messageId"]) == ("r@example.com", "sent", "m-1")
    assert table["ld_gone"]["reason"] == "lead deleted" and table["ld_gone"]["email"] == ""


def test_bad_export_requests_name_the_field(api) -> None:
    assert api.post("/exports", {"kind": "everything"}).error_fields == {"kind"}
    assert api.post("/exports", {"kind": "recipients"}).error_fields == {"campaignId"}
    assert api.get("/exports/ex_unknown").status == 404
