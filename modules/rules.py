"""Rules over the synthesized Terraform JSON (the cdk-nag idea, for CDKTF).

Each rule is a small pure function ``plan -> findings``. ``main.py`` runs them
after every synth (a violation fails ``make synth``), and ``tests/test_rules.py``
gives each rule a passing and a failing case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modules.iam import UNSCOPED_ACTIONS
from modules.monitoring import (
    ANOMALY_EXPRESSION_KEYS,
    ANOMALY_VALUES_KEYS,
    SES_BOUNCE_RATE_REVIEW,
    SES_COMPLAINT_RATE_REVIEW,
)
from modules.routes import PUBLIC_ROUTES
from modules.stack import AWS_PROVIDER_SOURCE

Plan = dict[str, Any]
REQUIRED_TAGS = ("Project", "Environment", "CostCenter")
SES_REVIEW_LEVELS = {"Reputation.BounceRate": SES_BOUNCE_RATE_REVIEW, "Reputation.ComplaintRate": SES_COMPLAINT_RATE_REVIEW}


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    check: Callable[[Plan], Iterator[Finding]]


RULES: list[Rule] = []


def rule(id: str, description: str) -> Callable[[Callable[[Plan], Iterator[Finding]]], Callable[[Plan], Iterator[Finding]]]:
    def register(check: Callable[[Plan], Iterator[Finding]]) -> Callable[[Plan], Iterator[Finding]]:
        RULES.append(Rule(id=id, description=description, check=check))
        return check

    return register


def run(plan: Plan, rules: list[Rule] | None = None) -> list[Finding]:
    return [finding for r in (rules or RULES) for finding in r.check(plan)]


# -- helpers ------------------------------------------------------------------------------------
def stack_name(plan: Plan) -> str:
    return plan.get("//", {}).get("metadata", {}).get("stackName", "?")


def resources(plan: Plan, type_: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, logical id, body) of every resource, optionally of one type."""
    for rtype, items in sorted(plan.get("resource", {}).items()):
        if type_ is None or rtype == type_:
            for logical_id, body in sorted(items.items()):
                yield rtype, logical_id, body


def default_tags(plan: Plan) -> dict[str, str]:
    providers = plan.get("provider", {}).get("aws", [])
    tags: dict[str, str] = {}
    for provider in providers:
        for block in provider.get("default_tags", []):
            tags.update(block.get("tags", {}))
    return tags


def stage_of(plan: Plan) -> str:
    return default_tags(plan).get("Environment", "")


# -- foundation rules ---------------------------------------------------------------------------
@rule("tags-default", "every AWS provider sets default tags Project, Environment and CostCenter")
def _tags(plan: Plan) -> Iterator[Finding]:
    providers = plan.get("provider", {}).get("aws", [])
    if not providers:
        yield Finding("tags-default", stack_name(plan), "no aws provider")
    for index, provider in enumerate(providers):
        tags: dict[str, str] = {}
        for block in provider.get("default_tags", []):
            tags.update(block.get("tags", {}))
        missing = [tag for tag in REQUIRED_TAGS if not tags.get(tag)]
        if missing:
            yield Finding("tags-default", f"{stack_name(plan)} provider[{index}]", f"default_tags lack {missing}")


@rule("provider-source", "the AWS provider is required with the fully qualified source hashicorp/aws and a version")
def _provider_source(plan: Plan) -> Iterator[Finding]:
    required = plan.get("terraform", {}).get("required_providers", {}).get("aws", {})
    if required.get("source") != AWS_PROVIDER_SOURCE:
        yield Finding("provider-source", stack_name(plan), f"source is {required.get('source')!r}, want {AWS_PROVIDER_SOURCE!r}")
    if not required.get("version"):
        yield Finding("provider-source", stack_name(plan), "provider version is not pinned")


