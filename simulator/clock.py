"""One controllable time for the code under test and for moto's SQS (delays, visibility), and the
Lambda contexts whose remaining time follows it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from simulator.lambda_events import LambdaContext

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

    def install(self, monkeypatch: Any) -> None:
        """moto's SQS reads this clock for message delays and visibility timeouts (``monkeypatch``:
        pytest's fixture, or anything with its ``setattr``)."""
        import moto.sqs.models as sqs_models

        monkeypatch.setattr(sqs_models, "unix_time", self)
        monkeypatch.setattr(sqs_models, "unix_time_millis", self.millis)

    @contextmanager
    def installed(self) -> Iterator[Clock]:
        """``install`` outside pytest (the demo, the benchmarks): undone on exit."""
        import moto.sqs.models as sqs_models

        saved = sqs_models.unix_time, sqs_models.unix_time_millis
        sqs_models.unix_time, sqs_models.unix_time_millis = self, self.millis  # type: ignore[assignment]
        try:
            yield self
        finally:
            sqs_models.unix_time, sqs_models.unix_time_millis = saved


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


