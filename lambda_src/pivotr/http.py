"""HTTP plumbing shared by the API handlers: one resolver setup, JSON bodies, error envelopes."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pivotr import safejson
from pivotr.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
    UnsupportedMediaType,
    invalid,
    too_large,
    unsupported_media_type,
)
from pivotr.logs import Logger
from pivotr.resolver import APIGatewayHttpResolver, Response

MAX_BODY = 256 * 1024  # bytes; larger JSON bodies answer 413
JSON = "application/json"

logger = Logger()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def respond(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=dumps(body), headers=dict(headers or {}))


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


# Every HTML page: nothing loads but the page's own style (by hash), forms post only back here, no
# framing, and the link's token never leaves in a Referer header.
PAGE_STYLE = "body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}button{font-size:1.1em;padding:.4em 1.2em}"
HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_sha256(PAGE_STYLE)}'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


def html_page(status: int, html: str, headers: Mapping[str, str] | None = None) -> Response:
    """An HTML response with the security headers and the page style (the only one the CSP admits)."""
    body = html.replace("<body>", f"<style>{PAGE_STYLE}</style><body>", 1)
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body,
                    headers={**HTML_SECURITY_HEADERS, **(headers or {})})


# The one place a domain error becomes an HTTP status.
STATUS: dict[type[DomainError], int] = {Invalid: 400, NotFound: 404, Conflict: 409, TooLarge: 413,
                                        UnsupportedMediaType: 415, Unavailable: 503}


def status_of(error: DomainError) -> int:
    return next(code for kind, code in STATUS.items() if isinstance(error, kind))


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    return respond(status, {"error": {"code": code, "message": message, "details": details or []}})


def create_app() -> APIGatewayHttpResolver:
    """A resolver whose every failure is a JSON error envelope, never a stack trace."""
    app = APIGatewayHttpResolver(serializer=dumps)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return error_response(status_of(error), error.code, error.message, error.details)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(404, "NOT_FOUND", "No such route")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:  # a bug: log it whole, answer without details
        logger.exception("unhandled error")
        return error_response(500, "INTERNAL", "Something went wrong; it has been logged")

    return app


def raw_body(app: APIGatewayHttpResolver, limit: int = MAX_BODY) -> bytes:
    """The body's bytes (base64 undone); 413 when over ``limit`` bytes."""
    event = app.current_event
    body = event.body or ""
    try:
        data = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode("utf-8", "surrogatepass")
    except ValueError:
        raise invalid([{"field": "body", "message": "is not valid base64"}]) from None
    if len(data) > limit:
        raise too_large(limit)
    return data


def json_body(app: APIGatewayHttpResolver) -> Any:
    """The request's JSON body: 415 unless it is JSON, 413 when too large, 400 when malformed."""
    content_type = (app.current_event.headers or {}).get("content-type", "")
    if content_type.split(";")[0].strip().lower() != JSON:
        raise unsupported_media_type(JSON)
    data = raw_body(app)
    try:
        return safejson.loads(data, max_bytes=MAX_BODY)
    except safejson.Unreadable as error:
        if error.too_large:
            raise too_large(MAX_BODY) from None
        raise invalid([{"field": "body", "message": f"is not valid UTF-8 JSON: {error.reason}"}]) from None


def query(app: APIGatewayHttpResolver) -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})
