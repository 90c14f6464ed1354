"""SES v2 through the real botocore client, against a local endpoint that answers as SES can.

Issue 11 case 1: the client was built with ``retries={"max_attempts": 1}``, which botocore reads as one
*retry*: a slow answer or a 5xx reached SES twice under one claim. These tests count the requests that
reach the endpoint.
"""

from __future__ import annotations

import pytest

from pivotr.data.mailer import AccountRefused, Mailer, Rejected, Throttled, Timeouts, Unknown
from pivotr.domain.sending import Email
from tests.ses_stub import TEST_SCALE, Answer, SesStub

# Short real waits: a "slow" answer sleeps 0.6 s against a read timeout of 0.4 s (6 s x 1/15).
FAST = Timeouts(connect=2.0, read=6.0, scale=TEST_SCALE)
EMAIL = Email(from_address="Team <team@mail.pivotr.test>", to="ada@example.com", subject="Hi", html="<p>Hi</p>",
              text="Hi", headers=(("List-Unsubscribe", "<https://u.test/?t=1>"),), tags=(("campaign", "cp_1"), ("lead", "ld_1")))


@pytest.fixture
def stub(aws):
    server = SesStub()
    yield server
    server.close()


def mailer(stub: SesStub) -> Mailer:
    return Mailer("pivotr-mailer-dev", FAST, endpoint_url=stub.url)


@pytest.mark.parametrize(("answer", "raised"), [
    (Answer.SLOW, Unknown), (Answer.RESET, Unknown), (Answer.ERROR_5XX, Unknown), (Answer.THROTTLE, Throttled),
    (Answer.REJECT, Rejected), (Answer.ACCOUNT, AccountRefused), (Answer.SANDBOX, AccountRefused), (Answer.DAILY, Throttled),
])
def test_each_answer_is_sorted_by_what_it_proves_and_reaches_ses_once(stub: SesStub, answer: Answer, raised: type) -> None:
    # Given an endpoint that answers this way
    stub.default = answer
    # When one e-mail is sent
    with pytest.raises(raised):
        mailer(stub).send(EMAIL)
    # Then exactly one request reached it: botocore retried nothing
    assert len(stub.requests) == 1


def test_a_throttle_says_whether_it_was_the_24_hour_quota(stub: SesStub) -> None:
    stub.behaviours.extend([Answer.THROTTLE, Answer.DAILY])
    with pytest.raises(Throttled) as rate:
        mailer(stub).send(EMAIL)
    with pytest.raises(Throttled) as daily:
        mailer(stub).send(EMAIL)
    assert (rate.value.daily, daily.value.daily) == (False, True)


def test_the_account_quota_is_read_through_the_real_client(stub: SesStub) -> None:
    from simulator.ses import SesLimits

    stub.limits = SesLimits(lambda: 1_000.0, max_send_rate=1.0, max_24_hour_send=200.0, sent_before=17)
    quota = mailer(stub).quota(1_000.0)
    assert (quota.max_send_rate, quota.max_24_hour_send, quota.sent_last_24_hours, quota.read_at) == (1.0, 200.0, 17.0, 1_000.0)
    assert stub.account_reads == 1


def test_an_accepted_email_returns_the_message_id_after_one_request(stub: SesStub) -> None:
    assert mailer(stub).send(EMAIL) == stub.requests[0].message_id
    assert len(stub.requests) == 1
    request = stub.requests[0].body
    assert request["ConfigurationSetName"] == "pivotr-mailer-dev"
    assert {t["Name"]: t["Value"] for t in request["EmailTags"]} == {"campaign": "cp_1", "lead": "ld_1"}


def test_the_old_client_configuration_sent_a_slow_email_twice(stub: SesStub) -> None:
    """What the regression was: ``max_attempts`` counts retries, so 1 meant two requests."""
    import boto3
    from botocore.config import Config

    stub.default = Answer.SLOW
    client = boto3.client("sesv2", endpoint_url=stub.url, config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                                                      read_timeout=0.1))
    with pytest.raises(Exception):
        client.send_email(FromEmailAddress="a@b.test", Destination={"ToAddresses": ["c@d.test"]},
                          Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})
    assert len(stub.requests) == 2


def test_a_refused_connection_is_proven_not_sent() -> None:
    # Given an endpoint nobody listens on (the port of a server just closed)
    closed = SesStub()
    url = closed.url
    closed.close()
    # Then the send is a throttle-like "not taken": it may be retried
    with pytest.raises(Throttled):
        Mailer("cs", FAST, endpoint_url=url).send(EMAIL)


def test_the_time_budget_covers_one_whole_call() -> None:
    assert Timeouts().worst_case_ms == 8_000
    assert Timeouts(connect=1, read=2, scale=0.01).worst_case_ms == 3_000  # the scale shrinks real waits only
