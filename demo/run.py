#!/usr/bin/env python3
"""`make demo` / `make local`: the whole mailer on this machine, no AWS account, no network.

A moto server runs in-process on 127.0.0.1; the dev stage's tables, queues and secrets are created
from the synthesized plan; each handler runs with its function's environment from the plan. The HTTP
API is served on 127.0.0.1, each route to its real handler with HTTP API v2 events. The SQS consumers
are invoked the way Lambda's event source does (batches of 10, partial batch failures, redelivery).

    make demo    plays a scenario and prints the campaign's metrics and the suppressed leads
    make local   keeps the API up for curl or a frontend (Ctrl-C to stop)
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
STAGE = "dev"
PLAN = ROOT / "cdktf.out" / "stacks" / f"pivotr-mailer-{STAGE}" / "cdk.tf.json"
LOCK = threading.Lock()  # handlers run one at a time, as moto-backed single-process code should


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def start_aws() -> str:
    import logging

    from moto.server import ThreadedMotoServer

    from simulator.provision import offline_account

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per AWS request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    offline_account(AWS_ENDPOINT_URL=endpoint)
    return endpoint


class Functions:
    """Each function's handler, imported with its environment from the plan."""

    def __init__(self, plan: dict[str, Any]) -> None:
        from simulator.provision import create_tables

        self.plan = plan
        self.tables = create_tables(plan)
        self.modules: dict[str, Any] = {}
        self.env: dict[str, dict[str, str]] = {}

    def load(self, short_name: str) -> Any:
        from simulator.provision import resolve_environment

        if short_name not in self.modules:
            [function] = [f for f in self.plan["resource"]["aws_lambda_function"].values()
                          if f["function_name"] == f"pivotr-mailer-{STAGE}-{short_name}"]
            env = resolve_environment(self.plan, function["environment"]["variables"])
            os.environ.update(env, POWERTOOLS_LOG_LEVEL="WARNING")  # the demo prints its own progress
            self.env[short_name] = env
            self.modules[short_name] = importlib.import_module(f"handlers.{short_name.replace('-', '_')}")
        return self.modules[short_name]


def serve_api(functions: Functions) -> ThreadingHTTPServer:
    from simulator.http_api import routes_of, serve
    from simulator.lambda_events import LambdaContext

    routes = routes_of(functions.plan)

    def invoke(route: str, event: dict[str, Any]) -> dict[str, Any]:
        with LOCK:
            return functions.load(routes[route]).handler(event, LambdaContext())

    return serve(routes, invoke)


def call(base: str, method: str, path: str, body: Any = None, content_type: str = "application/json") -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


CLOCK: Any = None  # one clock for send-email and moto's SQS, so delayed ticks need no real waiting


def drain(functions: Functions, short_name: str, queue_url: str) -> int:
    """Invoke a consumer the way Lambda's event source does until its queue is empty (the clock jumps
    over message delays, as in the tests); returns how many batches ran."""
    from simulator.event_source import LambdaQueue

    queue = LambdaQueue(queue_url, functions.load(short_name).handler, CLOCK)
    with LOCK:
        queue.run(horizon=3_600)
    return queue.invocations


