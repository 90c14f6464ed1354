"""process-feedback: one SQS record = one SES notification; bad ones are logged, never retried.

Besides suppressing leads and counting events, it closes the sending loop: a Send event confirms a
recipient whose claim a crash left unconfirmed, and bounces or complaints may pause their campaign.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger

from pivotr.data.dynamo import Table
from pivotr.data.feedback import FeedbackStore
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.domain import metrics, sending
from pivotr.domain.campaigns import RUNNING
from pivotr.domain.feedback import FeedbackEvent, Unparseable, parse
from pivotr.env import FeedbackEnv

logger = Logger()
REPUTATION_COUNTERS = frozenset({"bounced", "complained"})


class FeedbackService:
    def __init__(self, env: FeedbackEnv, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.store = FeedbackStore(env.leads_table, env.logs_table, env.metrics_table)
        self.recipients = RecipientStore(env.recipients_table, env.campaigns_table, env.logs_table, env.metrics_table)
        self.suppression = SuppressionList(env.suppression_table)
        self.campaigns, self.metrics = Table(env.campaigns_table), Table(env.metrics_table, ("campaignId", "date"))

    def handle(self, body: str, sqs_message_id: str = "") -> str:
        """What happened: ``unparseable``, ``duplicate`` or ``recorded``. AWS errors propagate (retry)."""
        try:
            event = parse(body)
        except Unparseable as error:
            logger.error("unparseable SES feedback dropped", extra={"reason": str(error)[:200], "sqsMessageId": sqs_message_id})
            return "unparseable"
        status = event.suppresses_as
        if status:  # before recording: a retry after a failure here re-applies it (idempotent)
            addresses = dict(zip(event.lead_ids, event.addresses)) if len(event.lead_ids) == len(event.addresses) else {}
            for lead in event.lead_ids:  # the list first: it outlives the lead record
                self.suppression.add(lead, status, event.timestamp, addresses.get(lead), event.campaign_id)
                self.store.suppress(lead, status, event.timestamp)
        if event.kind == "send" and event.campaign_id:
            for lead in event.lead_ids:  # idempotent too: only an unconfirmed or in-flight claim changes
                self.confirm(event, lead)
        if not self.store.record_once(event):
            return "duplicate"
        logger.info("feedback recorded", extra={"kind": event.kind, "campaignId": event.campaign_id,
                                                 "messageId": event.message_id, "permanent": event.permanent})
        if event.counter in REPUTATION_COUNTERS and event.campaign_id:
            self.check_reputation(event.campaign_id)
        return "recorded"

    def confirm(self, event: FeedbackEvent, lead_id: str) -> None:
        """SES took this e-mail. A recipient still claimed is marked, so whoever finds its claim dead knows
        it went out; an unconfirmed one becomes sent (and counted). One request when it was recorded already."""
        campaign_id = str(event.campaign_id)
        before = self.recipients.note_message(campaign_id, lead_id, event.message_id)
        if before == sending.UNCONFIRMED and self.recipients.confirm(campaign_id, lead_id, event.message_id, event.timestamp):
            logger.info("unconfirmed send confirmed by SES", extra={"campaignId": campaign_id, "leadId": lead_id})

    def check_reputation(self, campaign_id: str) -> None:
        """Pause the campaign when its bounce or complaint rate crossed its limit."""
        campaign = self.campaigns.get({"id": campaign_id})
        if campaign is None or campaign["status"] != RUNNING:
            return
        rows, _ = self.metrics.page(limit=metrics.MAX_DAYS, key=("campaignId", campaign_id), newest_first=False)
        reason = sending.pause_reason(campaign, metrics.summarize(rows)["totals"])
        if reason:
            now = self.clock()
            if self.recipients.pause(campaign_id, reason, now):
                logger.warning("campaign paused itself", extra={"campaignId": campaign_id, "reason": reason})
