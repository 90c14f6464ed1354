"""A small simulation of the AWS pieces around the mailer's functions, on moto provisioned from the plan.

- ``Clock``: one controllable time for the code under test and for moto's SQS (delays, visibility).
- ``LambdaQueue``: drives an SQS consumer the way Lambda's event source does (batches of up to 10,
  partial batch failures, a crashed invocation leaves its whole batch for redelivery, DLQ after the
  plan's receive count), jumping the clock to the next visible message when the queue is idle.
- ``FakeSes``: wraps moto's real SES v2 client (so botocore still validates every request) and
  injects throttling, permanent rejections and crashes; it records every message SES accepted.
  (``tests/ses_stub.py`` is the stricter one: a local endpoint behind the real botocore client.)
- ``Faults``: what AWS and Lambda do that moto does not: the kill at the function's timeout (no AWS
  call after it), a process that dies at its k-th AWS call, a secret read that fails, and
  SendMessageBatch entries reported failed one by one (and not queued).
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.handlers.events import LambdaContext

REGION = "ap-south-1"
START = 1_795_000_000.0  # epoch seconds: 2026-11-18, a Wednesday


class Crash(BaseException):
    """The Lambda process dies here: no except clause or cleanup of the code under test runs."""


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def millis(self) -> float:
        return self.now * 1000

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """moto's SQS reads this clock for message delays and visibility timeouts."""
        import moto.sqs.models as sqs_models

        monkeypatch.setattr(sqs_models, "unix_time", self)
        monkeypatch.setattr(sqs_models, "unix_time_millis", self.millis)

    @contextmanager
    def installed(self) -> Iterator[Clock]:
        """``install`` outside pytest (the benchmarks)."""
        patch = pytest.MonkeyPatch()
        self.install(patch)
        try:
            yield self
        finally:
            patch.undo()


@dataclass
class Context(LambdaContext):
    remaining: int = 30_000  # ms: send-email's timeout

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining


@dataclass
class ClockContext(LambdaContext):
    """Lambda's context whose remaining time falls with the simulated clock."""

    clock: Callable[[], float] = time.time
    deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()) * 1000))


