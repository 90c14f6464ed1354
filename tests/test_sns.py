"""pivotr.domain.sns: SNS signature checks in plain Python, against signatures `cryptography` makes."""

from __future__ import annotations

import base64

import pytest
from pivotr.domain import sns

from simulator import sns_signing

TOPIC = "arn:aws:sns:ap-south-1:123456789012:pivotr-mailer-dev-ses-events"


def envelope(**fields: str) -> dict:
    return {"Type": "Notification", "MessageId": "m1", "TopicArn": TOPIC, "Message": "{}",
            "Timestamp": "2026-11-25T12:00:00.000Z", **fields}


def certificate(url: str) -> bytes:
    assert url == sns_signing.CERT_URL
    return sns_signing.certificate()[1]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signature_sns_made_verifies_and_any_change_breaks_it(version: str) -> None:
    signed = sns_signing.sign(envelope(Subject="Amazon SES Email Event Notification"), version)
    assert sns.authenticate(signed, [TOPIC], certificate).message_id == "m1"
    for field, value in (("Message", '{"a":1}'), ("Subject", "other"), ("MessageId", "m2"), ("Timestamp", "x")):
        with pytest.raises(sns.NotAuthentic, match="signature does not match"):
            sns.authenticate({**signed, field: value}, [TOPIC], certificate)


def test_the_string_to_sign_follows_the_developer_guide() -> None:
    assert sns.string_to_sign(envelope()) == (
        b"Message\n{}\nMessageId\nm1\nTimestamp\n2026-11-25T12:00:00.000Z\nTopicArn\n" + TOPIC.encode() + b"\nType\nNotification\n")
    assert b"Subject\nhi\nTimestamp" in sns.string_to_sign(envelope(Subject="hi"))


@pytest.mark.parametrize(("url", "topic", "ok"), [
    ("https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-abc.pem", TOPIC, True),
    ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
     "arn:aws-cn:sns:cn-north-1:123456789012:t", True),
    ("https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-abc.pem", "arn:aws-cn:sns:cn-north-1:123456789012:t", False),
    ("http://sns.ap-south-1.amazonaws.com/SimpleNotificationService-abc.pem", TOPIC, False),
    ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com.attacker.example/x.pem", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com@attacker.example/x.pem", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com:8443/x.pem", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com/x.pem?redirect=https://attacker.example", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com/x.txt", TOPIC, False),
    ("https://sns.ap-south-1.amazonaws.com/x.pem", "not-an-arn", False),
])
def test_only_sns_of_the_topics_region_and_partition_may_serve_the_certificate(url: str, topic: str, ok: bool) -> None:
    assert sns.certificate_url_ok(url, topic) is ok


@pytest.mark.parametrize("pem", [b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", b"x" * 20_000,
                                 b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x30\x03\x02\x01\x01") + b"\n-----END CERTIFICATE-----"])
def test_an_unreadable_certificate_is_refused(pem: bytes) -> None:
    signed = sns_signing.sign(envelope())
    with pytest.raises(sns.NotAuthentic, match="unreadable"):
        sns.authenticate(signed, [TOPIC], lambda url: pem)


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    encoded = bytes([length]) if length < 128 else bytes([0x80 | 2]) + length.to_bytes(2, "big")
    return bytes([tag]) + encoded + content


def _certificate_with(modulus: int, exponent: int) -> bytes:
    """A certificate's bare structure: version, serial, four empty fields, then the RSA key."""
    integer = lambda n: _der(0x02, n.to_bytes((n.bit_length() + 8) // 8, "big"))  # noqa: E731
    key = _der(0x30, integer(modulus) + integer(exponent))
    spki = _der(0x30, _der(0x30, b"") + _der(0x03, b"\x00" + key))
    tbs = _der(0x30, _der(0xA0, integer(2)) + integer(1) + _der(0x30, b"") * 4 + spki)
    return _der(0x30, tbs + _der(0x30, b"") + _der(0x03, b"\x00"))


def test_the_key_is_read_from_the_certificate_structure_and_a_weak_one_refused() -> None:
    strong = (1 << 2047) + 12345
    assert sns.rsa_public_key(_certificate_with(strong, 65537)) == (strong, 65537)
    with pytest.raises(ValueError, match="weak"):
        sns.rsa_public_key(_certificate_with((1 << 511) + 1, 65537))
    with pytest.raises(ValueError, match="weak"):
        sns.rsa_public_key(_certificate_with(strong, 1))
