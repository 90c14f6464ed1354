"""Timestamps as stored and shown: ISO 8601 UTC to the millisecond, ``2026-11-26T20:32:22.000Z``."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def iso(at: float) -> str:
    """Epoch seconds -> the stored form."""
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> str:
    return iso(time.time())
