"""process-feedback: one SQS record = one SES notification; bad ones are logged, never retried.

Only authentic notifications are applied: an SNS Notification from this stage's topic whose
signature SNS made (pivotr.domain.sns), or, where the stage says its subscription uses raw delivery,
the bare SES JSON (unsigned: the queue policy is then the only guard). Anything else is logged
without its content, counted (metric RejectedFeedback, alarmed) and dropped: a forged complaint
must not suppress a lead, a forged Send must not mark a recipient sent.

Besides suppressing leads and counting events, it closes the sending loop: a Send event confirms a
recipient whose claim a crash left unconfirmed, and bounces or complaints may pause their campaign.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from pivotr import safejson
from pivotr.data.certificates import Certificates
from pivotr.data.dynamo import Table
from pivotr.data.feedback import FeedbackStore
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.domain import metrics, sending, sns
from pivotr.domain.campaigns import RUNNING
from pivotr.domain.feedback import FeedbackEvent, Unparseable, parse
from pivotr.env import FeedbackEnv
from pivotr.logs import Logger

logger = Logger()
REPUTATION_COUNTERS = frozenset({"bounced", "complained"})
REJECTED_METRIC = "RejectedFeedback"  # namespace from POWERTOOLS_METRICS_NAMESPACE (the stage's)


class FeedbackService:
    def __init__(self, env: FeedbackEnv, clock: Callable[[], float] = time.time,
                 certificates: Callable[[str], bytes] | None = None) -> None:
        self.clock = clock
        self.topics = frozenset(arn for arn in env.feedback_topic_arns.split(",") if arn)
        self.raw_delivery = env.feedback_raw_delivery == "true"
        self.certificates = certificates or Certificates()
        self.store = FeedbackStore(env.leads_table, env.logs_table, env.metrics_table)
        self.recipients = RecipientStore(env.recipients_table, env.campaigns_table, env.logs_table, env.metrics_table)
        self.suppression = SuppressionList(env.suppression_table)
        self.campaigns, self.metrics = Table(env.campaigns_table), Table(env.metrics_table, ("campaignId", "date"))

    def handle(self, body: str, sqs_message_id: str = "") -> str:
        """What happened: ``rejected``, ``unparseable``, ``duplicate`` or ``recorded``. AWS errors, and a
        signing certificate SNS could not serve, propagate (the message is retried)."""
        if self.raw_delivery:  # the bare SES JSON: parse() below bounds and reads it once
            message, event_id = body, ""
        else:
            try:
                envelope = safejson.loads(body, max_bytes=safejson.MAX_MESSAGE)
                notification = sns.authenticate(envelope, self.topics, self.certificates)
            except (safejson.Unreadable, sns.NotAuthentic) as error:
                return self.reject(str(error), sqs_message_id)
            message, event_id = notification.message, notification.message_id
        try:
            event = parse(message, event_id)
        except Unparseable as error:
            logger.error("unparseable SES feedback dropped", extra={"reason": str(error), "sqsMessageId": sqs_message_id})
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

    def reject(self, reason: str, sqs_message_id: str) -> str:
        """Never applied; logged with the reason only (the body may be anything, addresses included)."""
        logger.warning("feedback rejected: not an authentic notification of this stage's topic",
                       extra={"reason": reason, "sqsMessageId": sqs_message_id})
        with single_metric(name=REJECTED_METRIC, unit=MetricUnit.Count, value=1):
            pass
        return "rejected"

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
