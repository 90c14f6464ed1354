"""Import and export jobs: their states, the options a caller may give, and what the API shows. No AWS."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pivotr.domain.exports import ExportKind
from pivotr.domain.leads import STATUSES
from pivotr.errors import invalid
from pivotr.validation import Field, validate

MAX_REPORTED = 100  # invalid and duplicate rows kept on the job (the counts and the CSV report are complete)


class JobKind(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class JobStatus(StrEnum):
    WAITING = "waiting-for-upload"  # imports: the upload policy was issued, nothing arrived yet
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"  # with a reason


class OnDuplicate(StrEnum):
    SKIP = "skip"
    UPDATE = "update"


IMPORT_FIELDS = {
    "onDuplicate": Field(str, choices=frozenset(OnDuplicate), doc={"default": "skip"}),
    "verify": Field(bool, doc={"default": False}),
    "tags": Field(list, max_length=10, item=Field(str, max_length=64), doc={"description": "added to every imported lead"}),
    "fileName": Field(str, max_length=255),
}
EXPORT_FIELDS = {
    "kind": Field(str, required=True, choices=frozenset(ExportKind)),
    "status": Field(str, choices=frozenset(STATUSES)),  # leads
    "tag": Field(str, max_length=64),  # leads
    "campaignId": Field(str, max_length=64),  # recipients
}
TOTALS = ("received", "imported", "updated", "duplicatesInFile", "duplicatesExisting", "invalid", "verificationQueued")


def import_options(body: Any) -> dict[str, Any]:
    values = validate(body if body is not None else {}, IMPORT_FIELDS)
    options = {"onDuplicate": values.get("onDuplicate", OnDuplicate.SKIP.value), "verify": values.get("verify", False),
               "tags": sorted({t.strip() for t in values.get("tags", []) if t.strip()})}
    return options | ({"fileName": values["fileName"]} if values.get("fileName") else {})


def export_request(body: Any) -> dict[str, Any]:
    values = validate(body, EXPORT_FIELDS)
    if values["kind"] == ExportKind.RECIPIENTS and not values.get("campaignId"):
        raise invalid([{"field": "campaignId", "message": "is required for an export of recipients"}])
    if values["kind"] == ExportKind.LEADS and values.get("campaignId"):
        raise invalid([{"field": "campaignId", "message": "applies to an export of recipients only"}])
    return values


def view(job: dict[str, Any]) -> dict[str, Any]:
    """A job as the API shows it (worker state such as the step, ETag and multipart id stays inside)."""
    shown = {k: job[k] for k in ("id", "kind", "status", "reason", "createdAt", "updatedAt", "finishedAt") if k in job}
    if job["kind"] == JobKind.IMPORT:
        shown["options"] = job["options"]
        shown["progress"] = {"rowsDone": job.get("rowNumber", 0), "bytesDone": job.get("offset", 0),
                             "bytesTotal": job.get("bytesTotal")}
        shown["totals"] = {**{k: job.get("totals", {}).get(k, 0) for k in TOTALS}}
        shown["totals"]["duplicates"] = {"inFile": shown["totals"].pop("duplicatesInFile"),
                                         "existing": shown["totals"].pop("duplicatesExisting")}
        shown["invalidRows"] = job.get("invalidRows", [])
        shown["duplicateRows"] = job.get("duplicateRows", [])
        if "layout" in job:
            from pivotr.domain.importing import Layout

            shown["emailColumn"] = Layout.from_json(job["layout"]).describe()
    else:
        shown["export"] = job["export"]
        shown["progress"] = {"rowsDone": job.get("rows", 0)}
    return shown
