"""Metrics: per campaign per day counters, summed into totals and rates."""

from __future__ import annotations

from typing import Any

COUNTERS = ("queued", "sent", "delivered", "bounced", "complained", "opened", "clicked", "unsubscribed", "failed")
MAX_DAYS = 366  # days of rows read at once; one Query page holds them all
ALL_CAMPAIGNS = "ALL"  # the row every counter update also increments, so the dashboard reads one partition


def day(row: dict[str, Any]) -> dict[str, Any]:
    return {"date": row["date"], **{name: int(row.get(name, 0)) for name in COUNTERS}}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    days = [day(row) for row in sorted(rows, key=lambda r: r["date"])]
    totals = {name: sum(d[name] for d in days) for name in COUNTERS}
    sent = totals["sent"]
    rates = {
        "bounceRate": round(totals["bounced"] / sent, 6) if sent else 0.0,
        "complaintRate": round(totals["complained"] / sent, 6) if sent else 0.0,
        "deliveryRate": round(totals["delivered"] / sent, 6) if sent else 0.0,
    }
    return {"totals": totals, "rates": rates, "perDay": days}
