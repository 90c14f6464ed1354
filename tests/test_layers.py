"""Each layer of lambda_src imports only the layers below it: handlers → routes → services → data →
domain. The domain has no AWS SDK and no HTTP; only routes (and the HTTP plumbing) know HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "lambda_src"
LAYERS = ("domain", "data", "services", "routes", "handlers")  # low to high
HTTP = ("pivotr.http", "pivotr.resolver", "pivotr.routes", "aws_lambda_powertools.event_handler")
AWS_SDK = ("boto3", "botocore")
# modules of the pivotr package outside the layers, and the lowest layer that may use each
SHARED = {"pivotr.errors": "domain", "pivotr.validation": "domain", "pivotr.safejson": "domain", "pivotr.timestamps": "domain",
          "pivotr.ids": "domain", "pivotr.logs": "data", "pivotr.env": "data", "pivotr.pagination": "routes",
          "pivotr.http": "routes", "pivotr.resolver": "routes", "pivotr.tracing": "handlers"}


def layer_of(module: str) -> str | None:
    if module.startswith("handlers"):
        return "handlers"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "pivotr" and parts[1] in LAYERS else None


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def violations(module: str, imported: list[str]) -> list[str]:
    own = layer_of(module)
    if own is None:
        return []
    found = []
    for name in imported:
        target = layer_of(name)
        shared = next((floor for prefix, floor in SHARED.items() if name == prefix or name.startswith(prefix + ".")), None)
        floor = target or shared
        if floor is not None and LAYERS.index(floor) > LAYERS.index(own):
            found.append(f"{module} ({own}) imports {name} ({floor})")
        if own in ("domain", "data", "services") and name.startswith(HTTP):
            found.append(f"{module} ({own}) imports HTTP: {name}")
        if own == "domain" and name.startswith(AWS_SDK):
            found.append(f"{module} (domain) imports the AWS SDK: {name}")
    return found


def test_the_checker_refuses_an_upward_import_http_in_a_service_and_boto3_in_the_domain() -> None:
    # Given imports that break each rule / Then each is reported
    assert violations("pivotr.data.jobs", ["pivotr.services.transfers"])
    assert violations("pivotr.services.campaigns", ["pivotr.http"])
    assert violations("pivotr.domain.leads", ["boto3.dynamodb.conditions"])
    assert violations("pivotr.domain.importing", ["pivotr.pagination"])
    # And the allowed directions are not
    assert not violations("handlers.api_leads", ["pivotr.routes.leads", "pivotr.tracing"])
    assert not violations("pivotr.services.campaigns", ["pivotr.data.dynamo", "pivotr.domain.campaigns", "pivotr.errors"])


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_each_module_imports_only_layers_below_it(path: Path) -> None:
    assert violations(module_name(path), imports(path)) == []


ROOT = SRC.parent
RUNTIME = ("simulator", "demo", "bench")  # what runs outside pytest: it must not need the test suite


@pytest.mark.parametrize("path", sorted(p for d in RUNTIME for p in (ROOT / d).rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_simulator_demo_and_benchmarks_import_nothing_from_the_tests(path: Path) -> None:
    assert [name for name in imports(path) if name == "tests" or name.startswith("tests.")] == []
