"""The operator commands from zero to the first campaign, and for the day after an incident.

Each takes the stage's plan (names come from the synthesized plan, never typed twice), the clients,
and what the operator said; each returns the lines to print. None ever prints a secret value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TextIO

from botocore.exceptions import ClientError

# the key ring format the functions read, from one place
from pivotr.domain.unsubscribe import KeyRing

from ops.aws import Clients, error_code
from ops.plans import StagePlan

UNSUBSCRIBE_SECRET = "unsubscribe-signing-key"
KEY_BYTES = 32  # 256-bit HMAC keys
DEFAULT_OVERLAP_DAYS = 90  # links in mail already sent keep working this long (CAN-SPAM asks for 30 days at least)
DAY = 86_400  # seconds


class OperatorError(Exception):
    """Something the operator can correct; the message says how."""


def _secret_id(plan: StagePlan, short: str) -> str:
    names = {plan.short(name): name for name in plan.secrets}
    if short not in names:
        raise OperatorError(f"no secret {short!r} in {plan.stage}; the stage has {', '.join(sorted(names))}")
    return names[short]


def read_value(stdin: TextIO, prompt: Callable[[str], str] | None = None) -> str:
    """The value from standard input: typed without echo at a terminal, else piped (one trailing
    newline dropped). Never from argv or the environment, where it would end up in shell history,
    process listings or CI logs."""
    if stdin.isatty() and prompt is not None:
        value = prompt("value (not echoed): ")
    else:
        value = stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    if not value.strip():
        raise OperatorError("empty value: nothing stored")
    return value


def put_secret(plan: StagePlan, aws: Clients, short: str, value: str) -> list[str]:
    secret_id = _secret_id(plan, short)
    if short == UNSUBSCRIBE_SECRET:
        try:
            KeyRing.parse(value)
        except ValueError as error:
            raise OperatorError(str(error)) from None
    version = _store(plan, aws("secretsmanager"), secret_id, value)
    return [f"stored a new value of {secret_id} (version {version}); functions read it within 5 minutes"]


def _store(plan: StagePlan, sm: Any, secret_id: str, value: str) -> str:
    """Put ``value`` as the secret's new version (its id); the secret itself is the deploy's to create."""
    try:
        return sm.put_secret_value(SecretId=secret_id, SecretString=value)["VersionId"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise OperatorError(f"{secret_id} does not exist yet: make deploy STAGE={plan.stage} first") from None
        raise


def rotate_unsubscribe_key(plan: StagePlan, aws: Clients, overlap_days: int, now: float,
                           new_key: Callable[[], str] = lambda: secrets.token_urlsafe(KEY_BYTES)) -> list[str]:
    """A new signing key; the one it replaces keeps verifying links for ``overlap_days``."""
    if overlap_days < 1:
        raise OperatorError("the overlap must be at least one day: links in mail already sent would stop working")
    secret_id = _secret_id(plan, UNSUBSCRIBE_SECRET)
    sm = aws("secretsmanager")
    try:
        current = KeyRing.parse(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        current = None  # the first key: nothing to overlap with
    except ValueError as error:
        raise OperatorError(f"{secret_id}: {error}; put a fresh key with make secret") from None
    key = new_key().encode()
    ring = KeyRing(key) if current is None else current.rotate(key, now, overlap_days * DAY)
    _store(plan, sm, secret_id, ring.dumps())
    if current is None:
        return [f"stored the first unsubscribe signing key of {plan.stage}"]
    return [f"rotated the unsubscribe signing key of {plan.stage}: new mail is signed with the new key within 5 minutes;",
            f"links signed before keep working for {overlap_days} days, {len(ring.previous)} previous key(s) kept"]


def create_admin(plan: StagePlan, aws: Clients, email: str) -> list[str]:
    """The first user of the stage's Cognito pool (self sign-up is off): Cognito e-mails a temporary password."""
    pool_name = plan.user_pool
    if pool_name is None:
        raise OperatorError(f"{plan.stage} has no user pool (api auth 'none'): there is nobody to create")
    cognito = aws("cognito-idp")
    pools = [p for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
             for p in page["UserPools"] if p["Name"] == pool_name]
    if len(pools) != 1:
        raise OperatorError(f"{len(pools)} user pools named {pool_name}: make deploy STAGE={plan.stage} first"
                            if not pools else f"{len(pools)} user pools named {pool_name}; remove the stray ones")
    try:
        cognito.admin_create_user(UserPoolId=pools[0]["Id"], Username=email, DesiredDeliveryMediums=["EMAIL"],
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": "true"}])
    except ClientError as error:
        if error_code(error) == "UsernameExistsException":
            raise OperatorError(f"{email} already exists in {pool_name}") from None
        if error_code(error) == "InvalidParameterException":
            raise OperatorError(f"Cognito refused {email!r}: {error.response['Error'].get('Message', '')}") from None
        raise
    return [f"created {email} in {pool_name}; Cognito e-mailed a temporary password, changed at first sign-in"]


def redrive(plan: StagePlan, aws: Clients, queue: str) -> list[str]:
    """Move every message of ``queue``'s DLQ back into it (SQS's own message move task), after a fix."""
    queues = plan.redrivable
    if queue not in queues:
        raise OperatorError(f"no queue {queue!r} with a DLQ in {plan.stage}; choose one of {', '.join(sorted(queues))}")
    source_name, dlq_name = queues[queue]
    sqs = aws("sqs")

    def arn(name: str) -> str:
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            raise OperatorError(f"{name} does not exist ({error_code(error)}): is {plan.stage} deployed?") from None
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    dlq_arn, source_arn = arn(dlq_name), arn(source_name)
    running = [t for t in sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", []) if t.get("Status") == "RUNNING"]
    if running:
        return [f"a move from {dlq_name} is already running ({running[0].get('ApproximateNumberOfMessagesMoved', 0)} moved)"]
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=source_arn)["TaskHandle"]
    return [f"moving the messages of {dlq_name} back into {source_name} (task {handle});",
            f"watch: aws sqs list-message-move-tasks --source-arn {dlq_arn}"]
