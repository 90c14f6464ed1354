"""An import job at 1,000,000 rows: AWS requests per lead, worker invocations, the worker's peak
memory and rows per second of its CPU.

Each size runs in its own process (``python bench/transfer_bench.py ROWS CSV``), so its peak resident
memory is the worker's alone. Stand-ins, said in the table: moto serves the jobs table, the suppression
list and the queues from the dev plan; S3's ranged GetObject is answered from the file on disk and
the leads table's BatchGetItem/BatchWriteItem are answered by a stand-in that keeps nothing (every
address in the file is new and unique, the table starts empty), so neither holds the file in the
worker's memory. Every request still goes through botocore and is counted.

Invocations: the worker's remaining time falls at LAMBDA_CPU_FACTOR times this process's CPU time (a
512 MB function has about 0.29 of a vCPU); DynamoDB and S3 latency are not simulated.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = tuple(int(n) for n in os.environ.get("BENCH_TRANSFER_ROWS", "100000,1000000").split(","))
LAMBDA_CPU_FACTOR = 3.4  # a 512 MB function's CPU is about 1/3.4 of one core here
WORKER_TIMEOUT_MS = 120_000  # modules/catalog.py
REQUESTS_GOAL = 0.06  # per imported lead


def write_file(path: Path, rows: int) -> None:
    """A CRM export: header, then ``rows`` contacts, each address unique."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("First Name,Last Name,Email,Company,Phone\r\n")
        for i in range(rows):
            out.write(f"First{i},Last{i},contact{i}@company{i % 5000}.example.com,Company {i % 977},+1 555 {i:07d}\r\n")


class StandIns:
    """botocore ``before-call`` answers for what would hold the file in memory; counts every request."""

    def __init__(self, path: Path, leads_table: str) -> None:
        self.path, self.leads_table = path, leads_table
        self.calls: Counter[str] = Counter()
        self.written = 0

    def install(self, events: Any) -> None:
        events.register("before-parameter-build.*.*", self._remember)
        events.register("before-call.s3.GetObject", self._get_object)
        events.register("before-call.dynamodb.BatchGetItem", self._batch_get)
        events.register("before-call.dynamodb.BatchWriteItem", self._batch_write)
        events.register("after-call.*.*", self._count)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _count(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.split(".", 1)[1]] += 1

    @staticmethod
    def _ok() -> Any:
        from botocore.awsrequest import AWSResponse

        return AWSResponse("https://stand-in", 200, {}, None)

    def _get_object(self, context: dict[str, Any], **_: Any) -> Any:
        import io

        start, end = (int(n) for n in context["api_params"]["Range"].removeprefix("bytes=").split("-"))
        with self.path.open("rb") as source:
            source.seek(start)
            data = source.read(end - start + 1)
        return self._ok(), {"Body": io.BytesIO(data), "ContentLength": len(data), "ResponseMetadata": {"HTTPStatusCode": 206}}

    def _batch_get(self, context: dict[str, Any], **_: Any) -> Any:
        tables = context["api_params"]["RequestItems"]
        if set(tables) != {self.leads_table}:
            return None  # not the leads table: moto answers
        return self._ok(), {"Responses": {self.leads_table: []}, "UnprocessedKeys": {}, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _batch_write(self, context: dict[str, Any], **_: Any) -> Any:
        tables = context["api_params"]["RequestItems"]
        if set(tables) != {self.leads_table}:
            return None
        self.written += len(tables[self.leads_table])
        return self._ok(), {"UnprocessedItems": {}, "ResponseMetadata": {"HTTPStatusCode": 200}}


def worker_process(rows: int, path: Path) -> dict[str, Any]:
    """In a process of its own: the job over the file, driven invocation by invocation."""
    import boto3
    from moto import mock_aws

    sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
    from simulator import moto_speed
    from simulator.provision import create_tables, resolve_environment

    plan = json.loads((Path(os.environ["BENCH_PLAN"]) / "stacks" / "pivotr-mailer-dev" / "cdk.tf.json").read_text())
    [function] = [f for f in plan["resource"]["aws_lambda_function"].values() if f["function_name"].endswith("transfer-worker")]
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="ap-south-1",
                      POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_LOG_LEVEL="WARNING")
    moto_speed.install()
    with mock_aws():
        stand_ins = StandIns(path, "pivotr-mailer-dev-leads")  # before any client: clients copy the session's hooks
        stand_ins.install(boto3._get_default_session().events)
        create_tables(plan)
        env = resolve_environment(plan, function["environment"]["variables"])
        os.environ.update(env)
        from pivotr.env import TransferEnv
        from pivotr.routes.transfers import transfers
        from pivotr.services.transfers import upload_key

        service = transfers(TransferEnv.load())
        size = path.stat().st_size
        job_id = "im_bench"
        boto3.client("s3").put_object(Bucket=env["TRANSFERS_BUCKET"], Key=upload_key("im_bench"), Body=b"")  # stands for the file
        service.jobs.create({"id": job_id, "kind": "import", "status": "processing", "createdAt": "t", "updatedAt": "t",
                             "options": {"onDuplicate": "skip", "verify": False, "tags": []}, "step": 0, "offset": 0,
                             "rowNumber": 0, "totals": {}, "bytesTotal": size, "etag": '"bench"', "key": upload_key(job_id)})
        assert stand_ins.leads_table == env["LEADS_TABLE"]
        stand_ins.calls.clear()  # from here on: the worker's requests only
        invocations, cpu_start = 0, time.process_time()
        while True:
            invocations += 1
            began = time.process_time()
            more = service.go_on(job_id, lambda: int(WORKER_TIMEOUT_MS - (time.process_time() - began) * 1000 * LAMBDA_CPU_FACTOR))
            if not more:
                break
        cpu = time.process_time() - cpu_start
        job = service.jobs.get({"id": job_id})
    requests = sum(stand_ins.calls.values())
    imported = job["totals"]["imported"]
    return {"rows": rows, "bytes": size, "status": job["status"], "imported": imported, "written": stand_ins.written,
            "requests": requests, "by_operation": dict(stand_ins.calls), "invocations": invocations, "cpu": cpu,
            "peak_rss_mb": peak_resident_mb()}


