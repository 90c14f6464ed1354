"""Lambda's SQS event source, driven on the simulated clock: batches of up to 10, partial batch
failures, a crashed invocation leaves its whole batch for redelivery, the DLQ after the plan's
receive count; when the queue is idle the clock jumps to the next visible message."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from simulator.clock import REGION, Clock, ClockContext, Context, Crash


@dataclass
class LambdaQueue:
    url: str
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    clock: Clock
    invocations: int = 0
    crashes: int = 0
    timeout: float | None = None  # seconds: the function's timeout on the simulated clock (None: 30 s, frozen)
    faults: Any = None  # a fault injector (tests/handlers/faults.py): told when an invocation runs
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


