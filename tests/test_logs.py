"""Issue 15 item 6: no e-mail address in any log line.

The functions' loggers (pivotr.logs.Logger) redact addresses in the message, every extra field and
the exception's text before any handler formats the record; tests/conftest.py checks every record
of every test for addresses after the handlers ran. These tests prove both halves can fail.
"""

from __future__ import annotations

import json
import logging

import pytest

from tests import conftest


def powertools_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_addresses_are_redacted_in_messages_extras_and_exceptions(capsys) -> None:
    from pivotr.logs import Logger

    logger = Logger(service="redaction-test")
    logger.info("bounce for jane.doe@example.com", extra={"recipient": "Jane <jane@example.com>",
                                                          "nested": {"to": ["a.b+c@bücher.de", "ld_1"]}})
    address = "x" + "@example.org"  # built here: a literal would be in the traceback's source line
    try:
        raise ValueError(f"cannot send to {address}")
    except ValueError:
        logger.exception("send failed")
    lines = powertools_lines(capsys)
    text = json.dumps(lines, ensure_ascii=False)
    assert "jane" not in text and "a.b+c" not in text and "x@example.org" not in text
    assert lines[0]["message"] == "bounce for ***@example.com"
    assert lines[0]["recipient"] == "Jane <***@example.com>" and lines[0]["nested"] == {"to": ["***@bücher.de", "ld_1"]}
    assert "ValueError" in lines[1]["exception"] and "***@example.org" in lines[1]["exception"]


def test_text_without_addresses_is_left_alone(capsys) -> None:
    from pivotr.logs import Logger, redact

    assert redact("lead ld_1 at 2026-11-26T10:00:00Z, 3 @ 4") == "lead ld_1 at 2026-11-26T10:00:00Z, 3 @ 4"
    try:
        raise KeyError("leadId")
    except KeyError:
        Logger(service="redaction-test-2").exception("no address here")
    [line] = powertools_lines(capsys)
    assert line["exception_name"] == "KeyError"  # the exception is replaced only when it held an address


def test_the_suite_wide_witness_catches_an_unredacted_record() -> None:
    # Given a logger without the filter (a library's, say) / When it logs an address
    logging.getLogger("some.library").warning("retrying for someone@example.com")
    # Then the witness that checks every test has seen it (and this test takes it back)
    leaks, conftest._LEAKS[:] = list(conftest._LEAKS), []
    assert len(leaks) == 1 and "someone@example.com" in leaks[0]


@pytest.mark.parametrize("text", ["ok ***@example.com", "no address", "user@localhost"])
def test_the_witness_accepts_redacted_or_address_free_text(text: str) -> None:
    logging.getLogger("some.library").warning(text)
    assert conftest._LEAKS == []
