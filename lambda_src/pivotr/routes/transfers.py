"""transfer-worker's SQS route: an upload's S3 event or "go on with job X" in, a job moved on.

One message per invocation (batch size 1): a block of a job takes the invocation's time, and a
message is only done when its job's work in this invocation is checkpointed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from pivotr import safejson
from pivotr.data.dynamo import Table
from pivotr.data.jobs import JobStore
from pivotr.data.objects import Bucket
from pivotr.data.queues import Queue
from pivotr.data.suppression import SuppressionList
from pivotr.env import ImportEnv, TransferEnv
from pivotr.logs import Logger
from pivotr.services.transfers import Transfers

logger = Logger()


def transfers(env: ImportEnv | TransferEnv) -> Transfers:
    """The jobs service for the API (which creates and shows jobs) or the worker (which runs them)."""
    recipients = Table(env.recipients_table, ("campaignId", "leadId")) if isinstance(env, TransferEnv) else None
    return Transfers(jobs=JobStore(env.jobs_table), bucket=Bucket(env.transfers_bucket), leads=Table(env.leads_table),
                     suppression=SuppressionList(env.suppression_table), verification=Queue(env.verification_queue_url),
                     work=Queue(env.transfers_queue_url), recipients=recipients)


class TransferWorker:
    def __init__(self, service: Transfers) -> None:
        self.service = service

    def handle(self, body: str, remaining_ms: Callable[[], int]) -> None:
        """Raises only for what a retry can fix (AWS errors); a message it cannot read is logged and dropped."""
        try:
            message: Any = safejson.loads(body, max_bytes=safejson.MAX_MESSAGE)
        except safejson.Unreadable as error:  # the reason only: a body may carry file names and addresses
            logger.error("unreadable message dropped", extra={"reason": error.reason})
            return
        if isinstance(message, dict) and isinstance(message.get("job"), str):
            self.service.go_on(message["job"], remaining_ms)
            return
        if isinstance(message, dict) and message.get("Event") == "s3:TestEvent":
            return  # S3 checks the notification when it is configured
        records = message.get("Records") if isinstance(message, dict) else None
        if not isinstance(records, list):
            logger.error("message of unknown shape dropped", extra={"body": body[:200]})
            return
        for record in records:
            s3 = record.get("s3", {}) if isinstance(record, dict) else {}
            obj = s3.get("object", {})
            if not str(record.get("eventName", "")).startswith("ObjectCreated:") or "key" not in obj:
                continue
            self.service.uploaded(unquote_plus(obj["key"]), int(obj.get("size", 0)), f'"{obj.get("eTag", "").strip(chr(34))}"',
                                  remaining_ms)
