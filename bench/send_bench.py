"""Sending at scale on moto provisioned from the synthesized dev plan: throughput at the account's SES
rate, AWS requests per e-mail, the most any tick did, and the cost per 1,000 e-mails.

Each campaign runs to completion, fault-free, through the real handlers (start through
api-campaigns, dispatch ticks and e-mails through send-email, driven the way Lambda's SQS event
source does) on a simulated clock. SES is ``FakeSes`` with ``SesLimits``: it refuses any send above
14 in a sliding second or above its 24-hour quota, and reports both through GetAccount, as SES does.

Counted: every request the mailer's own code makes, SES's included (throttled attempts too). The
event source's ReceiveMessage/DeleteMessageBatch are Lambda's, printed apart, and priced.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# 100,000 runs too, with BENCH_SEND_SIZES=1000,10000,100000, but takes over 25 minutes on moto here
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SEND_SIZES", "1000,10000").split(","))
# Sizes run with the delivery stand-in (_dispatch_at_scale): dispatch on moto, e-mails marked sent in
# memory. It takes about ten minutes at 100,000 (moto's per-item work), so it runs in a process of its
# own on the second core while the other sends and the import job are measured (start_stand_ins);
# its figures are counts on a simulated clock, which sharing the machine does not change.
STAND_IN_SIZES = tuple(int(n) for n in os.environ.get("BENCH_STAND_IN_SIZES", "100000").split(",") if n)
MEASURED: dict[str, Any] = {}  # from run(): delivery's requests per e-mail at the largest full size
THROUGHPUT_LEADS = int(os.environ.get("BENCH_THROUGHPUT_LEADS", "10000"))
EVENT_SOURCE = {"ReceiveMessage", "DeleteMessageBatch"}  # made by Lambda's event source mapping
MAX_SEND_RATE = 14.0  # e-mails per second: a typical production SES account
SEND_EMAIL_MEMORY_GB = 0.25  # send-email's 256 MB (modules/catalog.py)

# List prices in USD, us-east-1, checked 2026-11-26 (ap-south-1 is within a few per cent).
PRICES = {
    "ses_per_email": 0.10 / 1000,
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand WRU (1 KB; a transactional write takes 2)
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand RRU (4 KB strongly consistent, or 8 KB eventually)
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk of a request
    "lambda_gb_second": 0.0000133334,  # arm64
    "lambda_request": 0.20 / 1e6,
    "xray_trace": 5.00 / 1e6,  # traces recorded (active tracing records every sampled invocation)
}


def _size(value: Any) -> int:
    """Approximate DynamoDB item size in bytes (attribute names plus values)."""
    return len(json.dumps(value, default=str))


@dataclass
class Meter:
    """AWS requests and the DynamoDB/SQS units they consume, from botocore's after-call events."""

    calls: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    sqs_requests: int = 0

    def install(self, events: Any) -> None:
        events.register("before-parameter-build.*.*", self.before)
        events.register("after-call.*.*", self.after)

    @staticmethod
    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["meter_params"] = params  # the API parameters; after-call gets the same context, not them

    def after(self, event_name: str, context: dict[str, Any], parsed: dict[str, Any] | None = None, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        self.calls[f"{service}.{operation}"] += 1
        params, parsed = context.get("meter_params") or {}, parsed or {}
        if service == "sqs":
            bodies = [e.get("MessageBody", "") for e in params.get("Entries", [])] + [params.get("MessageBody", "")]
            self.sqs_requests += max(1, math.ceil(sum(len(b) for b in bodies) / 65_536))
        elif service == "dynamodb":
            self._dynamodb(operation, params, parsed)

    def _dynamodb(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        kb = lambda item: max(1, math.ceil(_size(item) / 1024))  # noqa: E731 - one line of arithmetic
        reads = lambda items, eventual: sum(max(1, math.ceil(_size(i) / 4096)) for i in items) * (0.5 if eventual else 1)  # noqa: E731
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units += kb(params.get("Item") or params.get("Key"))
        elif operation == "GetItem":
            self.read_units += reads([parsed.get("Item") or {}], not params.get("ConsistentRead"))
        elif operation == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                self.read_units += reads(items, not params["RequestItems"][table].get("ConsistentRead"))
        elif operation in ("Query", "Scan"):
            self.read_units += max(1, math.ceil(sum(_size(i) for i in parsed.get("Items", [])) / 4096)) * (
                0.5 if params.get("IndexName") or not params.get("ConsistentRead") else 1)
        elif operation == "BatchWriteItem":
            self.write_units += sum(kb(r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key"))
                                    for requests in params.get("RequestItems", {}).values() for r in requests)
        elif operation == "TransactWriteItems":  # two writes per item (prepare, commit); a condition check counted as one too
            for action in params.get("TransactItems", []):
                (body,) = action.values()
                self.write_units += 2 * kb(body.get("Item") or body.get("Key"))

    def ours(self) -> int:
        return sum(n for op, n in self.calls.items() if op.split(".")[1] not in EVENT_SOURCE)

    def event_source(self) -> int:
        return sum(n for op, n in self.calls.items() if op.split(".")[1] in EVENT_SOURCE)


@dataclass
class Run:
    leads: int
    sent: int
    requests: int  # the mailer's own, SES attempts and GetAccount included
    most_in_a_tick: int
    throttles: int
    dlq: int
    rate: float  # e-mails per second while sending (first to last accepted)
    wall: float  # simulated seconds from start to completion
    cost: dict[str, float]
    by_operation: Counter[str]
    in_ticks: int = 0  # requests made inside dispatch ticks (the rest: delivering the e-mails)


def _load(plan: dict[str, Any], short_name: str):
    from simulator.provision import resolve_environment

    [function] = [f for f in plan["resource"]["aws_lambda_function"].values() if f["function_name"].endswith(short_name)]
    os.environ.update(resolve_environment(plan, function["environment"]["variables"]))
    name = f"handlers.{short_name.replace('-', '_')}"
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def _start(meter: Meter, plan: dict[str, Any], leads: int, pacing: int) -> tuple[Any, Any, Any, Any, str]:
    """Tables from the plan, ``leads`` valid leads, a template and a campaign, started through the API
    on a simulated clock; returns (send-email's module, clock, SES, its limits, campaign id)."""
    import boto3

    from pivotr.domain.leads import lead_id
    from simulator.provision import create_tables
    from simulator.http_api import Api
    from simulator.clock import Clock
    from simulator.ses import FakeSes, SesLimits, install_ses, real_ses

    create_tables(plan)
    send = _load(plan, "send-email")
    clock = Clock()
    send.service.clock, send.service.rng, send.service.sleep = clock, random.Random(1), clock.advance
    identity = os.environ["SES_IDENTITY_DOMAIN"]
    limits = SesLimits(clock, max_send_rate=MAX_SEND_RATE, max_24_hour_send=1_000_000)
    ses = FakeSes(real_ses(identity), random.Random(2), limits)
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
                                       "audience": {"statuses": ["valid"]}, "dailyLimit": 1_000_000,
                                       "pacing": {"minDelaySeconds": pacing, "maxDelaySeconds": pacing * 4}}).body["id"]
    meter.calls.clear()
    meter.write_units = meter.read_units = meter.sqs_requests = 0
    assert api.post(f"/campaigns/{campaign}/start").status == 200
    return send, clock, ses, limits, campaign


def _campaign(meter: Meter, plan: dict[str, Any], leads: int, pacing: int = 0) -> Run:
    """One campaign to completion on a 14/s account."""
    import boto3

    from simulator.event_source import LambdaQueue

    send, clock, ses, limits, campaign = _start(meter, plan, leads, pacing)
    started = clock()
    most = _count_ticks(send, meter)
    # Lambda time: each invocation's wall time on moto (moto's work standing in for AWS latency) plus
    # the simulated seconds it waited for its sends' slots
    billed = [0.0]

    def timed(event: dict, context: Any) -> dict:
        real, simulated = time.perf_counter(), clock()
        try:
            return send.handler(event, context)
        finally:
            billed[0] += time.perf_counter() - real + (clock() - simulated)

    queue = LambdaQueue(send.service.queue.url, timed, clock)
    with clock.installed():
        queue.run(max_steps=10 * leads + 10_000, horizon=86_400 * 30)
    sent = len(ses.accepted)
    assert sent == leads, f"{sent} of {leads} sent"
    status = boto3.resource("dynamodb").Table(os.environ["CAMPAIGNS_TABLE"]).get_item(Key={"id": campaign})["Item"]["status"]
    assert status == "completed", status
    requests = meter.ours() + (ses.calls - sent) + limits.account_reads  # + throttled attempts and GetAccount (not via moto)
    dynamodb = meter.write_units * PRICES["dynamodb_write_unit"] + meter.read_units * PRICES["dynamodb_read_unit"]
    cost = {"SES": sent * PRICES["ses_per_email"], "DynamoDB": dynamodb, "SQS": meter.sqs_requests * PRICES["sqs_request"],
            "Lambda": billed[0] * SEND_EMAIL_MEMORY_GB * PRICES["lambda_gb_second"] + queue.invocations * PRICES["lambda_request"],
            "X-Ray": queue.invocations * PRICES["xray_trace"]}
    times = limits.accepted
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    run = Run(leads, sent, requests, most[0], limits.throttled, queue.dlq_depth(), rate, clock() - started,
              {k: v * 1000 / sent for k, v in cost.items()}, Counter(meter.calls), most[1])
    _drop_tables()
    return run


def _count_ticks(send: Any, meter: Meter) -> list[int]:
    """[the most requests one dispatch tick made, the requests all ticks made] as the run goes."""
    counts = [0, 0]
    tick = send.service.dispatcher.tick

    def counted_tick(*args: Any, **kwargs: Any) -> str:
        before = meter.ours()
        try:
            return tick(*args, **kwargs)
        finally:
            counts[0] = max(counts[0], meter.ours() - before)
            counts[1] += meter.ours() - before

    send.service.dispatcher.tick = counted_tick
    return counts


def _dispatch_at_scale(meter: Meter, plan: dict[str, Any], leads: int, delivery_per_email: float) -> Run:
    """A campaign too large to deliver on moto within the bench: its dispatch ticks (snapshot, release,
    completion, summary) run for real on moto; the e-mails are delivered by a stand-in that marks each
    recipient sent in moto's memory (no request), and delivery's requests per e-mail are the ones
    measured on the full run. The stand-in's figures are labelled as such."""
    import boto3
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    send, clock, _, _, campaign = _start(meter, plan, leads, 0)
    most = _count_ticks(send, meter)
    table = dynamodb_backends["123456789012"][os.environ["AWS_DEFAULT_REGION"]].get_table(os.environ["RECIPIENTS_TABLE"])
    delivered = [0]

    def handler(event: dict, context: Any) -> dict:
        ticks = []
        for record in event["Records"]:
            body = json.loads(record["body"])
            if "tick" in body:
                ticks.append(record)
                continue
            item = table.get_item(DynamoType({"S": body["campaignId"]}), DynamoType({"S": body["leadId"]}))
            if item is not None and item.attrs["status"].value == "released":
                item.attrs["status"] = DynamoType({"S": "sent"})
                for name in ("openCampaign", "dueAt"):
                    item.attrs.pop(name, None)
                delivered[0] += 1
        return send.handler({"Records": ticks}, context) if ticks else {"batchItemFailures": []}

    from simulator.event_source import LambdaQueue

    started = clock()
    queue = LambdaQueue(send.service.queue.url, handler, clock)
    with clock.installed():
        queue.run(max_steps=2 * leads + 10_000, horizon=86_400 * 30)
    status = boto3.resource("dynamodb").Table(os.environ["CAMPAIGNS_TABLE"]).get_item(Key={"id": campaign})["Item"]["status"]
    assert delivered[0] == leads and status == "completed", (delivered[0], status)
    requests = most[1] + round(delivery_per_email * leads)
    run = Run(leads, leads, requests, most[0], 0, queue.dlq_depth(), 0.0, clock() - started, {}, Counter(meter.calls), most[1])
    _drop_tables()
    return run


def start_stand_ins(outdir: Path) -> subprocess.Popen[str] | None:
    """The stand-in sizes in a process of their own (``python bench/send_bench.py --stand-in``)."""
    if not STAND_IN_SIZES:
        return None
    return subprocess.Popen([sys.executable, __file__, "--stand-in", str(outdir)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def stand_in_rows(process: subprocess.Popen[str] | None) -> list[tuple[str, str]]:
    """Waits for the stand-in process; its rows, with delivery's requests per e-mail from run()."""
    if process is None:
        return []
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"stand-in process failed ({process.returncode})")
    delivery_per_email, full_leads = MEASURED["delivery_per_email"], MEASURED["full_leads"]
    rows = []
    for r in json.loads(out.strip().splitlines()[-1]):
        requests = r["in_ticks"] + round(delivery_per_email * r["leads"])
        per_email = requests / r["leads"]
        rows.append((f"{r['leads']:,} recipients, stand-in: requests per e-mail / most in one tick",
                     f"{per_email:.2f} ({'meets' if per_email <= 1.5 else 'MISSES'} goal <= 1.5) / {r['most']} "
                     f"(dispatch ticks on moto: {r['in_ticks']:,} requests; delivery {delivery_per_email:.2f} per e-mail as "
                     f"measured at {full_leads:,}, the e-mails marked sent in moto's memory by a stand-in; DLQ {r['dlq']}; "
                     f"simulated wall time {r['wall'] / 3600:.1f} h at the rate of the book; run beside the others)"))
    return rows


def _stand_in_main(outdir: Path) -> None:
    import boto3
    from moto import mock_aws

    sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
    from simulator import moto_speed
    from simulator.provision import offline_account, plan_of

    plan = plan_of(outdir)
    offline_account()
    meter = Meter()
    moto_speed.install()
    with mock_aws():
        meter.install(boto3._get_default_session().events)
        runs = [_dispatch_at_scale(meter, plan, n, 0.0) for n in STAND_IN_SIZES]
    print(json.dumps([{"leads": r.leads, "in_ticks": r.in_ticks, "most": r.most_in_a_tick, "dlq": r.dlq, "wall": r.wall}
                      for r in runs]))


def _drop_tables() -> None:
    import boto3

    client = boto3.client("dynamodb")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)


def _naive(meter: Meter, plan: dict[str, Any], emails: int) -> float:
    """The naive sender per e-mail: receive its own message, read campaign, template and lead, claim,
    send, then write recipient, log and two counters, one request each."""
    import boto3

    from simulator.provision import create_tables

    create_tables(plan)
    env = {k: v for k, v in os.environ.items() if k.endswith("_TABLE")}
    db = boto3.resource("dynamodb")
    campaigns, leads = db.Table(env["CAMPAIGNS_TABLE"]), db.Table(env["LEADS_TABLE"])
    templates, recipients = db.Table(env["TEMPLATES_TABLE"]), db.Table(env["RECIPIENTS_TABLE"])
    logs, metrics = db.Table(env["LOGS_TABLE"]), db.Table(env["METRICS_TABLE"])
    ses = boto3.client("sesv2")
    campaigns.put_item(Item={"id": "c", "status": "running"})
    templates.put_item(Item={"id": "t", "subject": "s"})
    meter.calls.clear()
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
    return meter.ours() / emails + 1  # + the SendMessage that queued it


def run(outdir: Path) -> list[tuple[str, str]]:
    import boto3
    from moto import mock_aws

    sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
    from simulator import moto_speed
    from simulator.provision import offline_account, plan_of

    plan = plan_of(outdir)
    offline_account()
    meter = Meter()
    rows: list[tuple[str, str]] = []
    moto_speed.install()  # only moto's speed: requests and answers are the same
    with mock_aws():
        meter.install(boto3._get_default_session().events)
        throughput = _campaign(meter, plan, THROUGHPUT_LEADS)
        runs = [throughput if n == THROUGHPUT_LEADS else _campaign(meter, plan, n) for n in SIZES]
        full = runs[-1]
        delivery_per_email = (full.requests - full.in_ticks) / full.sent
        MEASURED.update(delivery_per_email=delivery_per_email, full_leads=full.leads)
        paced = _campaign(meter, plan, 200, pacing=30)
        naive = _naive(meter, plan, 200)
    moto_speed.uninstall()
    ratio = throughput.rate / MAX_SEND_RATE
    rows += [
        (f"{throughput.leads:,}-lead campaign, no pacing, SES at {MAX_SEND_RATE:.0f}/s: send rate / MaxSendRate",
         f"{ratio:.4f} ({throughput.rate:.3f}/s; {'meets' if round(ratio, 3) >= 0.9 else 'MISSES'} goal >= 0.9 to 3 "
         f"places: the share is 0.9, and sends never go above it)"),
        ("... throttles SES returned / messages that reached the DLQ",
         f"{throughput.throttles} / {throughput.dlq} ({'meets' if throughput.throttles == throughput.dlq == 0 else 'MISSES'} goal 0 / 0)"),
        ("... wall time on the simulated clock, start to completed", f"{throughput.wall:,.0f} s ({throughput.wall / 60:.1f} min)"),
    ]
    for r in runs:
        per_email = r.requests / r.sent
        rows.append((f"{r.leads:,} recipients: AWS requests per e-mail (SES included) / most in one tick",
                     f"{per_email:.2f} ({'meets' if per_email <= 1.5 else 'MISSES'} goal <= 1.5) / {r.most_in_a_tick}"))
    rows.append(("requests by operation, largest run", ", ".join(f"{op} {n}" for op, n in sorted(runs[-1].by_operation.items()))))
    rows.append(("naive sender (one message and a read and write per step), per e-mail",
                 f"{naive:.2f} (ratio ours / naive {runs[0].requests / runs[0].sent / naive:.2f})"))
    rows.append((f"paced 30-120 s ({paced.sent} e-mails, each arrives alone): requests per e-mail",
                 f"{paced.requests / paced.sent:.2f} (nothing amortizes across a batch)"))
    for r in (throughput, paced):
        total = sum(r.cost.values())
        floor = PRICES["ses_per_email"] * 1000
        rows.append((f"cost per 1,000 e-mails, {'no pacing' if r is throughput else 'paced'} ({r.leads:,}), list prices 2026-11-26",
                     f"${total:.4f} = {total / floor:.2f}x SES's ${floor:.2f} floor "
                     f"({'meets' if total <= 1.5 * floor else 'MISSES'} goal <= 1.5x): "
                     + ", ".join(f"{k} ${v:.4f}" for k, v in r.cost.items())))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--stand-in"]:
    _stand_in_main(Path(sys.argv[2]))
