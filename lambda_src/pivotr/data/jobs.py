"""The data-access layer of import and export jobs (jobs table): each job is one item, moved on by
conditional checkpoints, so two workers on one job can never both count a block."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from pivotr.data.dynamo import ConditionFailed, Table, plain
from pivotr.domain.jobs import JobKind, JobStatus

LIST_INDEX = "kind-index"  # partition kind, sort createdAt


class Lost(Exception):
    """Another worker checkpointed the job first; this one stops (what it wrote is idempotent)."""


class JobStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self.table.get(key)

    def create(self, job: dict[str, Any]) -> None:
        self.table.put_new(job)

    def checkpoint(self, job: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Set ``values`` and the next step, only if the job is still at the step it was read at;
        the job as stored now, or Lost."""
        try:
            return self.table.update({"id": job["id"]}, {**values, "step": job["step"] + 1}, expect={"step": job["step"]})
        except ConditionFailed:
            raise Lost(job["id"]) from None

    def begin(self, job_id: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """waiting-for-upload -> processing with ``values``; None when the job is not waiting (a second
        upload, a redelivered event)."""
        try:
            return self.table.update({"id": job_id}, {**values, "status": JobStatus.PROCESSING}, status_in=(JobStatus.WAITING,))
        except ConditionFailed:
            return None

    def recent(self, kind: JobKind, limit: int, start: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        args: dict[str, Any] = {"IndexName": LIST_INDEX, "KeyConditionExpression": Key("kind").eq(kind.value),
                                "ScanIndexForward": False, "Limit": limit}
        if start:
            args["ExclusiveStartKey"] = start
        response = self.table.resource.query(**args)
        return plain(response.get("Items", [])), response.get("LastEvaluatedKey")
