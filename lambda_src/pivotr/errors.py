"""What can be wrong with a request, in the domain's words. No HTTP here: ``pivotr.http.STATUS`` maps
each kind to its status code (the one place), and the API answers ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DomainError(Exception):
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


class Invalid(DomainError):
    """The request's content is wrong: one detail per bad field."""


class NotFound(DomainError):
    """The thing named does not exist."""


class Conflict(DomainError):
    """The thing is not in a state that allows this."""


class TooLarge(DomainError):
    """More than a documented limit."""


class UnsupportedMediaType(DomainError):
    """A body in a form this route does not read."""


class Unavailable(DomainError):
    """A dependency did not take the request; nothing was changed, the caller may retry."""


def invalid(details: list[dict[str, Any]], message: str = "The request is invalid") -> Invalid:
    """One detail per bad field: ``{"field": ..., "message": ...}``."""
    return Invalid("VALIDATION_ERROR", message, details)


def not_found(what: str, id_: str) -> NotFound:
    return NotFound("NOT_FOUND", f"{what} {id_} does not exist", [{"field": "id", "message": "not found"}])


def conflict(code: str, message: str, **context: Any) -> Conflict:
    return Conflict(code, message, [context] if context else [])


def too_large(limit: int) -> TooLarge:
    return TooLarge("PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes")


def unsupported_media_type(expected: str) -> UnsupportedMediaType:
    return UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", f"Send the body as {expected}")


def unavailable(message: str, code: str = "UNAVAILABLE") -> Unavailable:
    return Unavailable(code, message)
