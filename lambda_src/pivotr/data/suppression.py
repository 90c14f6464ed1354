"""The data-access layer of the suppression list: addresses that must never be mailed again.

Suppression table: partition key ``id``, the lead id of the address, which is a fixed hash of the
normalized e-mail (``domain.leads.lead_id``), so an entry is the address's own key: it exists whether
or not a lead does, a deleted and re-imported lead finds it again, and an unsubscribe link (which
carries the lead id) can add it even after the lead was deleted. Nothing in the code removes an
entry (see docs/sending.md).
"""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import Read, Table, get_together


class SuppressionList:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def reason_for(self, lead_id: str) -> str | None:
        """Why the address of ``lead_id`` is suppressed (None: it is not)."""
        entry = self.table.get({"id": lead_id})
        return entry["reason"] if entry else None

    def reasons(self, lead_ids: list[str]) -> dict[str, str]:
        """Lead id -> why it is suppressed, for those of ``lead_ids`` that are (100 keys per request)."""
        if not lead_ids:
            return {}
        return self.reasons_in(get_together(self.read(lead_ids))[0])

    def read(self, lead_ids: list[str]) -> Read:
        """The read of ``lead_ids``' entries, to share requests with other reads (``get_together``)."""
        return Read(self.table, [{"id": lead} for lead in dict.fromkeys(lead_ids)], ("id", "reason"))

    @staticmethod
    def reasons_in(entries: list[dict[str, Any]]) -> dict[str, str]:
        return {item["id"]: item["reason"] for item in entries}

    def entry(self, lead_id: str, reason: str, at: str, email: str | None = None,
              campaign_id: str | None = None) -> dict[str, Any]:
        """A Put action (for a transaction) that records the address as suppressed."""
        item = {"id": lead_id, "reason": reason, "at": at}
        if email:
            item["email"] = email
        if campaign_id:
            item["campaignId"] = campaign_id
        return {"Put": {"TableName": self.table.name, "Item": item}}

    def add(self, lead_id: str, reason: str, at: str, email: str | None = None, campaign_id: str | None = None) -> None:
        self.table.client.put_item(**self.entry(lead_id, reason, at, email, campaign_id)["Put"])

    def everything(self) -> dict[str, str]:
        """Every entry (lead id -> reason), a few 1 MB Scan pages: a large import checks its rows against
        this instead of reading 100 keys per request. The list holds opt-outs and bounces only, so it
        stays small next to the leads it suppresses."""
        found: dict[str, str] = {}
        args: dict[str, Any] = {"ProjectionExpression": "id, reason"}
        while True:
            page = self.table.resource.scan(**args)
            found |= self.reasons_in(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
