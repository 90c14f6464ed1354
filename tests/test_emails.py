"""The memoized domain step answers exactly as the library does."""

from __future__ import annotations

import importlib

import pytest

ADDRESSES = ["a@example.com", "A.B+c@Sub.Example.co.uk", "x@bücher.de", "x@xn--bcher-kva.de", "a@localhost", "a@-bad.com",
             "a@example", "a@exa_mple.com", "a@" + "l" * 64 + ".com", "a@[127.0.0.1]", "ü@example.com", "a@.com",
             "a@example.com.", "a@EXAMPLE.COM", "a b@example.com", "a@ex ample.com", "a@e.x"]


def outcome(validate, address: str) -> tuple[str, str]:
    from email_validator import EmailNotValidError

    try:
        return ("ok", validate(address, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        return ("error", str(error))


@pytest.mark.parametrize("address", ADDRESSES)
def test_memoized_validation_matches_the_library(address: str) -> None:
    from pivotr.domain import emails

    library = emails._library

    # Given the library's own domain step and ours, on the same address, twice (second from the cache)
    patched = outcome(library.validate_email, address)
    assert outcome(library.validate_email, address) == patched
    library.validate_email_domain_name = emails._validate_domain
    try:
        original = outcome(library.validate_email, address)
    finally:
        library.validate_email_domain_name = emails._domain
    # Then the answers are identical
    assert patched == original


def test_the_cache_is_in_effect() -> None:
    from pivotr.domain import emails

    importlib.import_module("pivotr.domain.emails")
    before = emails._cached_domain.cache_info().hits
    emails.normalized("one@cache-check.example.com")
    emails.normalized("two@cache-check.example.com")
    assert emails._cached_domain.cache_info().hits > before
