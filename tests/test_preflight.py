"""make preflight against moto seeded as a good account, then broken one way at a time.

moto serves STS, S3, Secrets Manager, SNS and SQS; the calls it does not serve (Lambda account
settings, SES v2 account and event destinations, cost-allocation tags, the public SSM parameter)
are answered by real botocore clients wrapped in botocore's Stubber, which checks each request and
response against the service model.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from modules.config import load
from ops import preflight
from ops.__main__ import main
from ops.aws import Clients
from ops.plans import StagePlan
from tests.synth import ROOT, Synth

SERVER_ACCOUNT = "123456789012"  # a moto server's default account
REGION = "ap-south-1"
POWERTOOLS = "arn:aws:lambda:ap-south-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:20"


@dataclass
class Account:
    """What the account looks like; each field is one thing preflight reads."""

    lambda_limit: int = 1000
    lambda_unreserved: int = 1000
    powertools: bool = True
    secrets_without_value: tuple[str, ...] = ()  # short names
    production_access: bool = True
    sending_enabled: bool = True
    sent_last_24h: float = 0
    identity_verified: bool = True
    dkim: str = "SUCCESS"
    state_bucket: bool = True
    state_versioned: bool = True
    cost_tag: str = "Active"
    alarm_subscription: bool = True
    # for a stage that references the owner's SES resources (prod)
    configuration_set: bool = True
    destination_events: tuple[str, ...] = ("SEND", "BOUNCE", "COMPLAINT", "DELIVERY")
    queue_subscribed: bool = True
    queue_policy_principal: Any = field(default_factory=lambda: {"Service": "sns.amazonaws.com"})
    topic_name: str = "pivotr-mailer-ses-events"  # the stage's default ses.feedback_topic
    raw_subscription: bool = False


def state_bucket(account: str) -> str:
    return f"acme-pivotr-terraform-state-{account}"  # bucket names are global, even across moto accounts


def environment(account: str) -> dict[str, str]:
    """Every stage pinned to ``account``, its state bucket, and alarm e-mails for dev and prod."""
    return {f"PIVOTR_{s}_ACCOUNT_ID": account for s in ("DEV", "STAGING", "PROD")} | {
        "PIVOTR_STATE_BUCKET": state_bucket(account), "PIVOTR_DEV_ALARM_EMAIL": "oncall@pivotr.example.com",
        "PIVOTR_PROD_ALARM_EMAIL": "oncall@pivotr.example.com"}


def seed(account: Account, plan: StagePlan, bucket: str) -> str:
    """The moto half of the account; returns the SES topic ARN of the owner's configuration set."""
    s3 = boto3.client("s3", region_name=REGION)
    if account.state_bucket:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
        if account.state_versioned:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    sm = boto3.client("secretsmanager", region_name=REGION)
    for name in plan.secrets:
        if name.removeprefix(f"pivotr-mailer-{plan.stage}-") not in account.secrets_without_value:
            sm.create_secret(Name=name, SecretString="a-value")
        else:
            sm.create_secret(Name=name)  # what the deploy creates: no value until someone puts one
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    alarms = sns.create_topic(Name=plan.alarm_topic)["TopicArn"]
    if account.alarm_subscription:
        sns.subscribe(TopicArn=alarms, Protocol="email", Endpoint="oncall@pivotr.example.com")  # moto confirms it
    topic = sns.create_topic(Name=account.topic_name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"pivotr-mailer-{plan.stage}-ses-feedback")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": account.queue_policy_principal, "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    if account.queue_subscribed:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "true" if account.raw_subscription else "false"})
    return topic


