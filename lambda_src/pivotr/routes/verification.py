"""verify-email: one SQS message = one lead to verify; a lead verified for a running campaign goes on to sending."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.queues import Queue
from pivotr.data.secrets import secret
from pivotr.data.verifier import Verifier
from pivotr.domain import verification
from pivotr.env import VerifyEnv
from pivotr.routes.common import now

logger = Logger()


class VerificationService:
    def __init__(self, env: VerifyEnv) -> None:
        self.leads, self.campaigns = Table(env.leads_table), Table(env.campaigns_table)
        self.sending = Queue(env.sending_queue_url)
        self.verifier = Verifier(env.verifier_base_url, lambda: secret(env.verifier_api_key_secret_arn))

    def handle(self, body: str) -> str:
        """What happened; verifier and AWS errors propagate, so SQS retries the message."""
        try:
            message: Any = json.loads(body)
            lead_id, campaign_id = message["leadId"], message.get("campaignId")
            if not isinstance(lead_id, str) or not (campaign_id is None or isinstance(campaign_id, str)):
                raise TypeError("leadId and campaignId must be strings")
        except (ValueError, TypeError, KeyError) as error:
            logger.error("unreadable verification message dropped", extra={"reason": str(error), "bodyStart": body[:300]})
            return "unreadable"
        outcome = self._verify(lead_id)
        if campaign_id:  # the campaign's recipient waits for this answer, whatever it is: send-email decides
            campaign = self.campaigns.get({"id": campaign_id})
            if campaign is not None and campaign["status"] == "running":
                self.sending.send_all([{"campaignId": campaign_id, "leadId": lead_id}])
                return f"{outcome}, handed to sending"
        return outcome

    def _verify(self, lead_id: str) -> str:
        lead = self.leads.get({"id": lead_id})
        if lead is None or lead["status"] not in verification.VERIFIABLE:
            return "skipped"  # deleted, verified already, or suppressed meanwhile
        status = verification.status_of(self.verifier.check(lead["email"]))
        try:
            self.leads.update({"id": lead_id}, {"status": status, "verifiedAt": now(), "updatedAt": now()},
                              status_in=verification.VERIFIABLE)
        except ConditionFailed:
            return "skipped"  # changed meanwhile (for example unsubscribed): keep that
        logger.info("lead verified", extra={"leadId": lead_id, "status": status})
        return status
