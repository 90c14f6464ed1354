"""The data-access layer of the account's SES rate: the shared slot book and SES's quota.

The book is one item of the settings table (key ``ses-rate``, see ``domain.rate.SlotBook``). Every
write is conditional on the ``version`` it read, so two releases that read the same book cannot both
take a position: the loser reads again. SES's quota (``GetAccount``) is cached in the same item, so
all containers share one read per ``QUOTA_MAX_AGE``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table, conditional_write
from pivotr.domain.rate import SendQuota, SlotBook
from pivotr.logs import Logger

logger = Logger()
KEY = {"key": "ses-rate"}
ATTEMPTS = 8  # reads of a book that other releases keep changing before giving up (the message is retried)


class BookConflict(RuntimeError):
    """The book changed between read and write more than ATTEMPTS times in a row."""


class RateLedger:
    def __init__(self, settings_table: str, share: float, quota: Callable[[float], SendQuota]) -> None:
        self.table = Table(settings_table, key=("key",))
        self.share, self.quota = share, quota

    def open(self, now: float) -> SlotBook:
        """The book as it is now (a strongly consistent read), with SES's quota re-read when stale.
        When SES cannot be asked, the last quota read is used rather than stopping every campaign."""
        item = self.table.client.get_item(TableName=self.table.name, Key=KEY, ConsistentRead=True).get("Item") or {}
        stored = SendQuota.from_item(item.get("quota"))
        quota = stored
        if stored is None or not stored.fresh(now):
            try:
                quota = self.quota(now)
            except Exception as error:
                if stored is None:
                    raise
                logger.warning("SES quota not read; the last one is used", extra={"error": type(error).__name__,
                                                                                   "readAt": stored.read_at})
        assert quota is not None
        return SlotBook.open(item, quota, self.share, now)

    def write(self, book: SlotBook) -> tuple[str, dict[str, Any]]:
        """The conditional Put of ``book`` (a transaction action): it fails if anyone wrote since it was read."""
        body: dict[str, Any] = {"TableName": self.table.name, "Item": {**KEY, **book.to_item()}}
        if book.version:
            body |= {"ConditionExpression": "version = :read", "ExpressionAttributeValues": {":read": book.version}}
        else:
            body |= {"ConditionExpression": "attribute_not_exists(#key)", "ExpressionAttributeNames": {"#key": "key"}}
        return "Put", body

    def save(self, book: SlotBook) -> bool:
        """Write ``book`` alone; False when another release wrote first."""
        _, body = self.write(book)
        try:
            with conditional_write():
                self.table.client.put_item(**body)
        except ConditionFailed:
            return False
        return True

    def reserve(self, count: int, earliest: float, now: float, horizon: float) -> list[float]:
        """``count`` positions from ``earliest`` on (fewer when the quota or the horizon runs out),
        written at once: for sends that must go again (SES throttled them anyway)."""
        for attempt in range(ATTEMPTS):
            book = self.open(now)
            positions: list[float] = []
            at = earliest
            while len(positions) < count and not book.exhausted():
                position = book.first_free(at)
                if position > now + horizon:
                    break
                positions.append(book.take(position))
                at = position
            if not positions or self.save(book):
                return positions
            time.sleep(min(0.05 * 2**attempt, 0.5) * random.random())
        raise BookConflict("the SES rate book kept changing")
