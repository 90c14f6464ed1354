"""SNS signing certificates, fetched over https once per container and kept (they change rarely and
each URL names one certificate). Only URLs pivotr.domain.sns has validated reach here."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

from pivotr.domain.sns import MAX_CERTIFICATE

TIMEOUT = 3.0  # seconds: a notification whose certificate cannot be read is retried, not dropped


def https_get(url: str) -> bytes:
    # https with the default context: the host's certificate chain and name are verified
    with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 (https only, checked by the caller)
        return answer.read(MAX_CERTIFICATE + 1)


class Certificates:
    def __init__(self, fetch: Callable[[str], bytes] = https_get) -> None:
        self._fetch = fetch
        self._cache: dict[str, bytes] = {}

    def add(self, url: str, pem: bytes) -> None:
        """Keep ``pem`` as the certificate at ``url`` (what a fetch would have cached)."""
        self._cache[url] = pem

    def __call__(self, url: str) -> bytes:
        if url not in self._cache:
            self._cache[url] = self._fetch(url)
        return self._cache[url]
