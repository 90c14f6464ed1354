"""Errors the API answers with: each becomes ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid(details: list[dict[str, Any]], message: str = "The request is invalid") -> ApiError:
    """400, one detail per bad field: ``{"field": ..., "message": ...}``."""
    return ApiError(400, "VALIDATION_ERROR", message, details)


def not_found(what: str, id_: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} {id_} does not exist", [{"field": "id", "message": "not found"}])


def conflict(code: str, message: str, **context: Any) -> ApiError:
    return ApiError(409, code, message, [context] if context else [])


def too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes")


def unsupported_media_type(expected: str) -> ApiError:
    return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Send the body as {expected}")


def unavailable(message: str) -> ApiError:
    """503: a dependency did not take the request; nothing was changed, the caller may retry."""
    return ApiError(503, "UNAVAILABLE", message)
