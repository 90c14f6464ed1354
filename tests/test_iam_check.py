"""The IAM-versus-calls check itself: it must refuse what a policy does not grant."""

from __future__ import annotations

from tests import iam_check
from tests.synth import Synth


def test_calls_map_to_the_actions_and_resources_iam_checks() -> None:
    transact = {"TransactItems": [
        {"ConditionCheck": {"TableName": "t-campaigns", "Key": {}}},
        {"Update": {"TableName": "t-recipients", "Key": {}}},
        {"Put": {"TableName": "t-logs", "Item": {}}}]}
    assert iam_check.needs("dynamodb", "TransactWriteItems", transact) == {
        ("dynamodb:ConditionCheckItem", "table:t-campaigns"), ("dynamodb:UpdateItem", "table:t-recipients"),
        ("dynamodb:PutItem", "table:t-logs")}
    assert iam_check.needs("dynamodb", "Query", {"TableName": "t", "IndexName": "i"}) == {("dynamodb:Query", "table:t/index/i")}
    assert iam_check.needs("sqs", "SendMessageBatch", {"QueueUrl": "https://sqs.x/1/q"}) == {("sqs:SendMessage", "queue:q")}
    assert iam_check.needs("sesv2", "SendEmail", {"FromEmailAddress": "A <a@d.example>", "ConfigurationSetName": "c",
                                                  "Destination": {"ToAddresses": ["r@x.example"]}}) == {
        ("ses:SendEmail", "ses:identity/d.example"), ("ses:SendEmail", "ses:identity/a@d.example"),
        ("ses:SendEmail", "ses:identity/r@x.example"), ("ses:SendEmail", "ses:configuration-set/c")}


def test_a_call_outside_the_policy_is_refused(synth: Synth) -> None:
    # Given the synthesized dev policies
    plan = synth.stage("dev")
    metrics = iam_check.grants(plan, "pivotr-mailer-dev-api-metrics")
    sender = iam_check.grants(plan, "pivotr-mailer-dev-send-email")
    # Then reads api-metrics makes are allowed, and writes, other tables and sending are not
    assert iam_check.allowed(metrics, ("dynamodb:Query", "table:pivotr-mailer-dev-metrics"))
    assert not iam_check.allowed(metrics, ("dynamodb:PutItem", "table:pivotr-mailer-dev-metrics"))
    assert not iam_check.allowed(metrics, ("dynamodb:GetItem", "table:pivotr-mailer-dev-leads"))
    assert not iam_check.allowed(metrics, ("ses:SendEmail", "ses:identity/pivotr.example.com"))
    assert iam_check.allowed(sender, ("ses:SendEmail", "ses:identity/pivotr.example.com"))
    assert iam_check.allowed(sender, ("ses:SendEmail", "ses:identity/outreach@pivotr.example.com"))
    # And in the sandbox (dev) any recipient identity, through the From-address condition; prod none
    assert iam_check.granting(sender, ("ses:SendEmail", "ses:identity/r@x.example")) == (
        "ses:SendEmail", "ses:identity/*")
    prod_sender = iam_check.grants(synth.stage("prod"), "pivotr-mailer-prod-send-email")
    assert iam_check.allowed(prod_sender, ("ses:SendEmail", "ses:identity/outreach@pivotr.example.com"))
    assert not iam_check.allowed(prod_sender, ("ses:SendEmail", "ses:identity/other.example"))
    # And an index needs its own grant: the table's does not cover it
    assert not iam_check.allowed(metrics, ("dynamodb:Query", "table:pivotr-mailer-dev-leads/index/status-index"))


def test_a_grant_no_call_used_is_reported_unless_a_reason_covers_it(tmp_path, monkeypatch) -> None:
    # Given one process's records: a used grant, an unused one, and one the runtime uses (with a reason)
    monkeypatch.setattr(iam_check, "RECORDS", tmp_path)
    granted = {("dynamodb:GetItem", "table:t"), ("dynamodb:DeleteItem", "table:t"), ("logs:PutLogEvents", "log-group:g")}
    iam_check.save({"api-x": granted}, {"api-x": {("dynamodb:GetItem", "table:t")}})
    # Then only the unused one without a reason is reported
    assert iam_check.unused_without_reason() == ["api-x: dynamodb:DeleteItem on table:t"]
    # And with no records at all, nothing is claimed either way
    iam_check.clear()
    assert iam_check.unused_without_reason() is None
