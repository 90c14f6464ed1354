"""IAM documents built from grants, never typed by hand.

A construct that can be granted to (a function's role) collects ``Statement``s;
``PolicyDocument.render()`` merges them deterministically (same statements in
any order give the same JSON), so the plan does not churn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# Actions AWS offers no resource-level scoping for; the only ones allowed on "*".
UNSCOPED_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "cloudwatch:PutMetricData",
        "ses:GetAccount",  # the account's sending quota: an account-level read with no resource type
    }
)


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # ((operator, key, (values...)), ...), e.g. ("StringEquals", "cloudwatch:namespace", ("PivotrMailer",))
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if not self.actions or not self.resources:
            raise ValueError("a statement needs at least one action and one resource")
        for action in self.actions:
            if "*" in action:
                raise ValueError(f"wildcard action {action!r}: name the actions the code calls")
        if "*" in self.resources and not set(self.actions) <= UNSCOPED_ACTIONS:
            raise ValueError(f'"Resource": "*" is only for {sorted(UNSCOPED_ACTIONS)}, not {self.actions}')


class Grantee(Protocol):
    """Anything with an identity policy: a function's role."""

    def add_to_policy(self, statement: Statement) -> None: ...


class PolicyDocument:
    def __init__(self) -> None:
        self._statements: list[Statement] = []

    def add(self, statement: Statement) -> None:
        self._statements.append(statement)

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(self._statements)

    def __bool__(self) -> bool:
        return bool(self._statements)

    def render(self) -> str:
        # Merge statements that share resources and conditions, then sort everything.
        merged: dict[tuple[tuple[str, ...], tuple], set[str]] = {}
        for statement in self._statements:
            key = (tuple(sorted(set(statement.resources))), statement.conditions)
            merged.setdefault(key, set()).update(statement.actions)
        rendered = []
        for (resources, conditions), actions in sorted(merged.items(), key=lambda item: (sorted(item[1]), item[0])):
            entry: dict[str, object] = {
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
            if conditions:
                condition: dict[str, dict[str, object]] = {}
                for operator, key, values in conditions:
                    condition.setdefault(operator, {})[key] = list(values) if len(values) > 1 else values[0]
                entry["Condition"] = condition
            rendered.append(entry)
        return json.dumps({"Version": "2012-10-17", "Statement": rendered}, sort_keys=True)


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}],
        },
        sort_keys=True,
    )


def grant(grantee: Grantee, actions: Iterable[str], resources: Iterable[str]) -> None:
    grantee.add_to_policy(Statement(actions=tuple(actions), resources=tuple(resources)))
