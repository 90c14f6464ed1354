"""Unsubscribe tokens: HMAC-signed (lead, campaign), so a link cannot be forged or used for another lead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

MAC_BYTES = 16  # 128-bit tag: forgery needs 2^128 guesses
MAX_TOKEN = 512  # characters
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadToken(ValueError):
    pass


@dataclass(frozen=True)
class Subscription:
    lead_id: str
    campaign_id: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"pivotr-unsubscribe-v1:" + payload, hashlib.sha256).digest()[:MAC_BYTES]


def sign(subscription: Subscription, key: bytes) -> str:
    payload = json.dumps({"l": subscription.lead_id, "c": subscription.campaign_id}, separators=(",", ":"),
                         sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(token: str | None, key: bytes) -> Subscription:
    """The subscription a token names; raises BadToken for anything not signed with ``key``."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise BadToken("malformed token")
    encoded_payload, encoded_mac = token.split(".")
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except ValueError:
        raise BadToken("malformed token") from None
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise BadToken("signature does not match")
    data = json.loads(payload)
    lead, campaign = data.get("l"), data.get("c")
    if not isinstance(lead, str) or not _ID.fullmatch(lead) or not (campaign is None or (isinstance(campaign, str) and _ID.fullmatch(campaign))):
        raise BadToken("malformed token")
    return Subscription(lead, campaign)


def link(base_url: str, subscription: Subscription, key: bytes) -> str:
    """The https link for ``List-Unsubscribe`` and the footer."""
    return f"{base_url}?token={sign(subscription, key)}"
