from __future__ import annotations

import pytest

from modules.config import ConfigError, load, stage_variable


def test_defaults_need_no_environment() -> None:
    # Given an empty environment / When the config loads
    config = load({})
    # Then every stage exists with the default region and a stage-specific log retention
    assert [s.stage for s in config.stages] == ["dev", "staging", "prod"]
    assert {s.region for s in config.stages} == {"ap-south-1"}
    assert config.stage("prod").log_retention_days == 365
    assert config.stage("prod").protect_data is True
    assert config.stage("dev").protect_data is False


def test_seed_variables_apply_to_every_stage_but_the_owners_ses_resources_to_prod_only() -> None:
    # Given the seeds' variables, which name one configuration set and one queue
    config = load(
        {
            "CDK_DEFAULT_REGION": "eu-west-1",
            "CDK_DEFAULT_ACCOUNT": "123456789012",
            "AWS_SES_CONFIGURATION_SET": "owner-set",
            "AWS_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/owner-feedback",
            "AWS_SES_FROM_EMAIL": "hello@news.pivotr.example.com",
        }
    )
    for stage in config.stages:
        assert stage.region == "eu-west-1"
        assert stage.account_id == "123456789012"
        assert stage.ses.from_email == "hello@news.pivotr.example.com"
    # Then only prod references the owner's set and queue; dev and staging create their own
    # (before, all three shared them and each process-feedback got a random third of the events)
    prod, dev, staging = config.stage("prod").ses, config.stage("dev").ses, config.stage("staging").ses
    assert (prod.configuration_set, prod.feedback_queue_url, prod.create) == (
        "owner-set", "https://sqs.eu-west-1.amazonaws.com/123456789012/owner-feedback", False)
    assert (dev.configuration_set, dev.feedback_queue_url, dev.create) == ("pivotr-mailer-dev", "", True)
    assert (staging.configuration_set, staging.create) == ("pivotr-mailer-staging", True)
    assert (dev.sandbox, staging.sandbox, prod.sandbox) == (True, True, False)


def test_stages_in_one_account_cannot_share_ses_resources() -> None:
    # Given dev pointed at prod's configuration set in the same account and region
    env = {"PIVOTR_DEV_SES_CONFIGURATION_SET": "pivotr-mailer", "PIVOTR_DEV_SES_CREATE": "false"}
    # When loaded / Then refused, naming the variable that fixes it
    with pytest.raises(ConfigError, match="stages dev and prod .* share the SES configuration set 'pivotr-mailer'"):
        load(env)
    # And in different accounts it is allowed
    config = load({**env, "PIVOTR_DEV_ACCOUNT_ID": "111111111111", "PIVOTR_PROD_ACCOUNT_ID": "222222222222"})
    assert config.stage("dev").ses.configuration_set == config.stage("prod").ses.configuration_set
    # And two stages cannot read one existing queue either
    url = "https://sqs.ap-south-1.amazonaws.com/123456789012/feedback"
    with pytest.raises(ConfigError, match="share the feedback queue"):
        load({"PIVOTR_STAGING_SES_CREATE": "false", "PIVOTR_STAGING_SES_FEEDBACK_QUEUE_URL": url,
              "PIVOTR_PROD_SES_FEEDBACK_QUEUE_URL": url})
    # And only one stage per account creates the account-wide domain identity
    with pytest.raises(ConfigError, match="both create the SES identity"):
        load({"PIVOTR_DEV_SES_CREATE_IDENTITY": "true", "PIVOTR_STAGING_SES_CREATE_IDENTITY": "true"})


def test_stage_variable_wins_over_seed_variable() -> None:
    # Given a global and a prod-only account id
    env = {"CDK_DEFAULT_ACCOUNT": "111111111111", stage_variable("prod", "account_id"): "222222222222"}
    # When loaded / Then prod takes its own, others the global one
    config = load(env)
    assert config.stage("prod").account_id == "222222222222"
    assert config.stage("dev").account_id == "111111111111"


