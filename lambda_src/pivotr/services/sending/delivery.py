"""Delivery: one campaign's e-mails of a batch, through explicit states.

    prepare (no claim yet: campaign, template, leads, suppression, signing key, rendering)
      -> claim (one transaction: released -> sending, only while the campaign runs the same run)
      -> deliver (each at its slot, which it waits for: at most one SendEmail request per claim, only
         while the wait and one worst-case call still fit)
      -> record (one transaction: outcomes, logs, counters; claims not attempted go back to released)

Only an answer that proves SES did not take the message releases a claim (throttling: the send gets
a new slot in the account's rate book and a new message, so a throttle never counts toward the DLQ)
or fails the recipient (a refusal about this recipient); a refusal about the account pauses the campaign; every
ambiguous outcome (timeout, reset, 5xx) is recorded ``unconfirmed`` and never sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pivotr.data.dynamo import Read, Table, get_together
from pivotr.data.mailer import AccountRefused, Mailer, Rejected, Throttled
from pivotr.data.queues import BATCH, Queue
from pivotr.data.rate import RateLedger
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.domain import sending, unsubscribe
from pivotr.domain.campaigns import RUNNING
from pivotr.domain.rate import QUOTA_RECHECK, THROTTLE_BACKOFF
from pivotr.domain.sending import (
    FAILED,
    SENT,
    UNCONFIRMED,
    Email,
    Order,
    iso,
    log_entry,
)
from pivotr.logs import Logger
from pivotr.services.sending.runtime import Runtime

logger = Logger()
CACHED = 31  # campaigns and templates kept per container (plus the newest)
RECORD_MARGIN_MS = 3_000  # what recording the outcomes needs after the last SES call


@dataclass
class Batch:
    """What one campaign's part of a batch has come to: the lead ids to retry (their messages stay)."""

    retry: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)


