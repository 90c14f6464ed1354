"""What the operator tooling needs to know about a stage, read from its synthesized plan."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from modules.naming import stack_name

_REF = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")


class PlanMissing(FileNotFoundError):
    pass


@dataclass(frozen=True)
class StagePlan:
    stage: str
    plan: dict[str, Any]

    @classmethod
    def load(cls, outdir: Path, stage: str) -> StagePlan:
        path = outdir / "stacks" / stack_name(stage) / "cdk.tf.json"
        if not path.exists():
            raise PlanMissing(f"{path} does not exist: run make synth first")
        return cls(stage, json.loads(path.read_text()))

    def short(self, name: str) -> str:
        """``pivotr-mailer-dev-verifier-api-key`` -> ``verifier-api-key`` (the stage's names, modules/naming)."""
        return name.removeprefix(f"{stack_name(self.stage)}-")

    def _resources(self, type_: str) -> list[dict[str, Any]]:
        return list(self.plan.get("resource", {}).get(type_, {}).values())

    @cached_property
    def reserved_concurrency(self) -> dict[str, int]:
        """Function name -> the concurrency it reserves."""
        return {fn["function_name"]: int(fn.get("reserved_concurrent_executions", 0))
                for fn in self._resources("aws_lambda_function")}

    @property
    def secrets(self) -> list[str]:
        return sorted(s["name"] for s in self._resources("aws_secretsmanager_secret"))

    @property
    def ssm_parameters(self) -> list[str]:
        return sorted(p["name"] for p in self.plan.get("data", {}).get("aws_ssm_parameter", {}).values())

    @property
    def alarm_topic(self) -> str:
        [name] = [t["name"] for t in self._resources("aws_sns_topic") if t["name"].endswith("-alarms")]
        return name

    @property
    def user_pool(self) -> str | None:
        pools = [p["name"] for p in self._resources("aws_cognito_user_pool")]
        return pools[0] if pools else None

    @property
    def redrivable(self) -> dict[str, tuple[str, str]]:
        """Short name (``sending``) -> (queue name, its DLQ's name) for every queue with a DLQ."""
        queues = self.plan.get("resource", {}).get("aws_sqs_queue", {})
        found = {}
        for body in queues.values():
            target = _REF.match(json.loads(body.get("redrive_policy") or "{}").get("deadLetterTargetArn", ""))
            if target:
                found[self.short(body["name"])] = (body["name"], queues[target.group(2)]["name"])
        return found
