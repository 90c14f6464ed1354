#!/usr/bin/env python3
"""Pivotr Mailer: one Terraform plan per stage, plus the bootstrap stack for state.

    bootstrap (local state) ── state bucket (versioned, KMS, TLS-only, prevent_destroy)
    dev | staging | prod (S3 state, one key each)
        api-metrics ── GET /health
        lead-import ── POST /imports ──> pre-signed POST ──> transfer bucket (uploads/)
        transfer bucket ── S3 event ──> transfers queue ──> transfer-worker ──> leads; reports/, exports/

This is the only module that reads the process environment.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from modules import bindings

try:  # which CDK toolchain builds the plans (docs/toolchains.md): chosen before modules.tf loads it
    bindings.select(os.environ.get("TOOLCHAIN", bindings.DEFAULT_TOOLCHAIN))
except bindings.ToolchainUnavailable as error:
    sys.exit(f"configuration error: {error}")

from modules import rules, tf  # tf first: loads only the provider submodules we use
from modules.config import AppConfig, ConfigError, StageConfig, StateBackend, load
from modules.api import ApiProps, HttpApi, Throttle, UserPool
from modules.bucket import TransferBucket, TransferBucketProps
from modules.catalog import FUNCTIONS, POWERTOOLS_LAYER_PARAMETER, TABLES, VENDORED
from modules.function import LambdaCode, PythonFunction
from modules.metrics import Metric
from modules.monitoring import Monitoring
from modules.naming import BOOTSTRAP_STACK, Naming, stack_name
from modules.packaging import Archive, build_archive
from modules.queues import Queue, QueueProps, QueueRef
from modules.secrets import Secret
from modules.ses import Ses
from modules.stack import AwsStack
from modules.state_bucket import StateBucket
from modules.tables import Table, TableProps

ROOT = Path(__file__).resolve().parent
# Public routes get their own, lower throttling (per route, requests per second / burst), so an
# unauthenticated flood is refused at the API before it reaches a function (docs/security.md).
PUBLIC_UNSUBSCRIBE_THROTTLE = Throttle(rate=10, burst=20)
PUBLIC_HEALTH_THROTTLE = Throttle(rate=5, burst=10)
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
    """One stage of the mailer; reads like the architecture diagram in the README."""

    def __init__(self, scope: tf.Construct, *, config: StageConfig, state: StateBackend, archive: Archive) -> None:
        naming = Naming.of(config)
        super().__init__(
            scope, stack_name(config.stage), region=config.region, tags=naming.tags, account_id=config.account_id
        )
        self.use_remote_state(state, key=state.key(config.stage))

        # Data
        def table(props: TableProps) -> Table:
            return Table(self, f"table-{props.name}", props=replace(props, protect=config.protect_data),
                         table_name=naming.name(props.name))

        tables = tuple(table(props) for props in TABLES)
        leads, campaigns, templates, logs, metrics, settings, recipients, suppression, jobs = tables

        # Work queues (visibility = 6x the consumer's timeout)
        sending = Queue(self, "queue-sending", queue_name=naming.name("sending"),
                        props=QueueProps(name="sending", visibility_timeout=6 * 30, max_receive_count=3))
        verification = Queue(self, "queue-verification", queue_name=naming.name("verification"),
                             props=QueueProps(name="verification", visibility_timeout=6 * 15, max_receive_count=2))
        transfer_work = Queue(self, "queue-transfers", queue_name=naming.name("transfers"),
                              props=QueueProps(name="transfers", visibility_timeout=6 * 120, max_receive_count=3))

        # Files: uploads to import, invalid-row reports, exports
        transfer_bucket = TransferBucket(self, "transfer-bucket", bucket_name=naming.name("transfers"), props=TransferBucketProps(
            cors_origins=config.cors_origins, retention_days=config.transfer_retention_days, protect=config.protect_data))
        transfer_bucket.notify_uploads(transfer_work)

        # Mail and secrets
        ses = Ses(self, "ses", config=config.ses, naming=naming, region=config.region, account=self.account_id)
        verifier_key = Secret(self, "secret-verifier", short_name="verifier-api-key",
                              secret_name=naming.name("verifier-api-key"),
                              description="MyEmailVerifier API key (value set outside Terraform)")
        unsubscribe_key = Secret(self, "secret-unsubscribe", short_name="unsubscribe-signing-key",
                                 secret_name=naming.name("unsubscribe-signing-key"),
                                 description="HMAC key for unsubscribe tokens (value set outside Terraform)")

        # Functions
        code = LambdaCode(self, "lambda-code", archive=archive)
        powertools = tf.DataAwsSsmParameter(self, "powertools-layer", name=POWERTOOLS_LAYER_PARAMETER).insecure_value  # a public, non-secret ARN
        fns = {
            props.name: PythonFunction(self, props.name, props=props, code=code, naming=naming,
                                       log_retention_days=config.log_retention_days, layers=(powertools,))
            for props in FUNCTIONS
        }
        send_email, verify_email, process_feedback = fns["send-email"], fns["verify-email"], fns["process-feedback"]
        lead_import, transfer_worker, api_leads, api_campaigns, api_metrics, api_unsubscribe = (
            fns["lead-import"], fns["transfer-worker"], fns["api-leads"], fns["api-campaigns"], fns["api-metrics"],
            fns["api-unsubscribe"])

        send_email.add_sqs_source(sending)
        sending.connect_producer(send_email)  # dispatch ticks queue paced sends and the next tick
        verification.connect_producer(send_email)  # campaigns that verify their audience first
        ses.connect_sender(send_email)
        unsubscribe_key.connect(send_email)
        # Table operations as the code performs them (the handler tests check each call against these)
        leads.connect(send_email, "batch_get", "scan")  # snapshot (the table in key order), re-check at send time
        suppression.connect(send_email, "batch_get")  # snapshot and send both check the suppression list
        campaigns.connect(send_email, "get", "update", "condition_check")  # ticks commit; claims check the run
        templates.connect(send_email, "get", "condition_check")  # claims check the cached version
        recipients.connect(send_email, "batch_get", "put", "update", "query", indexes=("open-index",))
        logs.connect(send_email, "put")
        metrics.connect(send_email, "update")
        settings.connect(send_email, "get", "put")  # the account's SES rate book, shared by every release (data/rate.py)

        verify_email.add_sqs_source(verification)
        verifier_key.connect(verify_email)
        verify_email.add_environment("VERIFIER_BASE_URL", config.verifier_base_url)
        leads.connect(verify_email, "get", "update")
        recipients.connect(verify_email, "update")  # hands a verified recipient back to the release gate

        ses.connect_feedback(process_feedback)  # the queue, and which topic's notifications are authentic
        leads.connect(process_feedback, "update")  # suppress
        suppression.connect(process_feedback, "put")
        campaigns.connect(process_feedback, "get", "update")  # auto-pause
        recipients.connect(process_feedback, "update")  # reconcile from Send events
        logs.connect(process_feedback, "put")
        metrics.connect(process_feedback, "query", "update")

        verification.connect_producer(lead_import)
        unsubscribe_key.connect(lead_import)  # nextTokens of /imports and /exports
        leads.connect(lead_import, "batch_get", "batch_write", "update")
        suppression.connect(lead_import, "batch_get")  # a re-imported address keeps its suppression
        jobs.connect(lead_import, "get", "put", indexes=("kind-index",))  # creates and shows import and export jobs
        transfer_work.connect_producer(lead_import)  # an export job's first message
        transfer_bucket.connect(lead_import)
        transfer_bucket.grant_sign_uploads(lead_import)
        transfer_bucket.grant_sign_downloads(lead_import)

        transfer_worker.add_sqs_source(transfer_work, batch_size=1, batching_window=0)  # one job's block per invocation
        transfer_work.connect_producer(transfer_worker)  # "go on with job X" when its time runs short
        transfer_bucket.connect(transfer_worker)
        transfer_bucket.grant_process(transfer_worker)
        jobs.connect(transfer_worker, "get", "update")  # conditional checkpoints
        leads.connect(transfer_worker, "batch_get", "batch_write", "update", "scan", indexes=("status-index",))
        recipients.connect(transfer_worker, "query")  # exports of a campaign's recipients
        suppression.connect(transfer_worker, "scan")  # a job reads the whole list once per invocation
        verification.connect_producer(transfer_worker)

        unsubscribe_key.connect(api_leads)  # nextTokens: signed with a key derived from the ring
        leads.connect(api_leads, "get", "put", "update", "delete", "scan", indexes=("status-index",))
        logs.connect(api_leads, indexes=("lead-index",))  # history
        suppression.connect(api_leads, "get", "put")  # a new lead keeps its suppression; an opt-out taken by hand

        unsubscribe_key.connect(api_unsubscribe)  # verifies the links' signatures
        leads.connect(api_unsubscribe, "update")  # the lead's status, with the counter in one transaction
        metrics.connect(api_unsubscribe, "update")  # unsubscribe counter
        suppression.connect(api_unsubscribe, "put")  # the opt-out outlives the lead record

        sending.connect_producer(api_campaigns)  # the first dispatch tick of a start or resume
        unsubscribe_key.connect(api_campaigns)  # nextTokens: signed with a key derived from the ring
        api_campaigns.add_environment("SES_FROM_EMAIL", config.ses.from_email)
        api_campaigns.add_environment("SES_IDENTITY_DOMAIN", config.ses.identity_domain)
        campaigns.connect(api_campaigns, "get", "put", "update", "scan")
        templates.connect(api_campaigns, "get", "put", "update", "delete", "scan")
        recipients.connect(api_campaigns, indexes=("open-index",))  # a pause says how many e-mails are in flight

        metrics.connect(api_metrics, "query")
        campaigns.connect(api_metrics, "get")

        # HTTP API: Cognito JWT on every route but /health and /unsubscribe
        users = UserPool(self, "users", naming=naming, protect=config.protect_data) if config.api_auth == "cognito" else None
        api = HttpApi(self, "http-api", naming=naming, region=config.region, user_pool=users, props=ApiProps(
            cors_origins=config.cors_origins, auth=config.api_auth, throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst, log_retention_days=config.log_retention_days))
        api.add_routes(api_metrics, "GET /health", public=True, throttle=PUBLIC_HEALTH_THROTTLE)
        api.add_routes(api_unsubscribe, "GET /unsubscribe", "POST /unsubscribe", public=True, throttle=PUBLIC_UNSUBSCRIBE_THROTTLE)
        api.add_routes(api_leads, "GET /leads", "POST /leads", "GET /leads/{id}", "PUT /leads/{id}",
                       "DELETE /leads/{id}", "GET /leads/{id}/history")
        api.add_routes(lead_import, "POST /leads/import", "POST /imports", "GET /imports", "GET /imports/{id}",
                       "POST /exports", "GET /exports", "GET /exports/{id}")
        api.add_routes(api_campaigns, "GET /campaigns", "POST /campaigns", "GET /campaigns/{id}", "PUT /campaigns/{id}",
                       "POST /campaigns/{id}/start", "POST /campaigns/{id}/pause", "POST /campaigns/{id}/abort",
                       "GET /templates", "POST /templates", "GET /templates/{id}", "PUT /templates/{id}",
                       "DELETE /templates/{id}")
        api.add_routes(api_metrics, "GET /metrics/dashboard", "GET /metrics/campaign/{id}")
        send_email.add_environment("UNSUBSCRIBE_BASE_URL", f"{api.url}unsubscribe")
        for fn in fns.values():  # connections are complete: write each derived policy and environment once
            fn.seal()

        # Monitoring and cost
        monitoring = Monitoring(self, "monitoring", naming=naming, alarm_email=config.alarm_email, region=config.region,
                                account=self.account_id)
        for fn in fns.values():
            monitoring.alarm(f"{fn.props.name}-errors", fn.metric_errors(), threshold=10,
                             comparison="GreaterThanThreshold", description=f"{fn.function_name}: more than 10 errors in 5 minutes")
            monitoring.alarm(f"{fn.props.name}-duration", fn.metric_duration(), threshold=0.8 * fn.props.timeout * 1000,
                             comparison="GreaterThanThreshold",
                             description=f"{fn.function_name}: average duration above 80 % of its {fn.props.timeout} s timeout")
            monitoring.alarm_dlq(f"{fn.props.name}-async-dlq", fn.async_dlq_ref.metric_visible_messages(),
                                 description=f"{fn.function_name}: failed async invocations")
        for t in tables:
            monitoring.alarm(f"{t.props.name}-throttles", t.metric_throttle_events(), threshold=0,
                             comparison="GreaterThanThreshold", description=f"{t.table_name}: throttled requests")
        work_queues: list[QueueRef] = [sending, verification, transfer_work, ses.feedback_queue]
        for q in work_queues:
            monitoring.alarm(f"{q.short_name}-age", q.metric_age_of_oldest_message(), threshold=3600,
                             comparison="GreaterThanThreshold", description=f"{q.queue_name}: a message waited over an hour")
            if q.dlq is not None:
                monitoring.alarm_dlq(f"{q.short_name}-dlq", q.dlq.metric_visible_messages(),
                                     description=f"{q.queue_name}: messages in the DLQ")
        monitoring.alarm("api-5xx", api.metric_server_errors(), threshold=0, comparison="GreaterThanThreshold",
                         description="HTTP API answered 5xx")
        monitoring.alarm_ses_reputation()
        monitoring.alarm("feedback-rejected", Metric(naming.metrics_namespace, "RejectedFeedback", {"service": "process-feedback"}),
                         threshold=0, comparison="GreaterThanThreshold",
                         description="process-feedback dropped messages that are not authentic SES notifications of this "
                                     "stage's topic: someone else can write to the feedback queue (docs/security.md)")
        monitoring.add_graph("Lambda invocations", [fn.metric_invocations() for fn in fns.values()])
        monitoring.add_graph("Lambda errors", [fn.metric_errors() for fn in fns.values()])
        monitoring.add_graph("Lambda duration (avg ms)", [fn.metric_duration() for fn in fns.values()])
        monitoring.add_graph("DynamoDB consumed capacity", [
            t.metric(name) for t in tables
            for name in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")])
        monitoring.add_graph("DynamoDB throttles", [
            t.metric(name) for t in tables
            for name in ("ReadThrottleEvents", "WriteThrottleEvents")])
        monitoring.add_graph("Queue depth", [q.metric_visible_messages() for q in work_queues])
        monitoring.add_graph("Queue age of oldest message (s)", [q.metric_age_of_oldest_message() for q in work_queues])
        monitoring.add_graph("API latency (p90 ms) and errors", [api.metric_latency(), api.metric("4xx"), api.metric_server_errors()])
        monitoring.add_graph("SES", [Metric("AWS/SES", name) for name in ("Send", "Delivery", "Bounce", "Complaint")])
        monitoring.dashboard()
        monitoring.budget(config.monthly_budget_usd)

        # Outputs
        outputs = {
            "api_url": api.url,
            "dashboard_url": monitoring.dashboard_url,
            "sending_queue_url": sending.url,
            "verification_queue_url": verification.url,
            "transfers_queue_url": transfer_work.url,
            "transfers_bucket": transfer_bucket.name,
            "feedback_queue_url": ses.feedback_queue.url,
            **{f"{t.props.name}_table": t.table_name for t in tables},
        }
        if users is not None:
            outputs |= {"user_pool_id": users.pool.id, "user_pool_client_id": users.client.id}
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
