"""One-click unsubscribe (RFC 8058) with HMAC-signed tokens, against moto provisioned from the plan."""

from __future__ import annotations

import boto3
import pytest
from pivotr.domain import unsubscribe
from pivotr.domain.unsubscribe import Subscription


@pytest.fixture
def key(api) -> bytes:
    api.get("/leads")  # loading api-leads creates its secret in moto, from the plan
    value = boto3.client("secretsmanager").get_secret_value(SecretId="pivotr-mailer-dev-unsubscribe-signing-key")["SecretString"]
    return unsubscribe.KeyRing.parse(value).current  # the key new links are signed with (rotation tests change it)


def leads_table(synth):
    return boto3.resource("dynamodb").Table(synth.function_environment("dev", "api-leads")["LEADS_TABLE"])


def test_get_shows_a_confirmation_page_and_changes_nothing(api, key) -> None:
    lead = api.post("/leads", {"email": "u@example.com"}).body
    reply = api.get("/unsubscribe", query={"token": unsubscribe.sign(Subscription(lead["id"], "cp_1"), key)})
    assert reply.status == 200 and "<form method=post>" in reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    assert api.get(f"/leads/{lead['id']}").body["status"] == "new"


def test_one_click_post_unsubscribes_once_and_counts_once(api, key, synth) -> None:
    lead = api.post("/leads", {"email": "u@example.com"}).body
    token = unsubscribe.sign(Subscription(lead["id"], "cp_1"), key)
    # When the mail client posts twice (RFC 8058 body), and the reader also clicks the page button
    for _ in range(2):
        assert api.post("/unsubscribe", query={"token": token}, raw="List-Unsubscribe=One-Click",
                        headers={"content-type": "application/x-www-form-urlencoded"}).status == 200
    api.post("/unsubscribe", query={"token": token}, raw="List-Unsubscribe=One-Click")
    # Then the lead is unsubscribed and the campaign counted one unsubscribe
    assert api.get(f"/leads/{lead['id']}").body["status"] == "unsubscribed"
    metrics = boto3.resource("dynamodb").Table(synth.function_environment("dev", "api-unsubscribe")["METRICS_TABLE"])
    rows = metrics.scan()["Items"]
    assert {(r["campaignId"], int(r["unsubscribed"])) for r in rows} == {("cp_1", 1), ("ALL", 1)}


@pytest.mark.parametrize("forge", [
    lambda token, key: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),  # edited signature
    lambda token, key: unsubscribe.sign(Subscription("ld_someone_else", "cp_1"), b"guessed-key"),  # wrong key
    lambda token, key: token.split(".")[0] + "." + unsubscribe.sign(Subscription("ld_other", None), key).split(".")[1],  # spliced
    lambda token, key: "",
    lambda token, key: "x" * 600,
])
def test_forged_or_foreign_tokens_are_refused_and_change_nothing(api, key, forge) -> None:
    lead = api.post("/leads", {"email": "f@example.com"}).body
    token = forge(unsubscribe.sign(Subscription(lead["id"], None), key), key)
    assert api.post("/unsubscribe", query={"token": token}).status == 400
    assert api.get("/unsubscribe", query={"token": token}).status == 400
    assert api.get(f"/leads/{lead['id']}").body["status"] == "new"


def test_a_complained_lead_stays_complained(api, key, synth) -> None:
    lead = api.post("/leads", {"email": "c@example.com", "status": "complained"}).body
    api.post("/unsubscribe", query={"token": unsubscribe.sign(Subscription(lead["id"], None), key)})
    assert api.get(f"/leads/{lead['id']}").body["status"] == "complained"


def test_tokens_round_trip_and_bind_the_lead() -> None:
    key = b"k" * 32
    token = unsubscribe.sign(Subscription("ld_a", "cp_1"), key)
    assert unsubscribe.verify(token, key) == Subscription("ld_a", "cp_1")
    assert unsubscribe.link("https://x/unsubscribe", Subscription("ld_a", None), key).startswith("https://x/unsubscribe?token=")
    with pytest.raises(unsubscribe.BadToken):
        unsubscribe.verify(token, b"other-key")


# -- key rotation (make rotate-unsubscribe-key): old links work for the overlap, then stop ------------
def _rotate(synth, now: float, overlap_days: int = 30) -> None:
    from ops.aws import Clients
    from ops.commands import rotate_unsubscribe_key
    from ops.plans import StagePlan

    rotate_unsubscribe_key(StagePlan.load(synth.outdir, "dev"), Clients("ap-south-1"), overlap_days, now)


