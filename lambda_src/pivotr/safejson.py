"""JSON from outside, parsed within bounds: every API body, import file and queue message goes here.

``json.loads`` recurses once per nesting level, so ``"[" * 100000`` raises RecursionError (which no
handler expects: a 500) long before any size limit. The nesting depth is counted first, without
recursion, over the text with its strings removed.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # levels: the deepest document the API and the messages use is 4
MAX_MESSAGE = 1024 * 1024  # bytes: the largest SQS message body (1 MiB)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


class Unreadable(ValueError):
    """Not JSON, or JSON beyond a bound; ``reason`` names which, never the content."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.too_large = reason, too_large


def depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in ``text`` (counting stops past ``limit``)."""
    deepest = level = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        level += 1 if bracket in "[{" else -1
        if level > deepest:
            deepest = level
            if deepest > limit:
                break
    return deepest


def loads(text: str | bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``text``; Unreadable when it is larger than ``max_bytes``, nested deeper than
    ``max_depth``, not UTF-8 or not JSON."""
    if len(text) > max_bytes:
        raise Unreadable(f"larger than {max_bytes} bytes", too_large=True)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable("not UTF-8") from None
    if depth(text, max_depth) > max_depth:
        raise Unreadable(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # cannot happen within MAX_DEPTH; kept so no caller ever sees it
        raise Unreadable(f"nested deeper than {max_depth} levels") from None
    except ValueError as error:
        raise Unreadable(f"not JSON ({type(error).__name__} at position {getattr(error, 'pos', '?')})") from None
