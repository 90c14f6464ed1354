"""Per-stage configuration: frozen, typed, with built-in defaults.

``load(environ)`` is pure: it takes the environment as a mapping, so only the
entry point (``main.py``) touches ``os.environ``. Secret values (API keys,
signing keys, AWS credentials) are never read here; functions fetch them from
Secrets Manager at run time.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Stage = Literal["dev", "staging", "prod"]
STAGES: tuple[Stage, ...] = ("dev", "staging", "prod")
AuthMode = Literal["cognito", "none"]

PROJECT = "pivotr-mailer"
DEFAULT_REGION = "ap-south-1"
DEFAULT_STATE_BUCKET = "pivotr-mailer-terraform-state"
# CloudWatch Logs accepts only these retention periods (days).
VALID_LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


# What each stage's configuration set publishes to its feedback queue (process-feedback needs at
# least SEND, BOUNCE and COMPLAINT).
SES_EVENT_TYPES = ("SEND", "BOUNCE", "COMPLAINT", "DELIVERY", "REJECT", "OPEN", "CLICK", "DELIVERY_DELAY")


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class SesConfig:
    """Where mail goes out and feedback comes back, for one stage.

    Each stage has its own configuration set, event destination and feedback queue, so the
    events of one stage never reach another's process-feedback. With ``create`` (dev and
    staging by default) the stack creates them; without it (prod by default) they name the
    owner's existing resources, which ``make preflight`` checks. The domain identity is
    account-wide: at most one stage per account and region creates it (``create_identity``).
    """

    identity_domain: str = "pivotr.example.com"  # domain verified in SES
    from_email: str = "outreach@pivotr.example.com"
    configuration_set: str = "pivotr-mailer"
    feedback_queue_url: str = ""  # existing SES -> SNS -> SQS queue; "" means derive from name
    create: bool = False  # the stack creates this stage's configuration set, topic and feedback queue
    create_identity: bool = False  # the stack creates the domain identity (one stage per account)
    route53_zone_id: str = ""  # when set with ``create_identity``: DKIM, SPF and DMARC records
    # The SNS topic the owner's configuration set publishes to (a name in the stage's account and
    # region, or an ARN), for stages that do not create theirs: process-feedback applies only
    # notifications of this topic (preflight checks it is the one the configuration set uses).
    feedback_topic: str = "pivotr-mailer-ses-events"
    # The subscription delivers bare SES JSON (no SNS envelope, so no signature to verify): only if
    # the owner's subscription is set up that way. The queue policy is then the only guard.
    raw_delivery: bool = False
    # While the account is in the SES sandbox, SES also authorizes each recipient's identity, so
    # the send grant then covers every identity of the account (for this From address only).
    sandbox: bool = True
    # Share of the account's SES maximum send rate and 24-hour quota this stage's campaigns may use
    # together (the rest absorbs delivery jitter and other senders on the account; lower it when
    # stages or other applications share the account).
    quota_share: float = 0.9

    def owner_topic_arn(self, region: str, account: str) -> str:
        """The ARN of ``feedback_topic`` (a name in the stage's account and region, or an ARN)."""
        topic = self.feedback_topic
        return topic if topic.startswith("arn:") else f"arn:aws:sns:{region}:{account}:{topic}"


@dataclass(frozen=True)
class StateBackend:
    """Remote Terraform state: one bucket, one key per stage, S3 lock file."""

    bucket: str = DEFAULT_STATE_BUCKET
    region: str = DEFAULT_REGION

    def key(self, stage: str) -> str:
        return f"{PROJECT}/{stage}/terraform.tfstate"


@dataclass(frozen=True)
class StageConfig:
    stage: Stage
    region: str = DEFAULT_REGION
    account_id: str = ""  # "" = any account the credentials point at
    cost_center: str = "outreach"
    log_retention_days: int = 30  # days
    alarm_email: str = ""  # "" = alarm topic without a subscription
    monthly_budget_usd: int = 50  # USD
    cors_origins: tuple[str, ...] = ("http://localhost:5173",)
    api_auth: AuthMode = "cognito"
    api_throttle_rate: int = 50  # requests per second, steady state
    api_throttle_burst: int = 100  # requests
    ses: SesConfig = field(default_factory=SesConfig)
    verifier_base_url: str = "https://client.myemailverifier.com"
    # The verifier's API key travels in the URL path: http is accepted only for a loopback stand-in,
    # and only when said explicitly (local testing); never in prod.
    verifier_allow_http: bool = False
    protect_data: bool = False  # deletion protection + prevent_destroy on stateful resources
    transfer_retention_days: int = 7  # days uploads, invalid-row reports and exports stay in the transfer bucket

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class AppConfig:
    stages: tuple[StageConfig, ...]
    state: StateBackend

    def __post_init__(self) -> None:
        _validate_shared(self.stages)

    def stage(self, name: str) -> StageConfig:
        return next(s for s in self.stages if s.stage == name)

    def neighbours(self, name: str) -> tuple[StageConfig, ...]:
        """The stages that may share an account and region with ``name`` (itself included): an
        account id left empty could be any account, so it is assumed shared."""
        this = self.stage(name)
        return tuple(s for s in self.stages if shares_account(s, this))


def shares_account(a: StageConfig, b: StageConfig) -> bool:
    return a.region == b.region and (not a.account_id or not b.account_id or a.account_id == b.account_id)


def _defaults() -> dict[Stage, StageConfig]:
    return {
        # dev and staging create their own SES configuration set and feedback queue; prod sends
        # through the owner's existing ones (the seeds' AWS_SES_CONFIGURATION_SET / AWS_SQS_QUEUE_URL).
        "dev": StageConfig(stage="dev", log_retention_days=14, monthly_budget_usd=25, api_auth="cognito",
                           ses=SesConfig(configuration_set="pivotr-mailer-dev", create=True)),
        "staging": StageConfig(stage="staging", log_retention_days=30, monthly_budget_usd=50,
                               ses=SesConfig(configuration_set="pivotr-mailer-staging", create=True)),
        "prod": StageConfig(
            stage="prod",
            log_retention_days=365,
            monthly_budget_usd=200,
            cors_origins=("https://app.pivotr.example.com",),
            protect_data=True,
            ses=SesConfig(configuration_set="pivotr-mailer", create=False, sandbox=False),
        ),
    }

# Variable names the seeds already use apply to every stage; PIVOTR_<STAGE>_<FIELD> wins over them.
_GLOBAL_VARS = {
    "region": "CDK_DEFAULT_REGION",
    "account_id": "CDK_DEFAULT_ACCOUNT",
    "ses.from_email": "AWS_SES_FROM_EMAIL",
    "ses.identity_domain": "PIVOTR_SES_IDENTITY_DOMAIN",
    "cost_center": "PIVOTR_COST_CENTER",
    "verifier_base_url": "MYEMAILVERIFIER_BASE_URL",
}
# The seeds' names for the owner's existing SES resources: one configuration set and one queue, so
# they apply to one stage only (prod), never to all three (each would get a random share of events).
OWNER_STAGE: Stage = "prod"
_OWNER_VARS = {
    "ses.configuration_set": "AWS_SES_CONFIGURATION_SET",
    "ses.feedback_queue_url": "AWS_SQS_QUEUE_URL",
}
_STAGE_FIELDS = (
    "region",
    "account_id",
    "cost_center",
    "log_retention_days",
    "alarm_email",
    "monthly_budget_usd",
    "cors_origins",
    "api_auth",
    "api_throttle_rate",
    "api_throttle_burst",
    "verifier_base_url",
    "verifier_allow_http",
    "ses.configuration_set",
    "ses.from_email",
    "ses.feedback_queue_url",
    "ses.identity_domain",
    "ses.create",
    "ses.create_identity",
    "ses.route53_zone_id",
    "ses.sandbox",
    "ses.feedback_topic",
    "ses.raw_delivery",
    "ses.quota_share",
    "transfer_retention_days",
)


def stage_variable(stage: str, dotted: str) -> str:
    """``("prod", "ses.from_email")`` -> ``PIVOTR_PROD_SES_FROM_EMAIL``."""
    return f"PIVOTR_{stage.upper()}_{dotted.replace('.', '_').upper()}"


def load(environ: Mapping[str, str]) -> AppConfig:
    """Built-in defaults, overridden by the environment; raises ConfigError naming the variable."""
    defaults = _defaults()
    stages = tuple(_load_stage(defaults[name], environ) for name in STAGES)
    state = StateBackend(
        bucket=environ.get("PIVOTR_STATE_BUCKET", DEFAULT_STATE_BUCKET),
        region=environ.get("PIVOTR_STATE_REGION", environ.get("CDK_DEFAULT_REGION", DEFAULT_REGION)),
    )
    return AppConfig(stages=stages, state=state)


def _load_stage(default: StageConfig, environ: Mapping[str, str]) -> StageConfig:
    values: dict[str, object] = {}
    ses_values: dict[str, object] = {}
    for dotted in _STAGE_FIELDS:
        variable = stage_variable(default.stage, dotted)
        raw = environ.get(variable)
        if raw is None and dotted in _GLOBAL_VARS:
            variable = _GLOBAL_VARS[dotted]
            raw = environ.get(variable)
        if raw is None and dotted in _OWNER_VARS and default.stage == OWNER_STAGE:
            variable = _OWNER_VARS[dotted]
            raw = environ.get(variable)
        if raw is None:
            continue
        target, name = (ses_values, dotted[4:]) if dotted.startswith("ses.") else (values, dotted)
        current = getattr(default.ses, name) if target is ses_values else getattr(default, name)
        target[name] = _coerce(variable, raw, current)
    return replace(default, ses=replace(default.ses, **ses_values), **values)


def _coerce(variable: str, raw: str, current: object) -> object:
    raw = raw.strip()
    if isinstance(current, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{variable}: expected true or false, got {raw!r}")
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable}: expected a number, got {raw!r}") from None
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable}: expected a whole number, got {raw!r}") from None
    if isinstance(current, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


_ACCOUNT = re.compile(r"^(\d{12})?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _validate(config: StageConfig) -> None:
    where = f"stage {config.stage}"
    if config.stage not in STAGES:
        raise ConfigError(f"unknown stage {config.stage!r}; expected one of {', '.join(STAGES)}")
    if not _REGION.match(config.region):
        raise ConfigError(f"{where}: region {config.region!r} is not an AWS region name")
    if not _ACCOUNT.match(config.account_id):
        raise ConfigError(f"{where}: account id must be 12 digits, got {config.account_id!r}")
    if config.log_retention_days not in VALID_LOG_RETENTION_DAYS:
        raise ConfigError(
            f"{where}: log retention {config.log_retention_days} days is not one CloudWatch accepts "
            f"({', '.join(map(str, sorted(VALID_LOG_RETENTION_DAYS)))})"
        )
    if config.api_auth not in ("cognito", "none"):
        raise ConfigError(f"{where}: api auth must be 'cognito' or 'none', got {config.api_auth!r}")
    if config.stage == "prod" and config.api_auth == "none":
        raise ConfigError("stage prod: api auth 'none' is refused; prod always requires Cognito JWTs")
    if config.monthly_budget_usd <= 0:
        raise ConfigError(f"{where}: monthly budget must be positive, got {config.monthly_budget_usd}")
    if config.alarm_email and not _EMAIL.match(config.alarm_email):
        raise ConfigError(f"{where}: alarm e-mail {config.alarm_email!r} is not an e-mail address")
    if not _EMAIL.match(config.ses.from_email):
        raise ConfigError(f"{where}: sender {config.ses.from_email!r} is not an e-mail address")
    domain = config.ses.identity_domain.lower()
    sender_domain = config.ses.from_email.rsplit("@", 1)[-1].lower()
    if sender_domain != domain and not sender_domain.endswith("." + domain):
        raise ConfigError(f"{where}: sender {config.ses.from_email!r} is not under the SES identity {domain!r}")
    for origin in config.cors_origins:
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(f"{where}: CORS origin {origin!r} must look like https://host[:port]")
    if not 1 <= config.transfer_retention_days <= 365:
        raise ConfigError(f"{where}: transfer retention must be 1 to 365 days, got {config.transfer_retention_days}")
    if not 0 < config.ses.quota_share <= 1:
        raise ConfigError(f"{where}: SES quota share must be above 0 and at most 1, got {config.ses.quota_share}")
    if config.api_throttle_rate <= 0 or config.api_throttle_burst <= 0:
        raise ConfigError(f"{where}: API throttling rate and burst must be positive")
    verifier = urllib.parse.urlsplit(config.verifier_base_url)
    loopback_http = verifier.scheme == "http" and verifier.hostname in ("127.0.0.1", "localhost", "::1")
    if verifier.scheme != "https" and not (loopback_http and config.verifier_allow_http and config.stage != "prod"):
        raise ConfigError(f"{where}: verifier base URL {config.verifier_base_url!r} must be https (the API key is in "
                          f"its path); plain http only for a loopback stand-in with {stage_variable(config.stage, 'verifier_allow_http')}=true")
    if config.ses.create and config.ses.feedback_queue_url:
        raise ConfigError(f"{where}: a feedback queue URL names an existing queue, but this stage creates its own "
                          f"(ses.create); set one or the other")
    if config.ses.route53_zone_id and not config.ses.create_identity:
        raise ConfigError(f"{where}: DNS records for the SES identity need ses.create_identity")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", config.ses.configuration_set):
        raise ConfigError(f"{where}: SES configuration set name {config.ses.configuration_set!r} is not valid")


def _validate_shared(stages: tuple[StageConfig, ...]) -> None:
    """Stages that may share an account and region must not share SES resources: each stage's
    process-feedback reads its own queue, so shared events would be split among the stages."""
    for index, a in enumerate(stages):
        for b in stages[index + 1:]:
            if not shares_account(a, b):
                continue
            pair = f"stages {a.stage} and {b.stage} (same account and region)"
            if a.ses.configuration_set == b.ses.configuration_set:
                raise ConfigError(f"{pair} share the SES configuration set {a.ses.configuration_set!r}; "
                                  f"set {stage_variable(b.stage, 'ses.configuration_set')}")
            if a.ses.feedback_queue_url and a.ses.feedback_queue_url == b.ses.feedback_queue_url:
                raise ConfigError(f"{pair} share the feedback queue {a.ses.feedback_queue_url!r}; "
                                  f"set {stage_variable(b.stage, 'ses.feedback_queue_url')}")
            if a.ses.create_identity and b.ses.create_identity and a.ses.identity_domain == b.ses.identity_domain:
                raise ConfigError(f"{pair} both create the SES identity {a.ses.identity_domain!r}; "
                                  "an identity is account-wide: let one stage create it")
