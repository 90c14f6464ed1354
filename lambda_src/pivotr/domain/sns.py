"""Is this SNS notification authentic? Signature versions 1 (SHA1) and 2 (SHA256), checked the way
the SNS developer guide says, in plain Python (no AWS, no compiled crypto library in the runtime).

- Only ``Notification`` messages from an expected topic are considered.
- The signing certificate must come over https from SNS itself in the topic's region and partition
  (``sns.<region>.amazonaws.com``; ``.com.cn`` in China), as a ``.pem`` path.
- The signature is RSA PKCS#1 v1.5 over the canonical string of the message's fields.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HASHES = {"1": "sha1", "2": "sha256"}
# DER prefixes of the DigestInfo structure (RFC 8017, section 9.2, note 1)
_DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
}
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_TOPIC_ARN = re.compile(r"^arn:(aws[a-z-]*):sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$")
MAX_CERTIFICATE = 16 * 1024  # bytes: an SNS signing certificate is about 2 KB


class NotAuthentic(ValueError):
    """Not a notification from an expected topic, signed by SNS: never applied."""


@dataclass(frozen=True)
class Notification:
    topic_arn: str
    message_id: str
    message: str  # the SES JSON, still a string


def authenticate(envelope: Any, topics: Iterable[str], certificate: Callable[[str], bytes]) -> Notification:
    """The notification, if ``envelope`` (the parsed SQS body) is one SNS signed for one of ``topics``.

    ``certificate(url)`` returns the PEM at an already validated SNS URL (cached by the caller); its
    failures propagate, so a notification is retried rather than dropped when SNS cannot be reached."""
    if not isinstance(envelope, dict) or envelope.get("Type") != "Notification":
        raise NotAuthentic("not an SNS notification")
    topic = envelope.get("TopicArn")
    if topic not in set(topics):
        raise NotAuthentic("from a topic this stage does not read")
    hash_name = HASHES.get(str(envelope.get("SignatureVersion")))
    if hash_name is None:
        raise NotAuthentic("unknown signature version")
    for name in ("Message", "MessageId", "Timestamp", "Signature", "SigningCertURL"):
        if not isinstance(envelope.get(name), str):
            raise NotAuthentic(f"no {name}")
    url = envelope["SigningCertURL"]
    if not certificate_url_ok(url, str(topic)):
        raise NotAuthentic("signing certificate not from SNS in the topic's region")
    try:
        signature = base64.b64decode(envelope["Signature"], validate=True)
        modulus, exponent = rsa_public_key(pem_to_der(certificate(url)))
    except ValueError:
        raise NotAuthentic("unreadable signature or certificate") from None
    if not verify_pkcs1_v15(modulus, exponent, signature, string_to_sign(envelope), hash_name):
        raise NotAuthentic("signature does not match")
    return Notification(topic_arn=str(topic), message_id=envelope["MessageId"], message=envelope["Message"])


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    """The canonical form SNS signs for a Notification: ``name\\nvalue\\n`` for each present field, in order."""
    parts = []
    for name in _NOTIFICATION_FIELDS:
        if name in envelope and envelope[name] is not None:
            parts.append(f"{name}\n{envelope[name]}\n")
    return "".join(parts).encode("utf-8")


def certificate_url_ok(url: str, topic_arn: str) -> bool:
    """https://sns.<topic's region>.amazonaws.com[.cn]/<...>.pem, nothing else (no port, no user info)."""
    match = _TOPIC_ARN.match(topic_arn)
    if not match:
        return False
    partition, region = match.groups()
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    parts = urlsplit(url)
    return (parts.scheme == "https" and parts.netloc == f"sns.{region}.{suffix}" and parts.path.endswith(".pem")
            and not parts.query and not parts.fragment)


# -- RSA, just enough to verify ------------------------------------------------------------------------
def pem_to_der(pem: bytes) -> bytes:
    if len(pem) > MAX_CERTIFICATE:
        raise ValueError("certificate too large")
    text = pem.decode("ascii", "strict")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", text, re.S)
    if not match:
        raise ValueError("no PEM certificate")
    return base64.b64decode("".join(match.group(1).split()), validate=True)


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at ``offset``: (tag, content, offset after it)."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or offset + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[offset:offset + length], offset + length


def _children(content: bytes) -> list[tuple[int, bytes]]:
    found, offset = [], 0
    while offset < len(content):
        tag, value, offset = _read(content, offset)
        found.append((tag, value))
    return found


SEQUENCE, INTEGER, BIT_STRING, EXPLICIT_0 = 0x30, 0x02, 0x03, 0xA0


def rsa_public_key(der: bytes) -> tuple[int, int]:
    """(modulus, exponent) of an X.509 certificate's RSA subjectPublicKeyInfo."""
    tag, certificate, _ = _read(der, 0)
    if tag != SEQUENCE:
        raise ValueError("not a certificate")
    tbs_tag, tbs = _children(certificate)[0]
    fields = _children(tbs) if tbs_tag == SEQUENCE else []
    if fields and fields[0][0] == EXPLICIT_0:  # version
        fields = fields[1:]
    if len(fields) < 6:
        raise ValueError("not a certificate")
    spki_tag, spki = fields[5]  # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    algorithm, key = _children(spki) if spki_tag == SEQUENCE else ((0, b""), (0, b""))
    if key[0] != BIT_STRING or not key[1] or key[1][0] != 0:
        raise ValueError("no public key")
    tag, rsa, _ = _read(key[1], 1)
    numbers = _children(rsa) if tag == SEQUENCE else []
    if len(numbers) != 2 or any(t != INTEGER for t, _ in numbers):
        raise ValueError("not an RSA key")
    modulus, exponent = (int.from_bytes(value, "big") for _, value in numbers)
    if modulus.bit_length() < 1024 or exponent < 3:
        raise ValueError("weak RSA key")
    return modulus, exponent


def verify_pkcs1_v15(modulus: int, exponent: int, signature: bytes, message: bytes, hash_name: str) -> bool:
    """RSASSA-PKCS1-v1_5 verification (RFC 8017, 8.2.2): rebuild the encoded message and compare."""
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= modulus:
        return False
    digest_info = _DIGEST_INFO[hash_name] + hashlib.new(hash_name, message).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return pow(value, exponent, modulus).to_bytes(size, "big") == expected
