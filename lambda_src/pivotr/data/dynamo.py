"""The data-access layer: the only code in lambda_src that talks to DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError


class ConditionFailed(Exception):
    """A conditional write lost: the item is missing or not in an expected state."""


def plain(value: Any) -> Any:
    """DynamoDB numbers (Decimal) back to int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@contextmanager
def _conditional_write() -> Iterator[None]:
    """Turn DynamoDB's lost condition into ConditionFailed; other errors pass through."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed from None
        raise


class Table:
    def __init__(self, name: str, key: tuple[str, ...] = ("id",)) -> None:
        self.name = name
        self.key_names = key

    @cached_property
    def _table(self):  # created on first use, so importing a handler makes no AWS client
        return boto3.resource("dynamodb").Table(self.name)

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def put_new(self, item: dict[str, Any]) -> None:
        """Put ``item`` unless one with its key exists (then ConditionFailed)."""
        with _conditional_write():
            self._table.put_item(Item=item, ConditionExpression=Attr(self.key_names[0]).not_exists())

    def update(
        self, key: dict[str, str], values: dict[str, Any], *, status_in: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Set ``values`` on an existing item (optionally only while its status is one of ``status_in``)."""
        # Our own placeholder prefixes: boto3 numbers the condition's placeholders #n0, :v0, ...
        names = {f"#set{i}": name for i, name in enumerate(values)}
        expression = "SET " + ", ".join(f"#set{i} = :set{i}" for i in range(len(values)))
        condition: ConditionBase = Attr(self.key_names[0]).exists()
        if status_in is not None:
            condition = condition & Attr("status").is_in(sorted(status_in))
        with _conditional_write():
            response = self._table.update_item(
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":set{i}": v for i, v in enumerate(values.values())},
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
            )
        return plain(response["Attributes"])

    def delete(self, key: dict[str, str]) -> None:
        with _conditional_write():
            self._table.delete_item(Key=key, ConditionExpression=Attr(self.key_names[0]).exists())

    def page(
        self,
        *,
        limit: int,
        start: dict[str, Any] | None = None,
        index: str | None = None,
        key: tuple[str, str] | None = None,
        since: tuple[str, str] | None = None,
        contains: tuple[str, str] | None = None,
        newest_first: bool = True,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page: a Query when ``key`` (attribute, value) is given, else a Scan."""
        args: dict[str, Any] = {"Limit": limit}
        if index:
            args["IndexName"] = index
        if start:
            args["ExclusiveStartKey"] = start
        if contains:
            args["FilterExpression"] = Attr(contains[0]).contains(contains[1])
        if key:
            condition = Key(key[0]).eq(key[1])
            if since:
                condition = condition & Key(since[0]).gte(since[1])
            response = self._table.query(KeyConditionExpression=condition, ScanIndexForward=not newest_first, **args)
        else:
            response = self._table.scan(**args)
        return plain(response.get("Items", [])), response.get("LastEvaluatedKey")
