"""Each rule has a passing and a failing case; every synthesized stack passes every rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modules import rules
from tests.synth import Synth


def good_stage_plan() -> dict[str, Any]:
    return {
        "//": {"metadata": {"stackName": "pivotr-mailer-dev"}},
        "provider": {
            "aws": [{"default_tags": [{"tags": {"Project": "pivotr-mailer", "Environment": "dev", "CostCenter": "x"}}]}]
        },
        "terraform": {
            "backend": {
                "s3": {"bucket": "b", "key": "pivotr-mailer/dev/terraform.tfstate", "encrypt": True, "use_lockfile": True}
            },
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "6.25.0"}},
        },
    }


def findings_of(rule_id: str, plan: dict[str, Any]) -> list[rules.Finding]:
    [selected] = [r for r in rules.RULES if r.id == rule_id]
    return rules.run(plan, [selected])


def test_the_good_plan_passes_every_foundation_rule() -> None:
    assert rules.run(good_stage_plan()) == []


def broken(mutate) -> dict[str, Any]:
    plan = copy.deepcopy(good_stage_plan())
    mutate(plan)
    return plan


@pytest.mark.parametrize(
    ("rule_id", "mutate", "message"),
    [
        ("tags-default", lambda p: p["provider"]["aws"][0]["default_tags"][0]["tags"].pop("CostCenter"), "CostCenter"),
        ("tags-default", lambda p: p["provider"].pop("aws"), "no aws provider"),
        ("provider-source", lambda p: p["terraform"]["required_providers"]["aws"].update(source="aws"), "want 'hashicorp/aws'"),
        ("provider-source", lambda p: p["terraform"]["required_providers"]["aws"].pop("version"), "not pinned"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].update(key="shared/terraform.tfstate"), "does not name stage"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].pop("use_lockfile"), "not locked"),
        ("backend-per-stage", lambda p: p["terraform"]["backend"]["s3"].update(encrypt=False), "not encrypted"),
        ("backend-per-stage", lambda p: p["terraform"].update(backend={"local": {}}), "want s3"),
    ],
)
def test_each_rule_catches_its_violation(rule_id: str, mutate, message: str) -> None:
    # Given a plan broken in one way / When the rule runs / Then it reports exactly that
    found = findings_of(rule_id, broken(mutate))
    assert found and all(message in f.message for f in found), found


def test_every_synthesized_stack_passes_every_rule(synth: Synth) -> None:
    assert {name: rules.run(synth.stack(name)) for name in synth.stack_names} == {
        name: [] for name in synth.stack_names
    }