def test_types_are_coerced() -> None:
    config = load(
        {
            "PIVOTR_DEV_MONTHLY_BUDGET_USD": "75",
            "PIVOTR_DEV_CORS_ORIGINS": "https://a.example.com, http://localhost:3000",
            "PIVOTR_DEV_SES_CREATE": "true",
            "PIVOTR_DEV_API_AUTH": "none",
            "PIVOTR_DEV_SES_QUOTA_SHARE": "0.5",
        }
    )
    dev = config.stage("dev")
    assert dev.ses.quota_share == 0.5 and config.stage("prod").ses.quota_share == 0.9
    assert dev.monthly_budget_usd == 75
    assert dev.cors_origins == ("https://a.example.com", "http://localhost:3000")
    assert dev.ses.create is True
    assert dev.api_auth == "none"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PIVOTR_PROD_API_AUTH": "none"}, "prod always requires Cognito"),
        ({"PIVOTR_DEV_MONTHLY_BUDGET_USD": "lots"}, "PIVOTR_DEV_MONTHLY_BUDGET_USD"),
        ({"PIVOTR_DEV_LOG_RETENTION_DAYS": "10"}, "log retention 10 days"),
        ({"CDK_DEFAULT_ACCOUNT": "12345"}, "12 digits"),
        ({"CDK_DEFAULT_REGION": "mars"}, "not an AWS region"),
        ({"AWS_SES_FROM_EMAIL": "a@elsewhere.com"}, "not under the SES identity"),
        ({"PIVOTR_STAGING_CORS_ORIGINS": "*"}, "CORS origin"),
        ({"PIVOTR_DEV_SES_CREATE": "maybe"}, "expected true or false"),
        ({"PIVOTR_DEV_API_AUTH": "basic"}, "api auth must be"),
        ({"PIVOTR_DEV_SES_QUOTA_SHARE": "1.5"}, "quota share must be above 0 and at most 1"),
        ({"PIVOTR_PROD_SES_QUOTA_SHARE": "most"}, "PIVOTR_PROD_SES_QUOTA_SHARE: expected a number"),
        ({"PIVOTR_DEV_SES_FEEDBACK_QUEUE_URL": "https://sqs.ap-south-1.amazonaws.com/1/q"}, "creates its own"),
        ({"PIVOTR_DEV_SES_ROUTE53_ZONE_ID": "Z1"}, "need ses.create_identity"),
        ({"MYEMAILVERIFIER_BASE_URL": "http://client.myemailverifier.com"}, "must be https"),
        ({"PIVOTR_DEV_VERIFIER_BASE_URL": "http://127.0.0.1:8080"}, "PIVOTR_DEV_VERIFIER_ALLOW_HTTP=true"),
        ({"PIVOTR_DEV_VERIFIER_BASE_URL": "http://verifier.internal", "PIVOTR_DEV_VERIFIER_ALLOW_HTTP": "true"}, "must be https"),
        ({"PIVOTR_PROD_VERIFIER_BASE_URL": "http://127.0.0.1:8080", "PIVOTR_PROD_VERIFIER_ALLOW_HTTP": "true"}, "must be https"),
        ({"PIVOTR_DEV_SES_CONFIGURATION_SET": "has space"}, "configuration set name"),
    ],
)
def test_bad_values_fail_with_the_variable_or_reason_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(env)


def test_secret_variables_are_not_config_fields() -> None:
    # Given secret-bearing variables / When loaded / Then no field holds them
    env = {"MYEMAILVERIFIER_API_KEY": "sentinel-key", "AWS_SES_SECRET_ACCESS_KEY": "sentinel-secret"}
    assert "sentinel" not in repr(load(env))


def test_a_loopback_verifier_over_http_needs_saying_so_and_never_in_prod() -> None:
    config = load({"PIVOTR_DEV_VERIFIER_BASE_URL": "http://127.0.0.1:8080", "PIVOTR_DEV_VERIFIER_ALLOW_HTTP": "true"})
    assert config.stage("dev").verifier_base_url == "http://127.0.0.1:8080"
