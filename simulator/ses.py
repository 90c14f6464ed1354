"""SES as the mailer meets it: the account's limits (``SesLimits``), a wrapper of moto's real SES v2
client that injects throttling, permanent rejections and crashes and records what SES accepted
(``FakeSes``; ``tests/ses_stub.py`` is the stricter one: a local endpoint behind the real botocore
client), and the Send event SES publishes for an accepted message."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from simulator.clock import REGION, Crash


class SesLimits:
    """SES's account limits as SES applies them: at most ``max_send_rate`` accepted in any second (a
    sliding window on the simulated clock; above it "Maximum sending rate exceeded") and at most
    ``max_24_hour_send`` in 24 hours ("Daily message quota exceeded"). ``GetAccount`` reports them."""

    def __init__(self, clock: Callable[[], float], max_send_rate: float = 14.0, max_24_hour_send: float = 50_000.0,
                 sent_before: int = 0) -> None:
        self.clock, self.max_send_rate, self.max_24_hour_send = clock, max_send_rate, max_24_hour_send
        self.sent_before = sent_before  # sent by the account in the last 24 hours before the test began
        self.accepted: list[float] = []  # when each accepted e-mail reached SES
        self.throttled = 0
        self.account_reads = 0

    def refusal(self) -> str | None:
        """Why SES refuses a send now (None: it takes it); a taken send is counted."""
        now = self.clock()
        if 0 <= self.max_24_hour_send <= self.sent_before + self._last_day(now):
            self.throttled += 1
            return "Daily message quota exceeded."
        if sum(1 for at in self.accepted[-int(self.max_send_rate) - 1:] if at > now - 1.0) >= self.max_send_rate:
            self.throttled += 1
            return "Maximum sending rate exceeded."
        self.accepted.append(now)
        return None

    def _last_day(self, now: float) -> int:
        return len(self.accepted) - bisect.bisect_right(self.accepted, now - 86_400)

    def account(self) -> dict[str, Any]:
        self.account_reads += 1
        now = self.clock()
        return {"SendQuota": {"MaxSendRate": self.max_send_rate, "Max24HourSend": self.max_24_hour_send,
                              "SentLast24Hours": float(self.sent_before + self._last_day(now))},
                "SendingEnabled": True, "ProductionAccessEnabled": True}


@dataclass
class FakeSes:
    real: Any
    rng: random.Random
    limits: SesLimits | None = None  # the account's rate and 24-hour quota, enforced (None: unlimited, 14/s reported)
    throttle: float = 0.0  # share of calls answered with TooManyRequestsException
    reject: frozenset[str] = frozenset()  # addresses SES refuses for good
    crash_before: frozenset[int] = frozenset()  # call numbers where the process dies before SES has it
    crash_after: frozenset[int] = frozenset()  # ... or after SES accepted it
    during_send: Callable[[], None] | None = None  # runs inside a call (a concurrent duplicate delivery)
    calls: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)  # the request, plus "MessageId"

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        number = self.calls
        if number in self.crash_before:
            raise Crash(f"crash before SES call {number}")
        if self.rng.random() < self.throttle:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}},
                              "SendEmail")
        if request["Destination"]["ToAddresses"][0] in self.reject:
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Email address is on the suppression list"}},
                              "SendEmail")
        refusal = self.limits.refusal() if self.limits else None
        if refusal:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": refusal},
                               "ResponseMetadata": {"HTTPStatusCode": 429}}, "SendEmail")
        response = self.real.send_email(**request)
        self.accepted.append({**request, "MessageId": response["MessageId"]})
        if self.during_send:
            hook, self.during_send = self.during_send, None  # once per arming; never recursive
            hook()
        if number in self.crash_after:
            raise Crash(f"crash after SES call {number}")
        return response

    def get_account(self) -> dict[str, Any]:
        """moto does not serve GetAccount: answered here, as SES would."""
        if self.limits:
            return self.limits.account()
        return {"SendQuota": {"MaxSendRate": 14.0, "Max24HourSend": -1.0, "SentLast24Hours": 0.0}}

    def tags(self, sent: dict[str, Any]) -> dict[str, str]:
        return {t["Name"]: t["Value"] for t in sent["EmailTags"]}

    def leads(self) -> list[str]:
        return [self.tags(sent)["lead"] for sent in self.accepted]


def send_event(sent: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """The configuration-set Send event SES publishes for an accepted message."""
    tags = {t["Name"]: [t["Value"]] for t in sent["EmailTags"]}
    mail = {"timestamp": timestamp, "source": sent["FromEmailAddress"], "messageId": sent["MessageId"],
            "destination": sent["Destination"]["ToAddresses"], "tags": tags}
    return {"eventType": "Send", "mail": mail, "send": {}}


def install_ses(service: Any, fake: FakeSes) -> None:
    """Route the service's SES client through ``fake`` (the client is created lazily, once)."""
    service.mailer.__dict__["_client"] = fake


def real_ses(identity_domain: str) -> Any:
    client = boto3.client("sesv2", region_name=REGION)
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=identity_domain)
    return client
