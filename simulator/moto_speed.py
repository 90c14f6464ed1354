"""Make moto's costs follow what a request touches, not what the tables and queues hold.

DynamoDB's comparisons (every sort of a scan or query, every key condition) go through
``DynamoType.cast_value``, a chain of type tests; strings, binaries and booleans are their own value,
so they are returned first. The value is the same.

SQS: every ReceiveMessage asked, for each message it looked at, for all of the queue's attributes
(each counting every message) only to read the retention period: quadratic in the queue's depth. Here
the retention period is read from the queue. The answer is the same.

DynamoDB:
moto backs every transaction with a deep copy of each table it names, for rollback; a campaign's
claims and feedback events against tables of thousands of items then cost seconds each. Here every
condition is checked first without writing (all or nothing, as DynamoDB does); then moto's own code
runs with the table copies replaced by copies of just the items the transaction names, which are put
back if it fails in any other way (a validation error while applying an action, two actions on one
item). The results are the same: tests/test_moto_speed.py compares every kind of failure.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any

import moto.dynamodb.models as models
import moto.sqs.models as sqs_models
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models.dynamo_type import DynamoType

_original = models.DynamoDBBackend.transact_write_items
_original_cast = DynamoType.cast_value
_ITS_OWN_VALUE = frozenset({"S", "B", "BOOL"})  # types cast_value returns unchanged


@property  # type: ignore[misc]
def cast_value(self: DynamoType) -> Any:
    return self.value if self.type in _ITS_OWN_VALUE else _original_cast.fget(self)  # type: ignore[attr-defined]
_original_retention = sqs_models.SQSBackend.is_message_valid_based_on_retention_period


class _NoCopy:
    """Stands in for the ``copy`` module inside moto's transact_write_items: its rollback copy is not needed."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, models.Table) else copy.deepcopy(value, memo)


def _key(backend: models.DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def transact_write_items(self: models.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    errors: list[tuple[str | None, str | None, Any]] = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        condition = op.get("ConditionExpression")
        if condition is None or op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            errors.append((None, None, None))
            continue
        current = self.get_item(op["TableName"], _key(self, op_type, op))
        check = models.get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
        errors.append((None, None, None) if check.expr(current) else ("ConditionalCheckFailed", "The conditional request failed", None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    try:
        saved = [_saved(self, item) for item in transact_items]
    except Exception:  # a missing table or a malformed key: moto's own code, copies and all, answers it
        return _original(self, transact_items)
    with _without_table_copies():
        try:
            _original(self, transact_items)
        except Exception:
            for table, slot, item in reversed(saved):  # reversed: two actions on one item restore the first copy
                _put_back(table, slot, item)
            raise


def _saved(backend: models.DynamoDBBackend, transact_item: dict[str, Any]) -> tuple[models.Table, tuple[Any, Any], Any]:
    """The table, the item's slot in it and a copy of the item as it is (None when absent)."""
    op_type, op = next(iter(transact_item.items()))
    table = backend.get_table(op["TableName"])
    key = _key(backend, op_type, op)
    slot = (DynamoType(key[table.hash_key_attr]),
            DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None)
    return table, slot, copy.deepcopy(table.get_item(*slot))


def _put_back(table: models.Table, slot: tuple[Any, Any], item: Any) -> None:
    hash_key, range_key = slot
    items = table.items if range_key is None else table.items[hash_key]
    place = hash_key if range_key is None else range_key
    if item is None:
        items.pop(place, None)
    else:
        items[place] = item


@contextmanager
def _without_table_copies():
    models.copy = _NoCopy  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = copy


def is_message_valid_based_on_retention_period(self: sqs_models.SQSBackend, queue_name: str,
                                               message: sqs_models.Message) -> bool:
    retention_seconds = self.get_queue(queue_name).message_retention_period
    return retention_seconds + message.sent_timestamp / 1000 > sqs_models.unix_time()  # the name the clock patches


_installed = [0]  # nesting depth: a test that installs and uninstalls inside the session's install leaves it on


def install() -> None:
    _installed[0] += 1
    if _installed[0] > 1:
        return
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    DynamoType.cast_value = cast_value  # type: ignore[method-assign]


def uninstall() -> None:
    _installed[0] -= 1
    if _installed[0] > 0:
        return
    models.DynamoDBBackend.transact_write_items = _original  # type: ignore[method-assign]
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _original_retention  # type: ignore[method-assign]
    DynamoType.cast_value = _original_cast  # type: ignore[method-assign]
