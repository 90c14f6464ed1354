"""A Python Lambda function with secure, explicit defaults.

Every function gets: its own role (policy derived from grants), a log group
with retention, JSON logs, X-Ray active tracing, a DLQ for async invocations,
explicit reserved concurrency, timeout and memory, python3.13 on arm64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from modules import tf
from modules.iam import PolicyDocument, Statement, assume_role_policy
from modules.metrics import Metric
from modules.naming import Naming
from modules.packaging import Archive
from modules.queues import QueueRef

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
ASYNC_DLQ_RETENTION = 14 * 24 * 3600  # seconds: the SQS maximum
MAX_TIMEOUT = 900  # seconds: the Lambda maximum
VISIBILITY_FACTOR = 6  # AWS: queue visibility timeout >= 6x the consuming function's timeout
MIN_POLLER_CONCURRENCY = 2  # the smallest maximum concurrency an SQS event source accepts


@dataclass(frozen=True)
class FunctionProps:
    name: str  # short name, e.g. "send-email"
    handler: str  # module.function inside the archive
    timeout: int  # seconds
    memory: int  # MB
    reserved_concurrency: int
    description: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if not 1 <= self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"{self.name}: timeout {self.timeout}s outside 1..{MAX_TIMEOUT}")
        if not 128 <= self.memory <= 10240:
            raise ValueError(f"{self.name}: memory {self.memory} MB outside 128..10240")
        if self.reserved_concurrency < 1:
            raise ValueError(f"{self.name}: reserved concurrency must be explicit and at least 1")


class AsyncDlq(QueueRef):
    """Metrics of a function's async-invocation DLQ."""

    def __init__(self, queue: tf.SqsQueue, queue_name: str) -> None:
        self.arn, self.queue_name, self.short_name = queue.arn, queue_name, queue_name


class LambdaCode(tf.Construct):
    """The deterministic archive of ``lambda_src/``, shared by every function of a stack."""

    def __init__(self, scope: tf.Construct, id: str, *, archive: Archive) -> None:
        super().__init__(scope, id)
        self.archive = archive
        self.asset = tf.TerraformAsset(self, "archive", path=str(archive.path), type=tf.AssetType.FILE)
        self.path: str = self.asset.path  # read once: each read is a jsii round trip

    @property
    def hash(self) -> str:
        return self.archive.sha256_base64