@dataclass
class Faults:
    """Faults armed by a test, applied to every AWS call made through botocore."""

    clock: Clock
    deadline: float | None = None  # while an invocation runs: calls after it never happen (killed)
    crash_at: int | None = None  # the next invocation dies at this AWS call (1 = its first)
    stall_at: int | None = None  # ... or this call answers after ``stall`` seconds (a slow AWS answer)
    stall: float = 25.0
    secret_failures: int = 0  # GetSecretValue calls inside invocations that fail, with ``secret_code``
    secret_code: str = "InternalServiceError"
    batch_failures: int = 0  # SendMessageBatch calls whose first entry SQS reports failed (not queued)
    batch_match: Callable[[dict[str, Any]], bool] = lambda params: True  # ... among those this picks
    invoking: bool = False
    thread: int = 0  # the invoking thread: calls on other threads (an API call a test makes meanwhile) are not the invocation's
    calls: int = 0
    fired: Counter = field(default_factory=Counter)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Watch every AWS call through botocore's events (tests/calls.py) for this test."""
        from tests import calls

        calls.install()
        monkeypatch.setattr(calls, "OBSERVERS", [*calls.OBSERVERS, self])

    def fail_secret_reads(self, times: int, code: str = "InternalServiceError") -> None:
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # a new read must happen for it to fail
        self.secret_failures, self.secret_code = times, code

    def before(self, service: str, operation: str, params: dict[str, Any], context: dict[str, Any]) -> None:
        invocation = self.invoking and threading.get_ident() == self.thread
        if invocation:
            if self.deadline is not None and self.clock() > self.deadline:
                self.fired["killed"] += 1
                raise Crash("Lambda killed the invocation at its timeout")
            self.calls += 1
            if self.crash_at is not None and self.calls >= self.crash_at:
                self.crash_at = None
                self.fired["crash"] += 1
                raise Crash(f"the process died at AWS call {self.calls} ({operation})")
            if self.stall_at is not None and self.calls >= self.stall_at:
                self.stall_at = None
                self.fired["stall"] += 1
                self.clock.advance(self.stall)  # the call itself then succeeds, late
        if operation == "GetSecretValue" and self.secret_failures and invocation:
            self.secret_failures -= 1
            self.fired["secret"] += 1
            status = 400 if self.secret_code == "ResourceNotFoundException" else 500
            raise ClientError({"Error": {"Code": self.secret_code, "Message": "Secrets Manager failed"},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
        if "pivotr_failed_entry" in context:
            self.batch_failures -= 1
            self.fired["batch"] += 1

    def rewrite(self, service: str, operation: str, params: dict[str, Any], context: dict[str, Any]) -> None:
        if operation == "SendMessageBatch" and self.batch_failures and params.get("Entries") and self.batch_match(params):
            # SQS reports the first entry failed (not queued): the rest go to the queue, or none is sent.
            # Counted in ``before``, once the call is sure to be made (a crash there makes none).
            entries = params["Entries"]
            context["pivotr_failed_entry"] = entries[0]
            if len(entries) > 1:
                params["Entries"] = entries[1:]
            else:
                context["pivotr_nothing_sent"] = True

    @staticmethod
    def answer(service: str, operation: str, context: dict[str, Any]) -> dict[str, Any] | None:
        return {"Successful": []} if context.get("pivotr_nothing_sent") else None

    @staticmethod
    def after(service: str, operation: str, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        failed = context.get("pivotr_failed_entry")
        if failed is not None:
            parsed["Failed"] = [*parsed.get("Failed", []), {
                "Id": failed["Id"], "SenderFault": False, "Code": "InternalError", "Message": "entry not queued"}]


@dataclass
class LambdaQueue:
    url: str
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    clock: Clock
    invocations: int = 0
    crashes: int = 0
    timeout: float | None = None  # seconds: the function's timeout on the simulated clock (None: 30 s, frozen)
    faults: Faults | None = None
    before: Callable[[list[dict[str, Any]]], None] | None = None  # called with each batch before it runs
    after: Callable[[list[dict[str, Any]]], None] | None = None  # ... and after

    def _moto_queue(self):
        from moto.sqs.models import sqs_backends

        name = self.url.rsplit("/", 1)[-1]
        return sqs_backends["123456789012"][REGION].queues[name]

    def next_visible_at(self) -> float | None:
        """When the next message becomes receivable (epoch seconds), or None when the queue is empty."""
        times = [max(m.visible_at, m.delayed_until) / 1000 for m in self._moto_queue()._messages]
        return min(times) if times else None

    def dlq_depth(self) -> int:
        dlq = self._moto_queue().dead_letter_queue
        return len(dlq._messages) if dlq else 0

    def receive(self) -> list[dict[str, Any]]:
        # Lambda's pollers (five concurrent invocations for send-email) take messages as they become
        # visible; one simulated invocation at a time must then take the earliest-visible first (moto
        # returns them in the order they were queued), or a batch would wait behind a later one
        queue = self._moto_queue()
        queue._messages.sort(key=lambda m: max(m.visible_at, m.delayed_until))
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        arn = f"arn:aws:sqs:{REGION}:123456789012:{self.url.rsplit('/', 1)[-1]}"
        return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                 "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                 "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION} for m in messages]

    def invoke(self, records: list[dict[str, Any]]) -> set[str] | None:
        """Run one batch; the message ids to retry, or None if the invocation crashed (or was killed)."""
        self.invocations += 1
        deadline = None if self.timeout is None else self.clock() + self.timeout
        context = Context() if deadline is None else ClockContext(clock=self.clock, deadline=deadline)
        faults = self.faults
        outer = (faults.invoking, faults.deadline, faults.calls, faults.thread) if faults else None
        if faults:  # an invocation inside another one's SES call (a concurrent redelivery) has its own
            faults.invoking, faults.deadline, faults.calls, faults.thread = True, deadline, 0, threading.get_ident()
        try:
            result = self.handler({"Records": records}, context)
        except Crash:
            self.crashes += 1
            return None
        finally:
            if faults and outer:
                faults.invoking, faults.deadline, faults.calls, faults.thread = outer
        if deadline is not None and self.clock() > deadline:
            self.crashes += 1  # it ran past its timeout: Lambda killed it, its answer never came
            if self.faults:
                self.faults.fired["killed"] += 1
            return None
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    def step(self) -> bool:
        """One poll and invocation, as Lambda does it; False when nothing is visible."""
        at = self.next_visible_at()
        if at is None or at > self.clock.now:  # moto would answer an empty receive: skip the request
            return False
        records = self.receive()
        if not records:
            return False
        if self.before:
            self.before(records)
        failed = self.invoke(records)
        if failed is None:
            return True  # the whole batch comes back after the visibility timeout
        done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records) if r["messageId"] not in failed]
        if done:
            boto3.client("sqs").delete_message_batch(QueueUrl=self.url, Entries=done)
        if self.after:
            self.after(records)
        return True

    def run(self, *, until: Callable[[], bool] = lambda: False, max_steps: int = 5_000, horizon: float = 30 * 86_400,
            check_every: int = 1) -> None:
        """Deliver until the queue is empty (jumping the clock across delays) or ``until()`` holds
        (asked every ``check_every`` steps)."""
        end = self.clock.now + horizon
        for step in range(max_steps):
            if step % check_every == 0 and until():
                return
            if self.step():
                continue
            at = self.next_visible_at()
            if at is None or at > end:
                return
            self.clock.now = max(self.clock.now, at + 0.001)
        raise AssertionError(f"still running after {max_steps} steps")


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