@rule("backend-per-stage", "a stage stack keeps encrypted, locked S3 state under a key that names its stage")
def _backend(plan: Plan) -> Iterator[Finding]:
    stage = stage_of(plan)
    backend = plan.get("terraform", {}).get("backend", {})
    if stage in ("", "shared"):  # the bootstrap stack keeps local state by design
        return
    s3 = backend.get("s3")
    where = stack_name(plan)
    if s3 is None:
        yield Finding("backend-per-stage", where, f"stage {stage} has backend {sorted(backend)}, want s3")
        return
    if f"/{stage}/" not in f"/{s3.get('key', '')}":
        yield Finding("backend-per-stage", where, f"state key {s3.get('key')!r} does not name stage {stage!r}")
    if s3.get("encrypt") is not True:
        yield Finding("backend-per-stage", where, "state is not encrypted (encrypt = true)")
    if s3.get("use_lockfile") is not True:
        yield Finding("backend-per-stage", where, "state is not locked (use_lockfile = true)")


# -- infrastructure rules -----------------------------------------------------------------------
_REF = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")
VISIBILITY_FACTOR = 6
MAX_RECEIVE_COUNT = 5


def referenced(plan: Plan, ref: str) -> dict[str, Any] | None:
    """The resource body a ``${type.id.attr}`` reference points at, if it is in this plan."""
    match = _REF.match(str(ref))
    if not match:
        return None
    return plan.get("resource", {}).get(match.group(1), {}).get(match.group(2))


@rule("function-safety", "every function: reserved concurrency, timeout, memory, async DLQ, X-Ray, JSON logs, python3.13 arm64")
def _function_safety(plan: Plan) -> Iterator[Finding]:
    for _, logical_id, fn in resources(plan, "aws_lambda_function"):
        where = fn.get("function_name", logical_id)
        problems = []
        if not isinstance(fn.get("reserved_concurrent_executions"), int) or fn["reserved_concurrent_executions"] < 1:
            problems.append("no explicit reserved concurrency")
        if not fn.get("timeout"):
            problems.append("no explicit timeout")
        if not fn.get("memory_size"):
            problems.append("no explicit memory")
        if not fn.get("dead_letter_config", {}).get("target_arn"):
            problems.append("no DLQ for async invocations")
        if fn.get("tracing_config", {}).get("mode") != "Active":
            problems.append("X-Ray tracing not active")
        if fn.get("logging_config", {}).get("log_format") != "JSON":
            problems.append("logs are not structured JSON")
        if fn.get("runtime") != "python3.13" or fn.get("architectures") != ["arm64"]:
            problems.append(f"runtime {fn.get('runtime')} {fn.get('architectures')}, want python3.13 arm64")
        log_group = referenced(plan, fn.get("logging_config", {}).get("log_group", "").replace(".name}", ".arn}"))
        if log_group is None or not log_group.get("retention_in_days"):
            problems.append("no log group with retention")
        for problem in problems:
            yield Finding("function-safety", where, problem)


@rule("queue-safety", "every work queue: encrypted, own DLQ within 5 receives, visibility >= 6x its consumer's timeout")
def _queue_safety(plan: Plan) -> Iterator[Finding]:
    queues = dict((lid, body) for _, lid, body in resources(plan, "aws_sqs_queue"))
    for logical_id, queue in queues.items():
        where = queue.get("name", logical_id)
        if not (queue.get("sqs_managed_sse_enabled") or queue.get("kms_master_key_id")):
            yield Finding("queue-safety", where, "not encrypted")
    for _, _, mapping in resources(plan, "aws_lambda_event_source_mapping"):
        queue = referenced(plan, mapping.get("event_source_arn", ""))
        fn = referenced(plan, mapping.get("function_name", ""))
        if "ReportBatchItemFailures" not in mapping.get("function_response_types", []):
            yield Finding("queue-safety", str(mapping.get("event_source_arn")), "event source without partial batch responses")
        if queue is None:  # an existing queue (the owner's): its settings are not ours
            continue
        where = queue.get("name", "?")
        redrive = json.loads(queue.get("redrive_policy") or "{}")
        if not redrive.get("deadLetterTargetArn"):
            yield Finding("queue-safety", where, "consumed queue without a DLQ")
        elif not 1 <= int(redrive.get("maxReceiveCount", 0)) <= MAX_RECEIVE_COUNT:
            yield Finding("queue-safety", where, f"maxReceiveCount {redrive.get('maxReceiveCount')} outside 1..{MAX_RECEIVE_COUNT}")
        if fn is not None and queue.get("visibility_timeout_seconds", 30) < VISIBILITY_FACTOR * fn.get("timeout", 3):
            yield Finding("queue-safety", where, f"visibility {queue.get('visibility_timeout_seconds', 30)}s < "
                                                 f"{VISIBILITY_FACTOR} x {fn.get('function_name')} timeout {fn.get('timeout')}s")


