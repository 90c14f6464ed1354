"""The synchronous import (POST /leads/import): parsed leads in, leads created or updated, a report out."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import Table
from pivotr.data.queues import Queue
from pivotr.data.suppression import SuppressionList
from pivotr.domain import importing
from pivotr.env import ImportEnv


class ImportService:
    def __init__(self, env: ImportEnv) -> None:
        self.leads, self.verification = Table(env.leads_table), Queue(env.verification_queue_url)
        self.suppression = SuppressionList(env.suppression_table)

    def run(self, parsed: importing.ParsedImport, *, on_duplicate: str, verify: bool) -> dict[str, Any]:
        """New leads are created (an opted-out address comes back with its suppression status),
        existing ones updated when ``on_duplicate`` is ``update``; new unsuppressed leads are queued for
        verification when ``verify``. The report counts every row."""
        ids = [lead["id"] for lead in parsed.leads]
        existing = self.leads.existing_ids(ids)
        created = [lead for lead in parsed.leads if lead["id"] not in existing]
        suppressed = self.suppression.reasons([lead["id"] for lead in created])
        created = [{**lead, "status": suppressed[lead["id"]]} if lead["id"] in suppressed else lead for lead in created]
        self.leads.put_all(created)
        updated = 0
        if on_duplicate == "update":
            changes = [(lead["id"], {k: lead[k] for k in (*importing.UPDATABLE, "updatedAt") if k in lead})
                       for lead in parsed.leads if lead["id"] in existing]
            updated = len(changes) - len(self.leads.update_all(changes))
        queued = self.verification.send_all(
            [{"leadId": lead["id"]} for lead in created if lead["id"] not in suppressed]) if verify else 0
        by_row = sorted(parsed.invalid, key=lambda r: r.row)
        return {
            "received": parsed.received,
            "imported": len(created),
            "updated": updated,
            "duplicates": {"inFile": len(parsed.duplicates_in_file), "existing": len(existing & set(ids))},
            "invalid": len(by_row),
            "invalidRows": [{"row": r.row, "value": r.value, "reason": r.reason} for r in by_row[:importing.MAX_REPORTED]],
            "invalidRowsTruncated": len(by_row) > importing.MAX_REPORTED,
            "duplicateRows": parsed.duplicates_in_file[:importing.MAX_REPORTED],
            "verificationQueued": queued,
        }
