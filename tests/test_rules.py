"""Each rule has a passing and a failing case; every synthesized stack passes every rule."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from modules import rules
from tests.synth import Synth


def good_stage_plan() -> dict[str, Any]:
    return {
        "//": {"metadata": {"stackName": "pivotr-mailer-dev"}},
        "provider": {
            "aws": [{"default_tags": [{"tags": {"Project": "pivotr-mailer", "Environment": "dev", "CostCenter": "x"}}]}]
        },
        "terraform": {
            "backend": {
                "s3": {"bucket": "b", "key": "pivotr-mailer/dev/terraform.tfstate", "encrypt": True, "use_lockfile": True}
            },
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "6.25.0"}},
        },
    }


def findings_of(rule_id: str, plan: dict[str, Any]) -> list[rules.Finding]:
    [selected] = [r for r in rules.RULES if r.id == rule_id]
    return rules.run(plan, [selected])


FOUNDATION_RULES = ("tags-default", "provider-source", "backend-per-stage")


def test_the_good_plan_passes_every_foundation_rule() -> None:
    assert [f for rule_id in FOUNDATION_RULES for f in findings_of(rule_id, good_stage_plan())] == []


def broken(mutate) -> dict[str, Any]:
    plan = copy.deepcopy(good_stage_plan())
    mutate(plan)
    return plan


@pytest.mark.parametrize(
    ("rule_id", "mutate", "message"),
    [
        ("tags-default", lambda p: p["provider"]["aws"][0]["default_tags"][0]["tags"].pop("CostCenter"), "CostCenter"),
        ("tags-default", lambda p: p["provider"].pop("aws"), "no aws provider"),
        ("provider-source", lambda p: p["terraform"]["required_providers"]["aws"].update(source="aws"), "want 'hashicorp/aws'"),
        ("provider-source", lambda p: p["terraform"]["required_providers"]["aws"].pop("version"), "not pinned"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].update(key="shared/terraform.tfstate"), "does not name stage"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].pop("use_lockfile"), "not locked"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].update(encrypt=False), "not encrypted"),
        ("backend-per-stage", lambda p: p["terraform"].update(backend={"local": {}}), "want s3"),
    ],
)
def test_each_rule_catches_its_violation(rule_id: str, mutate, message: str) -> None:
    # Given a plan broken in one way / When the rule runs / Then it reports exactly that
    found = findings_of(rule_id, broken(mutate))
    assert found and all(message in f.message for f in found), found


def test_every_synthesized_stack_passes_every_rule(synth: Synth) -> None:
    assert {name: rules.run(synth.stack(name)) for name in synth.stack_names} == {
        name: [] for name in synth.stack_names
    }


# -- infrastructure rules: the real dev plan passes; one mutation each makes it fail -------------
def first(plan: dict[str, Any], type_: str, where=lambda body: True) -> dict[str, Any]:
    return next(body for _, _, body in rules.resources(plan, type_) if where(body))


def _policy(plan: dict[str, Any], statement: dict[str, Any]) -> None:
    body = first(plan, "aws_iam_role_policy")
    document = json.loads(body["policy"])
    document["Statement"].append(statement)
    body["policy"] = json.dumps(document)


def _queue(plan: dict[str, Any]) -> dict[str, Any]:
    return first(plan, "aws_sqs_queue", lambda q: q["name"].endswith("-sending"))


INFRA_CASES = [
    ("function-safety", lambda p: first(p, "aws_lambda_function").pop("reserved_concurrent_executions"), "reserved concurrency"),
    ("function-safety", lambda p: first(p, "aws_lambda_function").pop("dead_letter_config"), "DLQ"),
    ("function-safety", lambda p: first(p, "aws_lambda_function")["tracing_config"].update(mode="PassThrough"), "X-Ray"),
    ("function-safety", lambda p: first(p, "aws_lambda_function").update(runtime="nodejs20.x"), "want python3.13"),
    ("queue-safety", lambda p: _queue(p).update(visibility_timeout_seconds=60), "visibility 60s < 6 x"),
    ("queue-safety", lambda p: _queue(p).pop("redrive_policy"), "without a DLQ"),
    ("queue-safety", lambda p: _queue(p).update(redrive_policy=json.dumps({"deadLetterTargetArn": "x", "maxReceiveCount": 9})), "maxReceiveCount 9"),
    ("queue-safety", lambda p: _queue(p).pop("sqs_managed_sse_enabled"), "not encrypted"),
    ("queue-safety", lambda p: first(p, "aws_lambda_event_source_mapping").pop("function_response_types"), "partial batch"),
    ("table-safety", lambda p: first(p, "aws_dynamodb_table")["point_in_time_recovery"].update(enabled=False), "point-in-time"),
    ("table-safety", lambda p: first(p, "aws_dynamodb_table").update(billing_mode="PROVISIONED"), "on-demand"),
    ("iam-least-privilege", lambda p: _policy(p, {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "x"}), "wildcard action"),
    ("iam-least-privilege", lambda p: _policy(p, {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}), '"Resource": "*"'),
    ("routes-auth", lambda p: first(p, "aws_apigatewayv2_route", lambda r: r["route_key"] == "GET /leads").update(authorization_type="NONE"), "without the JWT"),
    ("routes-auth", lambda p: first(p, "aws_apigatewayv2_route", lambda r: r["route_key"] == "GET /health").update(authorization_type="JWT", authorizer_id="x"), "public route"),
    ("alarms-cover", lambda p: p["resource"]["aws_cloudwatch_metric_alarm"].pop(next(k for k in p["resource"]["aws_cloudwatch_metric_alarm"] if "send-email-errors" in k)), "no alarm on Errors"),
    ("alarms-cover", lambda p: p["resource"]["aws_cloudwatch_metric_alarm"].pop(next(k for k in p["resource"]["aws_cloudwatch_metric_alarm"] if "sending-dlq" in k)), "ApproximateNumberOfMessagesVisible"),
    ("api-timeout", lambda p: first(p, "aws_lambda_function", lambda f: f["function_name"].endswith("lead-import")).update(timeout=60),
     "behind the HTTP API"),
    ("budget-alerts", lambda p: first(p, "aws_budgets_budget")["notification"].pop(), "missing notifications"),
    ("budget-alerts", lambda p: p["resource"].pop("aws_budgets_budget"), "no budget"),
    # deploy readiness (issue 14): each mutation puts back what the plans had before the fix
    ("terraform-version", lambda p: p["terraform"].pop("required_version"), "no lower bound"),
    ("terraform-version", lambda p: p["terraform"].update(required_version="~> 1.10"), "older than 1.11"),
    ("anomaly-monitor-stable", lambda p: first(p, "aws_ce_anomaly_monitor").update(monitor_specification=json.dumps(
        {"Tags": {"Key": "Environment", "MatchOptions": ["EQUALS"], "Values": ["dev"]}}, sort_keys=True)), "absent instead of null"),
    ("anomaly-monitor-stable", lambda p: _anomaly_tags(p, MatchOptions=["EQUALS"]), "cost categories only"),
    ("ses-send-identities", lambda p: _drop_resource(p, "send-email", ":identity/outreach@pivotr.example.com"),
     "identity/outreach@pivotr.example.com"),
    ("ses-send-identities", lambda p: _drop_resource(p, "send-email", ":configuration-set/"), "configuration-set/pivotr-mailer-dev"),
    ("lambda-permission-ref", lambda p: first(p, "aws_lambda_permission").update(function_name="pivotr-mailer-dev-api-leads"),
     "not a reference"),
    ("dlq-alarm-state", lambda p: first(p, "aws_cloudwatch_metric_alarm", lambda a: a["alarm_name"].endswith("-sending-dlq")).update(
        treat_missing_data="notBreaching"), "clears while messages sit"),
    ("dlq-alarm-state", lambda p: first(p, "aws_cloudwatch_metric_alarm", lambda a: a["alarm_name"].endswith("send-email-async-dlq")).update(
        treat_missing_data="missing"), "use 'ignore'"),
    ("alarm-topic-policy", lambda p: _topic_policy(p, lambda s: s.pop("Condition")), "aws:SourceAccount"),
    ("alarm-topic-policy", lambda p: first(p, "aws_budgets_budget").pop("depends_on"), "does not depend on"),
    ("alarm-topic-policy", lambda p: first(p, "aws_ce_anomaly_subscription").pop("depends_on"), "does not depend on"),
    ("alarm-topic-policy", lambda p: p["resource"].pop("aws_sns_topic_policy"), "no policy letting the service publish"),
    ("ses-reputation-alarms", lambda p: _drop_alarms(p, "-warning"), "no early warning on Reputation.BounceRate"),
    # security (issue 15): the old plan routed /unsubscribe to api-leads under the stage's throttle only
    ("public-routes-contained", lambda p: first(p, "aws_apigatewayv2_stage").pop("route_settings"), "without its own throttling"),
    ("public-routes-contained", lambda p: first(p, "aws_apigatewayv2_stage")["route_settings"][1].update(throttling_rate_limit=500),
     "above the stage's default"),
    ("public-routes-contained", lambda p: first(p, "aws_apigatewayv2_route", lambda r: r["route_key"] == "POST /unsubscribe").update(
        target=first(p, "aws_apigatewayv2_route", lambda r: r["route_key"] == "GET /leads")["target"]), "shares its function"),
    ("ses-reputation-alarms", lambda p: _drop_alarms(p, "ses-complaint-rate"), "no alarm on Reputation.ComplaintRate"),
]


def _anomaly_tags(plan: dict[str, Any], **members: Any) -> None:
    monitor = first(plan, "aws_ce_anomaly_monitor")
    spec = json.loads(monitor["monitor_specification"])
    spec["Tags"].update(members)
    monitor["monitor_specification"] = json.dumps(spec)


def _drop_resource(plan: dict[str, Any], function: str, fragment: str) -> None:
    body = first(plan, "aws_iam_role_policy", lambda b: b["name"].endswith(f"-{function}"))
    document = json.loads(body["policy"])
    for statement in document["Statement"]:
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        statement["Resource"] = [t for t in targets if fragment not in t] or ["arn:aws:ses:::identity/other"]
    body["policy"] = json.dumps(document)


def _topic_policy(plan: dict[str, Any], change) -> None:
    body = first(plan, "aws_sns_topic_policy")
    document = json.loads(body["policy"])
    change(document["Statement"][0])
    body["policy"] = json.dumps(document)


def _drop_alarms(plan: dict[str, Any], fragment: str) -> None:
    alarms = plan["resource"]["aws_cloudwatch_metric_alarm"]
    for key in [k for k, a in alarms.items() if fragment in a["alarm_name"]]:
        del alarms[key]


@pytest.mark.parametrize(("rule_id", "mutate", "message"), INFRA_CASES, ids=[f"{c[0]}:{c[2]}" for c in INFRA_CASES])
def test_each_infrastructure_rule_catches_its_violation(synth: Synth, rule_id: str, mutate, message: str) -> None:
    # Given the real dev plan, which passes the rule
    plan = copy.deepcopy(synth.stage("dev"))
    assert findings_of(rule_id, plan) == []
    # When broken in one way / Then the rule reports it
    mutate(plan)
    found = findings_of(rule_id, plan)
    assert found and any(message in f.message for f in found), found


@pytest.mark.parametrize("mutate", [
    lambda p: first(p, "aws_dynamodb_table").update(deletion_protection_enabled=False),
    lambda p: first(p, "aws_dynamodb_table").pop("lifecycle"),
])
def test_prod_tables_must_be_protected(synth: Synth, mutate) -> None:
    plan = copy.deepcopy(synth.stage("prod"))
    assert findings_of("table-safety", plan) == []
    mutate(plan)
    assert findings_of("table-safety", plan)


# -- rules across stages ---------------------------------------------------------------------------
def _set_configuration_set(plan: dict[str, Any], name: str) -> None:
    for _, _, fn in rules.resources(plan, "aws_lambda_function"):
        variables = fn.get("environment", {}).get("variables", {})
        if "SES_CONFIGURATION_SET" in variables:
            variables["SES_CONFIGURATION_SET"] = name


def test_stages_in_one_account_must_not_share_ses_feedback(synth: Synth) -> None:
    # Given the real plans, which pass
    plans = [copy.deepcopy(synth.stack(name)) for name in synth.stack_names]
    assert rules.run_across(plans) == []
    # When staging sends through dev's configuration set (the old default: one set for every stage)
    staging = next(p for p in plans if rules.stage_of(p) == "staging")
    _set_configuration_set(staging, "pivotr-mailer-dev")
    # Then the cross-stage rule names both stages and the set
    [finding] = rules.run_across(plans)
    assert finding.rule == "ses-per-stage" and "pivotr-mailer-dev" in finding.message and "staging" in finding.where
    # And stages pinned to different accounts may use the same name
    staging["provider"]["aws"][0]["allowed_account_ids"] = ["111111111111"]
    next(p for p in plans if rules.stage_of(p) == "dev")["provider"]["aws"][0]["allowed_account_ids"] = ["222222222222"]
    assert rules.run_across(plans) == []


def test_stages_must_not_consume_one_feedback_queue(synth: Synth) -> None:
    plans = {rules.stage_of(p): copy.deepcopy(p) for p in (synth.stack(n) for n in synth.stack_names)}
    assert rules.feedback_wiring(plans["prod"]) == ("pivotr-mailer", "pivotr-mailer-prod-ses-feedback")
    assert rules.feedback_wiring(plans["dev"]) == ("pivotr-mailer-dev", "pivotr-mailer-dev-ses-feedback")
    # When prod's existing queue is dev's
    for body in plans["prod"]["data"]["aws_sqs_queue"].values():
        body["name"] = "pivotr-mailer-dev-ses-feedback"
    found = rules.run_across(list(plans.values()))
    assert [f.rule for f in found] == ["ses-per-stage"] and "feedback queue" in found[0].message
