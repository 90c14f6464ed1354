"""The MyEmailVerifier single-address API (base URL configurable; API key from Secrets Manager)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT = 8  # seconds per call; verify-email has 15 s for its batch
MAX_ANSWER = 64 * 1024  # bytes read from an answer


class VerifierUnavailable(RuntimeError):
    """Timeout, rate limit (429), server error (5xx) or an unusable answer: retry through the queue."""


class Verifier:
    def __init__(self, base_url: str, api_key: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key

    def check(self, email: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The verifier's answer; ``timeout`` bounds each socket operation (the caller bounds the call)."""
        url = "/".join([self.base_url, "verifier", "validate_single", urllib.parse.quote(email, safe=""),
                        urllib.parse.quote(self._api_key(), safe="")])
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pivotr-mailer"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https base URL from config
                body = response.read(MAX_ANSWER)
        except urllib.error.HTTPError as error:
            raise VerifierUnavailable(f"verifier answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise VerifierUnavailable(f"verifier unreachable: {error}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise VerifierUnavailable("verifier answer is not JSON") from None
        if not isinstance(answer, dict):
            raise VerifierUnavailable("verifier answer is not a JSON object")
        return answer
