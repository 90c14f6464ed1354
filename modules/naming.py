"""The one place for resource names and tags."""

from __future__ import annotations

from dataclasses import dataclass

from modules.config import PROJECT, SesConfig, StageConfig


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

    @property
    def metrics_namespace(self) -> str:
        """Where the functions' own metrics (embedded metric format) go: one namespace per stage."""
        return f"PivotrMailer/{self.stage}"

    def feedback_queue(self, ses: SesConfig) -> str:
        """The name of the queue this stage's process-feedback reads: the configured existing queue's,
        or the stage's own."""
        return queue_name_from_url(ses.feedback_queue_url) if ses.feedback_queue_url else self.name("ses-feedback")

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


def queue_name_from_url(url: str) -> str:
    """``https://sqs.ap-south-1.amazonaws.com/123456789012/name`` -> ``name``."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    if not name or "." in name or ":" in name:
        raise ValueError(f"not an SQS queue URL: {url!r}")
    return name
