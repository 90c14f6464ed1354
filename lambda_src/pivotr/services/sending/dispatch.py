"""Dispatch ticks: the run of a campaign, one conditional step at a time.

A running campaign is driven by a chain of tick messages on the sending queue. A tick does the work
of its run's phase, commits the run past its number (conditionally: a duplicate, stale or raced tick
changes nothing) and queues the next one. The phases:

- snapshot: one page of the audience into recipients stamped with the run (``RecipientStore.snapshot``);
- release, **the one release gate**: slots for pending recipients of the run that honour the start
  time, the sending window, the daily limit and the pacing gap. The slots are committed with the tick
  (``runPlan``) before anything acts on them, then carried out: recipients marked released, then
  their messages queued with the slot as delay. A tick redelivered after its commit carries out the
  same plan again (both steps are idempotent), so a crash can never hand a slot out twice;
- drain: triage every open recipient (``domain.sending.triage``); back to release when any became
  pending (verified, or revived after its message was lost), complete when none is open.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from pivotr.data.dynamo import BulkTable, ConditionFailed, Table
from pivotr.data.queues import Queue
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.domain import sending
from pivotr.domain.campaigns import COMPLETED, RUNNING
from pivotr.domain.sending import Order, Phase, Tick, Triage, iso
from pivotr.services.sending.runtime import Runtime

logger = Logger()
DRAIN_MARGIN_MS = 8_000  # stop paging a completion check with this much of the invocation left
RETRY_SOON = 30  # seconds before a completion check that ran out of time goes on


class Dispatcher:
    def __init__(self, runtime: Runtime, *, campaigns: Table, leads: BulkTable, suppression: SuppressionList,
                 recipients: RecipientStore, queue: Queue, verification: Queue) -> None:
        self.runtime, self.campaigns, self.leads, self.suppression = runtime, campaigns, leads, suppression
        self.recipients, self.queue, self.verification = recipients, queue, verification

    def tick(self, tick: Tick, message_id: str, remaining_ms: Callable[[], int]) -> str:
        """What the tick did. AWS errors (and NotQueued) propagate: the tick message is retried."""
        now = self.runtime.clock()
        campaign = self.campaigns.get({"id": tick.campaign_id})
        if campaign is None or campaign["status"] != RUNNING or campaign.get("runId") != tick.run_id:
            return "stale run"
        number = int(campaign.get("runTick", 0))
        if tick.tick == number - 1 and campaign.get("runMessage") == message_id:
            # committed, then died (or failed to queue) before the next tick: finish what it committed
            self._carry_out(campaign, json.loads(campaign.get("runPlan") or "[]"))
            self._next(campaign, number)
            return "resumed"
        if tick.tick != number:
            return "stale tick"
        phase = Phase(campaign.get("runPhase") or Phase.SNAPSHOT)
        try:
            if phase == Phase.SNAPSHOT:
                outcome = self._snapshot(campaign, now)
            elif phase == Phase.RELEASE:
                outcome = self._release(campaign, now)
            else:
                outcome = self._drain(campaign, now, remaining_ms)
            if outcome is None:
                return "completed"
            values, wake = outcome
            values |= {"runTick": number + 1, "runMessage": message_id, "runWakeAt": int(wake), "updatedAt": iso(now)}
            values.setdefault("runPlan", "")
            self.recipients.commit_run(campaign["id"], campaign["runId"], number, values)
        except ConditionFailed:
            return "lost race"  # paused, aborted, or a duplicate of this tick went first
        campaign = {**campaign, **values}
        self._carry_out(campaign, json.loads(values["runPlan"] or "[]"))
        self._next(campaign, number + 1)
        return str(phase)

    def _next(self, campaign: dict[str, Any], number: int) -> None:
        delay = sending.wake_delay(float(campaign["runWakeAt"]), self.runtime.clock())  # the clock now, not the tick's
        self.queue.send_all([Tick(campaign["id"], campaign["runId"], number).body()], [delay])

    # -- snapshot -------------------------------------------------------------------------------
    def _snapshot(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float]:
        """One page of the audience. Status and tag audiences read the leads table itself in key order
        (not a status index), so a lead whose status changes during the snapshot is read exactly once."""
        audience = campaign["audience"]
        cursor = json.loads(campaign.get("runSnapshot") or '{"start": null}')
        if audience.get("leadIds"):
            ids, offset = list(dict.fromkeys(audience["leadIds"])), cursor["start"] or 0
            leads = self.leads.get_all([{"id": i} for i in ids[offset:offset + sending.SNAPSHOT_PAGE]])
            last = offset + sending.SNAPSHOT_PAGE if offset + sending.SNAPSHOT_PAGE < len(ids) else None
        else:
            leads, last = self.leads.page(limit=sending.SNAPSHOT_PAGE, start=cursor["start"])
        candidates = sorted((lead for lead in leads if sending.in_audience(lead, audience)), key=lambda lead: lead["id"])
        suppressed = self.suppression.reasons([lead["id"] for lead in candidates])
        members = [(lead["id"], sending.first_status(campaign, lead)) for lead in candidates if lead["id"] not in suppressed]
        to_verify = [{"leadId": lead, "campaignId": campaign["id"]} for lead, status in members if status == sending.VERIFYING]
        if to_verify:  # before the writes: a retried tick queues them again (verify-email is idempotent)
            self.verification.send_all(to_verify)
        self.recipients.snapshot(campaign["id"], campaign["runId"], int(campaign["runTick"]), members, iso(now), iso(now)[:10])
        if last is not None:
            return {"runSnapshot": json.dumps({"start": last}, sort_keys=True, default=str)}, now
        return {"runSnapshot": "", "runPhase": Phase.RELEASE, "runCursor": ""}, now

    # -- the release gate -----------------------------------------------------------------------
    def _release(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float]:
        """Slots for the next pending recipients of this run within the SQS delay horizon."""
        run_id = campaign["runId"]
        found, exhausted = self.recipients.releasable(campaign["id"], campaign.get("runCursor", ""),
                                                      sending.release_limit(campaign))
        triaged = [(r, sending.triage(r, run_id, now)) for r in found]  # all pending: RELEASE or DEPART
        departed = [r for r, action in triaged if action == Triage.DEPART]
        ready = [r for r, action in triaged if action == Triage.RELEASE]
        plan = sending.schedule(campaign, now, len(ready), self.runtime.rng)
        chosen = ready[:len(plan.times)]
        self.recipients.depart(campaign["id"], departed, iso(now))
        values: dict[str, Any] = {"runNextSendAt": math.ceil(plan.next_send_at), "runDayKey": plan.day_key or "",
                                  "runDayCount": plan.day_count,  # slots are whole seconds (domain.sending.schedule)
                                  "runPlan": json.dumps([[r["leadId"], int(at)] for r, at in zip(chosen, plan.times)])}
        done = chosen + departed if len(chosen) == len(ready) else chosen
        if done:
            values["runCursor"] = max(r["leadId"] for r in done)
        if exhausted and len(chosen) == len(ready):
            values["runPhase"] = Phase.DRAIN
            return values, now + sending.DRAIN_CHECK_VERIFYING
        return values, plan.next_send_at

    def _carry_out(self, campaign: dict[str, Any], plan: list[list[Any]]) -> None:
        """The committed slots: recipients marked released first, so no message can arrive before its
        recipient is claimable; then the messages, each delayed until its slot from the clock as it is
        when they are sent (a slow tick must not make them early)."""
        if not plan:
            return
        run_id = campaign["runId"]
        self.recipients.release(campaign["id"], run_id, [(lead, float(due)) for lead, due in plan])
        now = self.runtime.clock()
        self.queue.send_all([Order(campaign["id"], lead, run_id).body() for lead, _ in plan],
                            [sending.wake_delay(float(due), now) for _, due in plan])

    # -- completion -----------------------------------------------------------------------------
    def _drain(self, campaign: dict[str, Any], now: float, remaining_ms: Callable[[], int]
               ) -> tuple[dict[str, Any], float] | None:
        """Triage every open recipient (paging until none is left or time runs short); complete the
        campaign only when none is open."""
        campaign_id, run_id = campaign["id"], campaign["runId"]
        waiting: Counter[str] = Counter()
        to_release = False
        for page in self.recipients.open_pages(campaign_id, page=sending.DRAIN_PAGE):
            revive = []
            for recipient in page:
                action = sending.triage(recipient, run_id, now)
                if action == Triage.RELEASE:
                    to_release = True
                elif action == Triage.REVIVE:
                    revive.append(recipient["leadId"])
                elif action == Triage.DEPART:
                    if not self.recipients.depart(campaign_id, [recipient], iso(now)):
                        waiting[recipient["status"]] += 1
                elif action == Triage.SETTLE:
                    settled = self.recipients.settle(campaign_id, recipient, iso(now), iso(now)[:10])
                    if settled is None:
                        waiting[recipient["status"]] += 1
                    elif settled == sending.UNCONFIRMED:
                        logger.warning("claim left by a crash; never re-sent, left for reconciliation",
                                       extra={"campaignId": campaign_id, "leadId": recipient["leadId"]})
                else:
                    waiting[recipient["status"]] += 1
            if revive:
                self.recipients.revive(campaign_id, run_id, revive)
                to_release = True
            if remaining_ms() < DRAIN_MARGIN_MS:
                return {}, now + RETRY_SOON  # not all read: never complete on a partial view
        if to_release:
            return {"runPhase": Phase.RELEASE, "runCursor": ""}, now
        if waiting:
            return {}, now + (sending.DRAIN_CHECK_VERIFYING if waiting[sending.VERIFYING] else sending.DRAIN_CHECK)
        summary = self.recipients.statuses(campaign_id)
        try:
            self.campaigns.update({"id": campaign_id}, {
                "status": COMPLETED, "completedAt": iso(now), "updatedAt": iso(now), "summary": summary},
                status_in={RUNNING}, expect={"runId": run_id, "runTick": campaign["runTick"]})
            logger.info("campaign completed", extra={"campaignId": campaign_id, "summary": summary})
        except ConditionFailed:
            pass  # paused or aborted meanwhile
        return None
