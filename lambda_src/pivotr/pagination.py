"""Opaque ``nextToken``s: a DynamoDB key, signed so a client cannot forge or edit one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pivotr.errors import invalid

# Tokens only need to be tamper-evident, not secret: a fixed key per purpose is enough, and a
# forged key could at worst start a listing elsewhere in the same table the caller may read anyway.
_KEY = b"pivotr-mailer-pagination-v1"
MAX_TOKEN = 2_048  # characters


def encode(key: dict[str, Any] | None, purpose: str) -> str | None:
    if not key:
        return None
    payload = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(_KEY + purpose.encode(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def decode(token: str | None, purpose: str) -> dict[str, Any] | None:
    if token is None or token == "":
        return None
    bad = invalid([{"field": "nextToken", "message": "is not a token this API issued for this list"}])
    if len(token) > MAX_TOKEN:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise bad from None
    mac, payload = raw[:16], raw[16:]
    expected = hmac.new(_KEY + purpose.encode(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise bad
    try:
        key = json.loads(payload)
    except ValueError:
        raise bad from None
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise bad
    return key