@pytest.fixture
def fresh_ring(monkeypatch):
    """A container that has not forced a re-read of the key ring in the last minute."""
    from pivotr.data import unsubscribe as data

    monkeypatch.setattr(data, "_last_refresh", [float("-inf")])


def test_after_a_rotation_links_from_mail_already_sent_still_unsubscribe(api, key, synth, fresh_ring) -> None:
    import time

    # Given a link signed with today's key, in mail already sent
    lead = api.post("/leads", {"email": "old-link@example.com"}).body
    old_link = unsubscribe.sign(Subscription(lead["id"], "cp_1"), key)
    assert api.get("/unsubscribe", query={"token": old_link}).status == 200  # this container caches the ring
    # When the key is rotated (30-day overlap) / Then the old link still works
    _rotate(synth, time.time())
    assert api.post("/unsubscribe", query={"token": old_link}).status == 200
    assert api.get(f"/leads/{lead['id']}").body["status"] == "unsubscribed"


def test_a_link_signed_with_the_new_key_works_before_the_cached_ring_expires(api, key, synth, fresh_ring) -> None:
    import time

    lead = api.post("/leads", {"email": "new-link@example.com"}).body
    assert api.get("/unsubscribe", query={"token": unsubscribe.sign(Subscription(lead["id"], None), key)}).status == 200
    # When the key is rotated and send-email (a fresh container) signs with the new one
    _rotate(synth, time.time())
    new_key = unsubscribe.KeyRing.parse(boto3.client("secretsmanager").get_secret_value(
        SecretId="pivotr-mailer-dev-unsubscribe-signing-key")["SecretString"]).current
    # Then api-unsubscribe, whose cached ring predates the rotation, reads the ring again and accepts it
    assert api.post("/unsubscribe", query={"token": unsubscribe.sign(Subscription(lead["id"], None), new_key)}).status == 200


def test_once_the_overlap_is_over_old_links_are_refused(api, key, synth, fresh_ring) -> None:
    import time

    lead = api.post("/leads", {"email": "expired-link@example.com"}).body
    old_link = unsubscribe.sign(Subscription(lead["id"], "cp_1"), key)
    # Given a rotation 31 days ago with a 30-day overlap
    _rotate(synth, time.time() - 31 * 86_400, overlap_days=30)
    # Then the old link shows the error page and changes nothing
    assert api.post("/unsubscribe", query={"token": old_link}).status == 400
    assert api.get(f"/leads/{lead['id']}").body["status"] == "new"


# -- security headers and failures of the public pages (issue 15) --------------------------------------
def test_every_unsubscribe_page_carries_the_security_headers(api, key) -> None:
    import base64
    import hashlib
    import re

    lead = api.post("/leads", {"email": "headers@example.com"}).body
    good = unsubscribe.sign(Subscription(lead["id"], None), key)
    for reply in (api.get("/unsubscribe", query={"token": good}), api.get("/unsubscribe", query={"token": "x.y"}),
                  api.post("/unsubscribe", query={"token": good})):
        headers = reply.headers
        csp = headers["Content-Security-Policy"]
        assert {"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} <= {
            part.strip() for part in csp.split(";")}
        assert headers["Referrer-Policy"] == "no-referrer"  # the token stays out of Referer headers
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        # the one style the page has is the one the policy admits, by hash; no inline style attribute
        [style] = re.findall(r"<style>(.*?)</style>", reply.body)
        assert f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'" in csp
        assert "style=" not in reply.body and "<script" not in reply.body


def test_when_the_keys_cannot_be_read_the_page_says_try_later_instead_of_a_500(api, key, monkeypatch) -> None:
    """On the old code a Secrets Manager failure (or a secret without a value) escaped as a 500."""
    from pivotr.data import unsubscribe as data

    def failing(*args, **kwargs):
        raise RuntimeError("An error occurred (ResourceNotFoundException) when calling GetSecretValue")

    api.get("/unsubscribe", query={"token": "x.y"})  # the function is loaded
    import pivotr.routes.unsubscribe as routes

    monkeypatch.setattr(routes, "key_ring", failing)
    monkeypatch.setattr(data, "key_ring", failing)
    token = unsubscribe.sign(Subscription("ld_someone", None), key)
    for reply in (api.get("/unsubscribe", query={"token": token}), api.post("/unsubscribe", query={"token": token})):
        assert reply.status == 503 and reply.headers["Retry-After"] == "300"
        assert "try again" in reply.body and "Content-Security-Policy" in reply.headers
