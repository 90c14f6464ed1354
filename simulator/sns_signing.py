"""SNS's signing, reproduced for tests: an RSA key and certificate made here, served at an SNS-shaped
URL from the functions' certificate cache (nothing is fetched). ``sign`` produces the fields SNS adds
to a notification, for SignatureVersion 1 (SHA1) or 2 (SHA256)."""

from __future__ import annotations

import base64
import datetime
from functools import cache
from typing import Any

REGION = "ap-south-1"
CERT_URL = f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-pivotr-tests.pem"


@cache
def _key_and_certificate() -> tuple[Any, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"sns.{REGION}.amazonaws.com")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                   .sign(key, hashes.SHA256()))
    return key, certificate.public_bytes(serialization.Encoding.PEM)


def certificate() -> tuple[str, bytes]:
    """(URL, PEM) to put into a process-feedback container's certificate cache."""
    return CERT_URL, _key_and_certificate()[1]


def trust(module: Any) -> Any:
    """A loaded process-feedback handler module whose container has the test certificate cached."""
    module.service.certificates.add(*certificate())
    return module


def sign(envelope: dict[str, Any], version: str = "1", key: Any = None) -> dict[str, Any]:
    """``envelope`` with SignatureVersion, Signature and SigningCertURL as SNS would add them."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from pivotr.domain.sns import string_to_sign

    signer = key or _key_and_certificate()[0]
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS's version 1 is SHA1
    signature = signer.sign(string_to_sign(envelope), padding.PKCS1v15(), digest)
    return {**envelope, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": CERT_URL,
            "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"}
