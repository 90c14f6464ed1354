"""Secrets Manager reads, cached per process (Powertools parameters)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

MAX_AGE = 300  # seconds a fetched secret is reused before it is read again (rotation shows up then)


def secret(arn: str, *, fresh: bool = False) -> str:
    return str(parameters.get_secret(arn, max_age=MAX_AGE, force_fetch=fresh))
