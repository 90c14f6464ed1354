"""The one place for resource names and tags."""

from __future__ import annotations

from dataclasses import dataclass

from modules.config import PROJECT, StageConfig


@dataclass(frozen=True)
class Naming:
    stage: str
    cost_center: str = "outreach"

    @classmethod
    def of(cls, config: StageConfig) -> Naming:
        return cls(stage=config.stage, cost_center=config.cost_center)

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stage}"

    def name(self, thing: str) -> str:
        """``pivotr-mailer-{stage}-{thing}``"""
        if not thing or thing != thing.lower() or " " in thing:
            raise ValueError(f"resource name part must be lower-case without spaces: {thing!r}")
        return f"{self.prefix}-{thing}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Project": PROJECT,
            "Environment": self.stage,
            "CostCenter": self.cost_center,
            "ManagedBy": "cdktf",
        }


def stack_name(stage: str) -> str:
    return f"{PROJECT}-{stage}"


BOOTSTRAP_STACK = f"{PROJECT}-bootstrap"


def env_var(name: str, kind: str) -> str:
    """The environment variable a connected function reads: ``("ses-feedback", "QUEUE_URL")`` -> ``SES_FEEDBACK_QUEUE_URL``."""
    return f"{name.replace('-', '_').upper()}_{kind}"
