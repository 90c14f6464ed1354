"""Unsubscribe tokens: HMAC-signed (lead, campaign), so a link cannot be forged or used for another lead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAC_BYTES = 16  # 128-bit tag: forgery needs 2^128 guesses
MAX_TOKEN = 512  # characters
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadToken(ValueError):
    pass


class Forged(BadToken):
    """Well formed, but signed with no key this ring holds (maybe a key newer than the ring read)."""


@dataclass(frozen=True)
class KeyRing:
    """The signing key and, during a rotation's overlap, the keys before it with when each expires.

    The secret holds either one key (as first put) or, once rotated (``make rotate-unsubscribe-key``),
    ``{"current": "...", "previous": [{"key": "...", "expires": "2027-02-24T00:00:00Z"}]}``: links in
    mail already sent keep working until their key expires."""

    current: bytes
    previous: tuple[tuple[bytes, float], ...] = ()  # (key, expiry in epoch seconds)

    @classmethod
    def parse(cls, secret: str) -> KeyRing:
        text = secret.strip()
        if not text.startswith("{"):
            return cls(text.encode())
        try:
            data = json.loads(text)
            previous = tuple((str(entry["key"]).encode(), _epoch(str(entry["expires"])))
                             for entry in data.get("previous", []))
            return cls(str(data["current"]).encode(), previous)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError("the unsubscribe signing secret is neither a key nor a key ring") from None

    def valid(self, now: float) -> tuple[bytes, ...]:
        """The keys a link may be signed with at ``now``: the current one and the unexpired previous ones."""
        return (self.current, *(key for key, expires in self.previous if now < expires))

    def rotate(self, new_key: bytes, now: float, overlap: float) -> KeyRing:
        """``new_key`` signs from now on; the current key stays valid for ``overlap`` seconds, earlier
        keys until their own expiry; expired keys are dropped."""
        kept = tuple((key, expires) for key, expires in self.previous if now < expires)
        return KeyRing(new_key, ((self.current, now + overlap), *kept))

    def dumps(self) -> str:
        """The secret's value (the format ``parse`` reads)."""
        return json.dumps({"current": self.current.decode(), "previous": [
            {"key": key.decode(), "expires": _iso(expires)} for key, expires in self.previous]}, sort_keys=True)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def verify(token: str | None, key: bytes | KeyRing, now: float = 0.0) -> Subscription:
    """The subscription a token names; raises BadToken for anything not signed with ``key`` (or, for a
    key ring, with one of its keys valid at ``now``), Forged when only the signature is wrong."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise BadToken("malformed token")
    encoded_payload, encoded_mac = token.split(".")
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except ValueError:
        raise BadToken("malformed token") from None
    keys = key.valid(now) if isinstance(key, KeyRing) else (key,)
    if not any(hmac.compare_digest(mac, _mac(candidate, payload)) for candidate in keys):
        raise Forged("signature does not match")
    data = json.loads(payload)
    lead, campaign = data.get("l"), data.get("c")
    if not isinstance(lead, str) or not _ID.fullmatch(lead) or not (campaign is None or (isinstance(campaign, str) and _ID.fullmatch(campaign))):
        raise BadToken("malformed token")
    return Subscription(lead, campaign)


def link(base_url: str, subscription: Subscription, key: bytes) -> str:
    """The https link for ``List-Unsubscribe`` and the footer."""
    return f"{base_url}?token={sign(subscription, key)}"
