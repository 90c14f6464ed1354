"""Each handler's environment as a typed, frozen model: the only reads of os.environ in lambda_src."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


class MissingEnvironment(RuntimeError):
    pass


def _load(cls, environ: Mapping[str, str]):
    missing = [f.name.upper() for f in fields(cls) if f.name.upper() not in environ]
    if missing:
        raise MissingEnvironment(f"{cls.__name__}: missing {', '.join(missing)}")
    return cls(**{f.name: environ[f.name.upper()] for f in fields(cls)})


@dataclass(frozen=True)
class LeadsEnv:
    leads_table: str
    logs_table: str

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> LeadsEnv:
        return _load(cls, environ)


@dataclass(frozen=True)
class CampaignsEnv:
    campaigns_table: str
    templates_table: str
    ses_identity_domain: str

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> CampaignsEnv:
        return _load(cls, environ)


@dataclass(frozen=True)
class MetricsEnv:
    metrics_table: str
    campaigns_table: str

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> MetricsEnv:
        return _load(cls, environ)
