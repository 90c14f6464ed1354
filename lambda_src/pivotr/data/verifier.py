"""The MyEmailVerifier single-address API (base URL configurable; API key from Secrets Manager).

The provider puts the API key in the URL path, so every way a URL could surface is closed: https
only (loopback http for local tests), no redirects followed, and no error message built from an
exception's text or the URL; an answer that echoes the key has it removed before anyone reads it.
"""

from __future__ import annotations

import functools
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from pivotr import safejson

TIMEOUT = 8  # seconds per call; verify-email has 15 s for its batch
MAX_ANSWER = 64 * 1024  # bytes read from an answer


class VerifierUnavailable(RuntimeError):
    """Timeout, rate limit (429), server error (5xx) or an unusable answer: retry through the queue."""


LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx becomes an HTTPError: the key-bearing request is never re-sent elsewhere


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """Built on the first call, not at import: its https handler loads the CA bundle (~15 ms of cold start)."""
    return urllib.request.build_opener(_NoRedirects)


class Verifier:
    def __init__(self, base_url: str, api_key: Callable[[], str]) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            raise ValueError("the verifier base URL must be https (http only on the loopback, for local tests)")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key

    def check(self, email: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The verifier's answer; ``timeout`` bounds each socket operation (the caller bounds the call)."""
        key = self._api_key()
        quoted_key = urllib.parse.quote(key, safe="")
        url = "/".join([self.base_url, "verifier", "validate_single", urllib.parse.quote(email, safe=""), quoted_key])
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pivotr-mailer"})
        failure, body = "", b""
        try:
            with _opener().open(request, timeout=timeout) as response:
                body = response.read(MAX_ANSWER)
        except urllib.error.HTTPError as error:
            error.close()
            failure = f"verifier answered HTTP {error.code}"
        except Exception as error:  # noqa: BLE001 - the text of any of them may carry the URL, so only the type
            failure = f"verifier unreachable ({type(error).__name__})"
        if failure:  # raised outside the except clause: no __context__ holding the URL travels with it
            raise VerifierUnavailable(failure)
        for secret in {key, quoted_key}:
            if secret:
                body = body.replace(secret.encode(), b"[redacted]")
        try:
            answer = safejson.loads(body, max_bytes=MAX_ANSWER)
        except safejson.Unreadable:
            raise VerifierUnavailable("verifier answer is not JSON") from None
        if not isinstance(answer, dict):
            raise VerifierUnavailable("verifier answer is not a JSON object")
        return answer