def stubbed(account: Account, plan: StagePlan, creates_ses: bool, topic: str, concurrency_needed: int) -> dict[str, Any]:
    """The Stubber half: real clients whose answers are queued in the order preflight asks."""
    clients = {name: boto3.client(name, region_name="us-east-1" if name == "ce" else REGION)
               for name in ("lambda", "ssm", "sesv2", "ce")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {
        "ConcurrentExecutions": account.lambda_limit, "UnreservedConcurrentExecutions": account.lambda_unreserved}}, {})
    if account.lambda_limit >= concurrency_needed:  # then it asks what each function reserves today
        for function in plan.reserved_concurrency:
            stubs["lambda"].add_client_error("get_function_concurrency", "ResourceNotFoundException", http_status_code=404,
                                             expected_params={"FunctionName": function})
    for name in plan.ssm_parameters:
        if account.powertools:
            stubs["ssm"].add_response("get_parameter", {"Parameter": {"Name": name, "Type": "String", "Value": POWERTOOLS}},
                                      {"Name": name})
        else:
            stubs["ssm"].add_client_error("get_parameter", "ParameterNotFound", http_status_code=400)
    stubs["sesv2"].add_response("get_account", {
        "ProductionAccessEnabled": account.production_access, "SendingEnabled": account.sending_enabled,
        "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": account.sent_last_24h}}, {})
    stubs["sesv2"].add_response("get_email_identity", {
        "IdentityType": "DOMAIN", "VerifiedForSendingStatus": account.identity_verified,
        "DkimAttributes": {"Status": account.dkim, "SigningEnabled": True}}, {"EmailIdentity": "pivotr.example.com"})
    if not creates_ses:
        if account.configuration_set:
            stubs["sesv2"].add_response("get_configuration_set", {"ConfigurationSetName": "pivotr-mailer"},
                                        {"ConfigurationSetName": "pivotr-mailer"})
            stubs["sesv2"].add_response("get_configuration_set_event_destinations", {"EventDestinations": [{
                "Name": "sns", "Enabled": True, "MatchingEventTypes": list(account.destination_events),
                "SnsDestination": {"TopicArn": topic}}]}, {"ConfigurationSetName": "pivotr-mailer"})
        else:
            stubs["sesv2"].add_client_error("get_configuration_set", "NotFoundException", http_status_code=404)
    stubs["ce"].add_response("list_cost_allocation_tags", {"CostAllocationTags": [
        {"TagKey": "Environment", "Type": "UserDefined", "Status": account.cost_tag}]},
        {"TagKeys": ["Environment"], "Type": "UserDefined"})
    for stub in stubs.values():
        stub.activate()
    return clients


def run_preflight(synth: Synth, moto_account: str, stage: str, account: Account,
                  env: dict[str, str] | None = None) -> tuple[int, str]:
    """Preflight of ``stage`` in the moto account ``moto_account``, which looks like ``account``."""
    settings = {**environment(moto_account), **(env or {})}
    config = load(settings)
    plan = StagePlan.load(synth.outdir, stage)
    topic = seed(account, plan, state_bucket(moto_account))
    needed = preflight.UNRESERVED_MINIMUM + sum(
        sum(StagePlan.load(synth.outdir, s.stage).reserved_concurrency.values()) for s in config.neighbours(stage))
    clients = stubbed(account, plan, config.stage(stage).ses.create, topic, needed)
    out = io.StringIO()
    code = main(["--plans", str(synth.outdir), "preflight", "--stage", stage], settings,
                stdout=out, clients=Clients(REGION, overrides=clients))
    return code, out.getvalue()


def lines(output: str) -> dict[str, str]:
    """check name -> its status mark (the first line of each check)."""
    found = {}
    for line in output.splitlines():
        if line[:2] in ("✔ ", "! ", "✘ "):
            found[line[2:].split(":", 1)[0]] = line[0]
    return found


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_good_account_passes_with_one_line_per_check(synth: Synth, moto_account: str, stage: str) -> None:
    # Given an account with everything in place / When preflight runs
    code, output = run_preflight(synth, moto_account, stage, Account())
    # Then every check passes and the exit status is 0
    assert code == 0, output
    marks = lines(output)
    assert set(marks.values()) == {"✔"}, output
    expected = {"account", "state bucket", "lambda concurrency", "powertools layer", "secret verifier-api-key",
                "secret unsubscribe-signing-key", "ses production access", "ses identity", "ses feedback",
                "cost allocation tag", "alarm subscription"}
    assert set(marks) == expected, output
    assert output.rstrip().endswith("ready to deploy")


