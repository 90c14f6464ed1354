"""A Python Lambda function with secure, explicit defaults.

Every function gets: its own role (policy derived from grants), a log group
with retention, JSON logs, X-Ray active tracing, a DLQ for async invocations,
explicit reserved concurrency, timeout and memory, python3.13 on arm64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from modules import tf
from modules.iam import PolicyDocument, Statement, assume_role_policy
from modules.naming import Naming
from modules.packaging import Archive

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
ASYNC_DLQ_RETENTION = 14 * 24 * 3600  # seconds: the SQS maximum
MAX_TIMEOUT = 900  # seconds: the Lambda maximum


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


class LambdaCode(tf.Construct):
    """The deterministic archive of ``lambda_src/``, shared by every function of a stack."""

    def __init__(self, scope: tf.Construct, id: str, *, archive: Archive) -> None:
        super().__init__(scope, id)
        self.archive = archive
        self.asset = tf.TerraformAsset(self, "archive", path=str(archive.path), type=tf.AssetType.FILE)

    @property
    def path(self) -> str:
        return self.asset.path

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
        layers: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        self.function_name = naming.name(props.name)
        self._policy = PolicyDocument()
        self._role_policy: tf.IamRolePolicy | None = None
        self._environment: dict[str, str] = {
            "POWERTOOLS_SERVICE_NAME": props.name,
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
        self.add_to_policy(
            Statement(("logs:CreateLogStream", "logs:PutLogEvents"), (f"{self.log_group.arn}:*",))
        )
        self.add_to_policy(Statement(("sqs:SendMessage",), (self.async_dlq.arn,)))
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
            dead_letter_config=tf.LambdaFunctionDeadLetterConfig(target_arn=self.async_dlq.arn),
            environment=tf.LambdaFunctionEnvironment(variables=dict(self._environment)),
            depends_on=[self.log_group],
        )

    # -- identity -------------------------------------------------------------------------------
    def add_to_policy(self, statement: Statement) -> None:
        """Add a statement to this function's role (used by the grant_* methods of other modules)."""
        self._policy.add(statement)
        if self._role_policy is None:
            self._role_policy = tf.IamRolePolicy(
                self, "policy", name=self.function_name, role=self.role.id, policy=self._policy.render()
            )
        else:
            self._role_policy.policy = self._policy.render()

    @property
    def policy(self) -> PolicyDocument:
        return self._policy

    # -- configuration --------------------------------------------------------------------------
    def add_environment(self, key: str, value: str) -> None:
        if key in self._environment and self._environment[key] != value:
            raise ValueError(f"{self.function_name}: environment {key} already set to another value")
        self._environment[key] = value
        self.function.put_environment(tf.LambdaFunctionEnvironment(variables=dict(self._environment)))

    @property
    def environment(self) -> Mapping[str, str]:
        return dict(self._environment)

    @property
    def arn(self) -> str:
        return self.function.arn

    @property
    def invoke_arn(self) -> str:
        return self.function.invoke_arn