@rule("table-safety", "every table: on-demand, encrypted, PITR; in prod also deletion protection and prevent_destroy")
def _table_safety(plan: Plan) -> Iterator[Finding]:
    prod = stage_of(plan) == "prod"
    for _, logical_id, table in resources(plan, "aws_dynamodb_table"):
        where = table.get("name", logical_id)
        if table.get("billing_mode") != "PAY_PER_REQUEST":
            yield Finding("table-safety", where, "not on-demand")
        if not table.get("server_side_encryption", {}).get("enabled"):
            yield Finding("table-safety", where, "encryption not enabled")
        if not table.get("point_in_time_recovery", {}).get("enabled"):
            yield Finding("table-safety", where, "point-in-time recovery off")
        if prod and not table.get("deletion_protection_enabled"):
            yield Finding("table-safety", where, "prod table without deletion protection")
        if prod and not table.get("lifecycle", {}).get("prevent_destroy"):
            yield Finding("table-safety", where, "prod table without prevent_destroy")


@rule("iam-least-privilege", 'no wildcard actions; "Resource": "*" only for actions AWS cannot scope (X-Ray, PutMetricData)')
def _iam(plan: Plan) -> Iterator[Finding]:
    for _, logical_id, policy in resources(plan, "aws_iam_role_policy"):
        where = policy.get("name", logical_id)
        for statement in json.loads(policy.get("policy", "{}")).get("Statement", []):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources_ = statement.get("Resource", [])
            resources_ = [resources_] if isinstance(resources_, str) else resources_
            for action in actions:
                if "*" in action:
                    yield Finding("iam-least-privilege", where, f"wildcard action {action}")
            if any("*" == r for r in resources_) and not set(actions) <= UNSCOPED_ACTIONS:
                yield Finding("iam-least-privilege", where, f'"Resource": "*" for {sorted(set(actions) - UNSCOPED_ACTIONS)}')


@rule("routes-auth", "every route but /health and /unsubscribe needs a JWT; prod never runs without one")
def _routes_auth(plan: Plan) -> Iterator[Finding]:
    routes = [body for _, _, body in resources(plan, "aws_apigatewayv2_route")]
    has_authorizer = any(True for _ in resources(plan, "aws_apigatewayv2_authorizer"))
    if stage_of(plan) == "prod" and routes and not has_authorizer:
        yield Finding("routes-auth", stack_name(plan), "prod API without an authorizer")
    for route in routes:
        key = route.get("route_key", "?")
        protected = route.get("authorization_type") == "JWT" and bool(route.get("authorizer_id"))
        if key in PUBLIC_ROUTES and protected:
            yield Finding("routes-auth", key, "public route requires a JWT")
        if key not in PUBLIC_ROUTES and has_authorizer and not protected:
            yield Finding("routes-auth", key, "route without the JWT authorizer")


API_TIMEOUT = 30  # seconds: an HTTP API integration's fixed maximum; the caller gets 503 after it


@rule("api-timeout", f"every function behind the HTTP API answers within its {API_TIMEOUT} s integration timeout")
def _api_timeout(plan: Plan) -> Iterator[Finding]:
    for _, _, integration in resources(plan, "aws_apigatewayv2_integration"):
        fn = referenced(plan, integration.get("integration_uri", ""))
        if fn is not None and int(fn.get("timeout", 3)) >= API_TIMEOUT:
            yield Finding("api-timeout", fn.get("function_name", "?"),
                          f"timeout {fn.get('timeout')} s behind the HTTP API: the caller gets 503 after {API_TIMEOUT} s "
                          "while the function keeps working; make it shorter or move the work to a job")


