"""send-email: the sending queue carries two kinds of message.

- ``{"campaignId", "runId", "tick"}``: a dispatch tick of a running campaign (snapshot, release, or
  completion check; see domain/sending.py). Each tick commits conditionally on its number, so a
  duplicate or stale tick changes nothing, and then queues the next one.
- ``{"campaignId", "leadId"}``: one e-mail. A batch of them is claimed in one transaction (with a
  check that the campaign still runs) before any reaches SES, so each pair is sent at most once.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from pivotr.data.dynamo import BulkTable, ConditionFailed, Table
from pivotr.data.mailer import Mailer, Rejected, Retry
from pivotr.data.queues import Queue
from pivotr.data.recipients import RecipientStore
from pivotr.data.unsubscribe import signing_key
from pivotr.domain import sending, unsubscribe
from pivotr.domain.sending import iso, log_entry
from pivotr.domain.sending import FAILED, PENDING, SENDING, SENT, SKIPPED, UNCONFIRMED, UNVERIFIED, VERIFYING
from pivotr.env import SendEnv

logger = Logger()
SAFETY = 5_000  # ms of the invocation left below which no further e-mail is started
CACHED = 31  # campaigns and templates kept per container (plus the newest)


class SendingService:
    def __init__(self, env: SendEnv, clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        self.env, self.clock, self.rng = env, clock, rng or random.SystemRandom()
        self.campaigns, self.templates = Table(env.campaigns_table), Table(env.templates_table)
        self.leads = BulkTable(env.leads_table)
        self.recipients = RecipientStore(env.recipients_table, env.campaigns_table, env.logs_table, env.metrics_table,
                                         env.templates_table)
        self.queue, self.verification = Queue(env.sending_queue_url), Queue(env.verification_queue_url)
        self.mailer = Mailer(env.ses_configuration_set)
        self._campaign_cache: dict[str, dict[str, Any]] = {}
        self._template_cache: dict[str, dict[str, Any]] = {}

    # -- the batch ------------------------------------------------------------------------------
    def handle(self, records: list[dict[str, Any]], remaining_ms: Callable[[], int]) -> list[str]:
        """The SQS message ids to retry (partial batch response); every other record is done."""
        sends: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # campaign -> lead -> ids
        retry: list[str] = []
        for record in records:
            message = _read(record.get("body", ""))
            if message is None:
                logger.error("unreadable sending message dropped", extra={"messageId": record.get("messageId"),
                                                                         "bodyStart": str(record.get("body"))[:300]})
            elif "runId" in message:
                self.tick(message, record["messageId"])
            else:
                sends[message["campaignId"]][message["leadId"]].append(record["messageId"])
        for campaign_id, leads in sends.items():
            try:
                again = self.send(campaign_id, list(leads), remaining_ms)
            except Exception:  # an AWS outage, say: claims not yet used were handed back; retry them all
                logger.exception("sending failed; the campaign's messages are retried", extra={"campaignId": campaign_id})
                again = list(leads)
            for lead in again:
                retry += leads[lead]
        return retry

    # -- dispatch ticks -------------------------------------------------------------------------
    def tick(self, message: dict[str, Any], message_id: str) -> str:
        now = self.clock()
        campaign = self.campaigns.get({"id": message["campaignId"]})
        if campaign is None or campaign["status"] != "running" or campaign.get("runId") != message["runId"]:
            return "stale run"
        tick = int(campaign.get("runTick", 0))
        if message["tick"] == tick - 1 and campaign.get("runMessage") == message_id:
            self._next(campaign, tick, now)  # committed, then crashed before queueing the next tick
            return "resumed"
        if message["tick"] != tick:
            return "stale tick"
        phase = campaign.get("runPhase")
        step = self._snapshot if phase == "snapshot" else self._release if phase == "release" else self._drain
        outcome = step(campaign, now)
        if outcome is None:
            return "completed"
        values, wake, counters = outcome
        values |= {"runTick": tick + 1, "runMessage": message_id, "runWakeAt": int(wake), "updatedAt": iso(now)}
        try:
            self.recipients.commit_run(campaign["id"], campaign["runId"], tick, values, counters, iso(now)[:10])
        except ConditionFailed:
            return "lost race"  # paused, aborted, or a duplicate of this tick committed first
        self._next({**campaign, **values}, tick + 1, now)
        return str(phase)

    def _next(self, campaign: dict[str, Any], tick: int, now: float) -> None:
        delay = sending.wake_delay(float(campaign["runWakeAt"]), now)
        self.queue.send_all([sending.tick_message(campaign["id"], campaign["runId"], tick)], [delay])

    def _snapshot(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float, dict[str, int]]:
        """One page of the audience into recipient records (suppressed leads never enter)."""
        audience = campaign["audience"]
        sources: list[tuple[str, Any]] = (
            [("ids", None)] if audience.get("leadIds") else
            [("status", s) for s in audience["statuses"]] if audience.get("statuses") else [("scan", None)])
        cursor = json.loads(campaign.get("runSnapshot") or '{"source": 0, "start": null}')
        kind, value = sources[cursor["source"]]
        if kind == "ids":
            ids = list(dict.fromkeys(audience["leadIds"]))
            offset = cursor["start"] or 0
            leads, last = self.leads.get_all([{"id": i} for i in ids[offset:offset + sending.SNAPSHOT_PAGE]]), None
            if offset + sending.SNAPSHOT_PAGE < len(ids):
                last = offset + sending.SNAPSHOT_PAGE
        else:
            page = dict(limit=sending.SNAPSHOT_PAGE, start=cursor["start"])
            if kind == "status":
                page |= dict(index="status-index", key=("status", value))
            leads, last = self.leads.page(**page)  # type: ignore[arg-type]
        members = [lead for lead in leads if sending.in_audience(lead, audience)]
        stamp = iso(now)
        recipients = [{"campaignId": campaign["id"], "leadId": lead["id"], "status": sending.first_status(campaign, lead),
                       "addedAt": stamp} for lead in members]
        self.recipients.add(recipients)
        to_verify = [{"leadId": r["leadId"], "campaignId": campaign["id"]} for r in recipients if r["status"] == VERIFYING]
        if to_verify:
            self.verification.send_all(to_verify)
        values: dict[str, Any] = {"audienceSize": int(campaign.get("audienceSize", 0)) + len(recipients)}
        if last is not None:
            values["runSnapshot"] = json.dumps({"source": cursor["source"], "start": last}, sort_keys=True, default=str)
        elif cursor["source"] + 1 < len(sources):
            values["runSnapshot"] = json.dumps({"source": cursor["source"] + 1, "start": None})
        else:
            values |= {"runSnapshot": "", "runPhase": "release", "runCursor": ""}
        return values, now, {"queued": len(recipients)}

    def _release(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float, dict[str, int]]:
        """Queue the sends that fit in the next SQS delay horizon, each with its own delay."""
        found, exhausted = self.recipients.releasable(campaign["id"], campaign.get("runCursor", ""),
                                                      sending.release_limit(campaign))
        plan = sending.schedule(campaign, now, len(found), self.rng)
        chosen = found[:len(plan.times)]
        self.queue.send_all([{"campaignId": campaign["id"], "leadId": r["leadId"]} for r in chosen],
                            [sending.wake_delay(at, now) for at in plan.times])
        values: dict[str, Any] = {"runNextSendAt": int(plan.next_send_at), "runDayKey": plan.day_key or "",
                                  "runDayCount": plan.day_count}
        if chosen:
            values |= {"runCursor": chosen[-1]["leadId"], "runReleasedAt": int(now)}
        if exhausted and len(chosen) == len(found):
            values["runPhase"] = "drain"
            return values, now + sending.DRAIN_CHECK, {}
        return values, plan.next_send_at, {}

    def _drain(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float, dict[str, int]] | None:
        """Complete the campaign when no recipient is open; release stragglers again after a while."""
        statuses: Counter[str] = Counter()
        for recipient in self.recipients.first_open(campaign["id"], sending.DRAIN_PAGE):
            status = recipient["status"]
            if status == SENDING and now - recipient.get("claimedAt", now) >= sending.STALE_CLAIM:
                status = self._settle_dead_claim(campaign["id"], recipient, now) or status
            if status in sending.OPEN:
                statuses[status] += 1
        if not statuses:
            summary = self.recipients.statuses(campaign["id"])
            try:
                self.campaigns.update({"id": campaign["id"]}, {
                    "status": "completed", "completedAt": iso(now), "updatedAt": iso(now), "summary": summary},
                    status_in={"running"}, expect={"runId": campaign["runId"], "runTick": campaign["runTick"]})
                logger.info("campaign completed", extra={"campaignId": campaign["id"], "summary": summary})
            except ConditionFailed:
                pass  # paused or aborted meanwhile
            return None
        released_at = float(campaign.get("runReleasedAt", 0))
        if (statuses[PENDING] or statuses[VERIFYING]) and now - released_at >= sending.SWEEP_AFTER:
            return {"runPhase": "release", "runCursor": "", "runReleasedAt": int(now)}, now, {}
        return {}, now + sending.DRAIN_CHECK, {}

    # -- e-mails --------------------------------------------------------------------------------
    def send(self, campaign_id: str, lead_ids: list[str], remaining_ms: Callable[[], int]) -> list[str]:
        """Send one campaign's e-mails of this batch; returns the lead ids to retry.

        The campaign and its template are cached per container: the claim transaction checks that the
        campaign still runs the same run (config is only edited while paused, and a resume starts a new
        run) and that the template's ``updatedAt`` is the one cached, so a stale cache cannot send."""
        now = self.clock()
        for attempt in range(2):
            campaign = self._campaign(campaign_id, fresh=attempt > 0)
            if campaign is None or campaign["status"] != "running":
                # Paused: the recipients stay pending and resuming releases them again. Finished: nothing to do.
                logger.info("sends held", extra={"campaignId": campaign_id, "count": len(lead_ids),
                                                 "status": campaign and campaign["status"]})
                return []
            template = self._template(campaign["templateId"], fresh=attempt > 0)
            if template is None:
                self.pause(campaign_id, f"template {campaign['templateId']} was deleted", now)
                return []
            if not sending.in_window(campaign, now):
                delay = sending.wake_delay(sending.next_window_open(campaign, now), now)
                self.queue.send_all([{"campaignId": campaign_id, "leadId": lead} for lead in lead_ids], [delay] * len(lead_ids))
                return []
            if attempt == 0:
                leads = {lead["id"]: lead for lead in self.leads.get_all([{"id": lead} for lead in lead_ids])}
                logs, allowed = self._eligible(campaign_id, lead_ids, leads, now)
                outcomes: list[dict[str, Any]] = []
            token = uuid.uuid4().hex
            claimed, stale = self.recipients.claim(campaign, template, allowed, token, now) if allowed else ([], None)
            if stale is None:
                break
        else:
            return list(allowed)  # changed twice in a row: try again later
        retry = self._unclaimed(campaign_id, [lead for lead in allowed if lead not in claimed], now)
        key = signing_key(self.env.unsubscribe_signing_key_secret_arn) if claimed else b""
        unused = list(claimed)

        def settle() -> None:
            for lead_id in unused:  # never handed to SES: release the claim so a retry can send it
                self.recipients.move(campaign_id, lead_id, PENDING, token=token)
            retry.extend(unused)
            self.recipients.record(campaign_id, token, outcomes, logs, iso(now)[:10])

        try:
            while unused and remaining_ms() >= SAFETY:  # out of time: the rest go back untouched
                lead_id = unused.pop(0)
                self._send_one(campaign, template, leads[lead_id], token, key, now, outcomes, logs, retry)
        except Exception:
            settle()  # what was sent is recorded; a crash (the process dies) leaves claims for reconciliation
            raise
        settle()
        return retry

    def _campaign(self, campaign_id: str, *, fresh: bool) -> dict[str, Any] | None:
        if fresh or campaign_id not in self._campaign_cache:
            campaign = self.campaigns.get({"id": campaign_id})
            if campaign is None or campaign["status"] != "running":
                self._campaign_cache.pop(campaign_id, None)
                return campaign
            self._campaign_cache = {**dict(list(self._campaign_cache.items())[-CACHED:]), campaign_id: campaign}
        return self._campaign_cache[campaign_id]

    def _template(self, template_id: str, *, fresh: bool) -> dict[str, Any] | None:
        if fresh or template_id not in self._template_cache:
            template = self.templates.get({"id": template_id})
            if template is None:
                self._template_cache.pop(template_id, None)
                return None
            self._template_cache = {**dict(list(self._template_cache.items())[-CACHED:]), template_id: template}
        return self._template_cache[template_id]

    def _eligible(self, campaign_id: str, lead_ids: list[str], leads: dict[str, dict[str, Any]], now: float
                  ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, ...]]]:
        """Skip suppressed or deleted leads (recipient ``skipped``); the statuses each other lead's
        recipient may be claimed from (one waiting for verification only once its lead is verified)."""
        logs: list[dict[str, Any]] = []
        allowed: dict[str, tuple[str, ...]] = {}
        for lead_id in lead_ids:
            reason = sending.skip_reason(leads.get(lead_id))
            if reason is None:
                allowed[lead_id] = (PENDING,) if leads[lead_id]["status"] in UNVERIFIED else (PENDING, VERIFYING)
            elif self.recipients.move(campaign_id, lead_id, SKIPPED, from_statuses=(PENDING, VERIFYING),
                                      values={"reason": reason, "doneAt": iso(now)}):
                logs.append(log_entry(campaign_id, lead_id, "skipped", now, reason=reason))
        return logs, allowed

    def _send_one(self, campaign: dict[str, Any], template: dict[str, Any], lead: dict[str, Any], token: str, key: bytes,
                  now: float, outcomes: list[dict[str, Any]], logs: list[dict[str, Any]], retry: list[str]) -> None:
        campaign_id, lead_id = campaign["id"], lead["id"]
        link = unsubscribe.link(self.env.unsubscribe_base_url, unsubscribe.Subscription(lead_id, campaign_id), key)
        base = {"campaignId": campaign_id, "leadId": lead_id, "claimToken": token, "claimedAt": int(now), "doneAt": iso(now)}
        try:
            email = sending.compose(campaign, template, lead, link)
        except Exception as error:  # a template this lead cannot fill: never retried
            outcomes.append({**base, "status": FAILED, "reason": f"render: {error}"[:300]})
            logs.append(log_entry(campaign_id, lead_id, "failed", now, reason="could not render"))
            return
        try:
            message_id = self.mailer.send(email)
        except Retry as error:
            logger.warning("SES did not take the e-mail; retried through the queue",
                           extra={"campaignId": campaign_id, "leadId": lead_id, "reason": str(error)})
            self.recipients.move(campaign_id, lead_id, PENDING, token=token)
            retry.append(lead_id)
        except Rejected as error:
            outcomes.append({**base, "status": FAILED, "reason": str(error)})
            logs.append(log_entry(campaign_id, lead_id, "failed", now, reason=str(error)))
        except Exception as error:  # Unknown, or anything unexpected: it may have reached SES
            logger.error("SES answer lost; left for reconciliation", extra={"campaignId": campaign_id, "leadId": lead_id})
            self.recipients.move(campaign_id, lead_id, UNCONFIRMED, token=token, values={"reason": type(error).__name__})
        else:
            outcomes.append({**base, "status": SENT, "messageId": message_id})
            logs.append(log_entry(campaign_id, lead_id, "sent", now, messageId=message_id))

    def _unclaimed(self, campaign_id: str, lead_ids: list[str], now: float) -> list[str]:
        """Leads whose claim failed: a fresh claim elsewhere is retried later; a dead one is left for
        reconciliation; everything else (done, waiting for verification, not in the audience) is finished."""
        if not lead_ids:
            return []
        retry = []
        found = self.recipients.of(campaign_id, lead_ids)
        for lead_id in lead_ids:
            recipient = found.get(lead_id)
            if recipient is None or recipient["status"] != SENDING:
                continue
            if now - recipient.get("claimedAt", now) < sending.STALE_CLAIM:
                retry.append(lead_id)  # another delivery of this message may be sending it right now
            else:
                self._settle_dead_claim(campaign_id, recipient, now)
        return retry

    def _settle_dead_claim(self, campaign_id: str, recipient: dict[str, Any], now: float) -> str | None:
        """A claim whose holder died (send-email's timeout has passed). Never re-sent: ``sent`` if SES's
        Send event already told us it went out, else ``unconfirmed`` until one does. None if it moved meanwhile."""
        lead_id, token = recipient["leadId"], recipient["claimToken"]
        if recipient.get("sesMessageId"):
            values = {"messageId": recipient["sesMessageId"], "doneAt": iso(now)}
            if self.recipients.move(campaign_id, lead_id, SENT, token=token, values=values):
                self.recipients.count(campaign_id, iso(now)[:10], {"sent": 1})
                return SENT
            return None
        if self.recipients.move(campaign_id, lead_id, UNCONFIRMED, token=token, values={"reason": "claim left by a crash"}):
            logger.warning("claim left by a crash; never re-sent, left for reconciliation",
                           extra={"campaignId": campaign_id, "leadId": lead_id})
            return UNCONFIRMED
        return None

    def pause(self, campaign_id: str, reason: str, now: float) -> bool:
        paused = self.recipients.pause(campaign_id, reason, iso(now), log_entry(campaign_id, None, "paused", now, reason=reason))
        if paused:
            logger.warning("campaign paused itself", extra={"campaignId": campaign_id, "reason": reason})
        return paused


def _read(body: str) -> dict[str, Any] | None:
    """A sending message, or None when it is not one."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("campaignId"), str):
        return None
    if "runId" in message:
        ok = isinstance(message["runId"], str) and type(message.get("tick")) is int
    else:
        ok = isinstance(message.get("leadId"), str)
    return message if ok else None
