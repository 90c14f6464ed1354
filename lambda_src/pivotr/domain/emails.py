"""The one e-mail validator: every path that accepts an address (POST/PUT /leads, imports of both
kinds, a campaign's sender) calls ``normalized`` here, so the same address is the same lead everywhere.

email-validator with the same options everywhere: no DNS (``check_deliverability=False``: nothing
network-bound at request time); internationalized domains accepted and stored in their Unicode form
(``x@xn--bcher-kva.de`` and ``x@BÜCHER.de`` are both ``x@bücher.de``); local parts ASCII only
(``allow_smtputf8=False``), because SES does not offer SMTPUTF8 and could never deliver to them;
local parts of at most 64 characters (``strict``), as RFC 5321 and SES require.
Sending uses ``ascii_form`` (the domain in Punycode), which SES accepts.

Speed: email-validator spends most of its time validating the domain (IDNA/UTS-46 checks per character).

email-validator spends most of its time validating the domain (IDNA/UTS-46 checks per character).
Imports repeat a few domains thousands of times, so that pure step is memoized per domain; the
library is pinned (Pipfile.lock) and tests/test_emails.py proves the answers are unchanged.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from email_validator import EmailNotValidError, validate_email

from pivotr.domain.leads import ascii_address as ascii_form
from pivotr.domain.leads import normalize_email

# The same options on every path: no DNS at request time; local parts ASCII (SES has no SMTPUTF8);
# strict: RFC 5321's 64-character local part (SES refuses longer ones).
OPTIONS: dict[str, Any] = {"check_deliverability": False, "allow_smtputf8": False, "strict": True}
DOMAIN_CACHE = 16_384  # distinct domains remembered per process (a few MB; B2B files have a domain per company)

# The submodule, not the function the package exports under the same name.
_library = importlib.import_module("email_validator.validate_email")
_validate_domain = _library.validate_email_domain_name


@functools.lru_cache(maxsize=DOMAIN_CACHE)
def _cached_domain(domain: str, test_environment: bool, globally_deliverable: bool) -> dict[str, Any]:
    return _validate_domain(domain, test_environment=test_environment, globally_deliverable=globally_deliverable)


def _domain(domain: str, *, test_environment: bool = False, globally_deliverable: bool = True) -> dict[str, Any]:
    return dict(_cached_domain(domain, test_environment, globally_deliverable))  # a copy: callers may not share it


_library.validate_email_domain_name = _domain


def normalized(raw: str) -> str:
    """The address as stored (library-normalized, then lower-cased); raises EmailNotValidError."""
    return normalize_email(validate_email(raw.strip(), **OPTIONS).normalized)


def problem(value: object) -> str | None:
    """Why ``value`` is not an address we accept (a message for the API's field details), or None."""
    if not isinstance(value, str):
        return "must be a string"
    try:
        normalized(value)
    except EmailNotValidError as error:
        return f"is not a valid e-mail address: {error}"
    return None


__all__ = ["EmailNotValidError", "ascii_form", "normalize_email", "normalized", "problem"]
