"""The HTTP resolver imported without Powertools' other resolvers (pivotr/resolver.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=LAMBDA_SRC, capture_output=True, text=True, check=True).stdout


def test_an_api_function_starts_without_the_other_resolvers() -> None:
    # When the resolver is imported as the API routes import it
    loaded = _run("import sys, pivotr.resolver; print(sorted(m for m in sys.modules if m.startswith("
                  "'aws_lambda_powertools.event_handler.') and ('appsync' in m or 'bedrock' in m or 'lattice' in m)))")
    # Then no AppSync, Bedrock or VPC Lattice resolver was imported
    assert loaded.strip() == "[]"


def test_the_package_completes_itself_for_anyone_who_asks_it_for_more() -> None:
    # Given the resolver imported the lazy way; When other code imports from the package itself
    same = _run("import pivotr.resolver as r\n"
                "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, AppSyncResolver, Response\n"
                "print(APIGatewayHttpResolver is r.APIGatewayHttpResolver, Response is r.Response, AppSyncResolver.__name__)")
    # Then it gets the very same classes, and the ones the package adds
    assert same.split() == ["True", "True", "AppSyncResolver"]


def test_a_name_the_package_never_had_is_still_an_attribute_error() -> None:
    out = _run("import pivotr.resolver, aws_lambda_powertools.event_handler as p\n"
               "try:\n    p.NoSuchResolver\nexcept AttributeError as e:\n    print('AttributeError')")
    assert out.strip() == "AttributeError"
