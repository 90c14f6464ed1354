"""process-feedback: one SQS record = one SES notification; bad ones are logged, never retried."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from pivotr.data.feedback import FeedbackStore
from pivotr.domain.feedback import Unparseable, parse
from pivotr.env import FeedbackEnv

logger = Logger()


class FeedbackService:
    def __init__(self, env: FeedbackEnv) -> None:
        self.store = FeedbackStore(env.leads_table, env.logs_table, env.metrics_table)

    def handle(self, body: str, sqs_message_id: str = "") -> str:
        """What happened: ``unparseable``, ``duplicate`` or ``recorded``. AWS errors propagate (retry)."""
        try:
            event = parse(body)
        except Unparseable as error:
            logger.error("unparseable SES feedback dropped", extra={"reason": str(error), "sqsMessageId": sqs_message_id,
                                                                    "bodyStart": body[:500]})
            return "unparseable"
        status = event.suppresses_as
        if status:  # before recording: a retry after a failure here re-applies it (idempotent)
            for lead in event.lead_ids:
                self.store.suppress(lead, status, event.timestamp)
        if not self.store.record_once(event):
            return "duplicate"
        logger.info("feedback recorded", extra={"kind": event.kind, "campaignId": event.campaign_id,
                                                 "messageId": event.message_id, "permanent": event.permanent})
        return "recorded"
