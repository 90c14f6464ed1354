"""Mapping a MyEmailVerifier answer to a lead status. No AWS, no HTTP here."""

from __future__ import annotations

from typing import Any

from pivotr.domain.leads import INVALID, RISKY, UNVERIFIED, VALID, LeadStatus

VERIFIABLE = UNVERIFIED  # statuses a verification result may replace
RISKY_ANSWERS = frozenset({"catch all", "catch-all", "catchall", "unknown", "greylisted", "grey-listed", "accept all"})


class UnexpectedAnswer(ValueError):
    """The verifier answered something we do not know how to read; the message is retried."""


def _flag(answer: dict[str, Any], name: str) -> bool:
    return str(answer.get(name, "")).strip().lower() in {"true", "1", "yes"}


def status_of(answer: dict[str, Any]) -> LeadStatus:
    """``valid``, ``risky`` (catch-all, unknown, greylisted, disposable) or ``invalid``."""
    raw = str(answer.get("Status") or answer.get("status") or "").strip().lower()
    if raw == "valid":
        return RISKY if _flag(answer, "Disposable_Domain") else VALID
    if raw == "invalid":
        return INVALID
    if raw in RISKY_ANSWERS:
        return RISKY
    raise UnexpectedAnswer(f"unknown verifier status {raw[:40]!r}")
