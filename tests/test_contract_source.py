"""docs/openapi.json's request schemas are generated from the validator's field specs; here the two are
held to each other on generated bodies, valid ones and near misses:

- whatever the document allows, the validator accepts, except where a field's ``check`` applies a
  rule the document can only describe (a real address, a known time zone, min <= max);
- whatever the validator accepts, the document allows (the document is not stricter).

Before the document was generated, it allowed tags of any characters, a fromName with line breaks and
any minSends; these properties fail on that document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import ValidationError, validators
from openapi_schema_validator import OAS30Validator
from pivotr.domain import campaigns, jobs, leads, templates
from pivotr.errors import Invalid
from pivotr.validation import Field, validate

from tests.schema_strategies import checked, near

DOCUMENT = json.loads((Path(__file__).resolve().parent.parent / "docs" / "openapi.json").read_text())
# The schema name, the field specs the handler validates the body with, and whether it is an update.
REQUESTS = {
    "LeadInput": (leads.FIELDS, False), "LeadUpdate": (leads.FIELDS, True),
    "TemplateInput": (templates.FIELDS, False), "TemplateUpdate": (templates.FIELDS, True),
    "CampaignInput": (campaigns.FIELDS, False), "CampaignUpdate": (campaigns.FIELDS, True),
    "ImportOptions": (jobs.IMPORT_FIELDS, False), "ExportRequest": (jobs.EXPORT_FIELDS, False),
}


def _full_match(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """ECMA-262's ``$`` (what OpenAPI's patterns are) ends the string; Python's also matches before a final newline."""
    if isinstance(instance, str) and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Document = validators.extend(OAS30Validator, {"pattern": _full_match})


def refused(body: Any, fields: dict[str, Field], partial: bool) -> set[str]:
    try:
        validate(body, fields, partial=partial)
    except Invalid as error:
        return {d["field"] for d in error.details}
    return set()


def test_the_checker_sees_a_document_that_allows_more_than_the_validator() -> None:
    # Given the tags schema as the hand-written document had it (no pattern) and a tag the validator refuses
    loose = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 64}}}}
    body = {"tags": ["a&b"]}
    # Then the document allows it, the validator refuses it, and the field has no check to excuse that
    assert Document(loose).is_valid(body) and refused(body, leads.FIELDS, True) == {"tags"} and not checked(leads.FIELDS["tags"])


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_document_and_the_validator_agree(name: str) -> None:
    fields, partial = REQUESTS[name]
    schema = DOCUMENT["components"]["schemas"][name]
    document = Document(schema)
    semantic = {field for field, spec in fields.items() if checked(spec)}

    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(near(schema, DOCUMENT))
    def agree(body: Any) -> None:
        allowed, refusals = document.is_valid(body), refused(body, fields, partial)
        if allowed:  # the document allows it: only rules it can merely describe may refuse it
            assert refusals <= semantic, f"{name}: the document allows {body!r}, the validator refuses {refusals}"
        if not refusals:  # the validator accepts it: the document must allow it too
            assert allowed, f"{name}: the validator accepts {body!r}, the document refuses it: " + \
                "; ".join(e.message for e in document.iter_errors(body))

    agree()
