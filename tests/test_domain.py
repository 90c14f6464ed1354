"""Domain logic without AWS: plain values in, plain values out."""

from __future__ import annotations

import pytest

from pivotr.domain import campaigns, leads, metrics, templates
from pivotr.errors import Invalid


def test_lead_ids_follow_the_normalized_email() -> None:
    assert leads.lead_id(" A@Example.com") == leads.lead_id("a@example.com")
    assert leads.lead_id("a@example.com") != leads.lead_id("b@example.com")


@pytest.mark.parametrize("email", ["a@b", "a b@c.com", "@c.com", "a@@c.com", "a@c..com", "x" * 65 + "@c.com", "a@-"])
def test_bad_emails_are_refused(email: str) -> None:
    assert leads.email_problem(email)


def test_render_escapes_lead_values_in_html_and_keeps_the_subject_on_one_line() -> None:
    # Given a lead whose values carry markup and a line break
    lead = {"firstName": "<script>alert(1)</script>", "company": "A\r\nBcc: x@y.com", "customAttributes": {"plan": "pro"}}
    template = {"subject": "Hi {{firstName}} of {{company}}", "html": "<b>{{firstName}}</b>", "text": "{{custom.plan}} {{lastName | friend}}"}
    # When rendered
    out = templates.render(template, lead)
    # Then HTML is escaped, the subject has no line break, text gets defaults and custom attributes
    assert out.html == "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>"
    assert "\r" not in out.subject and "\n" not in out.subject
    assert out.text == "pro friend"


def test_template_problems_name_unknown_fields_and_malformed_tags() -> None:
    assert templates.problems("{{firstName}} {{custom.plan}} {{email | x}}") == []
    assert templates.problems("{{nope}}") == ["uses unknown merge fields: nope"]
    assert "malformed" in templates.problems("{{firstName")[0]
    assert "malformed" in templates.problems("}} {{ }}")[0]


def test_transitions() -> None:
    start = campaigns.transition("start")
    assert (start.allowed_from, start.target, start.stamp) == (frozenset({"draft", "paused"}), "running", "startedAt")
    assert "aborted" not in start.allowed_from
    assert campaigns.transition("abort").target == "aborted"


def test_every_status_change_is_a_move_of_the_one_table() -> None:
    # Given the sending pipeline's own moves / Then they come from the same table as the API's
    complete, autopause = campaigns.transition(campaigns.Action.COMPLETE), campaigns.transition("autopause")
    assert complete.values("2026-11-27T00:00:00Z") == {"status": "completed", "completedAt": "2026-11-27T00:00:00Z",
                                                       "updatedAt": "2026-11-27T00:00:00Z"}
    assert autopause.allowed_from == {"running"} and autopause.target == "paused"
    # And every status is reachable and every move ends in a status
    assert {move.target for move in campaigns.TRANSITIONS.values()} | {"draft"} == set(campaigns.CampaignStatus)


def test_metrics_summary_rates_guard_against_no_sends() -> None:
    assert metrics.summarize([])["rates"] == {"bounceRate": 0.0, "complaintRate": 0.0, "deliveryRate": 0.0}


def _signer(ring):
    from pivotr.pagination import Tokens

    return Tokens(lambda refresh: ring, clock=lambda: 1000.0)


def test_page_tokens_round_trip_and_refuse_tampering() -> None:
    from pivotr.domain.unsubscribe import KeyRing

    tokens = _signer(KeyRing(b"stage-secret"))
    token = tokens.encode({"id": "ld_1"}, "leads")
    assert tokens.decode(token, "leads") == {"id": "ld_1"}
    with pytest.raises(Invalid):
        tokens.decode(token, "campaigns")
    with pytest.raises(Invalid):
        tokens.decode(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "leads")


def test_a_token_signed_with_the_key_written_in_the_old_source_is_refused() -> None:
    """Issue 15 item 3: the old tokens were signed with a constant from this repository."""
    import base64
    import hashlib
    import hmac

    from pivotr.domain.unsubscribe import KeyRing

    payload = b'{"id":"ld_someone"}'
    forged_mac = hmac.new(b"pivotr-mailer-pagination-v1" + b"leads", payload, hashlib.sha256).digest()[:16]
    forged = base64.urlsafe_b64encode(forged_mac + payload).decode().rstrip("=")
    with pytest.raises(Invalid) as refused:
        _signer(KeyRing(b"stage-secret")).decode(forged, "leads")
    assert isinstance(refused.value, Invalid)


