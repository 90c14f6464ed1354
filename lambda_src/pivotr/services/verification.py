"""verify-email: one SQS message = one lead to verify. A lead verified for a campaign is handed back
to that campaign's release gate (its recipient goes from ``verifying`` to ``pending``), never to SES's
queue: the gate applies the start time, the window, the daily limit and the pacing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from pivotr import safejson
from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.recipients import RecipientStore
from pivotr.data.secrets import secret
from pivotr.data.verifier import TIMEOUT, Verifier
from pivotr.domain import verification
from pivotr.domain.leads import SUPPRESSED
from pivotr.env import VerifyEnv
from pivotr.logs import Logger
from pivotr.timestamps import now

logger = Logger()
CONCURRENCY = 10  # verifier calls in flight: a whole SQS batch at once, so slow answers do not add up
WRITE_MARGIN_MS = 2_000  # what the lead and recipient writes need after the last verifier answer
MIN_CALL_S = 1.0  # a verifier call given less time than this is not started: its message is retried


class VerificationService:
    def __init__(self, env: VerifyEnv) -> None:
        self.leads = Table(env.leads_table)
        self.recipients = RecipientStore(env.recipients_table, "", "", "")
        self.verifier = Verifier(env.verifier_base_url, lambda: secret(env.verifier_api_key_secret_arn))

    def handle_batch(self, records: list[dict[str, Any]], remaining_ms: Callable[[], int]) -> list[str]:
        """The message ids to retry. The batch's calls run side by side, each bounded by the time the
        invocation has left, and the batch returns before Lambda's timeout whatever the verifier's
        latency: a call still running then has its message retried (verifying again is harmless)."""
        budget = (remaining_ms() - WRITE_MARGIN_MS) / 1000
        if budget < MIN_CALL_S:
            return [r["messageId"] for r in records]
        pool = ThreadPoolExecutor(max_workers=CONCURRENCY)
        futures = {pool.submit(self.handle, str(r.get("body", "")), min(TIMEOUT, budget)): r["messageId"] for r in records}
        done, _ = wait(futures, timeout=budget)
        pool.shutdown(wait=False, cancel_futures=True)
        retry = []
        for future, message_id in futures.items():
            if future not in done or future.exception() is not None:
                if future in done:
                    logger.warning("verification retried", extra={"messageId": message_id, "reason": str(future.exception())})
                retry.append(message_id)
        return retry

    def handle(self, body: str, timeout: float = TIMEOUT) -> str:
        """What happened; verifier and AWS errors propagate, so SQS retries the message."""
        try:
            message: Any = safejson.loads(body, max_bytes=safejson.MAX_MESSAGE)
            lead_id, campaign_id = message["leadId"], message.get("campaignId")
            if not isinstance(lead_id, str) or not (campaign_id is None or isinstance(campaign_id, str)):
                raise TypeError("leadId and campaignId must be strings")
        except (ValueError, TypeError, KeyError) as error:  # safejson.Unreadable is a ValueError
            logger.error("unreadable verification message dropped", extra={"reason": type(error).__name__})
            return "unreadable"
        outcome, status = self._verify(lead_id, timeout)
        if campaign_id:  # the campaign's recipient waits for this answer: to the gate, or skipped if unusable
            usable = status is not None and status not in SUPPRESSED
            if self.recipients.hand_back(campaign_id, lead_id, usable, now()):
                return f"{outcome}, handed back to the campaign"
        return outcome

    def _verify(self, lead_id: str, timeout: float) -> tuple[str, str | None]:
        """What happened and the lead's status after it (None: the lead is gone)."""
        lead = self.leads.get({"id": lead_id})
        if lead is None:
            return "skipped", None
        if lead["status"] not in verification.VERIFIABLE:
            return "skipped", lead["status"]  # verified already, or suppressed meanwhile
        status = verification.status_of(self.verifier.check(lead["email"], timeout=timeout))
        try:
            self.leads.update({"id": lead_id}, {"status": status, "verifiedAt": now(), "updatedAt": now()},
                              status_in=verification.VERIFIABLE)
        except ConditionFailed:
            current = self.leads.get({"id": lead_id})
            return "skipped", current and current["status"]  # changed meanwhile (for example unsubscribed): keep that
        logger.info("lead verified", extra={"leadId": lead_id, "status": status})
        return status, status
