"""The parts of one stage, as the architecture diagram draws them: data, functions, the sending
pipeline, imports, the HTTP API, observability. ``main.MailerStack`` composes them.

They are plain classes, not constructs: a construct adds a level to the path of every resource it
holds, which renames the resource in the plan, and Terraform would destroy and recreate it (a table's
data with it). Each part creates its resources in the stack itself, under the ids they always had;
the stage snapshots (tests/test_snapshots.py) prove the plan unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from modules import tf
from modules.api import ApiProps, HttpApi, UserPool
from modules.bucket import TransferBucket, TransferBucketProps
from modules.catalog import FUNCTIONS, POWERTOOLS_LAYER_PARAMETER, TABLES
from modules.config import StageConfig
from modules.function import LambdaCode, PythonFunction
from modules.metrics import Metric
from modules.monitoring import Monitoring
from modules.naming import Naming
from modules.packaging import Archive
from modules.queues import Queue, QueueProps, QueueRef
from modules.routes import ROUTES
from modules.secrets import Secret
from modules.ses import Ses
from modules.stack import AwsStack
from modules.tables import Table


class Data:
    """What the stage keeps: the tables (looked up by name: ``data.table("leads")``), the work queues,
    the transfer bucket and the secrets.

    Created before the functions, in this order: a role policy orders statements with the same actions
    by their resources' token text, which follows creation order (a work queue's ARN sorts before a
    function's own async DLQ), and the plan must not change when the code is rearranged."""

    def __init__(self, stack: tf.Construct, config: StageConfig, naming: Naming) -> None:
        self.tables = {props.name: Table(stack, f"table-{props.name}", props=replace(props, protect=config.protect_data),
                                         table_name=naming.name(props.name)) for props in TABLES}
        # Work queues (visibility = 6x the consumer's timeout)
        self.sending = Queue(stack, "queue-sending", queue_name=naming.name("sending"),
                             props=QueueProps(name="sending", visibility_timeout=6 * 30, max_receive_count=3))
        self.verification = Queue(stack, "queue-verification", queue_name=naming.name("verification"),
                                  props=QueueProps(name="verification", visibility_timeout=6 * 15, max_receive_count=2))
        self.transfers = Queue(stack, "queue-transfers", queue_name=naming.name("transfers"),
                               props=QueueProps(name="transfers", visibility_timeout=6 * 120, max_receive_count=3))
        # Files: uploads to import, invalid-row reports, exports
        self.transfer_bucket = TransferBucket(stack, "transfer-bucket", bucket_name=naming.name("transfers"), props=TransferBucketProps(
            cors_origins=config.cors_origins, retention_days=config.transfer_retention_days, protect=config.protect_data))
        self.transfer_bucket.notify_uploads(self.transfers)
        self.verifier_key = Secret(stack, "secret-verifier", short_name="verifier-api-key",
                                   secret_name=naming.name("verifier-api-key"),
                                   description="MyEmailVerifier API key (value set outside Terraform)")
        self.signing_key = Secret(stack, "secret-unsubscribe", short_name="unsubscribe-signing-key",
                                  secret_name=naming.name("unsubscribe-signing-key"),
                                  description="HMAC key for unsubscribe tokens (value set outside Terraform)")

    def table(self, name: str) -> Table:
        return self.tables[name]


class Functions:
    """Every function of the catalog from the one archive, each with its role, log group and async DLQ."""

    def __init__(self, stack: tf.Construct, config: StageConfig, naming: Naming, archive: Archive) -> None:
        code = LambdaCode(stack, "lambda-code", archive=archive)
        powertools = tf.DataAwsSsmParameter(stack, "powertools-layer", name=POWERTOOLS_LAYER_PARAMETER).insecure_value  # a public, non-secret ARN
        self.by_name = {props.name: PythonFunction(stack, props.name, props=props, code=code, naming=naming,
                                                   log_retention_days=config.log_retention_days, layers=(powertools,))
                        for props in FUNCTIONS}

    def __getitem__(self, name: str) -> PythonFunction:
        return self.by_name[name]

    def seal(self) -> None:
        """Connections are complete: write each derived policy and environment once."""
        for function in self.by_name.values():
            function.seal()