class PythonFunction(tf.Construct):
    def __init__(
        self,
        scope: tf.Construct,
        id: str,
        *,
        props: FunctionProps,
        code: LambdaCode,
        naming: Naming,
        log_retention_days: int,
        layers: tuple[str, ...] = (),  # layer version ARNs (Powertools)
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        self.function_name = naming.name(props.name)
        self._policy = PolicyDocument()
        self._sealed = False
        self._environment: dict[str, str] = {
            "POWERTOOLS_SERVICE_NAME": props.name,
            "POWERTOOLS_METRICS_NAMESPACE": naming.metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": props.log_level,
            "STAGE": naming.stage,
            **props.environment,
        }

        self.role = tf.IamRole(
            self,
            "role",
            name=self.function_name,
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            description=f"Runs {self.function_name}; permissions come from grants only",
        )
        self.log_group = tf.CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{self.function_name}",
            retention_in_days=log_retention_days,
        )
        self.async_dlq = tf.SqsQueue(
            self,
            "async-dlq",
            name=naming.name(f"{props.name}-async-dlq"),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=ASYNC_DLQ_RETENTION,
        )
        self.async_dlq_ref = AsyncDlq(self.async_dlq, naming.name(f"{props.name}-async-dlq"))
        self.add_to_policy(
            Statement(("logs:CreateLogStream", "logs:PutLogEvents"), (f"{self.log_group.arn}:*",))
        )
        self.add_to_policy(Statement(("sqs:SendMessage",), (self.async_dlq_ref.arn,)))
        self.add_to_policy(Statement(("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",)))

        self.function = tf.LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=props.description or props.name,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=props.handler,
            filename=code.path,
            source_code_hash=code.hash,
            timeout=props.timeout,
            memory_size=props.memory,
            reserved_concurrent_executions=props.reserved_concurrency,
            layers=list(layers) or None,
            tracing_config=tf.LambdaFunctionTracingConfig(mode="Active"),
            logging_config=tf.LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=self.log_group.name, application_log_level=props.log_level
            ),
            dead_letter_config=tf.LambdaFunctionDeadLetterConfig(target_arn=self.async_dlq_ref.arn),
            depends_on=[self.log_group],
        )

    # Tokens are read once and only when used: each read is a round trip to the jsii kernel.
    @cached_property
    def arn(self) -> str:
        return self.function.arn

    @cached_property
    def invoke_arn(self) -> str:
        return self.function.invoke_arn

    # -- identity -------------------------------------------------------------------------------
    def add_to_policy(self, statement: Statement) -> None:
        """Add a statement to this function's role (used by the grant_* methods of other modules)."""
        self._check_open()
        self._policy.add(statement)

    def seal(self) -> None:
        """Write the role policy and environment that connections collected; nothing can be added after.

        One write each instead of one per connection keeps synthesis fast (each write is a jsii call).
        """
        self._check_open()
        self._sealed = True
        tf.IamRolePolicy(self, "policy", name=self.function_name, role=self.role.id, policy=self._policy.render())
        self.function.put_environment(variables=dict(self._environment))

    def _check_open(self) -> None:
        if self._sealed:
            raise RuntimeError(f"{self.function_name} is sealed: connect everything before MailerStack seals it")

    @property
    def policy(self) -> PolicyDocument:
        return self._policy

    # -- connections ----------------------------------------------------------------------------
    def add_sqs_source(self, queue: QueueRef, *, batch_size: int = 10, batching_window: int = 1) -> None:
        """Consume ``queue`` (grants consume) with partial batch responses, so one bad message never
        re-drives its batch; Lambda's pollers stay within this function's reserved concurrency."""
        visibility = getattr(getattr(queue, "props", None), "visibility_timeout", None)
        if visibility is not None and visibility < VISIBILITY_FACTOR * self.props.timeout:
            raise ValueError(
                f"{queue.queue_name}: visibility timeout {visibility}s is under {VISIBILITY_FACTOR}x "
                f"{self.function_name}'s timeout ({self.props.timeout}s)"
            )
        queue.grant_consume(self)
        tf.LambdaEventSourceMapping(
            self,
            f"source-{queue.queue_name}",
            event_source_arn=queue.arn,
            function_name=self.arn,
            batch_size=batch_size,
            maximum_batching_window_in_seconds=batching_window,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=tf.LambdaEventSourceMappingScalingConfig(
                maximum_concurrency=max(MIN_POLLER_CONCURRENCY, self.props.reserved_concurrency)
            ),
        )

    def allow_invoke_from(self, principal: str, source_arn: str, id: str = "invoke") -> None:
        """A resource-based permission for one service principal from one source ARN."""
        tf.LambdaPermission(
            self,
            id,
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,  # a reference: Terraform creates the function first
            principal=principal,
            source_arn=source_arn,
        )

    # -- metrics ----------------------------------------------------------------------------------
    def metric(self, name: str, statistic: str = "Sum") -> Metric:
        return Metric("AWS/Lambda", name, {"FunctionName": self.function_name}, statistic)

    def metric_errors(self) -> Metric:
        return self.metric("Errors")

    def metric_duration(self) -> Metric:
        """Average duration in milliseconds."""
        return self.metric("Duration", "Average")

    def metric_invocations(self) -> Metric:
        return self.metric("Invocations")

    def metric_throttles(self) -> Metric:
        return self.metric("Throttles")

    # -- configuration --------------------------------------------------------------------------
    def add_environment(self, key: str, value: str) -> None:
        self._check_open()
        if key in self._environment and self._environment[key] != value:
            raise ValueError(f"{self.function_name}: environment {key} already set to another value")
        self._environment[key] = value

    @property
    def environment(self) -> Mapping[str, str]:
        return dict(self._environment)

