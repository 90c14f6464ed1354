from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from simulator import moto_speed
from simulator.provision import create_tables, resolve_environment
from tests.synth import Synth

STAGE = "dev"


@pytest.fixture(scope="session")
def aws() -> Iterator[None]:
    """One mocked AWS account for the handler tests; no credentials or network are ever used."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="ap-south-1")
    moto_speed.install()
    with mock_aws():
        yield
    moto_speed.uninstall()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def tables(aws: None, synth: Synth) -> Iterator[list[str]]:
    """The dev stage's tables, created from the plan and empty for each test (queues too: handlers
    create theirs from the plan when they load)."""
    names = create_tables(synth.stage(STAGE))
    yield names
    client = boto3.client("dynamodb")
    for name in names:
        client.delete_table(TableName=name)
    sqs = boto3.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)


# -- IAM versus calls: every AWS call a handler makes is checked against its function's policy ---------
CALLING: list[str] = []  # the function whose handler is running (a stack: handlers may nest in tests)
USED: dict[str, set[tuple[str, str]]] = {}  # function -> (action, resource) pairs its calls needed
DENIED: list[str] = []  # calls the function's policy would refuse, for the running test


@pytest.fixture(scope="session", autouse=True)
def iam_recorder(aws: None, synth: Synth) -> Iterator[None]:
    """Record each call made while a handler runs (through botocore's events, tests/calls.py); at the
    end, leave what each function used for the session's completeness check (tests/conftest.py)."""
    from tests import calls, iam_check

    plan = synth.stage(STAGE)
    names = {f["function_name"] for f in plan["resource"]["aws_lambda_function"].values()}
    granted = {name.removeprefix(f"pivotr-mailer-{STAGE}-"): iam_check.grants(plan, name) for name in names}

    class Recorder:
        @staticmethod
        def before(service: str, operation: str, params: dict, context: dict) -> None:
            if CALLING:
                function = CALLING[-1]
                for pair in iam_check.needs(service, operation, params):
                    grant = iam_check.granting(granted[function], pair)
                    USED.setdefault(function, set()).add(grant or pair)
                    if grant is None:
                        DENIED.append(f"{function}: {pair[0]} on {pair[1]}")

    recorder = Recorder()
    calls.install()
    calls.OBSERVERS.append(recorder)
    yield
    calls.OBSERVERS.remove(recorder)
    iam_check.save(granted, USED)


@pytest.fixture(autouse=True)
def no_call_outside_the_policy() -> Iterator[None]:
    """Fails the test whose handler made an AWS call its function's synthesized policy does not allow."""
    DENIED.clear()
    yield
    assert not DENIED, "calls the synthesized IAM policy would deny:\n" + "\n".join(sorted(set(DENIED)))


def _attributed(short_name: str, handler: Callable) -> Callable:
    def run(event: dict, context: object) -> dict:
        CALLING.append(short_name)
        try:
            return handler(event, context)
        finally:
            CALLING.pop()

    return run


@pytest.fixture
def handler_module(tables: list[str], synth: Synth, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import a handler module with its function's environment exactly as the dev plan defines it
    (its ``handler`` records the AWS calls it makes for the IAM check)."""

    def load(short_name: str) -> ModuleType:
        env = resolve_environment(synth.stage(STAGE), synth.function_environment(STAGE, short_name))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in tests
        name = f"handlers.{short_name.replace('-', '_')}"
        sys.modules.pop(name, None)  # re-read the environment
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # a new container: secrets are fetched (and their calls recorded) again
        module = importlib.import_module(name)
        module.handler = _attributed(short_name, module.handler)
        if short_name == "process-feedback":  # its container has the test SNS certificate cached
            from simulator.sns_signing import trust

            trust(module)
        return module

    return load


@pytest.fixture
def function_env(synth: Synth, monkeypatch: pytest.MonkeyPatch):
    """Apply a function's environment exactly as the dev plan defines it (no AWS resources)."""

    def apply(short_name: str) -> dict[str, str]:
        env = synth.function_environment(STAGE, short_name)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
        return env

    return apply


@pytest.fixture
def api(handler_module, synth: Synth):
    from simulator.http_api import Api
    from tests.handlers import contract

    return Api(synth.stage(STAGE), handler_module, check=contract.check)  # every answer held to the OpenAPI document


@pytest.fixture
def aws_calls(aws: None):
    """Count every AWS API call made through boto3 while the test runs: (service, operation) -> count."""
    from collections import Counter

    calls: Counter[tuple[str, str]] = Counter()

    def count(event_name: str, **_: object) -> None:
        _, service, operation = event_name.split(".")
        calls[(service, operation)] += 1

    session = boto3._get_default_session()
    session.events.register("before-call.*.*", count)
    yield calls
    session.events.unregister("before-call.*.*", count)


@pytest.fixture
def mailer(api, handler_module, synth, monkeypatch):
    """The dev plan's mailer on one controllable clock, SES faked around moto's (see simulator/)."""
    import random

    from simulator.clock import Clock
    from simulator.event_source import LambdaQueue
    from simulator.ses import FakeSes, SesLimits, install_ses, real_ses
    from tests.handlers.sending_fixtures import Mailer

    clock = Clock()
    clock.install(monkeypatch)
    send_module = handler_module("send-email")
    send_module.service.clock = clock
    send_module.service.sleep = clock.advance  # waiting for a slot moves the simulated clock
    send_module.service.rng = random.Random(7)
    feedback_module = handler_module("process-feedback")
    feedback_module.service.clock = clock
    env = synth.function_environment("dev", "send-email")
    identity = env["SES_IDENTITY_DOMAIN"]
    fake = FakeSes(real_ses(identity), random.Random(11), SesLimits(clock))  # 14/s, 50,000 a day, enforced
    install_ses(send_module.service, fake)
    dynamodb = boto3.resource("dynamodb")
    tables = {name: dynamodb.Table(env[f"{name.upper()}_TABLE"])
              for name in ("leads", "campaigns", "templates", "recipients", "logs", "metrics", "suppression", "settings")}
    queue = LambdaQueue(send_module.service.queue.url, send_module.handler, clock)
    return Mailer(api, send_module, feedback_module, clock, fake, queue, tables, identity)


@pytest.fixture
def strict_mailer(mailer, monkeypatch):
    """The mailer as AWS treats it: SES behind the real botocore client (the production client
    configuration, socket waits shrunk) on a local endpoint that can answer slowly, reset, 5xx,
    throttle or refuse; send-email with its 30 s timeout on the simulated clock and killed at it; and
    faults to arm (tests/handlers/faults.py)."""
    from pivotr.data.mailer import Mailer, Timeouts

    from tests.handlers.faults import Faults
    from tests.ses_stub import TEST_SCALE, SesStub

    stub = SesStub(clock=mailer.clock, advance=mailer.clock.advance, slow_wait=Timeouts().read)
    mailer.service.use_mailer(Mailer(mailer.service.env.ses_configuration_set, Timeouts(scale=TEST_SCALE), endpoint_url=stub.url))
    faults = Faults(mailer.clock)
    faults.install(monkeypatch)
    mailer.queue.timeout, mailer.queue.faults = 30.0, faults
    mailer.stub, mailer.faults = stub, faults
    yield mailer
    stub.close()