class SendingPipeline:
    """api-campaigns' ticks → sending queue → send-email → SES → the stage's topic → feedback queue →
    process-feedback; verify-email hands verified recipients back to the release gate."""

    def __init__(self, stack: AwsStack, config: StageConfig, naming: Naming, data: Data, functions: Functions) -> None:
        self.ses = Ses(stack, "ses", config=config.ses, naming=naming, region=config.region, account=stack.account_id)
        send_email, verify_email, process_feedback = functions["send-email"], functions["verify-email"], functions["process-feedback"]
        t = data.table

        send_email.add_sqs_source(data.sending)
        data.sending.connect_producer(send_email)  # dispatch ticks queue paced sends and the next tick
        data.verification.connect_producer(send_email)  # campaigns that verify their audience first
        self.ses.connect_sender(send_email)
        data.signing_key.connect(send_email)
        # Table operations as the code performs them (the handler tests check each call against these)
        t("leads").connect(send_email, "batch_get", "scan")  # snapshot (the table in key order), re-check at send time
        t("suppression").connect(send_email, "batch_get")  # snapshot and send both check the suppression list
        t("campaigns").connect(send_email, "get", "update", "condition_check")  # ticks commit; claims check the run
        t("templates").connect(send_email, "get", "condition_check")  # claims check the cached version
        t("recipients").connect(send_email, "batch_get", "put", "update", "query", indexes=("open-index",))
        t("logs").connect(send_email, "put")
        t("metrics").connect(send_email, "update")
        t("settings").connect(send_email, "get", "put")  # the account's SES rate book, shared by every release (data/rate.py)

        verify_email.add_sqs_source(data.verification)
        data.verifier_key.connect(verify_email)
        verify_email.add_environment("VERIFIER_BASE_URL", config.verifier_base_url)
        t("leads").connect(verify_email, "get", "update")
        t("recipients").connect(verify_email, "update")  # hands a verified recipient back to the release gate

        self.ses.connect_feedback(process_feedback)  # the queue, and which topic's notifications are authentic
        t("leads").connect(process_feedback, "update")  # suppress
        t("suppression").connect(process_feedback, "put")
        t("campaigns").connect(process_feedback, "get", "update")  # auto-pause
        t("recipients").connect(process_feedback, "update")  # reconcile from Send events
        t("logs").connect(process_feedback, "put")
        t("metrics").connect(process_feedback, "query", "update")


class Imports:
    """lead-import (small files at once; creates jobs) and transfer-worker (jobs of any size, through
    the transfer bucket and the transfers queue)."""

    def __init__(self, data: Data, functions: Functions) -> None:
        work, bucket, lead_import, transfer_worker, t = data.transfers, data.transfer_bucket, functions["lead-import"], functions["transfer-worker"], data.table

        data.verification.connect_producer(lead_import)
        data.signing_key.connect(lead_import)  # nextTokens of /imports and /exports
        t("leads").connect(lead_import, "batch_get", "batch_write", "update")
        t("suppression").connect(lead_import, "batch_get")  # a re-imported address keeps its suppression
        t("jobs").connect(lead_import, "get", "put", indexes=("kind-index",))  # creates and shows import and export jobs
        work.connect_producer(lead_import)  # an export job's first message
        bucket.connect(lead_import)
        bucket.grant_sign_uploads(lead_import)
        bucket.grant_sign_downloads(lead_import)

        transfer_worker.add_sqs_source(work, batch_size=1, batching_window=0)  # one job's block per invocation
        work.connect_producer(transfer_worker)  # "go on with job X" when its time runs short
        bucket.connect(transfer_worker)
        bucket.grant_process(transfer_worker)
        t("jobs").connect(transfer_worker, "get", "update")  # conditional checkpoints
        t("leads").connect(transfer_worker, "batch_get", "batch_write", "update", "scan", indexes=("status-index",))
        t("recipients").connect(transfer_worker, "query")  # exports of a campaign's recipients
        t("suppression").connect(transfer_worker, "scan")  # a job reads the whole list once per invocation
        data.verification.connect_producer(transfer_worker)


