"""The data-access layer of process-feedback: suppress leads, and record each event exactly once."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from pivotr.data import clients
from pivotr.data.counters import counter_actions
from pivotr.data.dynamo import (
    ConditionFailed,
    conditional_write,
    transact_unless_first_fails,
)
from pivotr.domain.feedback import FeedbackEvent
from pivotr.domain.leads import REPLACEABLE_BY

UNATTRIBUTED = "-"  # Logs partition for events that carry no campaign tag


class FeedbackStore:
    def __init__(self, leads_table: str, logs_table: str, metrics_table: str) -> None:
        self.leads_table, self.logs_table, self.metrics_table = leads_table, logs_table, metrics_table

    @cached_property
    def _client(self):
        return clients.dynamodb()  # plain Python values in and out

    def suppress(self, lead_id: str, status: str, at: str) -> bool:
        """Set the lead's status to ``status`` unless it already holds an equal or stronger one."""
        allowed = REPLACEABLE_BY[status]
        names = ", ".join(f":s{i}" for i in range(len(allowed)))
        try:
            with conditional_write():
                self._client.update_item(
                    TableName=self.leads_table,
                    Key={"id": lead_id},
                    UpdateExpression="SET #status = :status, suppressedAt = :at, updatedAt = :at",
                    ConditionExpression=f"attribute_exists(id) AND #status IN ({names})",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":status": status, ":at": at, **{f":s{i}": s for i, s in enumerate(allowed)}},
                )
        except ConditionFailed:
            return False  # unknown lead, or already suppressed as strongly
        return True

    def record_once(self, event: FeedbackEvent) -> bool:
        """Log the event and count it, atomically and once: False when it was recorded before."""
        entry: dict[str, Any] = {
            "campaignId": event.campaign_id or UNATTRIBUTED,
            "timestamp": f"{event.timestamp}#{event.event_id}",
            "event": event.kind,
            "messageId": event.message_id,
            "eventId": event.event_id,
        }
        if event.lead_ids:
            entry["leadId"] = event.lead_ids[0]
        if event.detail:
            entry["detail"] = json.dumps(event.detail, sort_keys=True)
        actions: list[dict[str, Any]] = [{"Put": {
            "TableName": self.logs_table, "Item": entry, "ConditionExpression": "attribute_not_exists(campaignId)"}}]
        if event.counter:
            actions += counter_actions(self.metrics_table, event.campaign_id, event.timestamp[:10], {event.counter: 1})
        return transact_unless_first_fails(self._client, actions)  # False: a redelivery, already logged and counted
