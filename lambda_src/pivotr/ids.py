"""New random ids: ``<prefix>_<32 hex digits>`` (leads' ids are not random: domain.leads.lead_id)."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"
