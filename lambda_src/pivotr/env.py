"""Each handler's environment as a typed, frozen model: the only reads of os.environ in lambda_src."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Self


class MissingEnvironment(RuntimeError):
    pass


class EnvModel:
    """Fields are read from the upper-cased variable of the same name, all required."""

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> Self:
        missing = [f.name.upper() for f in fields(cls) if f.name.upper() not in environ]  # type: ignore[arg-type]
        if missing:
            raise MissingEnvironment(f"{cls.__name__}: missing {', '.join(missing)}")
        values: dict[str, object] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            raw = environ[f.name.upper()]
            try:
                values[f.name] = float(raw) if f.type == "float" else raw
            except ValueError:
                raise MissingEnvironment(f"{cls.__name__}: {f.name.upper()} must be a number, got {raw!r}") from None
        return cls(**values)


@dataclass(frozen=True)
class LeadsEnv(EnvModel):
    leads_table: str
    logs_table: str
    metrics_table: str
    suppression_table: str
    unsubscribe_signing_key_secret_arn: str


@dataclass(frozen=True)
class CampaignsEnv(EnvModel):
    campaigns_table: str
    templates_table: str
    recipients_table: str
    ses_identity_domain: str
    sending_queue_url: str


@dataclass(frozen=True)
class MetricsEnv(EnvModel):
    metrics_table: str
    campaigns_table: str


@dataclass(frozen=True)
class ImportEnv(EnvModel):
    leads_table: str
    suppression_table: str
    verification_queue_url: str


@dataclass(frozen=True)
class FeedbackEnv(EnvModel):
    leads_table: str
    campaigns_table: str
    recipients_table: str
    logs_table: str
    metrics_table: str
    suppression_table: str


@dataclass(frozen=True)
class VerifyEnv(EnvModel):
    leads_table: str
    recipients_table: str
    verifier_api_key_secret_arn: str
    verifier_base_url: str


@dataclass(frozen=True)
class SendEnv(EnvModel):
    leads_table: str
    campaigns_table: str
    templates_table: str
    recipients_table: str
    logs_table: str
    metrics_table: str
    suppression_table: str
    settings_table: str  # the account's SES rate book (data.rate)
    sending_queue_url: str
    verification_queue_url: str
    ses_configuration_set: str
    ses_quota_share: float  # of SES's rate and 24-hour quota the stage may use (domain.rate)
    unsubscribe_signing_key_secret_arn: str
    unsubscribe_base_url: str
