"""Small helpers every route module uses."""

from __future__ import annotations

import uuid
from typing import Any

from pivotr import pagination
from pivotr.data.dynamo import Table
from pivotr.timestamps import now  # noqa: F401 (routes take it from here)
from pivotr.validation import query_int

DEFAULT_LIMIT = 25  # items per page
MAX_LIMIT = 100


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def listing(table: Table, query: dict[str, str], purpose: str, **page_args: Any) -> dict[str, Any]:
    """``{"items": [...], "nextToken": ...}`` for one page, with ``limit`` and ``nextToken`` from the query."""
    limit = query_int(query, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    start = pagination.decode(query.get("nextToken"), purpose)
    items, last = table.page(limit=limit, start=start, **page_args)
    return {"items": items, "nextToken": pagination.encode(last, purpose)}