def _alarmed(plan: Plan) -> set[tuple[str, str]]:
    """(metric name, dimension value) pairs that some alarm watches, including inside metric math."""
    watched: set[tuple[str, str]] = set()
    for _, _, alarm in resources(plan, "aws_cloudwatch_metric_alarm"):
        metrics = [alarm] + [q.get("metric", {}) for q in alarm.get("metric_query", [])]
        for metric in metrics:
            for value in (metric.get("dimensions") or {}).values():
                watched.add((metric.get("metric_name", ""), value))
    return watched


@rule("alarms-cover", "alarms on every function's errors and duration, every queue's age, every DLQ's depth")
def _alarms(plan: Plan) -> Iterator[Finding]:
    watched = _alarmed(plan)
    for _, _, fn in resources(plan, "aws_lambda_function"):
        for metric in ("Errors", "Duration"):
            if (metric, fn["function_name"]) not in watched:
                yield Finding("alarms-cover", fn["function_name"], f"no alarm on {metric}")
    dlq_arns = {json.loads(q.get("redrive_policy") or "{}").get("deadLetterTargetArn") for _, _, q in resources(plan, "aws_sqs_queue")}
    dlq_arns |= {fn.get("dead_letter_config", {}).get("target_arn") for _, _, fn in resources(plan, "aws_lambda_function")}
    for _, logical_id, queue in resources(plan, "aws_sqs_queue"):
        is_dlq = f"${{aws_sqs_queue.{logical_id}.arn}}" in dlq_arns
        metric = "ApproximateNumberOfMessagesVisible" if is_dlq else "ApproximateAgeOfOldestMessage"
        if (metric, queue["name"]) not in watched:
            yield Finding("alarms-cover", queue["name"], f"no alarm on {metric}")


