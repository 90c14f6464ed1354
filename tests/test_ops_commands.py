"""The operator commands against moto (and botocore's Stubber for SQS message moves, which moto lacks)."""

from __future__ import annotations

import io
import os

import boto3
import pytest
from botocore.stub import Stubber
from pivotr.domain import unsubscribe
from pivotr.domain.unsubscribe import KeyRing, Subscription

from ops.__main__ import main
from ops.aws import Clients
from ops.plans import StagePlan
from tests.synth import Synth

REGION = "ap-south-1"
DAY = 86_400


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def ops(synth: Synth, *argv: str, stdin: str = "", clients: Clients | None = None, now: float | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--plans", str(synth.outdir), *argv], {}, stdin=io.StringIO(stdin), stdout=out, clients=clients, now=now)
    return code, out.getvalue()


def deployed_secrets(synth: Synth, stage: str = "dev") -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    for name in StagePlan.load(synth.outdir, stage).secrets:
        sm.create_secret(Name=name)  # as the deploy leaves them: no value


@pytest.mark.parametrize("command", ["preflight", "secret", "create-admin", "rotate-unsubscribe-key", "redrive"])
def test_every_command_explains_itself(synth: Synth, command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"], {})
    assert exit.value.code == 0 and "--stage" in capsys.readouterr().out


def test_a_secret_is_read_from_stdin_and_never_printed(synth: Synth, moto_account: str, capsys) -> None:
    # Given the deployed, empty secret
    deployed_secrets(synth)
    # When the operator pipes the value in
    code, output = ops(synth, "secret", "--stage", "dev", "--name", "verifier-api-key", stdin="s3cr3t-v4lue\n")
    # Then it is stored without the newline, and appears nowhere in what was printed
    assert code == 0 and "stored a new value of pivotr-mailer-dev-verifier-api-key" in output
    stored = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId="pivotr-mailer-dev-verifier-api-key")
    assert stored["SecretString"] == "s3cr3t-v4lue"
    assert "s3cr3t" not in output + capsys.readouterr().err


def test_at_a_terminal_the_value_is_typed_without_echo() -> None:
    from ops.commands import read_value

    prompts: list[str] = []
    assert read_value(Tty("ignored"), lambda text: prompts.append(text) or "typed") == "typed"
    assert prompts == ["value (not echoed): "]


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["--name", "verifier-api-key"], "\n", "empty value"),
    (["--name", "api-key"], "v", "no secret 'api-key' in dev; the stage has unsubscribe-signing-key, verifier-api-key"),
    (["--name", "unsubscribe-signing-key"], '{"current": 1', "neither a key nor a key ring"),
])
def test_bad_secret_input_stores_nothing_and_says_why(synth: Synth, moto_account: str, capsys, argv, stdin, message) -> None:
    deployed_secrets(synth)
    code, _ = ops(synth, "secret", "--stage", "dev", *argv, stdin=stdin)
    assert code == 2 and message in capsys.readouterr().err
    sm = boto3.client("secretsmanager", region_name=REGION)
    assert all(not sm.describe_secret(SecretId=name).get("VersionIdsToStages")
               for name in StagePlan.load(synth.outdir, "dev").secrets)


def test_a_secret_before_the_deploy_is_refused_with_the_next_step(synth: Synth, moto_account: str, capsys) -> None:
    code, _ = ops(synth, "secret", "--stage", "dev", "--name", "verifier-api-key", stdin="v")
    assert code == 2 and "does not exist yet: make deploy STAGE=dev first" in capsys.readouterr().err


def test_the_first_admin_is_created_in_the_stages_pool(synth: Synth, moto_account: str, capsys) -> None:
    # Given the deployed pool (found by the name in the plan)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName=StagePlan.load(synth.outdir, "dev").user_pool)["UserPool"]["Id"]
    cognito.create_user_pool(PoolName="someone-elses-pool")
    # When / Then
    code, output = ops(synth, "create-admin", "--stage", "dev", "--email", "admin@pivotr.example.com")
    assert code == 0 and "Cognito e-mailed a temporary password" in output
    user = cognito.admin_get_user(UserPoolId=pool, Username="admin@pivotr.example.com")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email_verified"] == "true"
    # And a second time says so instead of failing with a trace
    code, _ = ops(synth, "create-admin", "--stage", "dev", "--email", "admin@pivotr.example.com")
    assert code == 2 and "already exists" in capsys.readouterr().err


def test_create_admin_before_the_deploy_says_to_deploy(synth: Synth, moto_account: str, capsys) -> None:
    code, _ = ops(synth, "create-admin", "--stage", "prod", "--email", "admin@pivotr.example.com")
    assert code == 2 and "0 user pools named pivotr-mailer-prod-users: make deploy STAGE=prod first" in capsys.readouterr().err


