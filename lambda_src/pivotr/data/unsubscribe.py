"""The data-access layer of unsubscribe: the lead's status and the counter change together, once."""

from __future__ import annotations

import time
from functools import cached_property

from pivotr.data import clients
from pivotr.data.counters import counter_actions
from pivotr.data.dynamo import transact_unless_first_fails
from pivotr.data.secrets import secret
from pivotr.data.suppression import SuppressionList
from pivotr.domain.leads import UNSUBSCRIBE_KEEPS, UNSUBSCRIBED
from pivotr.domain.unsubscribe import KeyRing

REFRESH_INTERVAL = 60.0  # seconds: at most one forced re-read of the key ring per container per minute
_last_refresh = [float("-inf")]


def signing_key(secret_arn: str) -> bytes:
    """The key new links are signed with: the ring's current key (cached like every secret)."""
    return key_ring(secret_arn).current


def key_ring(secret_arn: str, *, refresh: bool = False, clock=time.monotonic) -> KeyRing:
    """Every key a link may carry. ``refresh`` re-reads the secret now (a link signed with a key newer
    than the cached ring, just after a rotation), at most once per REFRESH_INTERVAL, so forged links
    cannot turn into a stream of Secrets Manager reads."""
    if refresh:
        if clock() - _last_refresh[0] < REFRESH_INTERVAL:
            refresh = False
        else:
            _last_refresh[0] = clock()
    return KeyRing.parse(secret(secret_arn, fresh=refresh))


class UnsubscribeStore:
    def __init__(self, leads_table: str, metrics_table: str, suppression: SuppressionList) -> None:
        self.leads_table, self.metrics_table, self.suppression = leads_table, metrics_table, suppression

    @cached_property
    def _client(self):
        return clients.dynamodb()

    def unsubscribe(self, lead_id: str, campaign_id: str | None, at: str) -> bool:
        """True when this call unsubscribed the lead; False when it already was (or is unknown). The
        address goes on the suppression list first, even when its lead was deleted meanwhile."""
        self.suppression.add(lead_id, UNSUBSCRIBED, at, campaign_id=campaign_id)
        actions = [{"Update": {
            "TableName": self.leads_table, "Key": {"id": lead_id},
            "UpdateExpression": "SET #status = :u, unsubscribedAt = :at, updatedAt = :at",
            "ConditionExpression": "attribute_exists(id) AND NOT #status IN (:u, :c)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":u": UNSUBSCRIBE_KEEPS[0], ":c": UNSUBSCRIBE_KEEPS[1], ":at": at}}}]
        actions += counter_actions(self.metrics_table, campaign_id, at[:10], {"unsubscribed": 1})
        return transact_unless_first_fails(self._client, actions)
