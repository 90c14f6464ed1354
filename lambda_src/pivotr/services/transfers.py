"""Import and export jobs: files of any size moved in blocks, each well inside an invocation, each
committed by a conditional checkpoint on the job, so a retry or a crash resumes where the last
checkpoint left and counts nothing twice.

Import (the upload's S3 event starts it): a block is 1 MiB of whole CSV records read by byte range.
Its leads are written before the checkpoint, so a crash between the two writes them again on the
retry; that is harmless because every lead a job creates carries ``importJob`` and ``importRow``: on
the retry the row finds its own lead and counts it as imported again in a block whose counts were
never committed, while a later row with the same address finds an earlier row's lead and counts as
a duplicate in the file. The same file uploaded again (a new job) finds every lead existing.

Export: pages of the table become CSV parts of one multipart upload (5 MiB or more but the last);
the part number and page cursor are checkpointed together, so a retried part replaces itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pivotr.data.dynamo import Table
from pivotr.data.jobs import JobStore, Lost
from pivotr.data.objects import MIN_PART, Bucket, Replaced
from pivotr.data.queues import Queue
from pivotr.data.suppression import SuppressionList
from pivotr.domain import exports, importing, jobs
from pivotr.domain.exports import ExportKind
from pivotr.domain.jobs import JobKind, JobStatus, OnDuplicate
from pivotr.logs import Logger
from pivotr.timestamps import now

logger = Logger()

BLOCK = 1024 * 1024  # bytes read per range request: about 10,000 CRM rows
SAFETY_MS = 30_000  # stop taking blocks with less than this left (a block takes a few seconds at most)
EXPORT_PAGE = 1_000  # items per DynamoDB page of an export
UPLOAD_PREFIX, REPORT_PREFIX, EXPORT_PREFIX = "uploads/", "reports/", "exports/"
REPORT_COLUMNS = ("row", "value", "reason")


def upload_key(job_id: str) -> str:
    return f"{UPLOAD_PREFIX}{job_id}.csv"


def job_of_key(key: str) -> str | None:
    """``uploads/im_….csv`` -> ``im_…``; None for anything else in the bucket."""
    if not key.startswith(UPLOAD_PREFIX) or not key.endswith(".csv"):
        return None
    return key[len(UPLOAD_PREFIX):-len(".csv")] or None


@dataclass
class Transfers:
    jobs: JobStore
    bucket: Bucket
    leads: Table
    suppression: SuppressionList
    verification: Queue
    work: Queue  # this worker's own queue: "go on with job X"
    recipients: Table | None = None  # exports of a campaign's recipients

    # -- API side ---------------------------------------------------------------------------------
    def new_import(self, options: dict[str, Any]) -> dict[str, Any]:
        job_id = f"im_{uuid.uuid4().hex}"
        at = now()
        job = {"id": job_id, "kind": JobKind.IMPORT.value, "status": JobStatus.WAITING.value, "options": options,
               "createdAt": at, "updatedAt": at, "step": 0, "offset": 0, "rowNumber": 0, "totals": {}}
        self.jobs.create(job)
        upload = self.bucket.upload_policy(upload_key(job_id), "text/csv", importing.UPLOAD_MAX_BYTES)
        return {**jobs.view(job), "upload": {**upload, "maxBytes": importing.UPLOAD_MAX_BYTES}}

    def new_export(self, request: dict[str, Any]) -> dict[str, Any]:
        job_id = f"ex_{uuid.uuid4().hex}"
        at = now()
        job = {"id": job_id, "kind": JobKind.EXPORT.value, "status": JobStatus.PROCESSING.value, "export": request,
               "createdAt": at, "updatedAt": at, "step": 0, "rows": 0, "parts": []}
        self.jobs.create(job)
        self.work.send_all([{"job": job_id}])
        return jobs.view(job)

    def describe(self, job: dict[str, Any]) -> dict[str, Any]:
        shown = jobs.view(job)
        if job["status"] == JobStatus.COMPLETED and job.get("resultKey"):
            name = "invalid-rows.csv" if job["kind"] == JobKind.IMPORT else f"{job['id']}.csv"
            shown["download"] = {"url": self.bucket.download_link(job["resultKey"], name), "rows": job.get("resultRows")}
        return shown

    # -- worker side ------------------------------------------------------------------------------
    def uploaded(self, key: str, size: int, etag: str, remaining_ms: Callable[[], int]) -> bool:
        """An upload's S3 event: the job begins (once; later events for it change nothing). True when
        there is more to do in another invocation."""
        job_id = job_of_key(key)
        if job_id is None:
            logger.warning("object outside uploads/ ignored", extra={"key": key})
            return False
        job = self.jobs.begin(job_id, {"bytesTotal": size, "etag": etag, "key": key, "updatedAt": now()})
        if job is None:
            current = self.jobs.get({"id": job_id})
            if current is not None and current["status"] == JobStatus.PROCESSING and current.get("etag") == etag:
                return self._run(current, remaining_ms)  # this event again (its first invocation died): resume
            logger.info("upload event for a job that is not waiting; ignored", extra={"jobId": job_id})
            return False
        if size == 0:
            self._fail(job, "the file is empty")
            return False
        if size > importing.UPLOAD_MAX_BYTES:
            self._fail(job, f"the file is {size:,} bytes; the most an import takes is {importing.UPLOAD_MAX_BYTES:,}")
            return False
        return self._run(job, remaining_ms)

    def go_on(self, job_id: str, remaining_ms: Callable[[], int]) -> bool:
        """Go on with job X: its next blocks or parts, as long as the invocation has time."""
        job = self.jobs.get({"id": job_id})
        if job is None or job["status"] != JobStatus.PROCESSING:
            return False
        return self._run(job, remaining_ms)

    def _run(self, job: dict[str, Any], remaining_ms: Callable[[], int]) -> bool:
        job_id = job["id"]
        run = self._import_block if job["kind"] == JobKind.IMPORT else self._export_part
        suppressed: dict[str, str] | None = None
        try:
            while remaining_ms() > SAFETY_MS:
                if job["kind"] == JobKind.IMPORT and suppressed is None:
                    suppressed = self.suppression.everything()
                job = run(job, suppressed or {})
                if job["status"] != JobStatus.PROCESSING:
                    return False
        except Lost:
            logger.info("another worker moved the job on; stopping", extra={"jobId": job_id})
            return False
        except (importing.LayoutError, Replaced) as error:
            reason = (f"the file {error}" if isinstance(error, importing.LayoutError)
                      else "the file was replaced while it was being imported; start a new import")
            self._fail(job, reason)
            return False
        self.work.send_all([{"job": job_id}])  # time is short: the next invocation goes on
        return True

    def _fail(self, job: dict[str, Any], reason: str) -> None:
        logger.warning("job failed", extra={"jobId": job["id"], "reason": reason})
        self.jobs.checkpoint(job, {"status": JobStatus.FAILED.value, "reason": reason, "updatedAt": now(),
                                   "finishedAt": now()})

    # -- imports ----------------------------------------------------------------------------------
    def _read_records(self, job: dict[str, Any]) -> tuple[bytes, int, int]:
        """Whole records from the job's offset: (bytes, how many of them are records, bytes to skip)."""
        offset, total = int(job["offset"]), int(job["bytesTotal"])
        size = BLOCK
        while True:
            block = self.bucket.read(job["key"], offset, size, job["etag"])
            at_end = offset + len(block) >= total
            skip = importing.file_start(block) if offset == 0 else 0
            end = importing.whole_records(block, at_end)
            if end > skip or at_end:
                return block, end, skip
            if size >= importing.MAX_RECORD:
                raise importing.LayoutError(f"has a row longer than {importing.MAX_RECORD:,} bytes near byte {offset:,} "
                                            "(an unclosed quote?)")
            size *= 2

    def _import_block(self, job: dict[str, Any], suppressed: dict[str, str]) -> dict[str, Any]:
        block, end, skip = self._read_records(job)
        text, encoding = importing.decode_block(block[skip:end], job.get("encoding"))
        first = int(job["rowNumber"]) + 1
        layout = importing.Layout.from_json(job["layout"]) if "layout" in job else None
        delimiter = layout.delimiter if layout else importing.sniff_delimiter(text.split("\n", 1)[0])
        rows, records = importing.read_rows(text, delimiter, first)
        if layout is None:
            layout = importing.layout(delimiter, [cells for _, cells in rows[:importing.SAMPLE_ROWS + 1]])
            if layout.has_header:
                rows = rows[1:]
        counts, invalid, duplicates = self._import_rows(job, layout, rows, suppressed)
        if invalid:
            self.bucket.put(f"{REPORT_PREFIX}{job['id']}/parts/{int(job['offset']):015d}.csv",
                            exports.rows([vars(r) for r in invalid], REPORT_COLUMNS, header=False).encode("utf-8"))
        totals = {k: job["totals"].get(k, 0) + counts.get(k, 0) for k in jobs.TOTALS}
        values: dict[str, Any] = {
            "offset": int(job["offset"]) + end, "rowNumber": first - 1 + records, "totals": totals, "encoding": encoding,
            "layout": layout.to_json(), "updatedAt": now(),
            "invalidRows": (job.get("invalidRows", []) + [{"row": r.row, "value": r.value, "reason": r.reason}
                                                          for r in invalid])[:jobs.MAX_REPORTED],
            "duplicateRows": (job.get("duplicateRows", []) + duplicates)[:jobs.MAX_REPORTED],
        }
        if values["offset"] >= int(job["bytesTotal"]):
            values |= self._finish_report(job["id"], totals["invalid"])
            values |= {"status": JobStatus.COMPLETED.value, "finishedAt": now()}
        return self.jobs.checkpoint(job, values)

    def _import_rows(self, job: dict[str, Any], layout: importing.Layout, rows: list[tuple[int, list[str]]],
                     suppressed: dict[str, str]) -> tuple[dict[str, int], list[importing.InvalidRow], list[dict[str, Any]]]:
        options, at = job["options"], now()
        invalid: list[importing.InvalidRow] = []
        duplicates: list[dict[str, Any]] = []
        found: dict[str, tuple[int, dict[str, Any]]] = {}  # lead id -> (row, lead), first row of the block
        for number, cells in rows:
            lead = importing.candidate(number, importing.record(layout, cells), at)
            if isinstance(lead, importing.InvalidRow):
                invalid.append(lead)
            elif lead["id"] in found:
                duplicates.append({"row": number, "email": lead["email"], "firstRow": found[lead["id"]][0]})
            else:
                found[lead["id"]] = (number, lead)
        stored = {item["id"]: item for item in self.leads.get_all([{"id": i} for i in found], ("id", "importJob", "importRow"))}
        created, changes, existing = [], [], 0
        for id_, (number, lead) in found.items():
            other = stored.get(id_)
            ours = other is not None and other.get("importJob") == job["id"]
            if other is None or (ours and int(other.get("importRow", 0)) >= number):  # new, or this row's own on a retry
                tags = sorted(set(lead["tags"]) | set(options["tags"]))
                status = suppressed.get(id_, lead["status"])
                created.append({**lead, "tags": tags, "status": status, "importJob": job["id"], "importRow": number})
            elif ours:  # an earlier block's row made it
                duplicates.append({"row": number, "email": lead["email"], "firstRow": int(other["importRow"])})
            else:
                existing += 1
                if options["onDuplicate"] == OnDuplicate.UPDATE:
                    values = {k: lead[k] for k in (*importing.UPDATABLE, "updatedAt") if k in lead}
                    values["tags"] = sorted(set(lead["tags"]) | set(options["tags"]))
                    changes.append((id_, values))
        self.leads.put_all(created)
        updated = len(changes) - len(self.leads.update_all(changes)) if changes else 0
        queued = 0
        if options["verify"]:
            queued = self.verification.send_all([{"leadId": lead["id"]} for lead in created if lead["id"] not in suppressed])
        counts = {"received": len(rows), "imported": len(created), "updated": updated, "duplicatesInFile": len(duplicates),
                  "duplicatesExisting": existing, "invalid": len(invalid), "verificationQueued": queued}
        return counts, invalid, duplicates

    def _finish_report(self, job_id: str, invalid: int) -> dict[str, Any]:
        """The invalid-row report as one CSV (header, then the block parts in file order)."""
        if not invalid:
            return {}
        key = f"{REPORT_PREFIX}{job_id}/invalid-rows.csv"
        parts = sorted(self.bucket.keys(f"{REPORT_PREFIX}{job_id}/parts/"))
        header = exports.rows([], REPORT_COLUMNS, header=True).encode("utf-8")
        upload_id, etags, buffer = self.bucket.start_multipart(key), [], header
        for part in parts:
            buffer += self.bucket.get(part)
            if len(buffer) >= MIN_PART:
                etags.append(self.bucket.put_part(key, upload_id, len(etags) + 1, buffer))
                buffer = b""
        if buffer or not etags:
            etags.append(self.bucket.put_part(key, upload_id, len(etags) + 1, buffer))
        self.bucket.finish_multipart(key, upload_id, etags)
        return {"resultKey": key, "resultRows": invalid}

    # -- exports ----------------------------------------------------------------------------------
    def _export_part(self, job: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
        request = job["export"]
        kind = ExportKind(request["kind"])
        key = f"{EXPORT_PREFIX}{job['id']}.csv"
        upload_id = job.get("uploadId") or self.bucket.start_multipart(key)
        cursor, text, rows = job.get("cursor"), "", 0
        first = not job["parts"]
        while True:
            items, cursor = self._export_page(kind, request, cursor)
            text += exports.rows(items, exports.columns_for(kind), header=first and not text)
            rows += len(items)
            if cursor is None or len(text.encode("utf-8")) >= MIN_PART:
                break
        etags = [*job["parts"], self.bucket.put_part(key, upload_id, len(job["parts"]) + 1, text.encode("utf-8"))]
        values: dict[str, Any] = {"uploadId": upload_id, "parts": etags, "rows": int(job["rows"]) + rows,
                                  "updatedAt": now()}
        if cursor is None:
            self.bucket.finish_multipart(key, upload_id, etags)
            values |= {"status": JobStatus.COMPLETED.value, "finishedAt": now(), "resultKey": key,
                       "resultRows": values["rows"]}
            values.pop("cursor", None)
        else:
            values["cursor"] = cursor
        return self.jobs.checkpoint(job, values)

    def _export_page(self, kind: ExportKind, request: dict[str, Any],
                     cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        if kind is ExportKind.LEADS:
            args: dict[str, Any] = {"limit": EXPORT_PAGE, "start": cursor, "newest_first": False}
            if request.get("status"):
                args |= {"index": "status-index", "key": ("status", request["status"])}
            if request.get("tag"):
                args["contains"] = ("tags", request["tag"])
            return self.leads.page(**args)
        assert self.recipients is not None
        items, cursor = self.recipients.page(limit=EXPORT_PAGE, start=cursor, key=("campaignId", request["campaignId"]),
                                             newest_first=False)
        leads = {lead["id"]: lead for lead in self.leads.get_all([{"id": r["leadId"]} for r in items], ("id", "email", "status"))}
        return [{**r, "email": leads.get(r["leadId"], {}).get("email"), "leadStatus": leads.get(r["leadId"], {}).get("status")}
                for r in items], cursor
