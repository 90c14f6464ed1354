"""Routes of api-metrics: /health, /metrics/dashboard, /metrics/campaign/{id} (pre-aggregated rows only)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pivotr.data.dynamo import Table
from pivotr.domain import metrics
from pivotr.env import MetricsEnv
from pivotr.errors import not_found
from pivotr.http import create_app, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.validation import path_id, query_int

MAX_DAYS = metrics.MAX_DAYS  # days per request
DASHBOARD_CACHE = "private, max-age=60"  # seconds: counters move with sends, a minute is fresh enough
CAMPAIGN_CACHE = "private, max-age=30"


def build(env: MetricsEnv, today=date.today) -> APIGatewayHttpResolver:
    app = create_app()
    table, campaigns = Table(env.metrics_table, ("campaignId", "date")), Table(env.campaigns_table)

    def rows(campaign_id: str, days: int) -> list[dict[str, Any]]:
        since = (today() - timedelta(days=days - 1)).isoformat()
        items, _ = table.page(limit=MAX_DAYS, key=("campaignId", campaign_id), since=("date", since), newest_first=False)
        return items

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics/dashboard")
    def dashboard() -> Response:
        days = query_int(query(app), "days", default=30, minimum=1, maximum=MAX_DAYS)
        body = {"days": days, **metrics.summarize(rows(metrics.ALL_CAMPAIGNS, days))}
        return respond(200, body, {"Cache-Control": DASHBOARD_CACHE})

    @app.get("/metrics/campaign/<id>")
    def campaign(id: str) -> Response:
        days = query_int(query(app), "days", default=90, minimum=1, maximum=MAX_DAYS)
        if campaigns.get({"id": path_id(id)}) is None:
            raise not_found("campaign", id)
        body = {"campaignId": id, "days": days, **metrics.summarize(rows(id, days))}
        return respond(200, body, {"Cache-Control": CAMPAIGN_CACHE})

    return app