class Delivery:
    def __init__(self, runtime: Runtime, *, campaigns: Table, templates: Table, leads: Table,
                 suppression: SuppressionList, recipients: RecipientStore, queue: Queue, mailer: Mailer,
                 rate: RateLedger, signing_key: Callable[[], bytes], unsubscribe_base_url: str) -> None:
        self.runtime, self.campaigns, self.templates, self.leads = runtime, campaigns, templates, leads
        self.suppression, self.recipients, self.queue, self.mailer = suppression, recipients, queue, mailer
        self.rate = rate
        self.signing_key, self.unsubscribe_base_url = signing_key, unsubscribe_base_url
        self._campaign_cache: dict[str, dict[str, Any]] = {}
        self._template_cache: dict[str, dict[str, Any]] = {}

    def send(self, campaign_id: str, orders: list[Order], remaining_ms: Callable[[], int]) -> list[str]:
        """Send one campaign's e-mails; returns the lead ids whose messages are to be retried.

        The campaign and its template are cached per container: the claim transaction checks that the
        campaign still runs the same run (its settings change only while paused, and a resume starts a
        new run) and that the template's ``updatedAt`` is the one cached, so a stale cache cannot send."""
        now = self.runtime.clock()
        for attempt in range(2):
            fresh = attempt > 0
            campaign = self._campaign(campaign_id, fresh=fresh or any(o.run_id != self._cached_run(campaign_id) for o in orders))
            if campaign is None or campaign["status"] != RUNNING:
                # Paused or finished: the messages are done. A resume snapshots again and releases anew.
                logger.info("sends held", extra={"campaignId": campaign_id, "count": len(orders),
                                                 "status": campaign and campaign["status"]})
                return []
            current = [o for o in orders if o.run_id == campaign["runId"]]
            if len(current) < len(orders):
                logger.info("messages of an earlier run dropped", extra={"campaignId": campaign_id,
                                                                         "count": len(orders) - len(current)})
            if not current:
                return []
            template = self._template(campaign["templateId"], fresh=fresh)
            if template is None:
                self.pause(campaign_id, f"template {campaign['templateId']} was deleted", now)
                return []
            if not sending.in_window(campaign, max([now, *(o.due for o in current)])):  # at its slot, not its early arrival
                delay = sending.wake_delay(sending.next_window_open(campaign, now), self.runtime.clock())
                self.queue.send_all([o.body() for o in current], [delay] * len(current))
                return []
            if attempt == 0:
                key = self._signing_key(campaign_id, now)
                if key is None:
                    return []
                batch, emails = self._prepare(campaign, template, key, sorted({o.lead_id for o in current}), now)
            else:  # the template changed: render again with the fresh one
                batch, emails = self._prepare(campaign, template, key, list(emails), now, skip_checks=True, batch=batch)
            token = uuid.uuid4().hex
            claimed, stale = self.recipients.claim(campaign, template, list(emails), token, now) if emails else ([], None)
            if stale is None:
                break
        else:
            return [o.lead_id for o in orders]  # changed twice in a row: try again later
        batch.retry += self._unclaimed(campaign, [lead for lead in emails if lead not in claimed], now)
        dues = {o.lead_id: o.due for o in current}
        in_order = sorted(claimed, key=lambda lead: dues.get(lead, 0.0))
        self._deliver(campaign, {lead: emails[lead] for lead in in_order}, dues, token, now, remaining_ms, batch)
        return batch.retry

    # -- prepare: everything that can fail happens before the claim -----------------------------
    def _signing_key(self, campaign_id: str, now: float) -> bytes | None:
        """The unsubscribe signing key; a secret with no value yet, or a value that is no key, pauses the
        campaign (every e-mail needs its link), a passing error propagates (the messages are retried)."""
        try:
            return self.signing_key()
        except ValueError as error:  # KeyRing.parse: the value is neither a key nor a key ring
            self.pause(campaign_id, f"{error} (put it again with make secret, then resume)", now)
            return None
        except Exception as error:
            if "ResourceNotFoundException" not in str(error):
                raise
            self.pause(campaign_id, "the unsubscribe signing key secret has no value (set it, then resume)", now)
            return None

    def _prepare(self, campaign: dict[str, Any], template: dict[str, Any], key: bytes, lead_ids: list[str], now: float, *,
                 skip_checks: bool = False, batch: Batch | None = None) -> tuple[Batch, dict[str, Email | str]]:
        """The rendered e-mail of each lead that may get one (or why it cannot be rendered); leads that
        must not get it (deleted, suppressed) are skipped here, before anything is claimed."""
        batch = batch or Batch()
        campaign_id = campaign["id"]
        reads = [Read(self.leads, [{"id": lead} for lead in lead_ids])]
        if not skip_checks:
            reads.append(self.suppression.read(lead_ids))
        found = get_together(*reads)  # one request for a batch's leads and their suppression entries
        leads = {lead["id"]: lead for lead in found[0]}
        suppressed = self.suppression.reasons_in(found[1]) if not skip_checks else {}
        emails: dict[str, Email | str] = {}
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            reason = sending.skip_reason(lead) or (f"address {suppressed[lead_id]}" if lead_id in suppressed else None)
            if reason:
                if self.recipients.skip(campaign_id, campaign["runId"], lead_id, reason, iso(now)):
                    batch.logs.append(log_entry(campaign_id, lead_id, "skipped", now, reason=reason))
                continue
            assert lead is not None
            link = unsubscribe.link(self.unsubscribe_base_url, unsubscribe.Subscription(lead_id, campaign_id), key)
            try:
                emails[lead_id] = sending.compose(campaign, template, lead, link)
            except Exception as error:  # a template this lead cannot fill: failed under the claim, never sent
                emails[lead_id] = f"render: {error}"[:300]
        return batch, emails

    # -- deliver and record ---------------------------------------------------------------------
    def _deliver(self, campaign: dict[str, Any], emails: dict[str, Email | str], dues: dict[str, float], token: str,
                 now: float, remaining_ms: Callable[[], int], batch: Batch) -> None:
        """Each claimed e-mail at its slot, in slot order (the slots of all campaigns are spaced by the
        account's rate, ``domain.rate``; the message arrived up to a second early)."""
        campaign_id = campaign["id"]
        unused = list(emails)
        base = {"claimToken": token, "claimedAt": int(now), "doneAt": iso(now)}
        worst_case = self.mailer.timeouts.worst_case_ms + RECORD_MARGIN_MS
        try:
            while unused:
                wait = max(0.0, dues.get(unused[0], 0.0) - self.runtime.clock())
                if remaining_ms() < worst_case + wait * 1000:
                    break  # the rest go back untouched
                if wait:
                    self.runtime.sleep(wait)
                lead_id = unused.pop(0)
                email = emails[lead_id]
                outcome = {**base, "campaignId": campaign_id, "leadId": lead_id}
                if isinstance(email, str):
                    batch.outcomes.append({**outcome, "status": FAILED, "reason": email})
                    batch.logs.append(log_entry(campaign_id, lead_id, "failed", now, reason="could not render"))
                    continue
                try:
                    message_id = self.mailer.send(email)
                except Throttled as error:
                    logger.warning("SES did not take the e-mail now; sent again later", extra={
                        "campaignId": campaign_id, "leadId": lead_id, "reason": str(error)})
                    unused.insert(0, lead_id)
                    unused = self._again(campaign, token, unused, error.daily, batch)  # SES is saturated: the rest too
                    break
                except AccountRefused as error:
                    unused.insert(0, lead_id)
                    self.pause(campaign_id, f"SES refused sending for the account: {error}", now)
                    break  # the rest go back to released; the resume's snapshot takes them over
                except Rejected as error:
                    batch.outcomes.append({**outcome, "status": FAILED, "reason": str(error)})
                    batch.logs.append(log_entry(campaign_id, lead_id, "failed", now, reason=str(error)))
                except Exception as error:  # Unknown: it may have reached SES
                    logger.error("SES answer lost; left for reconciliation", extra={"campaignId": campaign_id, "leadId": lead_id})
                    batch.outcomes.append({**outcome, "status": UNCONFIRMED, "reason": f"answer lost: {error}"[:300]})
                else:
                    batch.outcomes.append({**outcome, "status": SENT, "messageId": message_id})
                    batch.logs.append(log_entry(campaign_id, lead_id, "sent", now, messageId=message_id))
            else:
                batch.retry += unused  # out of time: their messages come back
        finally:  # also when the loop raised: what was attempted is recorded, what was not is handed back
            self.recipients.unclaim(campaign_id, token, unused)
            self.recipients.record(campaign_id, token, batch.outcomes, batch.logs, iso(now)[:10])

    def _again(self, campaign: dict[str, Any], token: str, lead_ids: list[str], daily: bool, batch: Batch) -> list[str]:
        """Sends SES throttled anyway: each gets a new slot in the rate book (after a back-off, or once
        the 24-hour window may have rolled), is released at it, and a new message is queued for it, so
        the message that brought it is done and the throttle never counts toward the DLQ. Returns the
        claims left to hand back as they were (whose messages are retried) when that fails."""
        clock = self.runtime.clock()
        earliest = clock + (QUOTA_RECHECK if daily else THROTTLE_BACKOFF)
        try:
            positions = self.rate.reserve(len(lead_ids), earliest, clock, sending.HORIZON)
        except Exception:  # the book is out of reach: the messages come back through SQS instead
            logger.exception("no new slot for throttled sends; their messages are retried", extra={"campaignId": campaign["id"]})
            batch.retry += lead_ids
            return lead_ids
        # beyond the quota or the horizon, a send waits SQS's longest delay and is placed when it comes back
        dues = {lead: positions[i] if i < len(positions) else clock + sending.HORIZON for i, lead in enumerate(lead_ids)}
        self.recipients.unclaim(campaign["id"], token, lead_ids, dues)
        now = self.runtime.clock()
        self.queue.send_all([Order(campaign["id"], lead, campaign["runId"], due).body() for lead, due in dues.items()],
                            sending.order_delays(list(dues.values()), now, BATCH))
        return []

    def _unclaimed(self, campaign: dict[str, Any], lead_ids: list[str], now: float) -> list[str]:
        """Leads whose claim failed. One claimed elsewhere moments ago may be retried later (another
        delivery of the same message may fail and hand it back); one whose slot has not come (an order
        that arrived early) waits for it; anything else is finished."""
        if not lead_ids:
            return []
        found = self.recipients.of(campaign["id"], lead_ids)
        early = [(lead, float(r["dueAt"])) for lead, r in found.items() if r.get("status") == sending.RELEASED
                 and r.get("run") == campaign["runId"] and float(r.get("dueAt", 0)) > now + sending.EARLY]
        if early:
            clock = self.runtime.clock()
            self.queue.send_all([Order(campaign["id"], lead, campaign["runId"], due).body() for lead, due in early],
                                [sending.order_delay(due, clock) for _, due in early])
        return [lead for lead in lead_ids if found.get(lead, {}).get("status") == sending.SENDING
                and now - found[lead].get("claimedAt", now) < sending.STALE_CLAIM]

    # -- caches ---------------------------------------------------------------------------------
    def _cached_run(self, campaign_id: str) -> str | None:
        return (self._campaign_cache.get(campaign_id) or {}).get("runId")

    def _campaign(self, campaign_id: str, *, fresh: bool) -> dict[str, Any] | None:
        if fresh or campaign_id not in self._campaign_cache:
            campaign = self.campaigns.get({"id": campaign_id})
            if campaign is None or campaign["status"] != RUNNING:
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

    def pause(self, campaign_id: str, reason: str, now: float) -> bool:
        paused = self.recipients.pause(campaign_id, reason, now)
        if paused:
            logger.warning("campaign paused itself", extra={"campaignId": campaign_id, "reason": reason})
        return paused