BROKEN: list[tuple[str, Callable[[Account], Account], dict[str, str], str, str]] = [
    # (stage, how the account is broken, extra environment, the check, its mark)
    ("dev", lambda a: a, {"PIVOTR_DEV_ACCOUNT_ID": "999999999999"}, "account", "✘"),
    ("dev", lambda a: a, {"PIVOTR_DEV_ACCOUNT_ID": ""}, "account", "!"),
    ("dev", lambda a: replace(a, state_bucket=False), {}, "state bucket", "✘"),
    ("dev", lambda a: replace(a, state_versioned=False), {}, "state bucket", "✘"),
    ("dev", lambda a: replace(a, lambda_limit=10, lambda_unreserved=10), {}, "lambda concurrency", "✘"),
    ("dev", lambda a: replace(a, lambda_unreserved=120), {}, "lambda concurrency", "✘"),
    ("dev", lambda a: replace(a, powertools=False), {}, "powertools layer", "✘"),
    ("dev", lambda a: replace(a, secrets_without_value=("verifier-api-key",)), {}, "secret verifier-api-key", "✘"),
    ("dev", lambda a: replace(a, production_access=False), {}, "ses production access", "!"),  # dev is a sandbox stage
    ("prod", lambda a: replace(a, production_access=False), {}, "ses production access", "✘"),
    ("dev", lambda a: replace(a, sending_enabled=False), {}, "ses sending", "✘"),
    ("dev", lambda a: replace(a, sent_last_24h=50000), {}, "ses quota", "✘"),
    ("dev", lambda a: replace(a, identity_verified=False, dkim="PENDING"), {}, "ses identity", "✘"),
    ("dev", lambda a: replace(a, dkim="FAILED"), {}, "ses dkim", "✘"),
    ("dev", lambda a: replace(a, cost_tag="Inactive"), {}, "cost allocation tag", "!"),
    ("dev", lambda a: replace(a, alarm_subscription=False), {}, "alarm subscription", "!"),
    ("prod", lambda a: replace(a, alarm_subscription=False), {"PIVOTR_PROD_ALARM_EMAIL": ""}, "alarm subscription", "✘"),
    # the deploy will subscribe the configured address: preflight lets that deploy through
    ("prod", lambda a: replace(a, alarm_subscription=False), {}, "alarm subscription", "!"),
    ("prod", lambda a: replace(a, configuration_set=False), {}, "ses configuration set", "✘"),
    ("prod", lambda a: replace(a, destination_events=("DELIVERY",)), {}, "ses event destination", "✘"),
    ("prod", lambda a: replace(a, queue_subscribed=False), {}, "ses feedback queue", "✘"),
    ("prod", lambda a: replace(a, queue_policy_principal="*"), {}, "ses feedback queue policy", "✘"),
    ("prod", lambda a: replace(a, topic_name="owner-ses-events"), {}, "ses feedback topic", "✘"),
    ("prod", lambda a: replace(a, raw_subscription=True), {}, "ses feedback delivery", "✘"),
    ("prod", lambda a: replace(a, raw_subscription=True), {"PIVOTR_PROD_SES_RAW_DELIVERY": "true"}, "ses feedback delivery", "!"),
    ("dev", lambda a: a, {"PIVOTR_DEV_SES_RAW_DELIVERY": "true"}, "ses feedback delivery", "!"),
]


@pytest.mark.parametrize(("stage", "breaks", "env", "check", "mark"), BROKEN,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(BROKEN)])
def test_each_broken_thing_is_named_with_its_fix(synth: Synth, moto_account: str, stage: str, breaks, env, check: str,
                                                 mark: str) -> None:
    # Given a good account broken in one way / When preflight runs
    code, output = run_preflight(synth, moto_account, stage, breaks(Account()), env)
    # Then that check reports it, with the command that fixes it, and only it
    marks = lines(output)
    assert marks.get(check) == mark, output
    assert {name for name, m in marks.items() if m != "✔"} == {check}, output
    failing = output.split(f"{mark} {check}:", 1)[1].splitlines()
    assert failing[1].startswith("    fix: "), output
    # And the exit status says whether the deploy or the first campaign would break
    assert code == (1 if mark == "✘" else 0), output


