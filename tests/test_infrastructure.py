"""SPEC §4–§6 resources, asserted on every stage's synthesized JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.rules import referenced, resources
from tests.synth import STAGES, Synth, run_synth

# SPEC §4 function table: (concurrency, timeout s, memory MB)
SPEC_FUNCTIONS = {
    "send-email": (5, 30, 256),
    "verify-email": (3, 15, 256),
    "process-feedback": (10, 10, 128),
    "lead-import": (2, 29, 512),  # behind the HTTP API: within its fixed 30 s (rule api-timeout)
    "transfer-worker": (2, 120, 512),  # ours: import and export jobs, a few 1 MiB blocks per invocation
    "api-leads": (10, 10, 256),
    "api-campaigns": (10, 10, 256),
    "api-metrics": (10, 10, 256),
}
# SPEC §4 tables: (partition key, sort key, {index: partition key})
SPEC_TABLES = {
    "leads": ("id", None, {"email-index": "email", "status-index": "status"}),
    "campaigns": ("id", None, {}),
    "templates": ("id", None, {}),
    "logs": ("campaignId", "timestamp", {"lead-index": "leadId"}),
    "metrics": ("campaignId", "date", {}),
    "settings": ("key", None, {}),
    "recipients": ("campaignId", "leadId", {"open-index": "openCampaign"}),  # ours: per-campaign send records (README, "Sending")
    "suppression": ("id", None, {}),  # ours: opt-outs, bounces, complaints that outlive lead records (docs/sending.md)
    "jobs": ("id", None, {"kind-index": "kind"}),  # ours: import and export jobs, listed newest first
}
SPEC_ROUTES = {
    "GET /health", "GET /leads", "POST /leads", "POST /leads/import", "GET /leads/{id}", "PUT /leads/{id}",
    "DELETE /leads/{id}", "GET /leads/{id}/history", "GET /campaigns", "POST /campaigns", "GET /campaigns/{id}",
    "PUT /campaigns/{id}", "POST /campaigns/{id}/start", "POST /campaigns/{id}/pause", "POST /campaigns/{id}/abort",
    "GET /templates", "POST /templates", "GET /templates/{id}", "PUT /templates/{id}", "DELETE /templates/{id}",
    "GET /metrics/dashboard", "GET /metrics/campaign/{id}", "GET /unsubscribe", "POST /unsubscribe",
    # ours: files of any size as jobs (README "Imports and exports")
    "POST /imports", "GET /imports", "GET /imports/{id}", "POST /exports", "GET /exports", "GET /exports/{id}",
}


@pytest.fixture(scope="module")
def greenfield(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A new account: every stage creates its SES wiring, prod the identity and its DNS records; dev without auth."""
    outdir = tmp_path_factory.mktemp("greenfield") / "out"
    env = {"PIVOTR_PROD_SES_CREATE": "true", "PIVOTR_PROD_SES_CREATE_IDENTITY": "true",
           "PIVOTR_PROD_SES_ROUTE53_ZONE_ID": "Z0123456789", "PIVOTR_DEV_API_AUTH": "none"}
    return Synth(outdir=outdir, stdout=run_synth(outdir, env=env))


def policy_of(synth: Synth, stage: str, fn: str) -> list[dict]:
    plan = synth.stage(stage)
    [body] = [b for _, _, b in resources(plan, "aws_iam_role_policy") if b["name"] == f"pivotr-mailer-{stage}-{fn}"]
    return json.loads(body["policy"])["Statement"]


def actions_on(statements: list[dict], fragment: str) -> set[str]:
    found: set[str] = set()
    for s in statements:
        targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if any(fragment in t for t in targets):
            found |= set(s["Action"])
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_functions_have_the_spec_settings(synth: Synth, stage: str) -> None:
    for name, (concurrency, timeout, memory) in SPEC_FUNCTIONS.items():
        fn = synth.function(stage, name)
        assert (fn["reserved_concurrent_executions"], fn["timeout"], fn["memory_size"]) == (concurrency, timeout, memory), name
        assert (fn["runtime"], fn["architectures"]) == ("python3.13", ["arm64"])


