"""The data-access layer of sending: recipient records, claims, outcomes, and the campaign's run state.

Recipients table: partition key ``campaignId``, sort key ``leadId``; one item per lead a snapshot put
in the campaign, with its ``status`` (``RecipientStatus``), the ``run`` whose snapshot last included
it, its slot ``dueAt`` once released and, once handed to SES, its ``messageId``. Every write here is
conditional on the state it expects, so a late, duplicate or stale writer changes nothing: a snapshot
never overwrites a recipient, a release needs ``pending`` in its run, a claim needs ``released`` in
the message's run, an outcome needs the claim's token.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from pivotr.data.counters import counter_actions
from pivotr.data.dynamo import (
    TRANSACTION,
    ConditionFailed,
    Table,
    assignments,
    conditional_write,
    plain,
    stored_seconds,
    transact_unless_first_fails,
)
from pivotr.domain import campaigns
from pivotr.domain.campaigns import RUNNING, Action
from pivotr.domain.sending import (
    EARLY,
    FAILED,
    PENDING,
    RELEASED,
    SENDING,
    SENT,
    UNCONFIRMED,
    VERIFYING,
    RecipientStatus,
    iso,
    log_entry,
)

OPEN_INDEX = "open-index"
CLAIM_BATCH = TRANSACTION - 2  # recipients per claim transaction: the campaign and template checks take two
SNAPSHOT_BATCH = TRANSACTION - 3  # recipients per snapshot transaction: the campaign and two counter rows
_STATUS = {"#status": "status"}


def _running(campaign_id: str, campaigns_table: str, run_id: str, tick: int | None = None,
             update: str = "") -> tuple[str, dict[str, Any]]:
    """An action on the campaign item that holds only while it still runs ``run_id`` (at ``tick``)."""
    condition = "#status = :running AND runId = :run" + (" AND runTick = :tick" if tick is not None else "")
    values: dict[str, Any] = {":running": RUNNING, ":run": run_id}
    if tick is not None:
        values[":tick"] = tick
    body: dict[str, Any] = {"TableName": campaigns_table, "Key": {"id": campaign_id}, "ConditionExpression": condition,
                            "ExpressionAttributeNames": dict(_STATUS), "ExpressionAttributeValues": values}
    if update:
        body["UpdateExpression"] = update
        return "Update", body
    return "ConditionCheck", body


class RecipientStore:
    """A campaign's recipients (their table), and the transactions that move them together with the
    campaign, the logs and the counters (names of those tables: they are written only in transactions)."""

    def __init__(self, recipients_table: str, campaigns_table: str, logs_table: str, metrics_table: str,
                 templates_table: str = "") -> None:
        self.table = Table(recipients_table, key=("campaignId", "leadId"))
        self.campaigns_table, self.logs_table, self.metrics_table = campaigns_table, logs_table, metrics_table
        self.templates_table = templates_table

    # -- reads ----------------------------------------------------------------------------------
    def open_pages(self, campaign_id: str, after: str = "", statuses: tuple[str, ...] = (), page: int = 0
                   ) -> Iterator[list[dict[str, Any]]]:
        """Pages (of ``page`` items read, if given) of the campaign's open recipients (sparse open-index),
        in lead-id order after ``after``, only those in ``statuses`` if given."""
        condition = Key("openCampaign").eq(campaign_id)
        if after:
            condition = condition & Key("leadId").gt(after)
        args: dict[str, Any] = {"IndexName": OPEN_INDEX, "KeyConditionExpression": condition}
        if page:
            args["Limit"] = page
        if statuses:
            args["FilterExpression"] = Attr("status").is_in(list(statuses))
        while True:
            response = self.table.resource.query(**args)
            yield plain(response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def releasable(self, campaign_id: str, after: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` pending recipients after lead id ``after``, in lead-id order, and whether none
        is left after them."""
        found: list[dict[str, Any]] = []
        for page in self.open_pages(campaign_id, after, (PENDING,), page=limit + 1):
            found += page
            if len(found) > limit:
                return found[:limit], False
        return found, True

    def in_flight(self, campaign_id: str) -> int:
        """How many e-mails are claimed right now (each may still reach SES)."""
        return sum(len(page) for page in self.open_pages(campaign_id, statuses=(SENDING,)))

    def count_statuses(self, campaign_id: str, start: dict[str, Any] | None) -> tuple[dict[str, int], dict[str, Any] | None]:
        """How many recipients of one read (up to 1 MB, from ``start``) are in each status, and where
        the next read starts (None: that was the last)."""
        args: dict[str, Any] = {"KeyConditionExpression": Key("campaignId").eq(campaign_id), "ProjectionExpression": "#status",
                                "ExpressionAttributeNames": _STATUS}
        if start:
            args["ExclusiveStartKey"] = start
        response = self.table.resource.query(**args)
        counts: dict[str, int] = {}
        for item in response.get("Items", []):
            counts[item["status"]] = counts.get(item["status"], 0) + 1
        return counts, response.get("LastEvaluatedKey")

    def of(self, campaign_id: str, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
        items = self.table.get_all([{"campaignId": campaign_id, "leadId": lead} for lead in lead_ids])
        return {item["leadId"]: item for item in items}

    # -- the snapshot ---------------------------------------------------------------------------
    def snapshot(self, campaign_id: str, run_id: str, tick: int, members: list[tuple[str, RecipientStatus]],
                 at: str, day: str) -> int:
        """Put each member in the campaign for ``run_id`` (status ``pending`` or ``verifying``), never
        overwriting a recipient that exists: an existing one still waiting is taken over by this run
        instead, one that progressed (claimed, sent, ...) is left alone. Each new recipient counts as
        ``queued`` and in ``audienceSize`` in the same transaction, so a redelivered tick counts nothing
        twice. Raises ConditionFailed (nothing written) when the run is no longer at ``tick``."""
        added, existing = 0, []
        for start in range(0, len(members), SNAPSHOT_BATCH):
            chunk = members[start:start + SNAPSHOT_BATCH]
            while chunk:
                n = Decimal(len(chunk))
                actions = [_running(campaign_id, self.campaigns_table, run_id, tick, "ADD audienceSize :n")]
                actions[0][1]["ExpressionAttributeValues"][":n"] = n
                actions += [(kind, body) for action in counter_actions(self.metrics_table, campaign_id, day, {"queued": len(chunk)})
                            for kind, body in action.items()]
                first = len(actions)
                actions += [("Put", {"TableName": self.table.name, "ConditionExpression": "attribute_not_exists(leadId)",
                                     "Item": {"campaignId": campaign_id, "leadId": lead, "status": status, "run": run_id,
                                              "addedAt": at, "openCampaign": campaign_id}}) for lead, status in chunk]
                failed = self.table.transact(actions)
                if 0 in failed:
                    raise ConditionFailed
                if not failed:
                    added += len(chunk)
                    break
                existing += [chunk[i - first][0] for i in failed]
                chunk = [member for i, member in enumerate(chunk, start=first) if i not in failed]
        self._take_over(campaign_id, run_id, existing)
        return added

    def _take_over(self, campaign_id: str, run_id: str, lead_ids: list[str]) -> None:
        """Stamp recipients that still wait with ``run_id``: pending or released ones (another run's
        message is dropped when it arrives) become pending; verifying ones keep waiting."""
        moves = (("#status IN (:pending, :released)", "SET #run = :run, #status = :pending REMOVE dueAt"),
                 ("#status = :verifying", "SET #run = :run"))
        for condition, update in moves:
            if not lead_ids:
                return
            lead_ids = self._update_each(campaign_id, lead_ids, update, condition, {
                ":run": run_id, ":pending": PENDING, ":released": RELEASED, ":verifying": VERIFYING})

    def _update_each(self, campaign_id: str, lead_ids: list[str], update: str, condition: str,
                     values: dict[str, Any], per_lead: dict[str, dict[str, Any]] | None = None) -> list[str]:
        """One conditional update per recipient, 100 per transaction; returns the lead ids whose
        condition failed (left unchanged)."""
        used = {k: v for k, v in values.items() if k in update or k in condition}
        names = {"#status": "status", "#run": "run"}
        names = {k: v for k, v in names.items() if k in update or k in condition}
        lost: list[str] = []
        for start in range(0, len(lead_ids), TRANSACTION):
            chunk = lead_ids[start:start + TRANSACTION]
            while chunk:
                actions = []
                for lead in chunk:
                    body: dict[str, Any] = {"TableName": self.table.name, "Key": {"campaignId": campaign_id, "leadId": lead},
                                            "UpdateExpression": update, "ConditionExpression": condition,
                                            "ExpressionAttributeValues": {**used, **(per_lead or {}).get(lead, {})}}
                    if names:
                        body["ExpressionAttributeNames"] = names
                    actions.append(("Update", body))
                failed = self.table.transact(actions)
                lost += [chunk[i] for i in sorted(failed)]
                chunk = [lead for i, lead in enumerate(chunk) if i not in failed] if failed else []
        return lost

    # -- the gate -------------------------------------------------------------------------------
    def release(self, campaign_id: str, run_id: str, slots: list[tuple[str, float]]) -> None:
        """Mark pending recipients of ``run_id`` released with their slot (after their messages were queued)."""
        self._update_each(campaign_id, [lead for lead, _ in slots], "SET #status = :released, dueAt = :due",
                          "#status = :pending AND #run = :run", {":released": RELEASED, ":pending": PENDING, ":run": run_id},
                          {lead: {":due": stored_seconds(due)} for lead, due in slots})

    def revive(self, campaign_id: str, run_id: str, lead_ids: list[str]) -> None:
        """Released recipients whose message never came (it went to the DLQ): pending again."""
        self._update_each(campaign_id, lead_ids, "SET #status = :pending REMOVE dueAt",
                          "#status = :released AND #run = :run", {":released": RELEASED, ":pending": PENDING, ":run": run_id})

    def depart(self, campaign_id: str, recipients: list[dict[str, Any]], at: str) -> list[str]:
        """Skip waiting recipients the current run's snapshot did not include (they left the audience,
        or became suppressed); returns the lead ids skipped."""
        skipped = []
        for recipient in recipients:
            condition = "#status IN (:pending, :released, :verifying) AND " + (
                "#run = :old" if recipient.get("run") else "attribute_not_exists(#run)")
            values = {":pending": PENDING, ":released": RELEASED, ":verifying": VERIFYING, ":skipped": RecipientStatus.SKIPPED,
                      ":why": "left the audience", ":at": at}
            if recipient.get("run"):
                values[":old"] = recipient["run"]
            if self._update(campaign_id, recipient["leadId"], "SET #status = :skipped, reason = :why, doneAt = :at "
                            "REMOVE openCampaign, dueAt", condition, values):
                skipped.append(recipient["leadId"])
        return skipped

    def _update(self, campaign_id: str, lead_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        names = {k: v for k, v in {"#status": "status", "#run": "run"}.items() if k in update or k in condition}
        try:
            with conditional_write():
                self.table.client.update_item(TableName=self.table.name, Key={"campaignId": campaign_id, "leadId": lead_id},
                                         UpdateExpression=update, ConditionExpression=condition,
                                         ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        except ConditionFailed:
            return False
        return True

    # -- claims ---------------------------------------------------------------------------------
    def claim(self, campaign: dict[str, Any], template: dict[str, Any], lead_ids: list[str], token: str,
              at: float) -> tuple[list[str], str | None]:
        """Move each lead's recipient from ``released`` in the campaign's run, once its slot is at most
        ``EARLY`` seconds away (the sender waits for it), to ``sending`` under ``token``, atomically with checks that the campaign still runs that run and the template is
        unchanged. Returns the claimed lead ids and what was stale (``"campaign"``, ``"template"``;
        then nothing more is claimed)."""
        claimed: list[str] = []
        checks = [_running(campaign["id"], self.campaigns_table, campaign["runId"]), ("ConditionCheck", {
            "TableName": self.templates_table, "Key": {"id": template["id"]},
            "ConditionExpression": "updatedAt = :version", "ExpressionAttributeValues": {":version": template["updatedAt"]}})]
        for start in range(0, len(lead_ids), CLAIM_BATCH):
            chunk = lead_ids[start:start + CLAIM_BATCH]
            while chunk:
                actions = list(checks) + [("Update", {
                    "TableName": self.table.name, "Key": {"campaignId": campaign["id"], "leadId": lead},
                    "UpdateExpression": "SET #status = :sending, claimToken = :token, claimedAt = :at",
                    "ConditionExpression": "#status = :released AND #run = :run AND dueAt <= :soon",
                    "ExpressionAttributeNames": {"#status": "status", "#run": "run"},
                    "ExpressionAttributeValues": {":sending": SENDING, ":released": RELEASED, ":run": campaign["runId"],
                                                  ":token": token, ":at": Decimal(int(at)),
                                                  ":soon": stored_seconds(at + EARLY)}}) for lead in chunk]
                failed = self.table.transact(actions)
                if 0 in failed or 1 in failed:
                    return claimed, "campaign" if 0 in failed else "template"
                if not failed:
                    claimed += chunk
                    break
                chunk = [lead for i, lead in enumerate(chunk, start=len(checks)) if i not in failed]
        return claimed, None

    def unclaim(self, campaign_id: str, token: str, lead_ids: list[str], dues: dict[str, float] | None = None) -> None:
        """Hand back claims that never reached SES: released again, so the retried message can send;
        with ``dues``, each at its new slot (a send SES throttled, placed again in the rate book)."""
        if not lead_ids:
            return
        values = {":sending": SENDING, ":released": RELEASED, ":token": token}
        if dues is None:
            self._update_each(campaign_id, lead_ids, "SET #status = :released REMOVE claimToken, claimedAt",
                              "#status = :sending AND claimToken = :token", values)
        else:
            self._update_each(campaign_id, lead_ids, "SET #status = :released, dueAt = :due REMOVE claimToken, claimedAt",
                              "#status = :sending AND claimToken = :token", values,
                              {lead: {":due": stored_seconds(dues[lead])} for lead in lead_ids})

    def skip(self, campaign_id: str, run_id: str, lead_id: str, reason: str, at: str) -> bool:
        """A released recipient that must not get the e-mail (suppressed, deleted): skipped."""
        return self._update(campaign_id, lead_id, "SET #status = :skipped, reason = :why, doneAt = :at "
                            "REMOVE openCampaign, dueAt", "#status = :released AND #run = :run",
                            {":skipped": RecipientStatus.SKIPPED, ":why": reason, ":at": at, ":released": RELEASED,
                             ":run": run_id})

    def hand_back(self, campaign_id: str, lead_id: str, usable: bool, at: str) -> bool:
        """verify-email's answer for a recipient waiting for it: to the release gate (``pending``), or
        ``skipped`` when the lead turned out unusable. False when it was not waiting."""
        if usable:
            return self._update(campaign_id, lead_id, "SET #status = :pending", "#status = :verifying",
                                {":pending": PENDING, ":verifying": VERIFYING})
        return self._update(campaign_id, lead_id, "SET #status = :skipped, reason = :why, doneAt = :at REMOVE openCampaign",
                            "#status = :verifying", {":skipped": RecipientStatus.SKIPPED, ":verifying": VERIFYING,
                                                     ":why": "invalid after verification", ":at": at})

    def settle(self, campaign_id: str, recipient: dict[str, Any], at: str, day: str) -> RecipientStatus | None:
        """A claim whose holder died. Never re-sent: ``sent`` if SES's Send event already told us it
        went out, else ``unconfirmed`` until one does. None if it moved meanwhile."""
        lead_id, token = recipient["leadId"], recipient["claimToken"]
        held = "#status = :sending AND claimToken = :token"
        if not recipient.get("sesMessageId"):
            if self._update(campaign_id, lead_id, "SET #status = :unconfirmed, reason = :why, doneAt = :at REMOVE openCampaign",
                            held + " AND attribute_not_exists(sesMessageId)",
                            {":unconfirmed": UNCONFIRMED, ":sending": SENDING, ":token": token, ":at": at,
                             ":why": "claim left by a crash"}):
                return UNCONFIRMED
            recipient = self.table.get({"campaignId": campaign_id, "leadId": lead_id}) or {}
            if recipient.get("status") != SENDING or not recipient.get("sesMessageId"):
                return None
        actions = [("Update", {"TableName": self.table.name, "Key": {"campaignId": campaign_id, "leadId": lead_id},
                               "UpdateExpression": "SET #status = :sent, messageId = :m, doneAt = :at REMOVE openCampaign",
                               "ConditionExpression": held, "ExpressionAttributeNames": dict(_STATUS),
                               "ExpressionAttributeValues": {":sent": SENT, ":m": recipient["sesMessageId"], ":at": at,
                                                             ":sending": SENDING, ":token": token}})]
        actions += [(kind, body) for action in counter_actions(self.metrics_table, campaign_id, day, {"sent": 1})
                    for kind, body in action.items()]
        return SENT if not self.table.transact(actions) else None

    def note_message(self, campaign_id: str, lead_id: str, message_id: str) -> str | None:
        """Record SES's message id on a recipient that is still claimed or unconfirmed; returns its status
        then (None when it is in neither, e.g. already recorded as sent)."""
        try:
            with conditional_write():
                response = self.table.client.update_item(
                    TableName=self.table.name, Key={"campaignId": campaign_id, "leadId": lead_id},
                    UpdateExpression="SET sesMessageId = :m", ConditionExpression="#status IN (:sending, :unconfirmed)",
                    ExpressionAttributeNames=_STATUS, ReturnValues="ALL_OLD",
                    ExpressionAttributeValues={":m": message_id, ":sending": SENDING, ":unconfirmed": UNCONFIRMED})
        except ConditionFailed:
            return None
        return str(response["Attributes"]["status"])

    def confirm(self, campaign_id: str, lead_id: str, message_id: str, at: str) -> bool:
        """An unconfirmed recipient that SES's Send event proves sent: sent, and counted, once."""
        actions = [("Update", {"TableName": self.table.name, "Key": {"campaignId": campaign_id, "leadId": lead_id},
                               "UpdateExpression": "SET #status = :sent, messageId = :m, doneAt = :at",
                               "ConditionExpression": "#status = :unconfirmed", "ExpressionAttributeNames": dict(_STATUS),
                               "ExpressionAttributeValues": {":sent": SENT, ":m": message_id, ":at": at,
                                                             ":unconfirmed": UNCONFIRMED}})]
        actions += [(kind, body) for action in counter_actions(self.metrics_table, campaign_id, at[:10], {"sent": 1})
                    for kind, body in action.items()]
        # A completed campaign's summary follows too (it reported this recipient unconfirmed).
        summary = ("Update", {"TableName": self.campaigns_table, "Key": {"id": campaign_id},
                              "UpdateExpression": "SET #sum.#sent = if_not_exists(#sum.#sent, :zero) + :one, "
                                                  "#sum.#unconfirmed = #sum.#unconfirmed - :one",
                              "ConditionExpression": "#sum.#unconfirmed > :zero",
                              "ExpressionAttributeNames": {"#sum": "summary", "#sent": "sent", "#unconfirmed": "unconfirmed"},
                              "ExpressionAttributeValues": {":zero": 0, ":one": 1}})
        failed = self.table.transact([*actions, summary])
        if failed == {len(actions)}:  # not completed yet (no summary): the recipient and counters alone
            failed = self.table.transact(actions)
        return not failed

    # -- outcomes -------------------------------------------------------------------------------
    def record(self, campaign_id: str, token: str, outcomes: list[dict[str, Any]], logs: list[dict[str, Any]], day: str) -> None:
        """Final recipient records (only while still held under ``token``), their log entries and the
        counters, in one transaction per batch. An ``unconfirmed`` outcome whose Send event arrived
        first (``sesMessageId`` noted on the claim) is recorded as sent instead."""
        outcomes, logs = list(outcomes), list(logs)
        while outcomes or logs:
            counters = {"sent": sum(o["status"] == SENT for o in outcomes), "failed": sum(o["status"] == FAILED for o in outcomes)}
            actions = []
            for outcome in outcomes:
                expression, names, placeholders = assignments(
                    {k: v for k, v in outcome.items() if k not in ("campaignId", "leadId", "status")}, "o")
                condition = "#status = :sending AND claimToken = :token"
                if outcome["status"] == UNCONFIRMED:
                    condition += " AND attribute_not_exists(sesMessageId)"
                actions.append(("Update", {
                    "TableName": self.table.name, "Key": {"campaignId": campaign_id, "leadId": outcome["leadId"]},
                    "UpdateExpression": f"SET #status = :done, {expression} REMOVE openCampaign, dueAt",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#status": "status", **names},
                    "ExpressionAttributeValues": {**placeholders, ":done": outcome["status"], ":sending": SENDING, ":token": token}}))
            actions += [("Put", {"TableName": self.logs_table, "Item": entry}) for entry in logs]
            actions += [(kind, body) for action in counter_actions(self.metrics_table, campaign_id, day, counters)
                        for kind, body in action.items()]
            failed = self.table.transact(actions)
            if not failed:
                return
            lost = {outcomes[i]["leadId"] for i in failed if i < len(outcomes)}
            confirmed = self.of(campaign_id, [o["leadId"] for o in outcomes if o["leadId"] in lost and o["status"] == UNCONFIRMED])
            kept = []
            for outcome in outcomes:
                found = confirmed.get(outcome["leadId"], {})
                if outcome["leadId"] not in lost:
                    kept.append(outcome)
                elif found.get("status") == SENDING and found.get("claimToken") == token and found.get("sesMessageId"):
                    kept.append({**outcome, "status": SENT, "messageId": found["sesMessageId"]})
            outcomes = kept
            logs = [entry for entry in logs if entry.get("leadId") not in lost or entry["event"] == "skipped"]

    # -- the campaign's run ---------------------------------------------------------------------
    def commit_run(self, campaign_id: str, run_id: str, tick: int, values: dict[str, Any],
                   also: tuple[tuple[str, dict[str, Any]], ...] = ()) -> bool:
        """Advance the run past ``tick`` only if it is still running at ``tick`` (else ConditionFailed),
        atomically with the actions ``also`` (the release's rate book); False, with nothing written,
        when one of those lost its condition (the caller reads again and retries)."""
        expression, names, placeholders = assignments(values, "v")
        kind, body = _running(campaign_id, self.campaigns_table, run_id, tick, "SET " + expression)
        body["ExpressionAttributeNames"] |= names
        body["ExpressionAttributeValues"] |= placeholders
        if not also:
            if not transact_unless_first_fails(self.table.client, [{kind: body}]):
                raise ConditionFailed
            return True
        failed = self.table.transact([(kind, body), *also])
        if 0 in failed:
            raise ConditionFailed
        return not failed

    def pause(self, campaign_id: str, reason: str, now: float) -> bool:
        """Pause a running campaign itself with ``reason`` (the ``autopause`` move), with its Logs entry
        in the same transaction. False if it was not running."""
        move = campaigns.transition(Action.AUTOPAUSE)
        expression, names, placeholders = assignments({**move.values(iso(now)), "pauseReason": reason}, "p")
        allowed = {f":from{i}": status for i, status in enumerate(sorted(move.allowed_from))}
        return transact_unless_first_fails(self.table.client, [
            {"Update": {"TableName": self.campaigns_table, "Key": {"id": campaign_id}, "UpdateExpression": "SET " + expression,
                        "ConditionExpression": f"#status IN ({', '.join(allowed)})", "ExpressionAttributeNames": {**names, **_STATUS},
                        "ExpressionAttributeValues": {**placeholders, **allowed}}},
            {"Put": {"TableName": self.logs_table, "Item": log_entry(campaign_id, None, "paused", now, reason=reason)}},
        ])
