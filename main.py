#!/usr/bin/env python3
"""Pivotr Mailer: one Terraform plan per stage, plus the bootstrap stack for state.

    bootstrap (local state) ── state bucket (versioned, KMS, TLS-only, prevent_destroy)
    dev | staging | prod (S3 state, one key each)
        api-metrics ── GET /health

This is the only module that reads the process environment.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from modules import rules, tf  # tf first: loads only the provider submodules we use
from modules.config import AppConfig, ConfigError, StageConfig, StateBackend, load
from modules.function import FunctionProps, LambdaCode, PythonFunction
from modules.naming import BOOTSTRAP_STACK, Naming, stack_name
from modules.packaging import Archive, build_archive
from modules.stack import AwsStack
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
    """One stage of the mailer."""

    def __init__(self, scope: tf.Construct, *, config: StageConfig, state: StateBackend, archive: Archive) -> None:
        naming = Naming.of(config)
        super().__init__(
            scope, stack_name(config.stage), region=config.region, tags=naming.tags, account_id=config.account_id
        )
        self.use_remote_state(state, key=state.key(config.stage))
        code = LambdaCode(self, "lambda-code", archive=archive)

        def function(props: FunctionProps) -> PythonFunction:
            return PythonFunction(
                self, props.name, props=props, code=code, naming=naming,
                log_retention_days=config.log_retention_days,
            )

        function(
            FunctionProps(
                name="api-metrics", handler="handlers.api_metrics.handler",
                timeout=10, memory=256, reserved_concurrency=10,
                description="Health check and campaign metrics API",
            )
        )


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
        archive = build_archive(LAMBDA_SOURCE, Path(build_dir) / "lambda.zip")
        app = tf.App(outdir=outdir, stack_traces=False)
        build(app, config, archive)
        app.synth()
    return report(Path(outdir))


def report(outdir: Path) -> int:
    """One line per stack, then every rule finding; non-zero when a rule fails."""
    findings: list[rules.Finding] = []
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        plan = json.loads(stack_file.read_text())
        resources = sum(len(items) for items in plan.get("resource", {}).values())
        backend = next(iter(plan.get("terraform", {}).get("backend", {"none": {}})))
        stack_findings = rules.run(plan)
        findings += stack_findings
        print(
            f"{stack_file.parent.name}: {resources} resources, {len(plan.get('output', {}))} outputs, "
            f"{backend} state, {len(stack_findings)} rule findings"
        )
    for finding in findings:
        print(f"rule failed: {finding}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
