"""The DynamoDB helpers every store uses: tables, update expressions, conditional-failure handling,
batch reads and writes with retries. The stores in ``pivotr.data`` compose these (they hold tables,
they do not inherit a table's class); nothing outside ``pivotr.data`` talks to DynamoDB."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import cached_property
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from pivotr.data import clients


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


def assignments(values: dict[str, Any], prefix: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``#p0 = :p0, #p1 = :p1, ...`` setting ``values`` (attribute -> value), with its attribute names and
    values; ``prefix`` keeps these placeholders apart from those of the rest of the expression."""
    names = {f"#{prefix}{i}": name for i, name in enumerate(values)}
    return (", ".join(f"#{prefix}{i} = :{prefix}{i}" for i in range(len(values))), names,
            {f":{prefix}{i}": value for i, value in enumerate(values.values())})


@contextmanager
def conditional_write() -> Iterator[None]:
    """The one translation of a single write's lost condition into ConditionFailed; other errors pass through."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed from None
        raise


def failed_conditions(error: ClientError) -> set[int]:
    """The indexes of a cancelled transaction's actions whose condition failed (empty: cancelled for
    another reason, such as a conflicting transaction or throttling)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return set()
    reasons = error.response.get("CancellationReasons") or []
    return {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}


def transact_unless_first_fails(client: Any, actions: list[dict[str, Any]]) -> bool:
    """Run one TransactWriteItems; False when the first action's condition failed (nothing written).
    Other errors propagate."""
    try:
        client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        if 0 in failed_conditions(error):
            return False
        raise
    return True


# -- batches and transactions: a few requests per hundred items ------------------------------------
BATCH_GET = 100  # keys per BatchGetItem (the DynamoDB maximum)
BATCH_WRITE = 25  # items per BatchWriteItem (the DynamoDB maximum)
TRANSACTION = 100  # items per TransactWriteItems (the DynamoDB maximum)
MAX_ATTEMPTS = 6


