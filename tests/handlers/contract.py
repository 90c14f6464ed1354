"""Check each real response against docs/openapi.json: a documented status and a body of its schema."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30Validator

from tests.synth import ROOT


@cache
def document() -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "openapi.json").read_text())


def check(route: str, status: int, body: Any) -> None:
    """Raise AssertionError when the response breaks the documented contract."""
    method, path = route.split(" ", 1)
    operation = document()["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{route} answered {status}, which its OpenAPI operation does not document"
    if "$ref" in response:
        response = document()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    wrapper = {**schema, "components": document()["components"]}
    errors = sorted(OAS30Validator(wrapper).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{route} {status} body breaks its schema: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