@pytest.mark.parametrize("stage", STAGES)
def test_tables_have_the_spec_keys_and_indexes(synth: Synth, stage: str) -> None:
    tables = {b["name"]: b for _, _, b in resources(synth.stage(stage), "aws_dynamodb_table")}
    assert set(tables) == {f"pivotr-mailer-{stage}-{t}" for t in SPEC_TABLES}
    for name, (pk, sk, indexes) in SPEC_TABLES.items():
        table = tables[f"pivotr-mailer-{stage}-{name}"]
        assert (table["hash_key"], table.get("range_key")) == (pk, sk)
        assert {i["name"]: i["hash_key"] for i in table.get("global_secondary_index", [])} == indexes
        assert table["deletion_protection_enabled"] is (stage == "prod")
        assert ("lifecycle" in table) is (stage == "prod")


@pytest.mark.parametrize("stage", STAGES)
def test_work_queues_dead_letter_after_the_spec_receives(synth: Synth, stage: str) -> None:
    plan = synth.stage(stage)
    queues = {b["name"]: b for _, _, b in resources(plan, "aws_sqs_queue")}
    for name, receives, consumer_timeout in (("sending", 3, 30), ("verification", 2, 15)):
        queue = queues[f"pivotr-mailer-{stage}-{name}"]
        redrive = json.loads(queue["redrive_policy"])
        assert redrive["maxReceiveCount"] == receives
        assert referenced(plan, redrive["deadLetterTargetArn"])["message_retention_seconds"] == 14 * 24 * 3600
        assert queue["visibility_timeout_seconds"] >= 6 * consumer_timeout


def test_sqs_sources_report_partial_failures_within_reserved_concurrency(synth: Synth) -> None:
    plan = synth.stage("dev")
    mappings = [b for _, _, b in resources(plan, "aws_lambda_event_source_mapping")]
    assert len(mappings) == 4  # sending, verification, transfers, SES feedback
    for mapping in mappings:
        fn = referenced(plan, mapping["function_name"])
        assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
        if fn["function_name"].endswith("transfer-worker"):  # one job's block per invocation
            assert (mapping["batch_size"], mapping["maximum_batching_window_in_seconds"]) == (1, 0)
        else:
            assert mapping["batch_size"] == 10 and mapping["maximum_batching_window_in_seconds"] >= 1
        assert mapping["scaling_config"]["maximum_concurrency"] <= max(2, fn["reserved_concurrent_executions"])


@pytest.mark.parametrize("stage", STAGES)
def test_routes_are_the_spec_routes_with_jwt_on_all_but_public_ones(synth: Synth, stage: str) -> None:
    routes = {b["route_key"]: b for _, _, b in resources(synth.stage(stage), "aws_apigatewayv2_route")}
    assert set(routes) == SPEC_ROUTES
    for key, route in routes.items():
        public = key in {"GET /health", "GET /unsubscribe", "POST /unsubscribe"}
        assert route["authorization_type"] == ("NONE" if public else "JWT"), key


def test_a_stage_may_run_without_auth_only_when_it_says_so(greenfield: Synth) -> None:
    routes = [b for _, _, b in resources(greenfield.stage("dev"), "aws_apigatewayv2_route")]
    assert {r["authorization_type"] for r in routes} == {"NONE"}
    assert not list(resources(greenfield.stage("dev"), "aws_cognito_user_pool"))
    # while staging and prod keep the authorizer
    assert list(resources(greenfield.stage("prod"), "aws_apigatewayv2_authorizer"))


def test_user_pool_admits_admin_created_users_only(synth: Synth) -> None:
    [pool] = [b for _, _, b in resources(synth.stage("prod"), "aws_cognito_user_pool")]
    assert pool["admin_create_user_config"]["allow_admin_create_user_only"] is True


def test_api_invoke_permissions_are_scoped_to_the_api(synth: Synth) -> None:
    plan = synth.stage("dev")
    permissions = [b for _, _, b in resources(plan, "aws_lambda_permission")]
    # by reference (rule lambda-permission-ref), so each permission is created after its function
    functions = {referenced(plan, p["function_name"])["function_name"] for p in permissions}
    assert functions == {f"pivotr-mailer-dev-{f}" for f in ("api-leads", "api-unsubscribe", "api-campaigns", "api-metrics", "lead-import")}
    for permission in permissions:
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["source_arn"].startswith("${aws_apigatewayv2_api.") and permission["source_arn"].endswith(".execution_arn}/*/*")


