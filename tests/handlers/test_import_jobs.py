"""Import jobs end to end on moto provisioned from the plan: POST /imports, the upload through its
pre-signed POST policy, the bucket's S3 event on the transfers queue, transfer-worker driven as
Lambda's event source does with its remaining time falling with a simulated clock."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3
import pytest
import requests

from simulator.clock import Clock, Crash
from simulator.event_source import LambdaQueue

WORKER_TIMEOUT = 120.0  # seconds (modules/catalog.py)
SECONDS_PER_BLOCK = 40.0  # simulated time a block takes: three blocks fit before 30 s are left


class Jobs:
    """The API and the worker of one test, with helpers to upload and to run the queue."""

    def __init__(self, api, handler_module, clock: Clock, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
        from pivotr.services import transfers

        self.api, self.clock = api, clock
        self.worker = handler_module("transfer-worker")
        service = self.worker.worker.service
        monkeypatch.setattr(transfers, "BLOCK", block)  # small blocks: a small file spans many
        self.reads = 0
        read = service.bucket.read

        def timed_read(*args: Any, **kwargs: Any) -> bytes:  # each block takes simulated time
            self.reads += 1
            clock.advance(SECONDS_PER_BLOCK)
            return read(*args, **kwargs)

        monkeypatch.setattr(service.bucket, "read", timed_read)
        self.queue = LambdaQueue(service.work.url, self.worker.handler, clock, timeout=WORKER_TIMEOUT)

    def start(self, **options: Any) -> dict[str, Any]:
        reply = self.api.post("/imports", options or None)
        assert reply.status == 201, reply.body
        return reply.body

    def upload(self, job: dict[str, Any], data: bytes) -> requests.Response:
        """What a browser does with the policy: a multipart/form-data POST to S3."""
        upload = job["upload"]
        response = requests.post(upload["url"], data=upload["fields"], files={"file": ("contacts.csv", data, "text/csv")})
        assert response.status_code in (200, 204), response.text
        return response

    def run(self) -> dict[str, Any]:
        self.queue.run(max_steps=500)
        return self.api.get(f"/imports/{self.last}").body

    def imported(self, data: bytes, **options: Any) -> dict[str, Any]:
        job = self.start(**options)
        self.last = job["id"]
        self.upload(job, data)
        return self.run()


@pytest.fixture
def jobs(api, handler_module, monkeypatch) -> Jobs:
    clock = Clock()
    clock.install(monkeypatch)
    return Jobs(api, handler_module, clock, monkeypatch, block=256)


def contacts(n: int, start: int = 0) -> list[str]:
    return [f"Person{i};Nachname{i};kontakt{i}@beispiel.de;Müller GmbH" for i in range(start, start + n)]


def german_export(lines: list[str]) -> bytes:
    """Outlook/Excel on a German Windows: semicolons, Windows-1252, CRLF."""
    return ("Vorname;Nachname;E-Mail-Adresse;Firma\r\n" + "\r\n".join(lines) + "\r\n").encode("cp1252")


def lead_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table("pivotr-mailer-dev-leads")
    return table.scan()["Items"]


def test_an_uploaded_german_export_becomes_leads_with_exact_counts_and_row_numbers(jobs: Jobs) -> None:
    # Given a German Windows export of 40 contacts with two bad rows and one repeated address
    lines = contacts(40)
    lines[9] = "Anna;Fehler;keine-adresse;X"  # row 11
    lines[30] = "Zweimal;Da;kontakt3@beispiel.de;Y"  # row 32: row 5's address again
    # When it is uploaded through the job's policy and the worker runs
    job = jobs.imported(german_export(lines), tags=["crm"])
    # Then every row is accounted for, with spreadsheet row numbers
    assert job["status"] == "completed", job
    assert job["totals"] == {"received": 40, "imported": 38, "updated": 0, "invalid": 1, "verificationQueued": 0,
                             "duplicates": {"inFile": 1, "existing": 0}}
    assert [(r["row"], r["value"]) for r in job["invalidRows"]] == [(11, "keine-adresse")]
    assert job["duplicateRows"] == [{"row": 32, "email": "kontakt3@beispiel.de", "firstRow": 5}]
    assert job["emailColumn"] == {"column": 3, "header": "E-Mail-Adresse", "chosenBy": "header", "hasHeader": True}
    assert job["progress"]["bytesDone"] == job["progress"]["bytesTotal"] and job["progress"]["rowsDone"] == 41
    # And the leads hold the names as given (Windows-1252 decoded), tagged, with no prefix added
    stored = {item["email"]: item for item in lead_items()}
    assert len(stored) == 38
    assert stored["kontakt0@beispiel.de"]["company"] == "Müller GmbH" and stored["kontakt0@beispiel.de"]["tags"] == ["crm"]
    # And the file spanned several blocks and invocations
    assert jobs.reads >= 8 and jobs.queue.invocations >= 3


def test_the_invalid_row_report_is_a_csv_behind_a_download_link(jobs: Jobs) -> None:
    # Given a file with three invalid rows, one of them formula-looking
    lines = contacts(12)
    lines[1], lines[5], lines[8] = "a;b;=HYPERLINK(\"x\");c", "a;b;nope;c", "a;b;;c"
    # When it is imported
    job = jobs.imported(german_export(lines))
    # Then the link serves every invalid row, the formula neutralized
    assert job["totals"]["invalid"] == 3 and job["download"]["rows"] == 3
    report = requests.get(job["download"]["url"]).content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0] == ["row", "value", "reason"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "'=HYPERLINK(\"x\")"), ("7", "nope"), ("10", "")]


def test_a_crash_mid_file_resumes_and_imports_nothing_twice(jobs: Jobs, monkeypatch) -> None:
    from pivotr.data.dynamo import Table

    # Given the worker dies after writing a block's leads and before its checkpoint, twice
    put_all, crashes = Table.put_all, {"left": 2, "calls": 0}

    def dying_put_all(self, items):
        put_all(self, items)
        crashes["calls"] += 1
        if crashes["calls"] in (3, 7) and crashes["left"]:
            crashes["left"] -= 1
            raise Crash  # the process is gone: no checkpoint, the message comes back after its visibility

    monkeypatch.setattr(Table, "put_all", dying_put_all)
    lines = contacts(60)
    lines[50] = "Spät;Doppelt;kontakt2@beispiel.de;Z"  # row 52 repeats row 4 (an earlier block)
    # When the file is imported
    job = jobs.imported(german_export(lines))
    # Then it completed with the counts of one clean pass
    assert jobs.queue.crashes == 2 and job["status"] == "completed", (jobs.queue, job)
    assert job["totals"]["imported"] == 59 and job["totals"]["duplicates"] == {"inFile": 1, "existing": 0}
    assert job["totals"]["received"] == 60
    assert len(lead_items()) == 59


def test_the_same_file_uploaded_twice_imports_nothing_twice(jobs: Jobs) -> None:
    data = german_export(contacts(15))
    first = jobs.imported(data)
    assert first["totals"]["imported"] == 15
    # When the same file arrives again as a new job
    second = jobs.imported(data)
    # Then the second job finds every lead existing
    assert second["totals"]["imported"] == 0 and second["totals"]["duplicates"]["existing"] == 15
    assert len(lead_items()) == 15


def test_a_second_upload_under_the_same_policy_changes_nothing(jobs: Jobs) -> None:
    # Given a completed job
    job = jobs.start()
    jobs.last = job["id"]
    jobs.upload(job, german_export(contacts(5)))
    done = jobs.run()
    assert done["totals"]["imported"] == 5
    # When the policy is used again with another file (it stays valid for an hour)
    jobs.upload(job, german_export(contacts(5, start=100)))
    again = jobs.run()
    # Then the job is as it was and no lead was added
    assert again["totals"] == done["totals"] and len(lead_items()) == 5


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b"\r\n\r\n  \r\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
    ("Name;Firma\r\nAnna;X\r\nBert;Y\r\n".encode("utf-8"), "no e-mail column"),
    ("email\r\n".encode("utf-16"), "UTF-16"),
    (b'email,name\r\na@example.com,"never closed\r\n' + b"x" * 5000, "longer than"),
])
def test_unreadable_uploads_end_failed_with_a_clear_reason(jobs: Jobs, monkeypatch, data: bytes, reason: str) -> None:
    from pivotr.domain import importing

    monkeypatch.setattr(importing, "MAX_RECORD", 2048)
    job = jobs.start()
    jobs.last = job["id"]
    if data:
        jobs.upload(job, data)
    else:  # S3 refuses an empty POST under the policy (1 byte at least); an empty object put directly
        boto3.client("s3").put_object(Bucket=job["upload"]["url"].split("//")[1].split(".")[0], Key=job["upload"]["fields"]["key"], Body=b"")
    status = jobs.run()
    assert status["status"] == "failed" and reason in status["reason"], status
    assert lead_items() == []


def test_an_oversized_upload_ends_failed_naming_the_limit(jobs: Jobs, monkeypatch) -> None:
    from pivotr.domain import importing

    # Given a limit smaller than the file (the policy's content-length-range refuses it on AWS; moto does not check)
    monkeypatch.setattr(importing, "UPLOAD_MAX_BYTES", 100)
    job = jobs.imported(german_export(contacts(10)))
    assert job["status"] == "failed" and "the most an import takes is 100" in job["reason"]
    assert lead_items() == []


def test_the_upload_policy_caps_size_and_type(jobs: Jobs) -> None:
    # Given a new import job
    job = jobs.start(onDuplicate="update", verify=False)
    policy = json.loads(__import__("base64").b64decode(job["upload"]["fields"]["policy"]))
    # Then its policy allows this key, text/csv only, and at most the documented maximum
    from pivotr.domain import importing

    assert ["content-length-range", 1, importing.UPLOAD_MAX_BYTES] in policy["conditions"]
    assert {"Content-Type": "text/csv"} in policy["conditions"]
    assert job["status"] == "waiting-for-upload" and job["options"]["onDuplicate"] == "update"
    assert importing.UPLOAD_MAX_BYTES >= 100 * 1024 * 1024
    # And the job is listed
    listed = jobs.api.get("/imports").body["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_bad_import_options_name_the_field(jobs: Jobs) -> None:
    reply = jobs.api.post("/imports", {"onDuplicate": "merge", "colour": "red"})
    assert reply.status == 400 and reply.error_fields == {"onDuplicate", "colour"}
    assert jobs.api.get("/imports/im_doesnotexist").status == 404


def test_update_and_verify_options_apply_to_existing_and_new_leads(jobs: Jobs) -> None:
    # Given a lead that exists, bounced, with an old first name
    existing = jobs.api.post("/leads", {"email": "kontakt1@beispiel.de", "firstName": "Alt", "status": "bounced"}).body
    # When a file with it and two new contacts is imported with onDuplicate=update and verify
    job = jobs.imported(german_export(contacts(3)), onDuplicate="update", verify=True, tags=["messe"])
    # Then the existing lead is updated but keeps its suppression, and only the new ones are queued for verification
    assert job["totals"]["updated"] == 1 and job["totals"]["imported"] == 2 and job["totals"]["verificationQueued"] == 2
    after = jobs.api.get(f"/leads/{existing['id']}").body
    assert (after["firstName"], after["status"], after["tags"]) == ("Person1", "bounced", ["messe"])
    verification = boto3.client("sqs").get_queue_url(QueueName="pivotr-mailer-dev-verification")["QueueUrl"]
    messages = boto3.client("sqs").receive_message(QueueUrl=verification, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2


def test_an_opted_out_address_comes_back_suppressed_and_unverified(jobs: Jobs) -> None:
    from pivotr.domain.leads import lead_id

    # Given an address that unsubscribed and whose lead was deleted since
    boto3.resource("dynamodb").Table("pivotr-mailer-dev-suppression").put_item(
        Item={"id": lead_id("kontakt0@beispiel.de"), "reason": "unsubscribed", "at": "2026-11-01T00:00:00Z"})
    # When a file with it is imported with verification
    job = jobs.imported(german_export(contacts(2)), verify=True)
    # Then it is a lead again, but unsubscribed, and only the other address is queued for verification
    assert job["totals"]["imported"] == 2 and job["totals"]["verificationQueued"] == 1
    stored = {item["email"]: item["status"] for item in lead_items()}
    assert stored == {"kontakt0@beispiel.de": "unsubscribed", "kontakt1@beispiel.de": "new"}