def _ring(stage: str = "dev") -> KeyRing:
    value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(
        SecretId=f"pivotr-mailer-{stage}-unsubscribe-signing-key")["SecretString"]
    return KeyRing.parse(value)


def test_rotation_keeps_old_links_valid_for_the_overlap_only(synth: Synth, moto_account: str) -> None:
    # Given a first key put by hand, and a link signed with it
    deployed_secrets(synth)
    assert ops(synth, "secret", "--stage", "dev", "--name", "unsubscribe-signing-key", stdin="first-key")[0] == 0
    link = unsubscribe.sign(Subscription("ld_1", "cp_1"), b"first-key")
    t0 = 1_800_000_000.0
    # When the key is rotated with a 30-day overlap
    code, output = ops(synth, "rotate-unsubscribe-key", "--stage", "dev", "--overlap-days", "30", now=t0)
    assert code == 0 and "links signed before keep working for 30 days" in output
    ring = _ring()
    # Then new links use a new 256-bit key, never printed
    assert ring.current != b"first-key" and len(ring.current) >= 43 and ring.current.decode() not in output
    assert unsubscribe.verify(unsubscribe.sign(Subscription("ld_2", None), ring.current), ring, t0).lead_id == "ld_2"
    # And the old link works during the overlap, and is refused after it
    assert unsubscribe.verify(link, ring, t0 + 30 * DAY - 1).lead_id == "ld_1"
    with pytest.raises(unsubscribe.Forged):
        unsubscribe.verify(link, ring, t0 + 30 * DAY)
    # And a second rotation keeps both earlier keys until their own expiry, then drops them
    ops(synth, "rotate-unsubscribe-key", "--stage", "dev", "--overlap-days", "30", now=t0 + 10 * DAY)
    ring = _ring()
    assert [expires for _, expires in ring.previous] == [t0 + 40 * DAY, t0 + 30 * DAY]
    ops(synth, "rotate-unsubscribe-key", "--stage", "dev", "--overlap-days", "30", now=t0 + 35 * DAY)
    assert len(_ring().previous) == 2  # the first key expired at t0 + 30 days and is gone


def test_rotation_refuses_a_zero_overlap(synth: Synth, moto_account: str, capsys) -> None:
    deployed_secrets(synth)
    code, _ = ops(synth, "rotate-unsubscribe-key", "--stage", "dev", "--overlap-days", "0")
    assert code == 2 and "at least one day" in capsys.readouterr().err


def test_redrive_moves_a_dlq_back_into_its_queue(synth: Synth, moto_account: str) -> None:
    # Given the stage's sending queue and its DLQ (SQS's message move task through the Stubber)
    sqs = boto3.client("sqs", region_name=REGION)
    stub = Stubber(sqs)
    arn = "arn:aws:sqs:ap-south-1:123456789012:{}".format
    for name in ("pivotr-mailer-dev-sending-dlq", "pivotr-mailer-dev-sending"):
        url = f"https://sqs.ap-south-1.amazonaws.com/123456789012/{name}"
        stub.add_response("get_queue_url", {"QueueUrl": url}, {"QueueName": name})
        stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": arn(name)}},
                          {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
    stub.add_response("list_message_move_tasks", {"Results": [{"Status": "COMPLETED", "SourceArn": arn("x")}]},
                      {"SourceArn": arn("pivotr-mailer-dev-sending-dlq")})
    stub.add_response("start_message_move_task", {"TaskHandle": "task-1"},
                      {"SourceArn": arn("pivotr-mailer-dev-sending-dlq"), "DestinationArn": arn("pivotr-mailer-dev-sending")})
    stub.activate()
    # When / Then: the DLQ's messages go back to the queue they came from, and every queued call was made
    code, output = ops(synth, "redrive", "--stage", "dev", "--queue", "sending", clients=Clients(REGION, overrides={"sqs": sqs}))
    assert code == 0 and "task task-1" in output
    stub.assert_no_pending_responses()


def test_redrive_names_the_queues_it_knows(synth: Synth, moto_account: str, capsys) -> None:
    code, _ = ops(synth, "redrive", "--stage", "dev", "--queue", "mail")
    err = capsys.readouterr().err
    assert code == 2 and "choose one of sending, ses-feedback, transfers, verification" in err
    # And a queue that is not deployed yet is said so
    code, _ = ops(synth, "redrive", "--stage", "dev", "--queue", "sending")
    assert code == 2 and "pivotr-mailer-dev-sending-dlq does not exist" in capsys.readouterr().err


def test_without_credentials_the_command_says_how_to_get_them(synth: Synth) -> None:
    import subprocess
    import sys

    from tests.synth import ROOT

    # a process of its own: no mock and no credentials anywhere (env, files, instance metadata)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-m", "ops", "--plans", str(synth.outdir), "preflight", "--stage", "dev"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "error: no AWS credentials: export AWS_PROFILE=<profile> (or run aws sso login / aws configure)"