@rule("budget-alerts", "a monthly budget alerts at 50/80/100 % actual and 100 % forecast")
def _budget(plan: Plan) -> Iterator[Finding]:
    budgets = [body for _, _, body in resources(plan, "aws_budgets_budget")]
    if stage_of(plan) not in ("", "shared") and not budgets:
        yield Finding("budget-alerts", stack_name(plan), "no budget")
    for budget in budgets:
        got = {(n["notification_type"], n["threshold"]) for n in budget.get("notification", [])}
        want = {("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
        if not want <= got:
            yield Finding("budget-alerts", budget.get("name", "?"), f"missing notifications {sorted(want - got)}")


# -- deploy readiness: what a provider-level review found the plans would get wrong on AWS ------------
TERRAFORM_MIN_VERSION = (1, 11)  # the S3 backend's use_lockfile is generally available from 1.11
_CONSTRAINT = re.compile(r"^\s*(>=|~>)\s*(\d+)\.(\d+)")


@rule("terraform-version", "every stack requires Terraform >= 1.11 (S3 lock files); older ones fail at init without saying why")
def _terraform_version(plan: Plan) -> Iterator[Finding]:
    required = plan.get("terraform", {}).get("required_version", "")
    lower_bounds = [(int(m.group(2)), int(m.group(3))) for part in str(required).split(",") if (m := _CONSTRAINT.match(part))]
    if not lower_bounds:
        yield Finding("terraform-version", stack_name(plan), f"required_version {required!r} has no lower bound; want >= 1.11")
    elif max(lower_bounds) < TERRAFORM_MIN_VERSION:
        yield Finding("terraform-version", stack_name(plan), f"required_version {required!r} admits Terraform older than 1.11")


@rule("anomaly-monitor-stable", "a cost anomaly monitor's specification is written as the provider reads it back (#39885)")
def _anomaly_monitor(plan: Plan) -> Iterator[Finding]:
    for _, logical_id, monitor in resources(plan, "aws_ce_anomaly_monitor"):
        where = monitor.get("name", logical_id)
        if monitor.get("monitor_type") != "CUSTOM":
            continue
        try:
            spec = json.loads(monitor.get("monitor_specification") or "null")
        except ValueError:
            yield Finding("anomaly-monitor-stable", where, "monitor_specification is not JSON")
            continue
        if not isinstance(spec, dict):
            yield Finding("anomaly-monitor-stable", where, "monitor_specification is not an Expression object")
            continue
        missing = [key for key in ANOMALY_EXPRESSION_KEYS if key not in spec]
        if missing:
            yield Finding("anomaly-monitor-stable", where, f"Expression members {missing} absent instead of null: "
                                                           "replaced on every apply")
        for key in ("Tags", "Dimensions", "CostCategories"):
            values = spec.get(key)
            if isinstance(values, dict):
                absent = [member for member in ANOMALY_VALUES_KEYS if member not in values]
                if absent:
                    yield Finding("anomaly-monitor-stable", where, f"{key} members {absent} absent instead of null")
        if isinstance(spec.get("Tags"), dict) and spec["Tags"].get("MatchOptions") is not None:
            yield Finding("anomaly-monitor-stable", where, "Tags set MatchOptions, which the API documents for cost categories only")


def _environments(plan: Plan) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    for _, logical_id, fn in resources(plan, "aws_lambda_function"):
        yield fn.get("function_name", logical_id), fn, dict(fn.get("environment", {}).get("variables", {}))


def _role_statements(plan: Plan, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = str(function.get("role", ""))
    statements: list[dict[str, Any]] = []
    for _, _, policy in resources(plan, "aws_iam_role_policy"):
        if role.startswith("${") and role.replace(".arn}", "") == str(policy.get("role", "")).replace(".id}", ""):
            statements += json.loads(policy.get("policy", "{}")).get("Statement", [])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@rule("ses-send-identities", "a sender may send on every identity SES authorizes: domain, From address, configuration set")
def _ses_send(plan: Plan) -> Iterator[Finding]:
    for name, fn, env in _environments(plan):
        statements = [s for s in _role_statements(plan, fn) if "ses:SendEmail" in _as_list(s.get("Action"))]
        if not statements:
            continue
        allowed = {str(r) for s in statements if not s.get("Condition") for r in _as_list(s.get("Resource"))}
        wanted = {"identity": [env.get("SES_IDENTITY_DOMAIN", ""), env.get("SES_FROM_EMAIL", "")],
                  "configuration-set": [env.get("SES_CONFIGURATION_SET", "")]}
        for kind, names in wanted.items():
            for wanted_name in names:
                if not wanted_name:
                    yield Finding("ses-send-identities", name, f"sends mail but its environment names no {kind}")
                elif not any(r.endswith(f":{kind}/{wanted_name}") for r in allowed):
                    yield Finding("ses-send-identities", name, f"ses:SendEmail not allowed on {kind}/{wanted_name}: "
                                                               "SES answers AccessDenied")


@rule("lambda-permission-ref", "a Lambda permission names its function by reference, so Terraform creates the function first")
def _permission_ref(plan: Plan) -> Iterator[Finding]:
    for _, logical_id, permission in resources(plan, "aws_lambda_permission"):
        target = str(permission.get("function_name", ""))
        if not target.startswith("${aws_lambda_function.") or referenced(plan, target) is None:
            yield Finding("lambda-permission-ref", logical_id, f"function_name {target!r} is not a reference to a function "
                                                               "of this plan: nothing orders the permission after it")


def _dlq_names(plan: Plan) -> set[str]:
    arns = {json.loads(q.get("redrive_policy") or "{}").get("deadLetterTargetArn") for _, _, q in resources(plan, "aws_sqs_queue")}
    arns |= {fn.get("dead_letter_config", {}).get("target_arn") for _, _, fn in resources(plan, "aws_lambda_function")}
    return {q["name"] for _, lid, q in resources(plan, "aws_sqs_queue") if f"${{aws_sqs_queue.{lid}.arn}}" in arns}


@rule("dlq-alarm-state", "a DLQ depth alarm keeps its state when SQS stops publishing (idle queues), never reads it as OK")
def _dlq_alarm_state(plan: Plan) -> Iterator[Finding]:
    dlqs = _dlq_names(plan)
    for _, logical_id, alarm in resources(plan, "aws_cloudwatch_metric_alarm"):
        queue = (alarm.get("dimensions") or {}).get("QueueName")
        if alarm.get("metric_name") == "ApproximateNumberOfMessagesVisible" and queue in dlqs \
                and alarm.get("treat_missing_data") not in ("ignore", "breaching"):
            yield Finding("dlq-alarm-state", alarm.get("alarm_name", logical_id),
                          f"treat_missing_data {alarm.get('treat_missing_data')!r}: the alarm clears while messages sit in "
                          "the DLQ once SQS stops publishing; use 'ignore'")


def _topic_policies(plan: Plan) -> dict[str, tuple[str, dict[str, Any]]]:
    """topic ARN reference -> (the policy's depends_on address, its document)."""
    return {str(body.get("arn")): (f"aws_sns_topic_policy.{lid}", json.loads(body.get("policy", "{}")))
            for _, lid, body in resources(plan, "aws_sns_topic_policy")}


@rule("alarm-topic-policy", "services publish to a topic only for this account, and budgets and anomaly alerts wait for that policy")
def _alarm_topic_policy(plan: Plan) -> Iterator[Finding]:
    policies = _topic_policies(plan)
    for topic, (_, document) in policies.items():
        for statement in document.get("Statement", []):
            if "Service" in (statement.get("Principal") or {}) and \
                    "aws:SourceAccount" not in statement.get("Condition", {}).get("StringEquals", {}):
                yield Finding("alarm-topic-policy", statement.get("Sid", topic),
                              "a service may publish without an aws:SourceAccount condition: any account's resources could use the topic")
    subscribers: list[tuple[str, dict[str, Any], list[str]]] = []
    for _, lid, budget in resources(plan, "aws_budgets_budget"):
        subscribers.append((budget.get("name", lid), budget, [t for n in budget.get("notification", [])
                                                              for t in n.get("subscriber_sns_topic_arns", [])]))
    for _, lid, subscription in resources(plan, "aws_ce_anomaly_subscription"):
        subscribers.append((subscription.get("name", lid), subscription,
                            [s.get("address") for s in subscription.get("subscriber", []) if s.get("type") == "SNS"]))
    for where, body, topics in subscribers:
        for topic in set(topics):
            policy = policies.get(topic)
            if policy is None:
                yield Finding("alarm-topic-policy", where, f"notifies {topic}, which has no policy letting the service publish")
            elif policy[0] not in body.get("depends_on", []):
                yield Finding("alarm-topic-policy", where, f"does not depend on {policy[0]}: created before the topic admits it")


@rule("ses-reputation-alarms", "SES bounce and complaint rates alarm early, below the levels where AWS reviews the account")
def _ses_reputation(plan: Plan) -> Iterator[Finding]:
    if stage_of(plan) in ("", "shared"):
        return
    thresholds: dict[str, list[float]] = {}
    for _, _, alarm in resources(plan, "aws_cloudwatch_metric_alarm"):
        if alarm.get("namespace") == "AWS/SES":
            thresholds.setdefault(alarm.get("metric_name", ""), []).append(float(alarm.get("threshold", 0)))
    for metric, review in SES_REVIEW_LEVELS.items():
        got = thresholds.get(metric, [])
        if not any(t <= review for t in got):
            yield Finding("ses-reputation-alarms", stack_name(plan), f"no alarm on {metric} at AWS's review level {review:g}")
        if not any(t < review for t in got):
            yield Finding("ses-reputation-alarms", stack_name(plan), f"no early warning on {metric} below {review:g}")


# -- rules across the plans of every stage ------------------------------------------------------------
CrossRule = Callable[[list[Plan]], Iterator[Finding]]
CROSS_RULES: list[tuple[str, str, CrossRule]] = []


def cross_rule(id: str, description: str) -> Callable[[CrossRule], CrossRule]:
    def register(check: CrossRule) -> CrossRule:
        CROSS_RULES.append((id, description, check))
        return check

    return register


def run_across(plans: list[Plan]) -> list[Finding]:
    return [finding for _, _, check in CROSS_RULES for finding in check(plans)]


def placement(plan: Plan) -> tuple[str, str]:
    """(region, account id or "" for any account) the plan deploys to."""
    provider = (plan.get("provider", {}).get("aws") or [{}])[0]
    return provider.get("region", ""), ",".join(provider.get("allowed_account_ids") or [])


def feedback_wiring(plan: Plan) -> tuple[str, str]:
    """(configuration set, feedback queue name) a stage's sending and process-feedback use."""
    config_set = next((env["SES_CONFIGURATION_SET"] for _, _, env in _environments(plan) if "SES_CONFIGURATION_SET" in env), "")
    queue = ""
    for _, _, mapping in resources(plan, "aws_lambda_event_source_mapping"):
        fn = referenced(plan, mapping.get("function_name", ""))
        if fn is not None and str(fn.get("function_name", "")).endswith("-process-feedback"):
            match = re.match(r"^\$\{(data\.)?(aws_sqs_queue)\.([A-Za-z0-9_-]+)\.arn\}$", str(mapping.get("event_source_arn")))
            if match:
                source = plan.get("data" if match.group(1) else "resource", {}).get("aws_sqs_queue", {}).get(match.group(3), {})
                queue = source.get("name", "")
    return config_set, queue


@cross_rule("ses-per-stage", "stages that may share an account and region use their own configuration set and feedback queue")
def _ses_per_stage(plans: list[Plan]) -> Iterator[Finding]:
    stages = [(stack_name(p), placement(p), feedback_wiring(p)) for p in plans if stage_of(p) not in ("", "shared")]
    for index, (name_a, (region_a, account_a), wiring_a) in enumerate(stages):
        for name_b, (region_b, account_b), wiring_b in stages[index + 1:]:
            if region_a != region_b or (account_a and account_b and account_a != account_b):
                continue
            for what, a, b in (("configuration set", wiring_a[0], wiring_b[0]), ("feedback queue", wiring_a[1], wiring_b[1])):
                if a and a == b:
                    yield Finding("ses-per-stage", f"{name_a} and {name_b}",
                                  f"share the SES {what} {a!r}: each stage's events would reach the other's process-feedback")


UNAUTHENTICATED_WRITES = frozenset({"GET /unsubscribe", "POST /unsubscribe"})  # public and change data


@rule("public-routes-contained", "public routes have their own lower throttling; /unsubscribe runs on a function of its own")
def _public_routes(plan: Plan) -> Iterator[Finding]:
    routes = {body.get("route_key"): body for _, _, body in resources(plan, "aws_apigatewayv2_route")}
    stages = [body for _, _, body in resources(plan, "aws_apigatewayv2_stage")]
    settings = {s.get("route_key"): s for stage in stages for s in stage.get("route_settings", [])}
    default = next((stage.get("default_route_settings", {}) for stage in stages), {})
    target_of = {key: body.get("target", "") for key, body in routes.items()}
    for key, route in sorted(routes.items()):
        if key not in PUBLIC_ROUTES:  # public by design (a stage without auth is a development choice)
            continue
        own = settings.get(key)
        if own is None:
            yield Finding("public-routes-contained", key, "public route without its own throttling: a flood of it "
                                                          "spends the stage's whole default limit")
        elif own.get("throttling_rate_limit", 0) > default.get("throttling_rate_limit", 0) or \
                own.get("throttling_burst_limit", 0) > default.get("throttling_burst_limit", 0):
            yield Finding("public-routes-contained", key, "public route throttled above the stage's default")
        if key in UNAUTHENTICATED_WRITES:
            shared = sorted(k for k, t in target_of.items() if t == target_of[key] and routes[k].get("authorization_type") == "JWT")
            if shared:
                yield Finding("public-routes-contained", key, f"shares its function with authenticated routes {shared[:3]}: "
                                                              "a flood of it takes their reserved concurrency")