def peak_resident_mb() -> float:
    """This process's peak resident memory since it started (VmHWM). Not ru_maxrss: Linux keeps that
    across fork and exec, so a child would report its parent's peak (the bench's, with moto's tables)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def run(outdir: Path) -> list[tuple[str, str]]:
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SIZES:
            path = Path(tmp) / f"contacts-{rows}.csv"
            write_file(path, rows)
            out = subprocess.run([sys.executable, __file__, str(rows), str(path)], check=True, capture_output=True, text=True,
                                 env={**os.environ, "BENCH_PLAN": str(outdir)})
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            path.unlink()
    largest = results[-1]
    per_lead = largest["requests"] / largest["imported"]
    rows = [(f"import job, {r['rows']:,} rows ({r['bytes'] / 1e6:.0f} MB): status / imported / worker invocations",
             f"{r['status']} / {r['imported']:,} / {r['invocations']} (remaining time falling at {LAMBDA_CPU_FACTOR}x this "
             f"process's CPU; stand-ins: S3 reads from disk, leads table keeps nothing)") for r in results]
    rows += [
        (f"... {largest['rows']:,} rows: AWS requests per imported lead (S3 reads included)",
         f"{per_lead:.4f} ({'meets' if per_lead <= REQUESTS_GOAL else 'MISSES'} goal <= {REQUESTS_GOAL})"),
        ("... requests by operation", ", ".join(f"{op} {n:,}" for op, n in sorted(largest["by_operation"].items()))),
        ("... worker rows per second of its own CPU", f"{largest['rows'] / largest['cpu']:,.0f} rows/s ({largest['cpu']:.1f} CPU s)"),
        ("... worker peak resident memory by file size (flat: it streams)",
         ", ".join(f"{r['rows']:,} rows {r['peak_rss_mb']:.0f} MB" for r in results)
         + f" (ratio largest / smallest {largest['peak_rss_mb'] / results[0]['peak_rss_mb']:.2f}; interpreter, boto3 and moto included)"),
    ]
    return rows


if __name__ == "__main__":
    print(json.dumps(worker_process(int(sys.argv[1]), Path(sys.argv[2]))))
