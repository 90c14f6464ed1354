#!/usr/bin/env python3
"""Pivotr Mailer: one Terraform plan per stage, plus the bootstrap stack for state.

    bootstrap (local state) ── state bucket (versioned, KMS, TLS-only, prevent_destroy)
    dev | staging | prod (S3 state, one key each), each MailerStack:
        Data ── tables, work queues, transfer bucket, secrets
        Functions ── every function from one archive
        SendingPipeline ── api-campaigns' ticks → send-email → SES → topic → process-feedback; verify-email
        Imports ── lead-import, transfer-worker (files of any size through the bucket)
        Api ── HTTP API, Cognito, the routes of modules/routes.py
        Observability ── alarms, dashboard, budget, anomaly monitor

This is the only module that reads the process environment.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from modules import bindings

try:  # which CDK toolchain builds the plans (docs/toolchains.md): chosen before modules.tf loads it
    bindings.select(os.environ.get("TOOLCHAIN", bindings.DEFAULT_TOOLCHAIN))
except bindings.ToolchainUnavailable as error:
    sys.exit(f"configuration error: {error}")

from modules import rules, tf  # tf first: loads only the provider submodules we use
from modules.catalog import VENDORED
from modules.config import AppConfig, ConfigError, StageConfig, StateBackend, load
from modules.naming import BOOTSTRAP_STACK, Naming, stack_name
from modules.packaging import Archive, build_archive
from modules.stack import AwsStack
from modules.stage import Api, Data, Functions, Imports, Observability, SendingPipeline
from modules.state_bucket import StateBucket

ROOT = Path(__file__).resolve().parent
LAMBDA_SOURCE = ROOT / "lambda_src"


class BootstrapStack(AwsStack):
    """Creates the state bucket; keeps its own state locally (it cannot live in itself yet)."""

    def __init__(self, scope: tf.Construct, *, state: StateBackend, tags: dict[str, str]) -> None:
        super().__init__(scope, BOOTSTRAP_STACK, region=state.region, tags=tags)
        # Relative to the stack's working directory: cdktf.out/stacks/<stack>/ -> repository root.
        tf.LocalBackend(self, path="../../../bootstrap.tfstate")
        bucket = StateBucket(self, "state", bucket_name=state.bucket)
        tf.TerraformOutput(self, "state_bucket", value=bucket.bucket.bucket)


class MailerStack(AwsStack):
    """One stage of the mailer, as the architecture diagram draws it (README); the parts are in modules/stage.py."""

    def __init__(self, scope: tf.Construct, *, config: StageConfig, state: StateBackend, archive: Archive) -> None:
        naming = Naming.of(config)
        super().__init__(
            scope, stack_name(config.stage), region=config.region, tags=naming.tags, account_id=config.account_id
        )
        self.use_remote_state(state, key=state.key(config.stage))

        data = Data(self, config, naming)  # tables, the transfer bucket, secrets
        functions = Functions(self, config, naming, archive)  # every function, one archive
        sending = SendingPipeline(self, config, naming, data, functions)  # campaigns → SES → feedback; verification
        Imports(data, functions)  # small files at once, any size as jobs
        api = Api(self, config, naming, data, functions)  # HTTP API, Cognito, public routes contained
        functions.seal()
        observability = Observability(self, config, naming, data, functions,
                                      [data.sending, data.verification, data.transfers, sending.ses.feedback_queue], api)

        outputs = {
            "api_url": api.http.url,
            "dashboard_url": observability.monitoring.dashboard_url,
            "sending_queue_url": data.sending.url,
            "verification_queue_url": data.verification.url,
            "transfers_queue_url": data.transfers.url,
            "transfers_bucket": data.transfer_bucket.name,
            "feedback_queue_url": sending.ses.feedback_queue.url,
            **{f"{name}_table": t.table_name for name, t in data.tables.items()},
        }
        if api.users is not None:
            outputs |= {"user_pool_id": api.users.pool.id, "user_pool_client_id": api.users.client.id}
        for key, value in outputs.items():
            tf.TerraformOutput(self, key, value=value)


def build(app: tf.App, config: AppConfig, archive: Archive) -> None:
    BootstrapStack(app, state=config.state, tags=Naming(stage="shared").tags)
    for stage in config.stages:
        MailerStack(app, config=stage, state=config.state, archive=archive)


def main(environ: Mapping[str, str]) -> int:
    try:
        config = load(environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    outdir = environ.get("CDKTF_OUTDIR", "cdktf.out")
    with tempfile.TemporaryDirectory(prefix="pivotr-build-") as build_dir:
        archive = build_archive(LAMBDA_SOURCE, Path(build_dir) / "lambda.zip", vendor=VENDORED)
        app = tf.App(outdir=outdir, stack_traces=False)
        build(app, config, archive)
        app.synth()
    return report(Path(outdir))


def report(outdir: Path) -> int:
    """One line per stack, then every rule finding; non-zero when a rule fails."""
    findings: list[rules.Finding] = []
    plans = []
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        plan = json.loads(stack_file.read_text())
        plans.append(plan)
        resources = sum(len(items) for items in plan.get("resource", {}).values())
        backend = next(iter(plan.get("terraform", {}).get("backend", {"none": {}})))
        stack_findings = rules.run(plan)
        findings += stack_findings
        print(
            f"{stack_file.parent.name}: {resources} resources, {len(plan.get('output', {}))} outputs, "
            f"{backend} state, {len(stack_findings)} rule findings"
        )
    findings += rules.run_across(plans)
    for finding in findings:
        print(f"rule failed: {finding}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
