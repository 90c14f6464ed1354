"""The data-access layer of sending: recipient records, claims, outcomes, and the campaign's run state.

Recipients table: partition key ``campaignId``, sort key ``leadId``; one item per lead in a
campaign's audience snapshot, with its ``status`` (see domain/sending.py) and, once handed to SES,
its ``messageId``. A recipient reaches SES only after one conditional claim moved it to ``sending``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from pivotr.data.counters import counter_actions
from pivotr.data.dynamo import BulkTable, ConditionFailed, plain, transact_unless_first_fails
from pivotr.domain.sending import FAILED, PENDING, SENDING, SENT, SKIPPED, UNCONFIRMED, VERIFYING

OPEN_INDEX = "open-index"
CLOSED = frozenset({SENT, SKIPPED, FAILED, UNCONFIRMED})  # moving here drops the recipient from open-index
CLAIM_BATCH = 99  # recipients per claim transaction: 100 actions, one of them the campaign check


class RecipientStore(BulkTable):
    def __init__(self, recipients_table: str, campaigns_table: str, logs_table: str, metrics_table: str,
                 templates_table: str = "") -> None:
        super().__init__(recipients_table, key=("campaignId", "leadId"))
        self.campaigns_table, self.logs_table, self.metrics_table = campaigns_table, logs_table, metrics_table
        self.templates_table = templates_table

    # -- reads ----------------------------------------------------------------------------------
    def _open(self, campaign_id: str, after: str = "", filter_statuses: tuple[str, ...] = (), page: int = 0
              ) -> Iterator[list[dict[str, Any]]]:
        """Pages (of ``page`` items read, if given) of the campaign's open recipients (sparse open-index),
        in lead-id order after ``after``."""
        condition = Key("openCampaign").eq(campaign_id)
        if after:
            condition = condition & Key("leadId").gt(after)
        args: dict[str, Any] = {"IndexName": OPEN_INDEX, "KeyConditionExpression": condition}
        if page:
            args["Limit"] = page
        if filter_statuses:
            args["FilterExpression"] = Attr("status").is_in(list(filter_statuses))
        while True:
            response = self._table.query(**args)
            yield plain(response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def releasable(self, campaign_id: str, after: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` pending or verifying recipients after lead id ``after``, in lead-id order,
        and whether none is left after them."""
        found: list[dict[str, Any]] = []
        pages = self._open(campaign_id, after, (PENDING, VERIFYING), page=limit + 1)
        for page in pages:
            found += page
            if len(found) > limit:
                return found[:limit], False
        return found, True

    def first_open(self, campaign_id: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` recipients not yet sent, skipped, failed or unconfirmed (the completion check
        needs only to know whether any is left, and to settle some dead claims each time)."""
        return next(self._open(campaign_id, page=limit))

    def statuses(self, campaign_id: str) -> dict[str, int]:
        """How many recipients are in each status: one pass over the campaign, at completion."""
        counts: dict[str, int] = {}
        args: dict[str, Any] = {"KeyConditionExpression": Key("campaignId").eq(campaign_id), "ProjectionExpression": "#status",
                                "ExpressionAttributeNames": {"#status": "status"}}
        while True:
            response = self._table.query(**args)
            for item in response.get("Items", []):
                counts[item["status"]] = counts.get(item["status"], 0) + 1
            if not response.get("LastEvaluatedKey"):
                return counts
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def of(self, campaign_id: str, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
        items = self.get_all([{"campaignId": campaign_id, "leadId": lead} for lead in lead_ids])
        return {item["leadId"]: item for item in items}

    # -- claims ---------------------------------------------------------------------------------
    def claim(self, campaign: dict[str, Any], template: dict[str, Any], allowed: dict[str, tuple[str, ...]], token: str,
              at: float) -> tuple[list[str], str | None]:
        """Move each lead's recipient from one of its ``allowed`` statuses to ``sending`` under ``token``,
        atomically with checks that the campaign still runs the same run and the template is unchanged.
        Returns the claimed lead ids and what was stale (``"campaign"``, ``"template"``; then nothing is claimed)."""
        claimed: list[str] = []
        leads = list(allowed)
        checks = [("ConditionCheck", {
            "TableName": self.campaigns_table, "Key": {"id": campaign["id"]},
            "ConditionExpression": "#status = :running AND runId = :run",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":running": "running", ":run": campaign["runId"]}}), ("ConditionCheck", {
            "TableName": self.templates_table, "Key": {"id": template["id"]},
            "ConditionExpression": "updatedAt = :version", "ExpressionAttributeValues": {":version": template["updatedAt"]}})]
        for start in range(0, len(leads), CLAIM_BATCH):
            chunk = leads[start:start + CLAIM_BATCH]
            while chunk:
                actions = list(checks)
                for lead in chunk:
                    statuses = {f":a{i}": s for i, s in enumerate(allowed[lead])}
                    actions.append(("Update", {
                        "TableName": self.name, "Key": {"campaignId": campaign["id"], "leadId": lead},
                        "UpdateExpression": "SET #status = :sending, claimToken = :token, claimedAt = :at",
                        "ConditionExpression": f"#status IN ({', '.join(statuses)})",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":sending": SENDING, ":token": token, ":at": Decimal(int(at)), **statuses}}))
                failed = self._transact(actions)
                if 0 in failed or 1 in failed:
                    return claimed, "campaign" if 0 in failed else "template"
                if not failed:
                    claimed += chunk
                    break
                chunk = [lead for i, lead in enumerate(chunk, start=len(checks)) if i not in failed]
        return claimed, None

    def move(self, campaign_id: str, lead_id: str, status: str, *, from_statuses: tuple[str, ...] = (),
             token: str | None = None, values: dict[str, Any] | None = None) -> bool:
        """Set the recipient's status (and ``values``) if it is in ``from_statuses`` or held under ``token``."""
        names = {"#status": "status"}
        expression_values: dict[str, Any] = {":new": status}
        if token is not None:
            condition = "#status = :sending AND claimToken = :token"
            expression_values |= {":sending": SENDING, ":token": token}
        else:
            placeholders = {f":f{i}": s for i, s in enumerate(from_statuses)}
            condition = f"#status IN ({', '.join(placeholders)})"
            expression_values |= placeholders
        sets = ["#status = :new"]
        for i, (name, value) in enumerate((values or {}).items()):
            names[f"#v{i}"] = name
            expression_values[f":v{i}"] = value
            sets.append(f"#v{i} = :v{i}")
        expression = "SET " + ", ".join(sets) + (" REMOVE openCampaign" if status in CLOSED else "")
        try:
            self._client.update_item(TableName=self.name, Key={"campaignId": campaign_id, "leadId": lead_id},
                                     UpdateExpression=expression, ConditionExpression=condition,
                                     ExpressionAttributeNames=names, ExpressionAttributeValues=expression_values)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def note_message(self, campaign_id: str, lead_id: str, message_id: str) -> str | None:
        """Record SES's message id on a recipient that is still claimed or unconfirmed; returns its status
        then (None when it is in neither, e.g. already recorded as sent)."""
        try:
            response = self._client.update_item(
                TableName=self.name, Key={"campaignId": campaign_id, "leadId": lead_id},
                UpdateExpression="SET sesMessageId = :m", ConditionExpression="#status IN (:sending, :unconfirmed)",
                ExpressionAttributeNames={"#status": "status"}, ReturnValues="ALL_OLD",
                ExpressionAttributeValues={":m": message_id, ":sending": SENDING, ":unconfirmed": UNCONFIRMED})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return str(response["Attributes"]["status"])

    # -- outcomes -------------------------------------------------------------------------------
    def add(self, recipients: list[dict[str, Any]]) -> None:
        """Snapshot records (open): unconditional puts, written only before any of them is released."""
        self.put_all([{**r, "openCampaign": r["campaignId"]} for r in recipients])

    def record(self, campaign_id: str, token: str, outcomes: list[dict[str, Any]], logs: list[dict[str, Any]], day: str) -> None:
        """Final recipient records (only while still held under ``token``; closed, so out of open-index),
        their log entries and the counters, in one transaction per batch. An outcome whose claim was
        settled by someone else meanwhile is left out (SES's Send event reconciles it)."""
        outcomes, logs = list(outcomes), list(logs)
        while outcomes or logs:
            counters = {"sent": sum(o["status"] == SENT for o in outcomes), "failed": sum(o["status"] == FAILED for o in outcomes)}
            actions = [("Put", {"TableName": self.name, "Item": item,
                                "ConditionExpression": "#status = :sending AND claimToken = :token",
                                "ExpressionAttributeNames": {"#status": "status"},
                                "ExpressionAttributeValues": {":sending": SENDING, ":token": token}}) for item in outcomes]
            actions += [("Put", {"TableName": self.logs_table, "Item": entry}) for entry in logs]
            actions += [(kind, body) for action in counter_actions(self.metrics_table, campaign_id, day, counters)
                        for kind, body in action.items()]
            failed = self._transact(actions)
            if not failed:
                return
            lost = {outcomes[i]["leadId"] for i in failed if i < len(outcomes)}
            outcomes = [o for o in outcomes if o["leadId"] not in lost]
            logs = [entry for entry in logs if entry.get("leadId") not in lost or entry["event"] == "skipped"]

    def count(self, campaign_id: str, day: str, counters: dict[str, int]) -> None:
        """Add to the campaign's and the ``ALL`` metrics rows in one request."""
        actions = counter_actions(self.metrics_table, campaign_id, day, counters)
        if actions:
            self._client.transact_write_items(TransactItems=actions)

    # -- the campaign's run ---------------------------------------------------------------------
    def commit_run(self, campaign_id: str, run_id: str, tick: int, values: dict[str, Any],
                   counters: dict[str, int] | None = None, day: str = "") -> None:
        """Advance the run past ``tick`` (and add ``counters``) only if it is still running at ``tick``."""
        names = {f"#v{i}": name for i, name in enumerate(values)}
        actions = [{"Update": {
            "TableName": self.campaigns_table, "Key": {"id": campaign_id},
            "UpdateExpression": "SET " + ", ".join(f"#v{i} = :v{i}" for i in range(len(values))),
            "ConditionExpression": "#status = :running AND runId = :run AND runTick = :tick",
            "ExpressionAttributeNames": {**names, "#status": "status"},
            "ExpressionAttributeValues": {**{f":v{i}": v for i, v in enumerate(values.values())},
                                          ":running": "running", ":run": run_id, ":tick": tick}}}]
        actions += counter_actions(self.metrics_table, campaign_id, day, counters or {})
        if not transact_unless_first_fails(self._client, actions):
            raise ConditionFailed

    def pause(self, campaign_id: str, reason: str, at: str, log: dict[str, Any]) -> bool:
        """Pause a running campaign with ``reason``, logged in the same transaction. False if it was not running."""
        return transact_unless_first_fails(self._client, [
            {"Update": {"TableName": self.campaigns_table, "Key": {"id": campaign_id},
                        "UpdateExpression": "SET #status = :paused, pausedAt = :at, updatedAt = :at, pauseReason = :why",
                        "ConditionExpression": "#status = :running", "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":paused": "paused", ":running": "running", ":at": at, ":why": reason}}},
            {"Put": {"TableName": self.logs_table, "Item": log}},
        ])
