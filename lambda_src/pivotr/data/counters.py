"""Metric counter updates as transaction actions: a campaign's day row plus the ``ALL`` row."""

from __future__ import annotations

from typing import Any

from pivotr.domain.metrics import ALL_CAMPAIGNS


def counter_actions(metrics_table: str, campaign_id: str | None, day: str, counters: dict[str, int]) -> list[dict[str, Any]]:
    """``ADD`` every non-zero counter on (campaign, day) and on (ALL, day): one Update action per row."""
    counters = {name: n for name, n in counters.items() if n}
    if not counters:
        return []
    names = {f"#c{i}": name for i, name in enumerate(counters)}
    return [{"Update": {
        "TableName": metrics_table, "Key": {"campaignId": campaign, "date": day},
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":c{i}": n for i, n in enumerate(counters.values())},
    }} for campaign in filter(None, (campaign_id, ALL_CAMPAIGNS))]