def table(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def scenario(functions: Functions, base: str) -> None:
    import boto3

    from simulator.lambda_events import LambdaContext
    from simulator.notifications import (
        COMPLAINT,
        DELIVERY,
        bounce,
        event,
        sns,
        sqs_event,
    )
    from simulator.ses import send_event
    from simulator.sns_signing import trust

    send = functions.load("send-email")
    send.service.clock = CLOCK
    send.service.sleep = CLOCK.advance  # waiting for a send's slot moves the demo's clock, not the wall clock
    identity = functions.env["send-email"]["SES_IDENTITY_DOMAIN"]
    boto3.client("ses").verify_domain_identity(Domain=identity)
    accepted: list[dict[str, Any]] = []
    real = send.service.mailer._client

    class Recording:  # SES v2 as moto serves it, keeping what it accepted for the feedback step
        def send_email(self, **request: Any) -> dict[str, Any]:
            response = real.send_email(**request)
            accepted.append({**request, "MessageId": response["MessageId"]})
            return response

        def get_account(self) -> dict[str, Any]:  # moto does not serve it: a fresh production account's quota
            return {"SendQuota": {"MaxSendRate": 14.0, "Max24HourSend": 50_000.0, "SentLast24Hours": 0.0}}

    send.service.mailer.__dict__["_client"] = Recording()

    step("Import 12 leads from a messy CSV (BOM, semicolons, a bad address, a duplicate)")
    csv = ("\ufeffE-mail;First Name;Company;Tags\n" + "".join(
        f"person{i}@example.com;Person {i};Acme {i % 3};demo\n" for i in range(10))
        + "not-an-address;Broken;X;demo\nPERSON3@example.com;Dup;Y;demo\nvip@example.com;Vera;Big Co;demo\n")
    status, report = call(base, "POST", "/leads/import", csv.encode("utf-8"), "text/csv")
    print(f"POST /leads/import -> {status}: imported {report['imported']}, invalid {report['invalid']} "
          f"(row {report['invalidRows'][0]['row']}: {report['invalidRows'][0]['reason']}), "
          f"duplicates in file {report['duplicates']['inFile']}")

    import_by_upload(functions, base)

    step("Create a template and a campaign for the tag, then start it")
    _, template = call(base, "POST", "/templates", {"name": "Hello", "subject": "Hi {{firstName | there}}",
                                                    "html": "<p>Hello {{firstName}} from {{company | us}}</p>",
                                                    "text": "Hello {{firstName}}"})
    _, campaign = call(base, "POST", "/campaigns", {
        "name": "Demo", "templateId": template["id"], "fromEmail": f"hello@{identity}", "fromName": "Pivotr Demo",
        "audience": {"tags": ["demo"]}, "pacing": {"minDelaySeconds": 0, "maxDelaySeconds": 0}})
    status, started = call(base, "POST", f"/campaigns/{campaign['id']}/start")
    print(f"POST /campaigns/{campaign['id']}/start -> {status}: {started['status']}")

    step("Drain the sending queue the way Lambda does (dispatch ticks, then batches of e-mails)")
    batches = drain(functions, "send-email", functions.env["send-email"]["SENDING_QUEUE_URL"])
    print(f"{batches} batches; SES accepted {len(accepted)} e-mails, each with List-Unsubscribe one-click headers")

    step("Feed SES notifications to process-feedback: sends, 2 bounces, a complaint, deliveries")
    feedback = trust(functions.load("process-feedback"))  # signed as SNS signs (simulator/sns_signing.py)
    stamp = "2026-11-25T12:00:00.000Z"
    bodies = [sns(send_event(sent, stamp), f"sns-send-{i}") for i, sent in enumerate(accepted)]
    for i, sent in enumerate(accepted):
        mail = {**send_event(sent, stamp)["mail"]}
        address = sent["Destination"]["ToAddresses"][0]
        if i < 2:
            bodies.append(sns(event("Bounce", bounce(email=address), mail), f"sns-bounce-{i}"))
        elif i == 2:
            bodies.append(sns(event("Complaint", {**COMPLAINT, "complainedRecipients": [{"emailAddress": address}]}, mail),
                              "sns-complaint"))
        else:
            bodies.append(sns(event("Delivery", {**DELIVERY, "recipients": [address]}, mail), f"sns-delivery-{i}"))
    for start in range(0, len(bodies), 10):
        with LOCK:
            feedback.handler(sqs_event(*bodies[start:start + 10]), LambdaContext())
    print(f"{len(bodies)} notifications processed")
    drain(functions, "send-email", functions.env["send-email"]["SENDING_QUEUE_URL"])  # the completion tick

    step("Campaign metrics (GET /metrics/campaign/{id})")
    _, metrics = call(base, "GET", f"/metrics/campaign/{campaign['id']}")
    totals = metrics["totals"]
    print(table([[name, totals[name]] for name in totals], ["counter", "total"]))
    print(f"bounce rate {metrics['rates']['bounceRate']:.1%}, complaint rate {metrics['rates']['complaintRate']:.1%}")
    _, final = call(base, "GET", f"/campaigns/{campaign['id']}")
    print(f"campaign status: {final['status']}; recipients: {final.get('summary')}; pause reason: {final.get('pauseReason')}")

    step("Suppressed leads (never sent to again)")
    rows = []
    for status_name in ("bounced", "complained", "unsubscribed", "invalid"):
        _, page = call(base, "GET", f"/leads?status={status_name}")
        rows += [[lead["email"], lead["status"]] for lead in page["items"]]
    print(table(rows, ["email", "status"]))
    assert {r[1] for r in rows} >= {"bounced", "complained"} and final["status"] == "completed", (rows, final)


def work_in_background(functions: Functions, short_name: str, queue_variable: str) -> None:
    """`make local`: a consumer polling its queue every second, as Lambda's event source would."""
    import time

    from simulator.clock import Clock
    from simulator.event_source import LambdaQueue

    clock = Clock(time.time())
    handler = functions.load(short_name).handler
    queue = LambdaQueue(functions.env[short_name][queue_variable], handler, clock, timeout=120.0)

    def poll() -> None:
        while True:
            clock.now = time.time()
            with LOCK:
                busy = queue.step()
            if not busy:
                time.sleep(1)

    threading.Thread(target=poll, daemon=True).start()


def upload(policy: dict[str, Any], data: bytes) -> int:
    """What a browser does with an upload policy: a multipart/form-data POST straight to S3."""
    import urllib.request
    import uuid

    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in policy["fields"].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\n'
                 "Content-Type: text/csv\r\n\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(policy["url"], data=b"".join(parts), method="POST",
                                     headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request) as response:
        return response.status