def test_tokens_outlive_a_rotation_for_its_overlap_only() -> None:
    from pivotr.domain.unsubscribe import KeyRing

    old = KeyRing(b"k0")
    token = _signer(old).encode({"id": "ld_1"}, "leads")
    rotated = old.rotate(b"k1", now=900.0, overlap=200.0)  # the old key valid until 1100
    assert _signer(rotated).decode(token, "leads") == {"id": "ld_1"}
    expired = old.rotate(b"k1", now=700.0, overlap=200.0)  # until 900: over at 1000
    with pytest.raises(Invalid):
        _signer(expired).decode(token, "leads")


@pytest.mark.parametrize("key", [{}, {"id": 1}, {"id": ""}, {"id": "x" * 1025}, {f"k{i}": "v" for i in range(5)}, ["id"]])
def test_a_validly_signed_key_dynamodb_would_refuse_is_a_400(key) -> None:
    import base64
    import json

    from pivotr.domain.unsubscribe import KeyRing
    from pivotr.pagination import Tokens

    payload = json.dumps(key).encode()
    token = base64.urlsafe_b64encode(Tokens._mac(b"stage-secret", "leads", payload) + payload).decode()
    with pytest.raises(Invalid) as refused:
        _signer(KeyRing(b"stage-secret")).decode(token, "leads")
    assert isinstance(refused.value, Invalid)


def test_a_handler_environment_names_what_is_missing() -> None:
    from pivotr.env import LeadsEnv, MissingEnvironment

    full = {"LEADS_TABLE": "l", "LOGS_TABLE": "g", "SUPPRESSION_TABLE": "s", "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN": "arn"}
    assert LeadsEnv.load(full) == LeadsEnv("l", "g", "s", "arn")
    with pytest.raises(MissingEnvironment, match="LOGS_TABLE"):
        LeadsEnv.load({k: v for k, v in full.items() if k != "LOGS_TABLE"})


def test_feedback_parses_raw_delivery_and_refuses_what_it_cannot_read() -> None:
    import json

    from pivotr.domain import feedback
    from simulator import notifications as ses

    raw = feedback.parse(json.dumps(ses.event("Bounce", ses.bounce())))  # raw message delivery: no SNS envelope
    assert (raw.kind, raw.permanent, raw.campaign_id, raw.lead_ids) == ("bounce", True, "cp_1", ("ld_jane",))
    assert raw.event_id.startswith(ses.MAIL["messageId"])  # stable across redeliveries without an SNS id
    for body in ("[]", "{}", json.dumps({"eventType": "Bounce"}), json.dumps({"notificationType": "Spam", "mail": ses.MAIL})):
        with pytest.raises(feedback.Unparseable):
            feedback.parse(body)


# -- unsubscribe key rings (issue 14: rotation with an overlap) -------------------------------------
def test_a_key_ring_reads_a_plain_key_or_a_rotated_ring() -> None:
    from pivotr.domain.unsubscribe import KeyRing

    assert KeyRing.parse("k0\n") == KeyRing(b"k0")
    ring = KeyRing(b"k0").rotate(b"k1", now=1000.0, overlap=100.0)
    assert KeyRing.parse(ring.dumps()) == ring == KeyRing(b"k1", ((b"k0", 1100.0),))
    assert ring.valid(1099.0) == (b"k1", b"k0") and ring.valid(1100.0) == (b"k1",)
    # a later rotation keeps the earlier keys until their own expiry and drops expired ones
    assert ring.rotate(b"k2", now=1050.0, overlap=100.0).previous == ((b"k1", 1150.0), (b"k0", 1100.0))
    assert ring.rotate(b"k2", now=1200.0, overlap=100.0).previous == ((b"k1", 1300.0),)


@pytest.mark.parametrize("value", ['{"current": ', '{"previous": []}', '{"current": "k", "previous": [{"key": "k0"}]}',
                                   '{"current": "k", "previous": [{"key": "k0", "expires": "soon"}]}'])
def test_a_secret_that_is_no_key_ring_is_refused(value: str) -> None:
    from pivotr.domain.unsubscribe import KeyRing

    with pytest.raises(ValueError, match="neither a key nor a key ring"):
        KeyRing.parse(value)
