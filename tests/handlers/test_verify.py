"""verify-email against moto provisioned from the plan and a local stand-in for MyEmailVerifier."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import boto3
import pytest

from tests.handlers.events import LambdaContext

# e-mail -> (HTTP status, answer)
ANSWERS = {
    "good@example.com": (200, {"Address": "good@example.com", "Status": "Valid", "Disposable_Domain": "false"}),
    "temp@example.com": (200, {"Status": "Valid", "Disposable_Domain": "true"}),
    "gone@example.com": (200, {"Status": "Invalid", "Diagnosis": "Mailbox does not exist"}),
    "any@example.com": (200, {"Status": "Catch All"}),
    "slow@example.com": (429, {"error": "Too many requests"}),
    "down@example.com": (503, {}),
    "odd@example.com": (200, {"Status": "Puzzled"}),
}


class Verifier(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = self.path.strip("/").split("/")  # verifier/validate_single/<email>/<key>
        email, key = unquote(parts[2]), unquote(parts[3])
        Verifier.seen.append(key)
        status, answer = ANSWERS.get(email, (404, {}))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def verifier_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Verifier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def verify(handler_module, synth, monkeypatch, verifier_url):
    # The one value not taken from the plan: the verifier's base URL points at the local stand-in.
    original = synth.function_environment

    def with_local_verifier(stage, name):
        env = original(stage, name)
        return {**env, "VERIFIER_BASE_URL": verifier_url} if name == "verify-email" else env

    monkeypatch.setattr(synth, "function_environment", with_local_verifier)
    module = handler_module("verify-email")
    env = synth.function_environment("dev", "verify-email")
    leads = boto3.resource("dynamodb").Table(env["LEADS_TABLE"])
    campaigns = boto3.resource("dynamodb").Table(env["CAMPAIGNS_TABLE"])

    def run(*messages: dict) -> dict:
        event = {"Records": [{"messageId": f"m{i}", "receiptHandle": "r", "body": json.dumps(m), "attributes": {},
                              "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                              "eventSourceARN": "arn:aws:sqs:ap-south-1:123456789012:verification", "awsRegion": "ap-south-1"}
                             for i, m in enumerate(messages)]}
        return module.handler(event, LambdaContext())

    def add(email: str, status: str = "new") -> str:
        id_ = "ld_" + email.split("@")[0]
        leads.put_item(Item={"id": id_, "email": email, "status": status})
        return id_

    run.add, run.leads, run.campaigns, run.env = add, leads, campaigns, env
    return run


def status(verify, id_: str) -> str:
    return verify.leads.get_item(Key={"id": id_})["Item"]["status"]


def test_answers_map_to_valid_risky_invalid(verify) -> None:
    ids = {email: verify.add(email) for email in ("good@example.com", "temp@example.com", "gone@example.com", "any@example.com")}
    assert verify(*({"leadId": i} for i in ids.values())) == {"batchItemFailures": []}
    assert {e: status(verify, i) for e, i in ids.items()} == {
        "good@example.com": "valid", "temp@example.com": "risky", "gone@example.com": "invalid", "any@example.com": "risky"}


def test_rate_limits_outages_and_odd_answers_are_retried_through_the_queue(verify) -> None:
    ids = [verify.add(e) for e in ("slow@example.com", "down@example.com", "odd@example.com", "good@example.com")]
    result = verify(*({"leadId": i} for i in ids))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert [status(verify, i) for i in ids] == ["new", "new", "new", "valid"]


def test_the_api_key_comes_from_secrets_manager(verify) -> None:
    verify(({"leadId": verify.add("good@example.com")}))
    assert Verifier.seen[-1] == "test-secret"


def test_suppressed_or_verified_leads_are_not_reverified(verify) -> None:
    id_ = verify.add("gone@example.com", status="unsubscribed")
    verify({"leadId": id_})
    assert status(verify, id_) == "unsubscribed"


def test_a_lead_verified_for_a_running_campaign_goes_on_to_sending(verify) -> None:
    # Given a running and a paused campaign, and leads verified for them (one of them invalid)
    verify.campaigns.put_item(Item={"id": "cp_run", "status": "running"})
    verify.campaigns.put_item(Item={"id": "cp_paused", "status": "paused"})
    a, b, c = verify.add("good@example.com"), verify.add("any@example.com"), verify.add("gone@example.com")
    verify({"leadId": a, "campaignId": "cp_run"}, {"leadId": b, "campaignId": "cp_paused"}, {"leadId": c, "campaignId": "cp_run"})
    # Then the running campaign's leads go on to sending whatever the answer (send-email skips the
    # invalid one, which settles its recipient); the paused campaign's lead waits for its resume
    sqs = boto3.client("sqs")
    queue_url = os.environ["SENDING_QUEUE_URL"]  # as resolved into moto when the handler loaded
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert sorted(json.loads(m["Body"])["leadId"] for m in messages) == sorted([a, c])
    assert {json.loads(m["Body"])["campaignId"] for m in messages} == {"cp_run"}


def test_unreadable_messages_are_dropped_without_blocking_the_batch(verify) -> None:
    id_ = verify.add("good@example.com")
    assert verify({"nope": 1}, {"leadId": 7}, {"leadId": id_}) == {"batchItemFailures": []}
    assert status(verify, id_) == "valid"
