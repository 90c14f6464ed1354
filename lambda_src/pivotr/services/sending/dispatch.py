"""Dispatch ticks: the run of a campaign, one conditional step at a time.

A running campaign is driven by a chain of tick messages on the sending queue. A tick does the work
of its run's phase, commits the run past its number (conditionally: a duplicate, stale or raced tick
changes nothing) and queues the next one. The phases:

- snapshot: one page of the audience into recipients stamped with the run (``RecipientStore.snapshot``);
- release, **the one release gate**: slots for pending recipients of the run that honour the start
  time, the sending window, the daily limit, the pacing gap, and the account's SES rate and 24-hour
  quota shared with every other campaign (the rate book, ``domain.rate``). The slots are committed
  with the tick (``runPlan``), in the same transaction as the book that reserves them, before
  anything acts on them, then carried out: recipients marked released, then their messages queued
  with the slot as delay. A tick redelivered after its commit carries out the same plan again (both
  steps are idempotent), so a crash can never hand a slot out twice;
- drain: triage every open recipient (``domain.sending.triage``); back to release when any became
  pending (verified, or revived after its message was lost), complete when none is open.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table, stored_seconds
from pivotr.data.queues import BATCH, Queue
from pivotr.data.rate import BookConflict, RateLedger
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.domain import sending
from pivotr.domain import campaigns
from pivotr.domain.campaigns import RUNNING, Action
from pivotr.domain.rate import QUOTA_RECHECK, WaitReason
from pivotr.domain.sending import Order, Phase, Tick, Triage, iso
from pivotr.logs import Logger
from pivotr.services.sending.runtime import Runtime

logger = Logger()


DRAIN_MARGIN_MS = 8_000  # stop paging a completion check with this much of the invocation left
RELEASE_LEAD = 30  # seconds before its last slot a running release releases the next sends: no gap between them
RATE_RECHECK = 60  # seconds before a campaign waiting for the account's rate (other campaigns hold it) looks again
AFTER_LAST_SLOT = 10  # seconds after the last open slot a completion check looks again (a claim in flight: sooner than stale)
BOOK_ATTEMPTS = 8  # releases that lost the rate book to another one in a row before the tick is retried


class Dispatcher:
    def __init__(self, runtime: Runtime, *, campaigns: Table, leads: Table, suppression: SuppressionList,
                 recipients: RecipientStore, queue: Queue, verification: Queue, rate: RateLedger) -> None:
        self.runtime, self.campaigns, self.leads, self.suppression = runtime, campaigns, leads, suppression
        self.recipients, self.queue, self.verification, self.rate = recipients, queue, verification, rate

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
            for _ in range(BOOK_ATTEMPTS):
                book: tuple[tuple[str, dict[str, Any]], ...] = ()
                if phase == Phase.SNAPSHOT:
                    outcome = self._snapshot(campaign, now)
                elif phase == Phase.RELEASE:
                    outcome, book = self._release(campaign, now)
                elif phase == Phase.DRAIN:
                    outcome = self._drain(campaign, now, remaining_ms)
                else:
                    outcome = self._summarize(campaign, now)
                if outcome is None:
                    return "completed"
                values, wake = outcome
                values |= {"runTick": number + 1, "runMessage": message_id, "runWakeAt": math.ceil(wake), "updatedAt": iso(now)}
                values.setdefault("runPlan", "")
                if self.recipients.commit_run(campaign["id"], campaign["runId"], number, values, also=book):
                    break
                # another release took positions of the rate book meanwhile: plan again from the new book
            else:
                raise BookConflict("the SES rate book kept changing; the tick is retried")
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
    def _release(self, campaign: dict[str, Any], now: float
                 ) -> tuple[tuple[dict[str, Any], float], tuple[tuple[str, dict[str, Any]], ...]]:
        """Slots for the next pending recipients of this run within the SQS delay horizon, placed in
        the account's rate book; returns the run's values and wake time, and the book's write (to
        commit with them)."""
        run_id = campaign["runId"]
        # the campaign's own rules first: a tick that can release nothing (window shut, daily limit
        # reached, start ahead: the hops of a long wait) reads neither its recipients nor the shared book
        probe = sending.schedule(campaign, now, 1, random.Random(0))
        if not probe.times:
            return ({"runNextSendAt": stored_seconds(probe.next_send_at), "runDayKey": probe.day_key or "",
                     "runDayCount": probe.day_count, "runPlan": "", "waitReason": self._wait_reason(campaign, probe)},
                    probe.next_send_at), ()
        found, exhausted = self.recipients.releasable(campaign["id"], campaign.get("runCursor", ""),
                                                      sending.release_limit(campaign))
        triaged = [(r, sending.triage(r, run_id, now)) for r in found]  # all pending: RELEASE or DEPART
        departed = [r for r, action in triaged if action == Triage.DEPART]
        ready = [r for r, action in triaged if action == Triage.RELEASE]
        book = self.rate.open(now) if ready else None
        plan = sending.schedule(campaign, now, len(ready), self.runtime.rng, book)
        chosen = ready[:len(plan.times)]
        self.recipients.depart(campaign["id"], departed, iso(now))
        values: dict[str, Any] = {"runNextSendAt": stored_seconds(plan.next_send_at), "runDayKey": plan.day_key or "",
                                  "runDayCount": plan.day_count,
                                  "runPlan": json.dumps([[r["leadId"], float(stored_seconds(at))] for r, at in zip(chosen, plan.times)]),
                                  "waitReason": "" if plan.times else self._wait_reason(campaign, plan)}
        writes = (self.rate.write(book),) if book is not None and plan.times else ()
        done = chosen + departed if len(chosen) == len(ready) else chosen
        if done:
            values["runCursor"] = max(r["leadId"] for r in done)
        if exhausted and len(chosen) == len(ready):
            values |= {"runPhase": Phase.DRAIN, "runDrain": ""}
            return (values, now + sending.DRAIN_CHECK_VERIFYING), writes
        if plan.waiting is None:  # the next release comes while these still go out: the sends go on without a gap
            return (values, max(now, plan.next_send_at - RELEASE_LEAD)), writes
        if plan.waiting == WaitReason.ACCOUNT_QUOTA:
            return (values, now + QUOTA_RECHECK), writes
        if plan.waiting == WaitReason.ACCOUNT_RATE:
            return (values, now + RATE_RECHECK), writes
        return (values, plan.next_send_at), writes

    @staticmethod
    def _wait_reason(campaign: dict[str, Any], plan: sending.Plan) -> str:
        """Why nothing was released; a hop towards a send beyond the horizon keeps the reason it began with."""
        if plan.waiting == WaitReason.PACING and campaign.get("waitReason"):
            return str(campaign["waitReason"])
        return str(plan.waiting or "")

    def _carry_out(self, campaign: dict[str, Any], plan: list[list[Any]]) -> None:
        """The committed slots: recipients marked released first, so no message can arrive before its
        recipient is claimable; then the messages, each delayed until its slot from the clock as it is
        when they are sent (a slow tick must not make them early)."""
        if not plan:
            return
        run_id = campaign["runId"]
        self.recipients.release(campaign["id"], run_id, [(lead, float(due)) for lead, due in plan])
        now = self.runtime.clock()
        self.queue.send_all([Order(campaign["id"], lead, run_id, float(due)).body() for lead, due in plan],
                            sending.order_delays([float(due) for _, due in plan], now, BATCH))

    # -- completion -----------------------------------------------------------------------------
    def _drain(self, campaign: dict[str, Any], now: float, remaining_ms: Callable[[], int]) -> tuple[dict[str, Any], float]:
        """One stretch of a pass over the open recipients (at most DRAIN_BUDGET of them, so a tick's
        work does not grow with the campaign), triaging each; the pass goes on from its cursor in the
        next tick. A whole pass that found nothing open moves on to the summary: after the snapshot,
        recipients only ever leave the open index, so nothing can be open behind the cursor."""
        campaign_id, run_id = campaign["id"], campaign["runId"]
        state = json.loads(campaign.get("runDrain") or "{}")
        after, waiting = state.get("after", ""), Counter(state.get("waiting", {}))
        to_release, read, last_due = bool(state.get("release")), 0, float(state.get("lastDue", 0))
        for page in self.recipients.open_pages(campaign_id, after=after, page=sending.DRAIN_PAGE):
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
                    last_due = max(last_due, float(recipient.get("dueAt") or 0))
            if revive:
                self.recipients.revive(campaign_id, run_id, revive)
                to_release = True
            read += len(page)
            after = page[-1]["leadId"] if page else after
            if read >= sending.DRAIN_BUDGET or remaining_ms() < DRAIN_MARGIN_MS:  # the pass goes on in the next tick
                return {"runDrain": json.dumps({"after": after, "waiting": waiting, "release": to_release,
                                                "lastDue": last_due})}, now
        if to_release:
            return {"runPhase": Phase.RELEASE, "runCursor": "", "runDrain": ""}, now
        if waiting:  # slots still ahead: look again just after the last of them, not minutes later
            again = sending.DRAIN_CHECK_VERIFYING if waiting[sending.VERIFYING] else (
                min(sending.DRAIN_CHECK, last_due - now + AFTER_LAST_SLOT) if last_due > now else sending.DRAIN_CHECK)
            return {"runDrain": ""}, now + again
        return {"runPhase": Phase.SUMMARY, "runDrain": "", "runSummary": ""}, now

    def _summarize(self, campaign: dict[str, Any], now: float) -> tuple[dict[str, Any], float] | None:
        """Count the recipients by status, SUMMARY_PAGES reads per tick, then complete the campaign."""
        campaign_id = campaign["id"]
        state = json.loads(campaign.get("runSummary") or '{"counts": {}, "start": null}')
        counts, start = Counter(state["counts"]), state["start"]
        for _ in range(sending.SUMMARY_PAGES):
            page, start = self.recipients.count_statuses(campaign_id, start)
            counts.update(page)
            if start is None:
                break
        else:
            return {"runSummary": json.dumps({"counts": counts, "start": start}, sort_keys=True)}, now
        summary = dict(sorted(counts.items()))
        try:
            move = campaigns.transition(Action.COMPLETE)
            self.campaigns.update({"id": campaign_id}, {**move.values(iso(now)), "summary": summary, "waitReason": ""},
                                  status_in=move.allowed_from, expect={"runId": campaign["runId"], "runTick": campaign["runTick"]})
            logger.info("campaign completed", extra={"campaignId": campaign_id, "summary": summary})
        except ConditionFailed:
            pass  # paused or aborted meanwhile
        return None
