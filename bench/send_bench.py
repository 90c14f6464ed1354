"""Sending at scale on moto provisioned from the synthesized dev plan: AWS requests per e-mail sent.

A 1,000-lead campaign runs to completion, fault-free, through the real handlers (start through
api-campaigns, dispatch ticks and e-mails through send-email, driven the way Lambda's SQS event
source does). Counted: every request the mailer's own code makes, the SES call included. Not
counted: the event source's ReceiveMessage/DeleteMessageBatch (Lambda makes them, not our code;
printed apart). Baseline in the same run: the naive sender, one message per e-mail and a read
and write per step.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEADS = int(os.environ.get("BENCH_LEADS", 1_000))
EVENT_SOURCE = {"ReceiveMessage", "DeleteMessageBatch"}  # made by Lambda's event source mapping


def _load(plan: dict[str, Any], short_name: str):
    from tests.aws import resolve_environment

    [function] = [f for f in plan["resource"]["aws_lambda_function"].values() if f["function_name"].endswith(short_name)]
    os.environ.update(resolve_environment(plan, function["environment"]["variables"]))
    name = f"handlers.{short_name.replace('-', '_')}"
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def _campaign(calls: Counter[str], plan: dict[str, Any], pacing: int, leads: int) -> tuple[float, int, Counter[str]]:
    """One campaign to completion; (requests per e-mail, e-mails sent, event-source requests)."""
    import boto3

    from pivotr.domain.leads import lead_id
    from tests.aws import create_tables
    from tests.handlers.api import Api
    from tests.handlers.mailer_sim import Clock, FakeSes, LambdaQueue, install_ses, real_ses

    create_tables(plan)
    send = _load(plan, "send-email")
    clock = Clock()
    send.service.clock, send.service.rng = clock, random.Random(1)
    identity = os.environ["SES_IDENTITY_DOMAIN"]
    ses = FakeSes(real_ses(identity), random.Random(2))
    install_ses(send.service, ses)
    api = Api(plan, lambda short_name: _load(plan, short_name))
    table = boto3.resource("dynamodb").Table(os.environ["LEADS_TABLE"])
    with table.batch_writer() as batch:
        for i in range(leads):
            email = f"lead{i}@example.com"
            batch.put_item(Item={"id": lead_id(email), "email": email, "status": "valid", "firstName": f"L{i}", "tags": [],
                                 "createdAt": "2026-11-01T00:00:00.000Z", "updatedAt": "2026-11-01T00:00:00.000Z"})
    template = api.post("/templates", {"name": "t", "subject": "Hi {{firstName}}", "text": "Hello {{firstName}}"}).body["id"]
    campaign = api.post("/campaigns", {"name": "c", "templateId": template, "fromEmail": f"news@{identity}",
                                       "audience": {"statuses": ["valid"]}, "dailyLimit": 50_000,
                                       "pacing": {"minDelaySeconds": pacing, "maxDelaySeconds": pacing * 4}}).body["id"]
    calls.clear()
    assert api.post(f"/campaigns/{campaign}/start").status == 200
    with clock.installed():
        LambdaQueue(send.service.queue.url, send.handler, clock).run(max_steps=100_000)
    sent = len(ses.accepted)
    assert sent == leads, f"{sent} of {leads} sent"
    event_source = Counter({op: n for op, n in calls.items() if op.split(".")[1] in EVENT_SOURCE})
    ours = sum(n for op, n in calls.items() if op.split(".")[1] not in EVENT_SOURCE)
    mine = Counter({op: n for op, n in calls.items() if op.split(".")[1] not in EVENT_SOURCE})
    client = boto3.client("dynamodb")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    return ours / sent, sent, mine + Counter({"event source: " + k: v for k, v in event_source.items()})


def _naive(calls: Counter[str], plan: dict[str, Any], emails: int) -> float:
    """The naive sender per e-mail: receive its own message, read campaign, template and lead, claim,
    send, then write recipient, log and two counters, one request each."""
    import boto3

    from tests.aws import create_tables

    create_tables(plan)
    env = {k: v for k, v in os.environ.items() if k.endswith("_TABLE")}
    db = boto3.resource("dynamodb")
    campaigns, leads = db.Table(env["CAMPAIGNS_TABLE"]), db.Table(env["LEADS_TABLE"])
    templates, recipients = db.Table(env["TEMPLATES_TABLE"]), db.Table(env["RECIPIENTS_TABLE"])
    logs, metrics = db.Table(env["LOGS_TABLE"]), db.Table(env["METRICS_TABLE"])
    ses = boto3.client("sesv2")
    campaigns.put_item(Item={"id": "c", "status": "running"})
    templates.put_item(Item={"id": "t", "subject": "s"})
    calls.clear()
    for i in range(emails):
        campaigns.get_item(Key={"id": "c"})
        templates.get_item(Key={"id": "t"})
        leads.get_item(Key={"id": f"l{i}"})
        recipients.put_item(Item={"campaignId": "c", "leadId": f"l{i}", "status": "sending"},
                            ConditionExpression="attribute_not_exists(leadId)")
        ses.send_email(FromEmailAddress=f"news@{os.environ['SES_IDENTITY_DOMAIN']}",
                       Destination={"ToAddresses": [f"n{i}@example.com"]},
                       Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})
        recipients.update_item(Key={"campaignId": "c", "leadId": f"l{i}"}, UpdateExpression="SET #s = :s",
                               ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "sent"})
        logs.put_item(Item={"campaignId": "c", "timestamp": f"t{i}"})
        for row in ("c", "ALL"):
            metrics.update_item(Key={"campaignId": row, "date": "d"}, UpdateExpression="ADD sent :one",
                                ExpressionAttributeValues={":one": 1})
    return sum(calls.values()) / emails + 1  # + the SendMessage that queued it


def run(outdir: Path) -> list[tuple[str, str]]:
    import boto3
    from moto import mock_aws

    sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
    from tests import moto_speed

    plan = json.loads((outdir / "stacks" / "pivotr-mailer-dev" / "cdk.tf.json").read_text())
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="ap-south-1",
                      POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_LOG_LEVEL="WARNING")
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: object) -> None:
        calls[event_name.split(".", 1)[1]] += 1

    moto_speed.install()  # only moto's speed: requests and answers are the same
    with mock_aws():
        boto3._get_default_session().events.register("before-call.*.*", count)
        batched, sent, by_operation = _campaign(calls, plan, pacing=0, leads=LEADS)
        paced, paced_sent, _ = _campaign(calls, plan, pacing=30, leads=LEADS // 5)
        naive = _naive(calls, plan, 200)
    moto_speed.uninstall()
    return [
        ("e-mails sent (1,000-lead campaign, no pacing: full batches of 10)", f"{sent:,}"),
        ("AWS requests per e-mail sent, SES call included", f"{batched:.2f} (goal <= 2.0; naive: {naive:.2f}, ratio {batched / naive:.2f})"),
        ("requests by operation (whole run)", ", ".join(f"{op} {n}" for op, n in sorted(by_operation.items()))),
        (f"same with pacing 30-120 s ({paced_sent} e-mails: one per batch)", f"{paced:.2f} (a paced send arrives alone, so nothing amortizes)"),
    ]
