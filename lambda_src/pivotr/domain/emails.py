"""E-mail validation with a well-kept library (email-validator), fast on real files.

email-validator spends most of its time validating the domain (IDNA/UTS-46 checks per character).
Imports repeat a few domains thousands of times, so that pure step is memoized per domain; the
library is pinned (Pipfile.lock) and tests/test_emails.py proves the answers are unchanged.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from email_validator import EmailNotValidError, validate_email

from pivotr.domain.leads import normalize_email

DOMAIN_CACHE = 4_096  # distinct domains remembered per process

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
    return normalize_email(validate_email(raw, check_deliverability=False).normalized)


__all__ = ["EmailNotValidError", "normalized"]
