"""Cold import time of each handler (vs `import boto3` alone), and prod's idle monthly cost from the plan."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = 7  # handler/boto3 import pairs per handler

# Public list prices, us-east-1 / ap-south-1 where equal, checked 2026-11-25 (USD per month unless noted).
PRICES = {
    "aws_cloudwatch_metric_alarm": 0.10,  # per standard-resolution alarm metric
    "aws_cloudwatch_dashboard": 3.00,  # per dashboard beyond the 3 free ones (assumed used elsewhere)
    "aws_secretsmanager_secret": 0.40,  # per secret
    "aws_kms_key": 1.00,  # per customer managed key
    "aws_budgets_budget": 0.0,  # the first two budgets of an account are free; then $0.02 a day each
}
# Idle SQS polling by each Lambda event source mapping: about 5 pollers long-polling (20 s) = about
# 650,000 requests a month, at $0.40 per million after the free tier.
ESM_POLLING = 0.26  # USD per event source mapping per month
FREE_WHEN_IDLE = ("on-demand DynamoDB (PITR on empty tables), Lambda, HTTP API, SQS storage, SNS, "
                  "CloudWatch Logs, Cognito under 10,000 MAU, Cost Anomaly Detection")


def _import_once(module: str, env: dict[str, str], task: Path) -> float:
    """Seconds to import ``module`` in a fresh interpreter that cannot write bytecode (``-B``:
    /var/task is read-only), from ``task`` (the unpacked archive)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-B", "-c", code], cwd=task, env={**env, "PYTHONPATH": str(task)},
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def _paired(module: str, env: dict[str, str], base: dict[str, str], task: Path) -> tuple[float, float, float]:
    """``module`` and ``import boto3`` imported alternately (machine drift hits both): the medians of
    each and of their ratios, after one warm-up pair."""
    pairs = [(_import_once(module, env, task), _import_once("boto3", base, task)) for _ in range(PAIRS + 1)][1:]
    return (statistics.median(m for m, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(m / b for m, b in pairs))


# What Lambda's Python runtime sets that decides how Powertools starts: with LAMBDA_TASK_ROOT present
# and no POWERTOOLS_TRACE_DISABLED, the Tracer is on, as it is deployed (tracing_config Active).
LAMBDA_RUNTIME = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                  "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
                  "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"}
COLD_GOAL = 1.5  # x `import boto3`


def cold_imports(plan: dict, archive: Path) -> list[tuple[str, str]]:
    """Each handler imported as Lambda imports it: from the plan's archive unpacked (with the bytecode
    it ships), tracing on, the function's environment; against ``import boto3`` in the same run."""
    task = Path(tempfile.mkdtemp(prefix="pivotr-task-"))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(task)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHONPATH"))}
    base |= {"AWS_DEFAULT_REGION": "ap-south-1", **LAMBDA_RUNTIME, "LAMBDA_TASK_ROOT": str(task)}
    rows, baselines = [], []
    for function in sorted(plan["resource"]["aws_lambda_function"].values(), key=lambda f: f["function_name"]):
        module = function["handler"].rsplit(".", 1)[0]
        env = {**base, "AWS_LAMBDA_FUNCTION_NAME": function["function_name"],
               **{k: "x" if "${" in v else v for k, v in function["environment"]["variables"].items()}}
        seconds, baseline, ratio = _paired(module, env, base, task)
        baselines.append(baseline)
        verdict = "meets" if ratio <= COLD_GOAL else "MISSES"
        rows.append((f"cold import of {module}, tracing on as deployed",
                     f"{seconds * 1000:.0f} ms ({ratio:.2f}x boto3; {verdict} goal <= {COLD_GOAL}x)"))
    rows.insert(0, ("cold import of `boto3` alone (baseline, alternated with each handler; median "
                    f"of {PAIRS} pairs after a warm-up)", f"{statistics.median(baselines) * 1000:.0f} ms"))
    shutil.rmtree(task, ignore_errors=True)
    return rows


def idle_cost(plan: dict) -> list[tuple[str, str]]:
    resources = plan["resource"]
    lines, total = [], 0.0
    for rtype, price in PRICES.items():
        count = len(resources.get(rtype, {}))
        if count and price:
            lines.append(f"{count} {rtype.removeprefix('aws_')} x ${price:.2f}")
            total += count * price
    mappings = len(resources.get("aws_lambda_event_source_mapping", {}))
    lines.append(f"{mappings} SQS event source mappings polling x ${ESM_POLLING:.2f}")
    total += mappings * ESM_POLLING
    return [("prod idle monthly cost (list prices of 2026-11-25)", f"${total:.2f}: " + "; ".join(lines)),
            ("free while idle", FREE_WHEN_IDLE)]


def run(outdir: Path) -> list[tuple[str, str]]:
    dev = json.loads((outdir / "stacks" / "pivotr-mailer-dev" / "cdk.tf.json").read_text())
    prod = json.loads((outdir / "stacks" / "pivotr-mailer-prod" / "cdk.tf.json").read_text())
    [archive] = (outdir / "stacks" / "pivotr-mailer-dev" / "assets").rglob("lambda.zip")
    return cold_imports(dev, archive) + idle_cost(prod)