class Api:
    """The HTTP API: Cognito JWT on every route but the public ones (``modules.routes``), and what the
    API functions reach behind it."""

    def __init__(self, stack: tf.Construct, config: StageConfig, naming: Naming, data: Data, functions: Functions) -> None:
        api_leads, api_unsubscribe, api_campaigns, api_metrics = (
            functions["api-leads"], functions["api-unsubscribe"], functions["api-campaigns"], functions["api-metrics"])
        t = data.table
        data.signing_key.connect(api_leads)  # nextTokens: signed with a key derived from the ring
        t("leads").connect(api_leads, "get", "put", "update", "delete", "scan", indexes=("status-index",))
        t("logs").connect(api_leads, indexes=("lead-index",))  # history
        t("suppression").connect(api_leads, "get", "put")  # a new lead keeps its suppression; an opt-out taken by hand

        data.signing_key.connect(api_unsubscribe)  # verifies the links' signatures
        t("leads").connect(api_unsubscribe, "update")  # the lead's status, with the counter in one transaction
        t("metrics").connect(api_unsubscribe, "update")  # unsubscribe counter
        t("suppression").connect(api_unsubscribe, "put")  # the opt-out outlives the lead record

        data.sending.connect_producer(api_campaigns)  # the first dispatch tick of a start or resume
        data.signing_key.connect(api_campaigns)  # nextTokens: signed with a key derived from the ring
        api_campaigns.add_environment("SES_FROM_EMAIL", config.ses.from_email)
        api_campaigns.add_environment("SES_IDENTITY_DOMAIN", config.ses.identity_domain)
        t("campaigns").connect(api_campaigns, "get", "put", "update", "scan")
        t("templates").connect(api_campaigns, "get", "put", "update", "delete", "scan")
        t("recipients").connect(api_campaigns, indexes=("open-index",))  # a pause says how many e-mails are in flight

        t("metrics").connect(api_metrics, "query")
        t("campaigns").connect(api_metrics, "get")

        self.users = UserPool(stack, "users", naming=naming, protect=config.protect_data) if config.api_auth == "cognito" else None
        self.http = HttpApi(stack, "http-api", naming=naming, region=config.region, user_pool=self.users, props=ApiProps(
            cors_origins=config.cors_origins, auth=config.api_auth, throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst, log_retention_days=config.log_retention_days))
        for routes in ROUTES:
            self.http.add(routes, functions[routes.function])
        functions["send-email"].add_environment("UNSUBSCRIBE_BASE_URL", f"{self.http.url}unsubscribe")


class Observability:
    """Alarms to the stage's topic, the dashboard, the budget and the cost anomaly monitor."""

    def __init__(self, stack: AwsStack, config: StageConfig, naming: Naming, data: Data, functions: Functions,
                 queues: list[QueueRef], api: Api) -> None:
        self.monitoring = monitoring = Monitoring(stack, "monitoring", naming=naming, alarm_email=config.alarm_email,
                                                  region=config.region, account=stack.account_id)
        fns, tables, http = list(functions.by_name.values()), list(data.tables.values()), api.http
        for fn in fns:
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
        for q in queues:
            monitoring.alarm(f"{q.short_name}-age", q.metric_age_of_oldest_message(), threshold=3600,
                             comparison="GreaterThanThreshold", description=f"{q.queue_name}: a message waited over an hour")
            if q.dlq is not None:
                monitoring.alarm_dlq(f"{q.short_name}-dlq", q.dlq.metric_visible_messages(),
                                     description=f"{q.queue_name}: messages in the DLQ")
        monitoring.alarm("api-5xx", http.metric_server_errors(), threshold=0, comparison="GreaterThanThreshold",
                         description="HTTP API answered 5xx")
        monitoring.alarm_ses_reputation()
        monitoring.alarm("feedback-rejected", Metric(naming.metrics_namespace, "RejectedFeedback", {"service": "process-feedback"}),
                         threshold=0, comparison="GreaterThanThreshold",
                         description="process-feedback dropped messages that are not authentic SES notifications of this "
                                     "stage's topic: someone else can write to the feedback queue (docs/security.md)")
        monitoring.add_graph("Lambda invocations", [fn.metric_invocations() for fn in fns])
        monitoring.add_graph("Lambda errors", [fn.metric_errors() for fn in fns])
        monitoring.add_graph("Lambda duration (avg ms)", [fn.metric_duration() for fn in fns])
        monitoring.add_graph("DynamoDB consumed capacity", [
            t.metric(name) for t in tables for name in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")])
        monitoring.add_graph("DynamoDB throttles", [
            t.metric(name) for t in tables for name in ("ReadThrottleEvents", "WriteThrottleEvents")])
        monitoring.add_graph("Queue depth", [q.metric_visible_messages() for q in queues])
        monitoring.add_graph("Queue age of oldest message (s)", [q.metric_age_of_oldest_message() for q in queues])
        monitoring.add_graph("API latency (p90 ms) and errors", [http.metric_latency(), http.metric("4xx"), http.metric_server_errors()])
        monitoring.add_graph("SES", [Metric("AWS/SES", name) for name in ("Send", "Delivery", "Bounce", "Complaint")])
        monitoring.dashboard()
        monitoring.budget(config.monthly_budget_usd)
