"""api-metrics reads the pre-aggregated Metrics table (never Logs)."""

from __future__ import annotations

from datetime import date, timedelta

import boto3


def put_rows(synth, campaign_id: str, rows: list[dict]) -> None:
    table = boto3.resource("dynamodb").Table(synth.function_environment("dev", "api-metrics")["METRICS_TABLE"])
    for row in rows:
        table.put_item(Item={"campaignId": campaign_id, **row})


def test_dashboard_totals_and_rates_with_cache_headers(api, synth) -> None:
    today = date.today()
    put_rows(synth, "ALL", [
        {"date": today.isoformat(), "sent": 100, "delivered": 95, "bounced": 3, "complained": 1},
        {"date": (today - timedelta(days=1)).isoformat(), "sent": 100, "delivered": 97, "bounced": 1},
        {"date": (today - timedelta(days=40)).isoformat(), "sent": 999},  # outside the 30-day default
    ])
    reply = api.get("/metrics/dashboard")
    assert reply.status == 200
    assert reply.body["totals"]["sent"] == 200 and reply.body["totals"]["bounced"] == 4
    assert reply.body["rates"]["bounceRate"] == 0.02 and reply.body["rates"]["complaintRate"] == 0.005
    assert [d["date"] for d in reply.body["perDay"]] == [(today - timedelta(days=1)).isoformat(), today.isoformat()]
    assert reply.headers["Cache-Control"].startswith("private, max-age=")


def test_campaign_metrics_per_day_and_404(api, synth) -> None:
    template_id = api.post("/templates", {"name": "t", "subject": "s", "text": "b"}).body["id"]
    cid = api.post("/campaigns", {"name": "c", "templateId": template_id, "fromEmail": "a@pivotr.example.com",
                                  "audience": {"tags": ["x"]}}).body["id"]
    put_rows(synth, cid, [{"date": date.today().isoformat(), "queued": 5, "sent": 4, "failed": 1}])
    body = api.get(f"/metrics/campaign/{cid}").body
    assert body["totals"]["queued"] == 5 and body["totals"]["failed"] == 1 and len(body["perDay"]) == 1
    assert api.get("/metrics/campaign/cp_none").status == 404
    assert api.get("/metrics/dashboard", query={"days": "0"}).error_fields == {"days"}
