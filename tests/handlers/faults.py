"""What AWS and Lambda do that moto does not, armed by a test: the kill at the function's timeout (no
AWS call after it), a process that dies at its k-th AWS call, a slow AWS answer, a secret read that
fails, and SendMessageBatch entries reported failed one by one (and not queued). Every AWS call is
watched through botocore's events (tests/calls.py)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from simulator.clock import Clock, Crash


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