ACCOUNT_REF = r"\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}"


def test_send_email_may_send_only_from_the_identities_through_its_stages_configuration_set(synth: Synth) -> None:
    # prod (out of the sandbox): the domain, the From address's own identity, prod's set, nothing else
    [ses] = [s for s in policy_of(synth, "prod", "send-email") if "ses:SendEmail" in s["Action"]]
    assert ses["Action"] == ["ses:SendEmail"] and "Condition" not in ses
    [config_set, sender, domain] = sorted(ses["Resource"])
    assert re.fullmatch(rf"arn:aws:ses:ap-south-1:{ACCOUNT_REF}:configuration-set/pivotr-mailer", config_set)
    assert re.fullmatch(rf"arn:aws:ses:ap-south-1:{ACCOUNT_REF}:identity/outreach@pivotr\.example\.com", sender)
    assert re.fullmatch(rf"arn:aws:ses:ap-south-1:{ACCOUNT_REF}:identity/pivotr\.example\.com", domain)


def test_in_the_sandbox_send_email_may_address_verified_recipients_from_its_sender_only(synth: Synth) -> None:
    statements = [s for s in policy_of(synth, "dev", "send-email") if "ses:SendEmail" in s["Action"]]
    [plain] = [s for s in statements if "Condition" not in s]
    assert any(r.endswith(":configuration-set/pivotr-mailer-dev") for r in plain["Resource"])
    [recipients] = [s for s in statements if "Condition" in s]
    assert re.fullmatch(rf"arn:aws:ses:ap-south-1:{ACCOUNT_REF}:identity/\*", recipients["Resource"])
    assert recipients["Condition"] == {"StringEquals": {"ses:FromAddress": "outreach@pivotr.example.com"}}


def test_each_function_reads_only_its_own_secret(synth: Synth) -> None:
    assert actions_on(policy_of(synth, "dev", "verify-email"), "secretsmanager_secret.secret-verifier") == {"secretsmanager:GetSecretValue"}
    assert actions_on(policy_of(synth, "dev", "verify-email"), "secret-unsubscribe") == set()
    assert actions_on(policy_of(synth, "dev", "api-metrics"), "secretsmanager") == set()


def test_read_only_functions_cannot_write(synth: Synth) -> None:
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    assert not actions_on(policy_of(synth, "dev", "api-metrics"), "aws_dynamodb_table") & writes


def test_environment_names_only_what_the_function_touches(synth: Synth) -> None:
    env = synth.function_environment("dev", "api-metrics")
    assert {k for k in env if k.endswith("_TABLE")} == {"METRICS_TABLE", "CAMPAIGNS_TABLE"}
    assert not any(k.endswith(("_QUEUE_URL", "_SECRET_ARN")) for k in env)
    send = synth.function_environment("dev", "send-email")
    assert {"SENDING_QUEUE_URL", "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN", "SES_CONFIGURATION_SET"} <= set(send)


def test_existing_ses_resources_are_referenced_not_recreated(synth: Synth) -> None:
    plan = synth.stage("prod")  # by default prod sends through the owner's existing set and queue
    for created in ("aws_sesv2_email_identity", "aws_sesv2_configuration_set", "aws_sns_topic_subscription"):
        assert not [b for _, _, b in resources(plan, created) if b.get("protocol") != "email"], created
    assert [b["name"] for b in plan["data"]["aws_sqs_queue"].values()] == ["pivotr-mailer-prod-ses-feedback"]


@pytest.mark.parametrize("stage", ["dev", "staging"])
def test_dev_and_staging_create_their_own_ses_wiring_but_not_the_account_wide_identity(synth: Synth, stage: str) -> None:
    plan = synth.stage(stage)
    [config_set] = [b for _, _, b in resources(plan, "aws_sesv2_configuration_set")]
    assert config_set["configuration_set_name"] == f"pivotr-mailer-{stage}"
    assert synth.function_environment(stage, "send-email")["SES_CONFIGURATION_SET"] == f"pivotr-mailer-{stage}"
    assert not list(resources(plan, "aws_sesv2_email_identity"))
    assert "aws_sqs_queue" not in plan.get("data", {})


