"""``make preflight STAGE=…``: read-only checks of the target account before a deploy.

Each check prints one line: ✔ fine, ! worth knowing (the deploy and the first campaign still work),
✘ would break the deploy or the first campaign; every ! and ✘ carries the command that fixes it.
The exit status is 1 when any check is ✘. Nothing here writes to the account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import BotoCoreError, ClientError

from modules.config import (
    SES_EVENT_TYPES,
    AppConfig,
    StageConfig,
    StateBackend,
    stage_variable,
)
from modules.naming import Naming
from ops.aws import Clients, error_code, unless_missing
from ops.plans import StagePlan

UNRESERVED_MINIMUM = 100  # AWS keeps this much of the account's concurrency unreserved
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"  # Service Quotas code of "Concurrent executions"
SES_EVENTS_NEEDED = frozenset({"SEND", "BOUNCE", "COMPLAINT"})  # what process-feedback must see


class Status(Enum):
    OK = "✔"
    WARN = "!"
    FAIL = "✘"


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    detail: str
    fix: str = ""

    def render(self) -> str:
        line = f"{self.status.value} {self.name}: {self.detail}"
        return f"{line}\n    fix: {self.fix}" if self.fix and self.status is not Status.OK else line


def ok(name: str, detail: str) -> Check:
    return Check(Status.OK, name, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(Status.WARN, name, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(Status.FAIL, name, detail, fix)


@dataclass(frozen=True)
class Context:
    config: AppConfig
    stage: StageConfig
    plan: StagePlan
    neighbours: tuple[StagePlan, ...]  # plans of every stage that may share this account and region
    aws: Clients
    account: str = ""

    @property
    def naming(self) -> Naming:
        return Naming.of(self.stage)

    @property
    def var(self) -> Callable[[str], str]:
        return lambda dotted: stage_variable(self.stage.stage, dotted)


CheckFn = Callable[[Context], Iterator[Check]]
CHECKS: list[CheckFn] = []


def check(fn: CheckFn) -> CheckFn:
    CHECKS.append(fn)
    return fn


def run(context: Context, checks: list[CheckFn] | None = None) -> list[Check]:
    """Every check; one that cannot read what it needs reports that (!) instead of stopping the rest."""
    results: list[Check] = []
    for fn in checks or CHECKS:
        try:
            results += list(fn(context))
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            results.append(warn(fn.__name__.removeprefix("check_").replace("_", " "), f"could not check ({code})",
                                "run preflight with credentials that may read it (see docs/first-deploy.md)"))
    return results


def exit_code(results: list[Check]) -> int:
    return 1 if any(r.status is Status.FAIL for r in results) else 0


# -- the account and the state --------------------------------------------------------------------
def caller_account(aws: Clients) -> str:
    return str(aws("sts").get_caller_identity()["Account"])


@check
def check_account(ctx: Context) -> Iterator[Check]:
    wanted = ctx.stage.account_id
    if not wanted:
        yield warn("account", f"{ctx.account}; the stage is not pinned to an account",
                   f"export {ctx.var('account_id')}={ctx.account}  # a plan then never applies to another account")
    elif wanted != ctx.account:
        yield fail("account", f"the credentials are for {ctx.account}, the stage deploys to {wanted}",
                   f"use credentials of {wanted} (e.g. AWS_PROFILE=…) or correct {ctx.var('account_id')}")
    else:
        yield ok("account", f"{ctx.account}, as configured")


@check
def check_state_bucket(ctx: Context) -> Iterator[Check]:
    state: StateBackend = ctx.config.state
    s3 = ctx.aws("s3")
    try:
        s3.head_bucket(Bucket=state.bucket)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            yield fail("state bucket", f"{state.bucket} does not exist",
                       "make bootstrap  # or export PIVOTR_STATE_BUCKET=<a globally unique name> first")
        else:  # 403: the name is taken by another account, or ours without access
            yield fail("state bucket", f"{state.bucket} is not readable ({error_code(error)}): another account may own the name",
                       "export PIVOTR_STATE_BUCKET=<a globally unique name> && make bootstrap")
        return
    versioning = s3.get_bucket_versioning(Bucket=state.bucket).get("Status")
    if versioning != "Enabled":
        yield fail("state bucket", f"{state.bucket} is not versioned: a bad apply could not be rolled back",
                   f"aws s3api put-bucket-versioning --bucket {state.bucket} --versioning-configuration Status=Enabled")
        return
    encryption = unless_missing(s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError", Bucket=state.bucket)
    if not (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules"):
        yield fail("state bucket", f"{state.bucket} has no default encryption",
                   f"aws s3api put-bucket-encryption --bucket {state.bucket} --server-side-encryption-configuration "
                   "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\"}}]}'")
        return
    yield ok("state bucket", f"{state.bucket}: versioned, encrypted")


# -- what the deploy needs from the account -------------------------------------------------------
@check
def check_lambda_concurrency(ctx: Context) -> Iterator[Check]:
    settings = ctx.aws("lambda").get_account_settings()
    limit = int(settings["AccountLimit"]["ConcurrentExecutions"])
    unreserved = int(settings["AccountLimit"]["UnreservedConcurrentExecutions"])
    every_stage = sum(sum(p.reserved_concurrency.values()) for p in ctx.neighbours)
    stages = ", ".join(sorted(p.stage for p in ctx.neighbours))
    needed = every_stage + UNRESERVED_MINIMUM
    quota_fix = (f"aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
                 f"{LAMBDA_CONCURRENCY_QUOTA} --desired-value {max(needed, 1000)} --region {ctx.stage.region}")
    if limit < needed:
        yield fail("lambda concurrency", f"the account allows {limit} concurrent executions; {stages} reserve "
                   f"{every_stage} and AWS keeps {UNRESERVED_MINIMUM} unreserved: {needed} needed", quota_fix)
        return
    # What this deploy adds on top of what its functions reserve today (a redeploy adds nothing).
    lam, adds = ctx.aws("lambda"), 0
    for function, reserve in ctx.plan.reserved_concurrency.items():
        today = unless_missing(lam.get_function_concurrency, "ResourceNotFoundException", FunctionName=function) or {}
        adds += max(0, reserve - int(today.get("ReservedConcurrentExecutions") or 0))
    if unreserved - adds < UNRESERVED_MINIMUM:
        yield fail("lambda concurrency", f"{ctx.stage.stage} reserves {adds} more but only {unreserved} are unreserved "
                   f"and AWS keeps {UNRESERVED_MINIMUM}: other functions of the account hold the rest",
                   f"free reserved concurrency of other functions, or {quota_fix}")
        return
    yield ok("lambda concurrency", f"limit {limit}, {needed} needed by {stages} and the unreserved {UNRESERVED_MINIMUM}")


@check
def check_powertools_layer(ctx: Context) -> Iterator[Check]:
    ssm = ctx.aws("ssm")
    for name in ctx.plan.ssm_parameters:
        if unless_missing(ssm.get_parameter, "ParameterNotFound", Name=name) is None:
            yield fail("powertools layer", f"{ctx.stage.region} has no public parameter {name}",
                       "deploy to a region where Powertools publishes this version's layer, or change "
                       "POWERTOOLS_VERSION in modules/catalog.py (and the Pipfile) to one that exists there")
            continue
        yield ok("powertools layer", f"{name} exists in {ctx.stage.region}")


@check
def check_secrets(ctx: Context) -> Iterator[Check]:
    sm = ctx.aws("secretsmanager")
    for name in ctx.plan.secrets:
        short = ctx.plan.short(name)
        put = (f"make rotate-unsubscribe-key STAGE={ctx.stage.stage}  # generates the first key; nobody sees it"
               if short == "unsubscribe-signing-key" else
               f"make secret STAGE={ctx.stage.stage} NAME={short}  # reads the value from standard input")
        secret = unless_missing(sm.describe_secret, "ResourceNotFoundException", SecretId=name)
        if secret is None:
            yield warn(f"secret {short}", "created by the deploy, without a value", f"after the deploy: {put}")
            continue
        if secret.get("DeletedDate"):
            yield fail(f"secret {short}", "scheduled for deletion: the deploy cannot create it again",
                       f"aws secretsmanager restore-secret --secret-id {name}")
        elif not any("AWSCURRENT" in stages for stages in (secret.get("VersionIdsToStages") or {}).values()):
            yield fail(f"secret {short}", "exists without a value: every function that reads it fails", put)
        else:
            yield ok(f"secret {short}", "has a value")


# -- SES ----------------------------------------------------------------------------------------------
@check
def check_ses_account(ctx: Context) -> Iterator[Check]:
    account = ctx.aws("sesv2").get_account()
    quota = account.get("SendQuota", {})
    rate, daily, sent = quota.get("MaxSendRate", 0), quota.get("Max24HourSend", 0), quota.get("SentLast24Hours", 0)
    figures = f"{rate:g}/s, {daily:g} per 24 h, {sent:g} sent in the last 24 h"
    if not account.get("SendingEnabled", True):
        yield fail("ses sending", f"sending is disabled for the account in {ctx.stage.region}",
                   f"aws sesv2 put-account-sending-attributes --sending-enabled --region {ctx.stage.region}  "
                   "# if AWS paused it, answer the case in the console first")
        return
    if daily and sent >= daily:
        yield fail("ses quota", f"the 24-hour quota is used up ({figures})", "wait, or ask AWS for a higher quota")
        return
    request = ("aws sesv2 put-account-details --production-access-enabled --mail-type MARKETING "
               "--website-url https://<your site> --use-case-description '<how leads opt in and opt out>' "
               f"--region {ctx.stage.region}")
    if account.get("ProductionAccessEnabled"):
        yield ok("ses production access", f"out of the sandbox; quota {figures}")
    elif ctx.stage.ses.sandbox:
        yield warn("ses production access", f"in the sandbox: mail reaches verified addresses only ({figures})", request)
    else:
        yield fail("ses production access", f"the account is in the sandbox, but {ctx.stage.stage} is configured for "
                   "production: recipients' identities are not in its send grant, so every send is refused",
                   f"{request}  # or export {ctx.var('ses.sandbox')}=true and deploy")


@check
def check_ses_identity(ctx: Context) -> Iterator[Check]:
    domain = ctx.stage.ses.identity_domain
    identity = unless_missing(ctx.aws("sesv2").get_email_identity, "NotFoundException", EmailIdentity=domain)
    if identity is None:
        if ctx.stage.ses.create_identity:
            yield warn("ses identity", f"{domain} is created by the deploy",
                       f"publish its DKIM records (aws sesv2 get-email-identity --email-identity {domain})"
                       if not ctx.stage.ses.route53_zone_id else "the deploy also publishes its DNS records; wait for DKIM")
        else:
            yield fail("ses identity", f"{domain} is not an SES identity in {ctx.stage.region}",
                       f"aws sesv2 create-email-identity --email-identity {domain} --region {ctx.stage.region}  "
                       f"# or export {ctx.var('ses.create_identity')}=true")
        return
    dkim = identity.get("DkimAttributes", {}).get("Status", "NOT_STARTED")
    fix = (f"publish the three DKIM CNAME records: aws sesv2 get-email-identity --email-identity {domain} "
           "--query DkimAttributes.Tokens")
    if not identity.get("VerifiedForSendingStatus"):
        yield fail("ses identity", f"{domain} is not verified for sending (DKIM {dkim})", fix)
    elif dkim != "SUCCESS":
        yield fail("ses dkim", f"{domain}: DKIM {dkim}: mail would go out unsigned or not at all", fix)
    else:
        yield ok("ses identity", f"{domain} verified, DKIM signing")


@check
def check_existing_feedback(ctx: Context) -> Iterator[Check]:
    """A stage that references the owner's configuration set and queue: they exist and are wired."""
    ses = ctx.stage.ses
    if ses.create:
        if ses.raw_delivery:
            yield warn("ses feedback delivery", "raw delivery: notifications carry no SNS signature, so the queue policy "
                       "(which the stack keeps to the stage's topic) is the only guard",
                       f"export {ctx.var('ses.raw_delivery')}=false  # signed envelopes, verified by process-feedback")
        yield ok("ses feedback", f"configuration set {ses.configuration_set} and its feedback queue are created by the stack")
        return
    if unless_missing(ctx.aws("sesv2").get_configuration_set, "NotFoundException",
                      ConfigurationSetName=ses.configuration_set) is None:
        yield fail("ses configuration set", f"{ses.configuration_set} does not exist",
                   f"export {ctx.var('ses.create')}=true  # the stack creates it, its topic and its queue")
        return
    destinations = ctx.aws("sesv2").get_configuration_set_event_destinations(
        ConfigurationSetName=ses.configuration_set).get("EventDestinations", [])
    topics = sorted({d["SnsDestination"]["TopicArn"] for d in destinations
                     if d.get("Enabled") and d.get("SnsDestination")
                     and SES_EVENTS_NEEDED <= set(d.get("MatchingEventTypes", []))})
    if not topics:
        yield fail("ses event destination", f"{ses.configuration_set} publishes no enabled SNS destination with "
                   f"{', '.join(sorted(SES_EVENTS_NEEDED))}: bounces and complaints would never reach the mailer",
                   f"aws sesv2 create-configuration-set-event-destination --configuration-set-name {ses.configuration_set} "
                   "--event-destination-name sns --event-destination "
                   f"'{{\"Enabled\":true,\"MatchingEventTypes\":{json.dumps(list(SES_EVENT_TYPES))},"
                   "\"SnsDestination\":{\"TopicArn\":\"<topic arn>\"}}'")
        return
    queue = ctx.naming.feedback_queue(ses)
    sqs = ctx.aws("sqs")
    found = unless_missing(sqs.get_queue_url, ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"), QueueName=queue)
    if found is None:
        yield fail("ses feedback queue", f"{queue} does not exist", f"export {ctx.var('ses.feedback_queue_url')}=<its URL>  "
                   f"# or {ctx.var('ses.create')}=true")
        return
    url = found["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])["Attributes"]
    queue_arn = attributes["QueueArn"]
    expected = ses.owner_topic_arn(ctx.stage.region, ctx.account)
    if expected not in topics:
        yield fail("ses feedback topic", f"process-feedback applies only notifications of {expected}, but "
                   f"{ses.configuration_set} publishes to {', '.join(topics)}: every event would be rejected",
                   f"export {ctx.var('ses.feedback_topic')}={topics[0]} && make deploy STAGE={ctx.stage.stage}")
        return
    subscriptions = [s for s in _subscriptions(ctx.aws, expected) if s.get("Protocol") == "sqs" and s.get("Endpoint") == queue_arn]
    if not subscriptions:
        yield fail("ses feedback queue", f"{queue} is not subscribed to {expected}: its process-feedback "
                   "would read nothing", f"aws sns subscribe --topic-arn {expected} --protocol sqs "
                   f"--notification-endpoint {queue_arn}")
        return
    loose = _admits_more_than(json.loads(attributes.get("Policy") or "{}"), [expected])
    if loose:
        yield fail("ses feedback queue policy", f"{queue}'s policy admits more than the SES topic ({loose}): anyone it "
                   "admits could forge bounces and complaints", f"aws sqs set-queue-attributes --queue-url {url} "
                   "--attributes file://policy.json  # one statement: Service sns.amazonaws.com, sqs:SendMessage, "
                   f"Condition ArnEquals aws:SourceArn {expected}")
        return
    raw = ctx.aws("sns").get_subscription_attributes(SubscriptionArn=subscriptions[0]["SubscriptionArn"])["Attributes"].get(
        "RawMessageDelivery", "false") == "true"
    if raw != ses.raw_delivery:
        yield fail("ses feedback delivery", f"the subscription {'delivers raw SES JSON' if raw else 'wraps events in signed SNS envelopes'}"
                   f" but the stage expects {'raw' if ses.raw_delivery else 'signed envelopes'}: every event would be rejected",
                   f"export {ctx.var('ses.raw_delivery')}={'true' if raw else 'false'}  # or change the subscription: "
                   f"aws sns set-subscription-attributes --subscription-arn {subscriptions[0]['SubscriptionArn']} "
                   f"--attribute-name RawMessageDelivery --attribute-value {'false' if raw else 'true'}")
        return
    if raw:
        yield warn("ses feedback delivery", "raw delivery: notifications carry no SNS signature, so the queue policy is the "
                   "only thing that keeps forged bounces and complaints out", f"prefer signed envelopes: aws sns "
                   f"set-subscription-attributes --subscription-arn {subscriptions[0]['SubscriptionArn']} --attribute-name "
                   f"RawMessageDelivery --attribute-value false && export {ctx.var('ses.raw_delivery')}=false")
    yield ok("ses feedback", f"{ses.configuration_set} -> {expected} -> {queue} "
                             f"({'raw SES JSON' if raw else 'signed envelopes'}), and the queue admits only that topic")


def _subscriptions(aws: Clients, topic: str) -> list[dict]:
    pages = aws("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
    return [s for page in pages for s in page.get("Subscriptions", [])]


def _admits_more_than(policy: dict, topics: list[str]) -> str:
    """Why a queue policy admits senders other than ``topics`` ("" when it does not)."""
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal != {"Service": "sns.amazonaws.com"}:
            return f"principal {json.dumps(principal)}"
        conditions = {**statement.get("Condition", {}).get("ArnEquals", {}), **statement.get("Condition", {}).get("ArnLike", {})}
        sources = conditions.get("aws:SourceArn")
        sources = [sources] if isinstance(sources, str) else (sources or [])
        if not sources or any(s not in topics for s in sources):
            return f"sources {sources or 'any topic'}"
    return ""


# -- cost and alarms ------------------------------------------------------------------------------
@check
def check_cost_allocation_tag(ctx: Context) -> Iterator[Check]:
    tags = ctx.aws("ce").list_cost_allocation_tags(TagKeys=["Environment"], Type="UserDefined").get("CostAllocationTags", [])
    if any(t.get("Status") == "Active" for t in tags):
        yield ok("cost allocation tag", "Environment is active: the budget and anomaly monitor see this stage's cost")
    else:
        yield warn("cost allocation tag", "Environment is not active: the budget and the anomaly monitor see $0",
                   "aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey=Environment,Status=Active"
                   "  # the tag appears there up to 24 h after the first tagged resource")


@check
def check_alarm_subscription(ctx: Context) -> Iterator[Check]:
    topic = f"arn:aws:sns:{ctx.stage.region}:{ctx.account}:{ctx.plan.alarm_topic}"
    prod = ctx.stage.stage == "prod"
    report = fail if prod else warn
    email_var = ctx.var("alarm_email")
    try:
        subscriptions = _subscriptions(ctx.aws, topic)
    except ClientError as error:
        if error_code(error) != "NotFound":
            raise
        if ctx.stage.alarm_email:
            yield warn("alarm subscription", f"the topic is created by the deploy and e-mails {ctx.stage.alarm_email}",
                       "confirm the subscription from that e-mail, then run preflight again")
        else:
            yield report("alarm subscription", "nobody will be told: no alarm e-mail is configured",
                         f"export {email_var}=<on-call address>" + ("  # prod requires one" if prod else ""))
        return
    confirmed = [s for s in subscriptions if s.get("SubscriptionArn", "").startswith("arn:")]
    if confirmed:
        yield ok("alarm subscription", f"{len(confirmed)} confirmed ({', '.join(sorted(s['Protocol'] for s in confirmed))})")
    elif subscriptions:
        yield report("alarm subscription", "a subscription waits for confirmation: alarms reach nobody yet",
                     "open the e-mail from AWS Notifications and confirm it")
    elif ctx.stage.alarm_email:  # this deploy subscribes it (and the next preflight wants it confirmed)
        yield warn("alarm subscription", f"nobody is subscribed yet; the deploy subscribes {ctx.stage.alarm_email}",
                   "confirm the subscription from that e-mail after the deploy")
    else:
        yield report("alarm subscription", f"nobody is subscribed to {ctx.plan.alarm_topic}: alarms reach nobody",
                     f"export {email_var}=<on-call address> && make deploy STAGE={ctx.stage.stage}  "
                     f"# or aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint <address>")