@pytest.mark.parametrize("others_elsewhere", [False, True])
def test_concurrency_counts_every_stage_in_the_account(synth: Synth, moto_account: str, others_elsewhere: bool) -> None:
    # Given a limit that fits one stage's reservations and the 100 AWS keeps, not three stages'
    per_stage = sum(StagePlan.load(synth.outdir, "dev").reserved_concurrency.values())
    account = Account(lambda_limit=per_stage + 150, lambda_unreserved=per_stage + 150)
    other = {"PIVOTR_STAGING_ACCOUNT_ID": "210987654321", "PIVOTR_PROD_ACCOUNT_ID": "210987654321"}
    # When preflight checks dev, with the other stages in the same account or pinned to another
    code, output = run_preflight(synth, moto_account, "dev", account, other if others_elsewhere else {})
    # Then the total of every stage sharing the account counts
    if others_elsewhere:
        assert lines(output)["lambda concurrency"] == "✔", output
    else:
        assert code == 1 and f"dev, prod, staging reserve {3 * per_stage}" in output, output


def test_an_unconfirmed_alarm_subscription_is_reported(synth: Synth, moto_account: str) -> None:
    # moto confirms e-mail subscriptions at once; SNS answers "PendingConfirmation" until the person clicks
    plan = StagePlan.load(synth.outdir, "prod")
    sns = boto3.client("sns", region_name=REGION)
    stub = Stubber(sns)
    topic = f"arn:aws:sns:{REGION}:{moto_account}:{plan.alarm_topic}"
    stub.add_response("list_subscriptions_by_topic", {"Subscriptions": [{
        "SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "oncall@pivotr.example.com",
        "TopicArn": topic}]}, {"TopicArn": topic})
    stub.activate()
    config = load(environment(moto_account))
    context = preflight.Context(config=config, stage=config.stage("prod"), plan=plan, neighbours=(plan,),
                                aws=Clients(REGION, overrides={"sns": sns}), account=moto_account)
    [result] = preflight.run(context, [preflight.check_alarm_subscription])
    assert (result.status, result.detail) == (preflight.Status.FAIL, "a subscription waits for confirmation: alarms reach nobody yet")


def test_a_check_that_cannot_read_reports_it_and_the_rest_go_on(synth: Synth, moto_account: str) -> None:
    plan = StagePlan.load(synth.outdir, "dev")
    ce = boto3.client("ce", region_name="us-east-1")
    stub = Stubber(ce)
    stub.add_client_error("list_cost_allocation_tags", "AccessDeniedException", http_status_code=400)
    stub.activate()
    config = load(environment(moto_account))
    context = preflight.Context(config=config, stage=config.stage("dev"), plan=plan, neighbours=(plan,),
                                aws=Clients(REGION, overrides={"ce": ce}), account=moto_account)
    results = preflight.run(context, [preflight.check_cost_allocation_tag, preflight.check_account])
    assert [(r.status, r.name) for r in results] == [(preflight.Status.WARN, "cost allocation tag"),
                                                     (preflight.Status.OK, "account")]
    assert "AccessDeniedException" in results[0].detail


def test_preflight_honours_aws_endpoint_url(synth: Synth, tmp_path: Path) -> None:
    """The real command in a subprocess, against a moto server: what it reads comes from that server."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
        bucket = state_bucket(SERVER_ACCOUNT)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIVOTR_", "CDK_", "MOTO_"))}
        env |= environment(SERVER_ACCOUNT) | {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "x",
                                              "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}
        try:
            result = subprocess.run([sys.executable, "-m", "ops", "--plans", str(synth.outdir), "preflight", "--stage", "dev"],
                                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        finally:
            s3.delete_bucket(Bucket=bucket)  # the server shares this process's moto state
    finally:
        server.stop()
    marks = lines(result.stdout)
    # the server's account and bucket (created without versioning) were read; nothing reached AWS
    assert f"in account {SERVER_ACCOUNT}" in result.stdout and marks["account"] == "✔", result.stdout + result.stderr
    assert marks["state bucket"] == "✘" and "is not versioned" in result.stdout
    assert result.returncode == 1
