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


# -- one validator on every path (issue 13) -----------------------------------------------------------
AGREE = ["x@bücher.de", "x@xn--bcher-kva.de", "X@BÜCHER.DE", "a@-bad.com", "a@example.com", "ü@example.com",
         "x" * 65 + "@c.com", "a@b", "Jo.Smith+tag@Example.COM"]


def _via_api(address: str) -> str | None:
    from pivotr.domain import leads
    from pivotr.errors import Invalid

    try:
        return leads.new_lead({"email": address}, "2026-11-26T00:00:00Z")["email"]
    except Invalid:
        return None


def _via_import(address: str) -> str | None:
    from pivotr.domain import importing

    lead = importing.candidate(2, {"email": address}, "2026-11-26T00:00:00Z")
    return None if isinstance(lead, importing.InvalidRow) else lead["email"]


@pytest.mark.parametrize("address", AGREE)
def test_post_leads_and_imports_accept_the_same_addresses_in_the_same_form(address: str) -> None:
    # Regression (issue 13): POST /leads used a regex that refused x@bücher.de and accepted a@-bad.com;
    # the import used email-validator, which did the opposite
    assert _via_api(address) == _via_import(address)


def test_an_internationalized_domain_is_one_lead_in_either_spelling() -> None:
    from pivotr.domain import leads

    unicode, punycode = _via_api("x@bücher.de"), _via_api("X@xn--BCHER-kva.de")
    assert unicode == punycode == "x@bücher.de"
    assert leads.lead_id(unicode) == leads.lead_id(punycode)
    assert leads.ascii_address(unicode) == "x@xn--bcher-kva.de"  # what SES is given


def test_a_campaign_sender_goes_through_the_same_validator() -> None:
    from pivotr.domain import campaigns

    values = {"fromEmail": "News@Bücher.de"}
    campaigns._check_sender(values, "xn--bcher-kva.de")
    assert values["fromEmail"] == "news@bücher.de"
