"""Each handler's environment as a typed, frozen model: the only reads of os.environ in lambda_src."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self


class MissingEnvironment(RuntimeError):
    pass


class EnvModel:
    """Fields (the class's annotations, in order) are read from the upper-cased variable of the same
    name, all required; ``float`` fields are numbers. Immutable once loaded.

    Not a dataclass: generating a frozen dataclass's methods costs about half a millisecond per class
    at import, and every function imports all seven models at cold start."""

    def __init__(self, *args: object, **values: object) -> None:
        names = self.field_names()
        values = {**dict(zip(names, args, strict=False)), **values}
        if sorted(values) != sorted(names):
            raise TypeError(f"{type(self).__name__} takes exactly {', '.join(names)}")
        for name in names:
            object.__setattr__(self, name, values[name])

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.__annotations__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(tuple(vars(self).items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> Self:
        names = cls.field_names()
        missing = [name.upper() for name in names if name.upper() not in environ]
        if missing:
            raise MissingEnvironment(f"{cls.__name__}: missing {', '.join(missing)}")
        values: dict[str, object] = {}
        for name in names:
            raw = environ[name.upper()]
            try:
                values[name] = float(raw) if cls.__annotations__[name] == "float" else raw
            except ValueError:
                raise MissingEnvironment(f"{cls.__name__}: {name.upper()} must be a number, got {raw!r}") from None
        return cls(**values)


class LeadsEnv(EnvModel):
    leads_table: str
    logs_table: str
    suppression_table: str
    unsubscribe_signing_key_secret_arn: str  # nextTokens are signed with a key derived from it


class UnsubscribeEnv(EnvModel):
    leads_table: str
    metrics_table: str
    suppression_table: str
    unsubscribe_signing_key_secret_arn: str


class CampaignsEnv(EnvModel):
    campaigns_table: str
    templates_table: str
    recipients_table: str
    ses_identity_domain: str
    sending_queue_url: str
    unsubscribe_signing_key_secret_arn: str  # nextTokens are signed with a key derived from it


class MetricsEnv(EnvModel):
    metrics_table: str
    campaigns_table: str


class ImportEnv(EnvModel):
    leads_table: str
    suppression_table: str
    verification_queue_url: str
    jobs_table: str
    transfers_bucket: str  # uploads, reports and exports (pre-signed links)
    transfers_queue_url: str  # exports are queued for transfer-worker
    unsubscribe_signing_key_secret_arn: str  # nextTokens are signed with a key derived from it


class TransferEnv(EnvModel):
    leads_table: str
    recipients_table: str
    suppression_table: str
    jobs_table: str
    transfers_bucket: str
    transfers_queue_url: str  # its own queue: "go on with job X"
    verification_queue_url: str


class FeedbackEnv(EnvModel):
    leads_table: str
    campaigns_table: str
    recipients_table: str
    logs_table: str
    metrics_table: str
    suppression_table: str
    feedback_topic_arns: str  # comma-separated: the topics whose notifications are applied
    feedback_raw_delivery: str  # "true": the subscription delivers bare SES JSON (no SNS signature)


class VerifyEnv(EnvModel):
    leads_table: str
    recipients_table: str
    verifier_api_key_secret_arn: str
    verifier_base_url: str


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
