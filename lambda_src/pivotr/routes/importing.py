"""Route of lead-import: POST /leads/import (CSV or a JSON array)."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import BulkTable
from pivotr.data.queues import Queue
from pivotr.data.suppression import SuppressionList
from pivotr.domain import importing
from pivotr.env import ImportEnv
from pivotr.errors import unsupported_media_type
from pivotr.http import create_app, query, raw_body
from pivotr.resolver import APIGatewayHttpResolver
from pivotr.routes.common import now
from pivotr.validation import query_choice

ACCEPTED = ("text/csv", "application/json")
UPDATABLE = ("firstName", "lastName", "company", "customAttributes", "tags")  # never status: no un-suppressing


def build(env: ImportEnv) -> APIGatewayHttpResolver:
    app = create_app()
    table, verification = BulkTable(env.leads_table), Queue(env.verification_queue_url)
    suppression = SuppressionList(env.suppression_table)

    @app.post("/leads/import")
    def import_leads() -> dict[str, Any]:
        content_type = (app.current_event.headers or {}).get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ACCEPTED:
            raise unsupported_media_type(" or ".join(ACCEPTED))
        q = query(app)
        on_duplicate = query_choice(q, "onDuplicate", frozenset({"skip", "update"})) or "skip"
        verify = query_choice(q, "verify", frozenset({"true", "false"})) == "true"
        parsed = importing.parse(raw_body(app, limit=importing.MAX_BYTES), content_type, now())
        return run(parsed, on_duplicate=on_duplicate, verify=verify)

    def run(parsed: importing.ParsedImport, *, on_duplicate: str, verify: bool) -> dict[str, Any]:
        ids = [lead["id"] for lead in parsed.leads]
        existing = table.existing_ids(ids)
        created = [lead for lead in parsed.leads if lead["id"] not in existing]
        suppressed = suppression.reasons([lead["id"] for lead in created])
        created = [{**lead, "status": suppressed[lead["id"]]} if lead["id"] in suppressed else lead for lead in created]
        table.put_all(created)
        updated = 0
        if on_duplicate == "update":
            changes = [(lead["id"], {k: lead[k] for k in (*UPDATABLE, "updatedAt") if k in lead})
                       for lead in parsed.leads if lead["id"] in existing]
            updated = len(changes) - len(table.update_all(changes))
        queued = verification.send_all([{"leadId": lead["id"]} for lead in created if lead["id"] not in suppressed]) if verify else 0
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

    return app
