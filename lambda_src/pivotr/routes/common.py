"""Small helpers every route module uses."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from pivotr.data.dynamo import Table
from pivotr.data.unsubscribe import key_ring
from pivotr.pagination import Tokens, bad_token
from pivotr.timestamps import now  # noqa: F401 (routes take it from here)
from pivotr.validation import query_int

DEFAULT_LIMIT = 25  # items per page
MAX_LIMIT = 100


def tokens(signing_key_secret_arn: str) -> Tokens:
    """The function's nextToken signer, keyed from the stage's signing key ring (pivotr.pagination)."""
    return Tokens(lambda refresh: key_ring(signing_key_secret_arn, refresh=refresh))


def page_from(start: dict[str, Any] | None, read: Any) -> Any:
    """``read()``, where a start key DynamoDB refuses (ValidationException) is the caller's bad token."""
    try:
        return read()
    except ClientError as error:
        if start is not None and error.response.get("Error", {}).get("Code") == "ValidationException":
            raise bad_token() from None
        raise


def listing(table: Table, query: dict[str, str], purpose: str, signer: Tokens, **page_args: Any) -> dict[str, Any]:
    """``{"items": [...], "nextToken": ...}`` for one page, with ``limit`` and ``nextToken`` from the query."""
    limit = query_int(query, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    start = signer.decode(query.get("nextToken"), purpose)
    items, last = page_from(start, lambda: table.page(limit=limit, start=start, **page_args))
    return {"items": items, "nextToken": signer.encode(last, purpose)}
