"""The data-access layer for SQS."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from pivotr.data import clients

BATCH = 10  # messages per SendMessageBatch (the SQS maximum)
ATTEMPTS = 3  # rounds of resending the entries SendMessageBatch reports failed


class NotQueued(RuntimeError):
    """Some messages could not be queued after retries. Raised, never swallowed: a dropped dispatch tick
    would leave a running campaign with nothing in flight, so the caller's own message is retried instead."""


class Queue:
    def __init__(self, url: str) -> None:
        self.url = url

    @cached_property
    def _client(self):
        return clients.sqs()

    def send_all(self, bodies: list[dict[str, Any]], delays: list[int] | None = None) -> int:
        """Send every body (ten per request), each after its delay in seconds (at most 900), retrying
        entries SQS reports failed; returns how many were sent, or raises NotQueued if any was not."""
        sent = 0
        for start in range(0, len(bodies), BATCH):
            entries = [{"Id": str(i), "MessageBody": json.dumps(body, sort_keys=True)}
                       for i, body in enumerate(bodies[start:start + BATCH])]
            if delays:
                for entry, delay in zip(entries, delays[start:start + BATCH], strict=True):
                    entry["DelaySeconds"] = delay
            for _ in range(ATTEMPTS):
                response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
                sent += len(response.get("Successful", []))
                failed = {f["Id"] for f in response.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            else:
                raise NotQueued(f"{len(entries)} of {len(bodies)} messages not queued on {self.url.rsplit('/', 1)[-1]}")
        return sent