IN_FLIGHT = 8  # concurrent requests: DynamoDB latency, not CPU, bounds a large import


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _in_parallel(work: Callable[[list[Any]], Any], chunks: list[list[Any]]) -> list[Any]:
    """``work`` over every chunk with a few threads (boto3 clients are thread-safe); first error wins."""
    if len(chunks) <= 1:
        return [work(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        return list(pool.map(work, chunks))


def _pause(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())  # full jitter


class Table:
    """One DynamoDB table: single-item reads and conditional writes, pages, and batch reads and writes
    and transactions that retry what DynamoDB leaves unprocessed. Stores hold tables; none is one."""

    def __init__(self, name: str, key: tuple[str, ...] = ("id",)) -> None:
        self.name = name
        self.key_names = key

    @cached_property
    def resource(self):  # created on first use, so importing a handler makes no AWS client
        return clients.dynamodb_table(self.name)

    @property
    def client(self):
        """The resource's client, for requests across tables (transactions, batches): plain Python
        values in and out, as ``clients.dynamodb()`` gives stores that hold no table."""
        return self.resource.meta.client

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item = self.resource.get_item(Key=key, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def put_new(self, item: dict[str, Any]) -> None:
        """Put ``item`` unless one with its key exists (then ConditionFailed)."""
        with conditional_write():
            self.resource.put_item(Item=item, ConditionExpression=Attr(self.key_names[0]).not_exists())

    def update(
        self, key: dict[str, str], values: dict[str, Any], *, status_in: Iterable[str] | None = None,
        expect: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Set ``values`` on an existing item, only while its status is one of ``status_in`` and each
        attribute in ``expect`` holds the given value (else ConditionFailed)."""
        # Our own placeholder prefix: boto3 numbers the condition's placeholders #n0, :v0, ...
        expression, names, placeholders = assignments(values, "set")
        condition: ConditionBase = Attr(self.key_names[0]).exists()
        if status_in is not None:
            condition = condition & Attr("status").is_in(sorted(status_in))
        for name, value in (expect or {}).items():
            condition = condition & Attr(name).eq(value)
        with conditional_write():
            response = self.resource.update_item(
                Key=key,
                UpdateExpression="SET " + expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=placeholders,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
            )
        return plain(response["Attributes"])

    def delete(self, key: dict[str, str]) -> None:
        with conditional_write():
            self.resource.delete_item(Key=key, ConditionExpression=Attr(self.key_names[0]).exists())

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
            response = self.resource.query(KeyConditionExpression=condition, ScanIndexForward=not newest_first, **args)
        else:
            response = self.resource.scan(**args)
        return plain(response.get("Items", [])), response.get("LastEvaluatedKey")

    # -- several items at once -------------------------------------------------------------------
    def existing_ids(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` exist: 100 keys per BatchGetItem, several requests in flight (eventually
        consistent: an import's dedupe, where a lead written a moment ago is caught by its put)."""
        return {item["id"] for item in get_together(Read(self, [{"id": i} for i in ids], ("id",), consistent=False))[0]}

    def get_all(self, keys: list[dict[str, Any]], projection: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist (any order): 100 keys per BatchGetItem, several in flight."""
        return get_together(Read(self, keys, projection))[0]

    def transact(self, actions: list[tuple[str, dict[str, Any]]]) -> set[int]:
        """Run one transaction; returns the indexes whose condition failed (nothing was written then)."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=[{kind: body} for kind, body in actions])
                return set()
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                failed = failed_conditions(error)
                if failed:
                    return failed
                _pause(attempt)  # a conflicting transaction or throttling: try again
        raise RuntimeError("DynamoDB kept cancelling the transaction")

    def put_all(self, items: list[dict[str, Any]]) -> None:
        """Put every item, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.

        Unconditional: callers put only items a batch read found absent. Ids follow from the data
        (lead ids from e-mails), so a race with another writer can never create a duplicate.
        """

        def write(chunk: list[dict[str, Any]]) -> None:
            request = {self.name: [{"PutRequest": {"Item": item}} for item in chunk]}
            for attempt in range(MAX_ATTEMPTS):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    return
                _pause(attempt)
            raise RuntimeError("DynamoDB left items unprocessed after retries")

        _in_parallel(write, _chunks(items, BATCH_WRITE))

    def update_all(self, changes: list[tuple[str, dict[str, Any]]]) -> set[str]:
        """Set fields on existing items; returns the ids that no longer exist."""
        vanished: set[str] = set()
        for start in range(0, len(changes), TRANSACTION):
            chunk = changes[start:start + TRANSACTION]
            while chunk:
                actions = []
                for id_, values in chunk:
                    expression, names, placeholders = assignments(values, "s")
                    actions.append(("Update", {
                        "TableName": self.name, "Key": {"id": id_}, "UpdateExpression": "SET " + expression,
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": placeholders,
                        "ConditionExpression": "attribute_exists(id)",
                    }))
                failed = self.transact(actions)
                if not failed:
                    break
                vanished |= {chunk[i][0] for i in failed}
                chunk = [c for i, c in enumerate(chunk) if i not in failed]
        return vanished


# -- reads of several tables at once --------------------------------------------------------------
class Read:
    """Keys to read from one table (and the attributes wanted), for ``get_together``."""

    def __init__(self, table: Table, keys: list[dict[str, Any]], projection: tuple[str, ...] = (),
                 consistent: bool = True) -> None:
        self.table, self.keys, self.projection, self.consistent = table, keys, projection, consistent

    def spec(self, keys: list[dict[str, Any]]) -> dict[str, Any]:
        spec: dict[str, Any] = {"Keys": keys, "ConsistentRead": self.consistent}
        if self.projection:
            spec |= {"ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(self.projection))),
                     "ExpressionAttributeNames": {f"#p{i}": p for i, p in enumerate(self.projection)}}
        return spec


def get_together(*reads: Read) -> list[list[dict[str, Any]]]:
    """The items that exist of each read (any order), the reads' keys sharing BatchGetItem requests
    (100 keys each, any mix of tables; several in flight), unprocessed keys retried. A batch of ten
    e-mails reads its leads and their suppression entries in one request, not two."""
    if not any(read.keys for read in reads):
        return [[] for _ in reads]
    client = next(read.table for read in reads).client
    keyed = [(i, key) for i, read in enumerate(reads) for key in read.keys]

    def fetch(chunk: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        by_read: dict[int, list[dict[str, Any]]] = {}
        for i, key in chunk:
            by_read.setdefault(i, []).append(key)
        request = {reads[i].table.name: reads[i].spec(keys) for i, keys in by_read.items()}
        index = {reads[i].table.name: i for i in by_read}
        found: list[tuple[int, dict[str, Any]]] = []
        for attempt in range(MAX_ATTEMPTS):
            response = client.batch_get_item(RequestItems=request)
            found += [(index[name], item) for name, items in response["Responses"].items() for item in items]
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            _pause(attempt)
        raise RuntimeError("DynamoDB left keys unprocessed after retries")

    results: list[list[dict[str, Any]]] = [[] for _ in reads]
    for chunk in _in_parallel(fetch, _chunks(keyed, BATCH_GET)):
        for i, item in chunk:
            results[i].append(plain(item))
    return results


def stored_seconds(at: float | Decimal) -> Decimal:
    """Epoch seconds as stored (DynamoDB takes no floats): to the millisecond, rounded up, so a stored
    slot or next-send time is never earlier than the one computed."""
    return Decimal(math.ceil(float(at) * 1000)) / 1000
