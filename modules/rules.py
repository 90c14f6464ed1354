"""Rules over the synthesized Terraform JSON (the cdk-nag idea, for CDKTF).

Each rule is a small pure function ``plan -> findings``. ``main.py`` runs them
after every synth (a violation fails ``make synth``), and ``tests/test_rules.py``
gives each rule a passing and a failing case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modules.stack import AWS_PROVIDER_SOURCE

Plan = dict[str, Any]
REQUIRED_TAGS = ("Project", "Environment", "CostCenter")


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    check: Callable[[Plan], Iterator[Finding]]


RULES: list[Rule] = []


def rule(id: str, description: str) -> Callable[[Callable[[Plan], Iterator[Finding]]], Callable[[Plan], Iterator[Finding]]]:
    def register(check: Callable[[Plan], Iterator[Finding]]) -> Callable[[Plan], Iterator[Finding]]:
        RULES.append(Rule(id=id, description=description, check=check))
        return check

    return register


def run(plan: Plan, rules: list[Rule] | None = None) -> list[Finding]:
    return [finding for r in (rules or RULES) for finding in r.check(plan)]


# -- helpers ------------------------------------------------------------------------------------
def stack_name(plan: Plan) -> str:
    return plan.get("//", {}).get("metadata", {}).get("stackName", "?")


def resources(plan: Plan, type_: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, logical id, body) of every resource, optionally of one type."""
    for rtype, items in sorted(plan.get("resource", {}).items()):
        if type_ is None or rtype == type_:
            for logical_id, body in sorted(items.items()):
                yield rtype, logical_id, body


def default_tags(plan: Plan) -> dict[str, str]:
    providers = plan.get("provider", {}).get("aws", [])
    tags: dict[str, str] = {}
    for provider in providers:
        for block in provider.get("default_tags", []):
            tags.update(block.get("tags", {}))
    return tags


def stage_of(plan: Plan) -> str:
    return default_tags(plan).get("Environment", "")


# -- foundation rules ---------------------------------------------------------------------------
@rule("tags-default", "every AWS provider sets default tags Project, Environment and CostCenter")
def _tags(plan: Plan) -> Iterator[Finding]:
    providers = plan.get("provider", {}).get("aws", [])
    if not providers:
        yield Finding("tags-default", stack_name(plan), "no aws provider")
    for index, provider in enumerate(providers):
        tags: dict[str, str] = {}
        for block in provider.get("default_tags", []):
            tags.update(block.get("tags", {}))
        missing = [tag for tag in REQUIRED_TAGS if not tags.get(tag)]
        if missing:
            yield Finding("tags-default", f"{stack_name(plan)} provider[{index}]", f"default_tags lack {missing}")


@rule("provider-source", "the AWS provider is required with the fully qualified source hashicorp/aws and a version")
def _provider_source(plan: Plan) -> Iterator[Finding]:
    required = plan.get("terraform", {}).get("required_providers", {}).get("aws", {})
    if required.get("source") != AWS_PROVIDER_SOURCE:
        yield Finding("provider-source", stack_name(plan), f"source is {required.get('source')!r}, want {AWS_PROVIDER_SOURCE!r}")
    if not required.get("version"):
        yield Finding("provider-source", stack_name(plan), "provider version is not pinned")


@rule("backend-per-stage", "a stage stack keeps encrypted, locked S3 state under a key that names its stage")
def _backend(plan: Plan) -> Iterator[Finding]:
    stage = stage_of(plan)
    backend = plan.get("terraform", {}).get("backend", {})
    if stage in ("", "shared"):  # the bootstrap stack keeps local state by design
        return
    s3 = backend.get("s3")
    where = stack_name(plan)
    if s3 is None:
        yield Finding("backend-per-stage", where, f"stage {stage} has backend {sorted(backend)}, want s3")
        return
    if f"/{stage}/" not in f"/{s3.get('key', '')}":
        yield Finding("backend-per-stage", where, f"state key {s3.get('key')!r} does not name stage {stage!r}")
    if s3.get("encrypt") is not True:
        yield Finding("backend-per-stage", where, "state is not encrypted (encrypt = true)")
    if s3.get("use_lockfile") is not True:
        yield Finding("backend-per-stage", where, "state is not locked (use_lockfile = true)")