def test_greenfield_creates_ses_wiring_that_admits_only_its_topic(greenfield: Synth) -> None:
    plan = greenfield.stage("staging")
    [destination] = [b for _, _, b in resources(plan, "aws_sesv2_configuration_set_event_destination")]
    assert set(destination["event_destination"]["matching_event_types"]) == {
        "SEND", "BOUNCE", "COMPLAINT", "DELIVERY", "REJECT", "OPEN", "CLICK", "DELIVERY_DELAY"}
    [queue_policy] = [json.loads(b["policy"]) for _, _, b in resources(plan, "aws_sqs_queue_policy")
                      if "sns.amazonaws.com" in b["policy"]]  # the transfers queue admits its bucket's S3 events
    [statement] = queue_policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == destination["event_destination"]["sns_destination"]["topic_arn"]
    feedback = {b["name"]: b for _, _, b in resources(plan, "aws_sqs_queue")}["pivotr-mailer-staging-ses-feedback"]
    assert json.loads(feedback["redrive_policy"])["maxReceiveCount"] <= 5
    records = {b["type"] + " " + b["name"] for _, _, b in resources(greenfield.stage("prod"), "aws_route53_record")}
    assert "TXT pivotr.example.com" in records and "TXT _dmarc.pivotr.example.com" in records
    assert sum(r.startswith("CNAME") for r in records) == 3


@pytest.mark.parametrize("stage", STAGES)
def test_secrets_have_no_value_in_the_plan(synth: Synth, stage: str) -> None:
    plan = synth.stage(stage)
    assert len(list(resources(plan, "aws_secretsmanager_secret"))) == 2
    assert not list(resources(plan, "aws_secretsmanager_secret_version"))


def test_monitoring_alarms_and_budget(synth: Synth) -> None:
    plan = synth.stage("prod")
    alarms = {b["alarm_name"]: b for _, _, b in resources(plan, "aws_cloudwatch_metric_alarm")}
    errors = alarms["pivotr-mailer-prod-send-email-errors"]
    assert (errors["threshold"], errors["period"], errors["comparison_operator"]) == (10, 300, "GreaterThanThreshold")
    assert alarms["pivotr-mailer-prod-send-email-duration"]["threshold"] == 0.8 * 30 * 1000
    assert alarms["pivotr-mailer-prod-sending-age"]["threshold"] == 3600
    assert alarms["pivotr-mailer-prod-ses-bounce-rate"]["threshold"] == 0.05
    assert alarms["pivotr-mailer-prod-ses-complaint-rate"]["threshold"] == 0.001
    assert "pivotr-mailer-prod-api-5xx" in alarms
    [budget] = [b for _, _, b in resources(plan, "aws_budgets_budget")]
    assert budget["limit_amount"] == "200" and budget["cost_filter"][0]["values"] == ["user:Environment$prod"]
    [monitor] = [b for _, _, b in resources(plan, "aws_ce_anomaly_monitor")]
    assert json.loads(monitor["monitor_specification"])["Tags"]["Values"] == ["prod"]
    assert list(resources(plan, "aws_ce_anomaly_subscription"))
    assert list(resources(plan, "aws_cloudwatch_dashboard"))


def test_outputs_name_what_a_frontend_and_operator_need(synth: Synth) -> None:
    assert {"api_url", "user_pool_id", "user_pool_client_id", "dashboard_url", "sending_queue_url",
            "verification_queue_url", "leads_table"} <= set(synth.stage("dev")["output"])


def test_openapi_document_describes_exactly_the_synthesized_routes(synth: Synth, root: Path) -> None:
    document = json.loads((root / "docs" / "openapi.json").read_text())
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    routes = {b["route_key"] for _, _, b in resources(synth.stage("dev"), "aws_apigatewayv2_route")}
    assert documented == routes


def test_openapi_document_is_current_with_its_source(root: Path) -> None:
    import runpy

    source = runpy.run_path(str(root / "docs" / "openapi_source.py"))
    assert (root / "docs" / "openapi.json").read_text() == source["render"](), "run `make openapi`"


def test_openapi_document_is_valid_openapi_3(root: Path) -> None:
    from openapi_spec_validator import validate

    validate(json.loads((root / "docs" / "openapi.json").read_text()))