def import_by_upload(functions: Functions, base: str) -> None:
    """A German CRM export uploaded to S3 through POST /imports; transfer-worker takes it block by block."""
    from pivotr.domain import jobs
    from pivotr.services import transfers

    from simulator.event_source import LambdaQueue

    step("Import a 600-row German Outlook export (Windows-1252, semicolons) as an upload: POST /imports")
    lines = [f"Kontakt{i};Müller{i};kontakt{i}@beispiel.de;Bäckerei {i % 7}" for i in range(600)]
    lines[100] = "Ohne;Adresse;keine-adresse;X"
    data = ("Vorname;Nachname;E-Mail-Adresse;Firma\r\n" + "\r\n".join(lines) + "\r\n").encode("cp1252")
    status, job = call(base, "POST", "/imports", {"tags": ["messe"], "fileName": "kontakte.csv"})
    print(f"POST /imports -> {status}: job {job['id']} {job['status']}; upload policy for at most {job['upload']['maxBytes']:,} bytes")
    print(f"upload to S3 (the browser's multipart POST) -> {upload(job['upload'], data)}")
    worker = functions.load("transfer-worker")
    service = worker.worker.service
    service_read, transfers.BLOCK = service.bucket.read, 4 * 1024  # small blocks, so a small file shows progress

    def slow_read(*args: Any, **kwargs: Any) -> bytes:  # each block takes 40 simulated seconds: three per invocation
        CLOCK.advance(40)
        return service_read(*args, **kwargs)

    service.bucket.read = slow_read
    progress = []

    def report(_: list[dict[str, Any]]) -> None:  # what GET /imports/{id} shows (read directly: the API waits for LOCK)
        now = jobs.view(service.jobs.get({"id": job["id"]}))
        progress.append([len(progress) + 1, now["status"], f"{now['progress']['bytesDone']:,} / {now['progress']['bytesTotal']:,}",
                         now["progress"]["rowsDone"], now["totals"]["imported"]])

    queue = LambdaQueue(functions.env["transfer-worker"]["TRANSFERS_QUEUE_URL"], worker.handler, CLOCK, timeout=120.0, after=report)
    with LOCK:
        queue.run(horizon=3_600)
    print(table(progress, ["invocation", "status", "bytes done", "rows done", "imported"]))
    _, done = call(base, "GET", f"/imports/{job['id']}")
    print(f"GET /imports/{job['id']} -> {done['status']}: {done['totals']}; e-mail column {done['emailColumn']}; "
          f"invalid row {done['invalidRows'][0]['row']}: {done['invalidRows'][0]['reason']}; report link: {'download' in done}")
    assert done["status"] == "completed" and done["totals"]["imported"] == 599, done


def main() -> int:
    if not PLAN.exists():
        print(f"{PLAN} is missing: run `make synth` first", file=sys.stderr)
        return 2
    plan = json.loads(PLAN.read_text())
    endpoint = start_aws()
    functions = Functions(plan)
    server = serve_api(functions)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"moto (AWS) at {endpoint}; {len(functions.tables)} tables from the {STAGE} plan; API at {base}")
    if "--serve" in sys.argv:
        print(f"\nAPI up (auth off locally). Try:\n  curl -s {base}/health\n  curl -s -X POST {base}/leads "
              f"-H 'content-type: application/json' -d '{{\"email\": \"jane@example.com\", \"firstName\": \"Jane\"}}'\n"
              f"  curl -s -X POST {base}/imports   (then POST the file to upload.url with upload.fields, as a browser form;\n"
              "  transfer-worker takes the upload's S3 event within a second; GET /imports/{id} shows its progress)\n"
              "Ctrl-C to stop.")
        work_in_background(functions, "transfer-worker", "TRANSFERS_QUEUE_URL")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    import time

    from simulator.clock import Clock

    global CLOCK
    CLOCK = Clock(time.time())
    with CLOCK.installed():
        scenario(functions, base)
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
