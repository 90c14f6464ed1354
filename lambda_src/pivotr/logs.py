"""Loggers that never write an e-mail address: every function's Powertools Logger comes from here.

A filter on the logger rewrites each record before any handler formats it: the message, every extra
field (nested values too) and the exception's text. ``jane.doe@example.com`` becomes
``***@example.com``: the domain stays (a bounce wave at one provider is still visible), the person
does not. Message bodies are never logged at all (the code logs reasons and ids, not content).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger as PowertoolsLogger

# The local part without quote and brace characters, which are far likelier to be the quoting around
# an address in a repr or JSON text than part of it.
ADDRESS = re.compile(r"[\w.!#$%&*+/=?^~-]+@((?:[\w-]+\.)+[\w-]{2,})", re.UNICODE)
REDACTED_LOCAL_PART = "***"
# LogRecord's own attributes: everything else on a record is an extra field
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact(text: str) -> str:
    return ADDRESS.sub(lambda m: f"{REDACTED_LOCAL_PART}@{m.group(1)}", text)


def _redacted(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {_redacted(k, depth + 1): _redacted(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_redacted(v, depth + 1) for v in value) if not isinstance(value, set) else {
            _redacted(v, depth + 1) for v in value}
    return value


class RedactAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if isinstance(record.msg, (dict, list)):
            record.msg = _redacted(record.msg)
        else:
            record.msg = redact(message)
        record.args = ()
        for name, value in list(vars(record).items()):
            if name not in _STANDARD:
                setattr(record, name, _redacted(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_info = _redacted_exception(record.exc_info)
            record.exc_text = None
        return True


def _redacted_exception(exc_info: Any) -> Any:
    """The same traceback; the exception's text (and its causes') without addresses. Only when an
    address is in it is the exception replaced, by one of the same name that says what it was."""
    etype, value, traceback = exc_info
    texts = []
    chained = value
    while chained is not None and len(texts) < 5:
        texts.append(str(chained))
        chained = chained.__cause__ or chained.__context__
    if all(redact(text) == text for text in texts):
        return exc_info
    replacement = type(etype.__name__, (Exception,), {})(f"{redact(str(value))} (an e-mail address was redacted)")
    return type(replacement), replacement, traceback


_FILTER = RedactAddresses()


def Logger(**options: Any) -> PowertoolsLogger:  # noqa: N802 - a drop-in for Powertools' Logger class
    """Powertools' Logger (one per service, shared by every module of the function) with the filter."""
    logger = PowertoolsLogger(**options)
    if _FILTER not in logger._logger.filters:  # noqa: SLF001 - the stdlib logger Powertools wraps
        logger._logger.addFilter(_FILTER)  # noqa: SLF001
    return logger
