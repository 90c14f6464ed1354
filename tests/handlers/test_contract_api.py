"""Requests generated from docs/openapi.json, sent to the local API: what the document allows is
accepted, unless a rule the document can only describe refuses it, and then with a 400 naming that
field (never a 5xx, never a field the document says nothing against)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pivotr.domain import campaigns, jobs, leads, templates
from pivotr.validation import Field

from tests.schema_strategies import checked, valid

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
# route -> (request schema, the field specs behind it, answers that accept the body)
OPERATIONS: dict[str, tuple[str, dict[str, Field], set[int]]] = {
    "/leads": ("LeadInput", leads.FIELDS, {201, 409}),  # 409: the address exists already
    "/templates": ("TemplateInput", templates.FIELDS, {201}),
    "/campaigns": ("CampaignInput", campaigns.FIELDS, {201}),
    "/imports": ("ImportOptions", jobs.IMPORT_FIELDS, {201}),
}
# Free text as people type it (the full Unicode range is the fuzz test's: tests/handlers/test_fuzz.py)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@pytest.mark.parametrize("path", sorted(OPERATIONS))
def test_what_the_document_allows_is_accepted_or_refused_only_by_a_described_rule(api, path: str) -> None:
    name, fields, accepted = OPERATIONS[path]
    semantic = {field for field, spec in fields.items() if checked(spec)}
    template_id = api.post("/templates", {"name": "t", "subject": "Hi", "text": "Hello"}).body["id"]

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(valid(DOCUMENT["components"]["schemas"][name], DOCUMENT, TEXT))
    def sent(body: dict[str, Any]) -> None:
        if path == "/campaigns":  # a template that exists and the stage's sender domain: the document cannot know them
            body = {**body, "templateId": template_id, "fromEmail": f"{body['fromEmail'].split('@')[0]}@pivotr.example.com"}
        # Given a body the document allows / When it is sent
        reply = api.post(path, body)
        outcomes.append(reply.status)
        # Then it is taken, or refused (400) only for fields a described rule applies to
        if reply.status == 400:
            assert reply.error_fields <= semantic, (body, reply.body)
        else:
            assert reply.status in accepted, (body, reply.status, reply.body)

    outcomes: list[int] = []
    sent()
    # And a good share of what the document allows is taken: the test cannot pass by refusing everything
    # (the rules it only describes, such as an audience that names someone, refuse the rest)
    assert sum(status in accepted for status in outcomes) >= len(outcomes) // 5, sorted(outcomes)
