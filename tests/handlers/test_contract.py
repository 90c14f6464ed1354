"""The contract check itself must be able to fail."""

from __future__ import annotations

import pytest

from tests.handlers import contract

LEAD = {"id": "ld_1", "email": "a@example.com", "status": "new", "tags": [], "customAttributes": {},
        "createdAt": "2026-11-25T00:00:00Z", "updatedAt": "2026-11-25T00:00:00Z"}


def test_a_conforming_body_passes() -> None:
    contract.check("GET /leads/{id}", 200, LEAD)


@pytest.mark.parametrize(("status", "body", "message"), [
    (200, {**LEAD, "status": "vip"}, "status"),
    (200, {k: v for k, v in LEAD.items() if k != "email"}, "email"),
    (404, {"message": "nope"}, "error"),
    (500, {"error": {"code": "INTERNAL", "message": "x", "details": []}}, "does not document"),
])
def test_a_body_or_status_off_the_contract_fails(status: int, body: dict, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        contract.check("GET /leads/{id}", status, body)
