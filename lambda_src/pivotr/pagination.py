"""Opaque ``nextToken``s: a DynamoDB key, signed so a client cannot forge or edit one.

The signing key is derived (HMAC with a label: domain separation) from the stage's unsubscribe
signing key ring in Secrets Manager, so nobody who has read this code can sign a token, and a
rotation (``make rotate-unsubscribe-key``) keeps earlier tokens valid for the ring's overlap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from pivotr.domain.unsubscribe import KeyRing
from pivotr.errors import Invalid, invalid, unavailable

LABEL = b"pivotr-mailer next-token v2"
MAC_BYTES = 16
MAX_TOKEN = 2_048  # characters
MAX_KEY_VALUE = 1_024  # characters: a key attribute value longer than this is not one we wrote


def bad_token() -> Invalid:
    return invalid([{"field": "nextToken", "message": "is not a token this API issued for this list"}])


class Tokens:
    """Signs and checks the tokens of one function; ``keys(refresh)`` returns the key ring (cached),
    ``refresh=True`` reading it again once a token signed with an unknown key arrives."""

    def __init__(self, keys: Callable[[bool], KeyRing], clock: Callable[[], float] = time.time) -> None:
        self._keys, self._clock = keys, clock

    def _ring(self, refresh: bool = False) -> KeyRing:
        try:
            return self._keys(refresh)
        except ValueError as error:  # the secret holds something that is no key ring
            raise unavailable(f"The stage's signing key cannot be used: {error}", "SIGNING_KEY_INVALID") from None
        except Exception as error:
            if "ResourceNotFoundException" not in str(error):
                raise
            raise unavailable("The stage's signing key has no value yet (make rotate-unsubscribe-key); "
                              "the first page works without it", "SIGNING_KEY_MISSING") from None

    @staticmethod
    def _mac(key: bytes, purpose: str, payload: bytes) -> bytes:
        derived = hmac.new(key, LABEL, hashlib.sha256).digest()
        return hmac.new(derived, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, key: dict[str, Any] | None, purpose: str) -> str | None:
        if not key:
            return None
        payload = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
        mac = self._mac(self._ring().current, purpose, payload)
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, token: str | None, purpose: str) -> dict[str, Any] | None:
        if token is None or token == "":
            return None
        if len(token) > MAX_TOKEN:
            raise bad_token()
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise bad_token() from None
        mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
        if not self._signed(mac, purpose, payload, self._ring()) and \
                not self._signed(mac, purpose, payload, self._ring(refresh=True)):
            raise bad_token()
        try:
            key = json.loads(payload)
        except ValueError:
            raise bad_token() from None
        if not isinstance(key, dict) or not 1 <= len(key) <= 4 or \
                not all(isinstance(v, str) and 0 < len(v) <= MAX_KEY_VALUE for v in key.values()):
            raise bad_token()
        return key

    def _signed(self, mac: bytes, purpose: str, payload: bytes, ring: KeyRing) -> bool:
        return any(hmac.compare_digest(mac, self._mac(key, purpose, payload)) for key in ring.valid(self._clock()))
