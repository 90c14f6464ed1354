"""The sending engine (send-email): dispatch ticks run each campaign; orders deliver its e-mails.

The sending queue carries two kinds of message (``domain.sending.read_message``):

- ``Tick`` ``{"campaignId", "runId", "tick"}``: a step of a running campaign (see dispatch.py);
- ``Order`` ``{"campaignId", "leadId", "runId"}``: one released e-mail (see delivery.py). An order of
  a run that is no longer the campaign's is dropped, so a resume can never double the pace.

docs/sending.md describes the states and the guarantees.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pivotr.data.dynamo import Table
from pivotr.data.mailer import Mailer
from pivotr.data.queues import Queue
from pivotr.data.rate import RateLedger
from pivotr.data.recipients import RecipientStore
from pivotr.data.suppression import SuppressionList
from pivotr.data.unsubscribe import signing_key
from pivotr.domain.sending import Order, Tick, read_message
from pivotr.env import SendEnv
from pivotr.logs import Logger
from pivotr.services.sending.delivery import Delivery
from pivotr.services.sending.dispatch import Dispatcher
from pivotr.services.sending.runtime import Runtime

logger = Logger()


class SendingService:
    def __init__(self, env: SendEnv, runtime: Runtime | None = None) -> None:
        self.env, self.runtime = env, runtime or Runtime()
        campaigns, leads = Table(env.campaigns_table), Table(env.leads_table)
        suppression = SuppressionList(env.suppression_table)
        recipients = RecipientStore(env.recipients_table, env.campaigns_table, env.logs_table, env.metrics_table,
                                    env.templates_table)
        self.queue, self.verification = Queue(env.sending_queue_url), Queue(env.verification_queue_url)
        self.mailer = Mailer(env.ses_configuration_set)
        # the account's SES quota is read through whichever mailer is in use (tests point it at a stub)
        self.rate = RateLedger(env.settings_table, env.ses_quota_share, lambda now: self.mailer.quota(now))
        self.dispatcher = Dispatcher(self.runtime, campaigns=campaigns, leads=leads, suppression=suppression,
                                     recipients=recipients, queue=self.queue, verification=self.verification, rate=self.rate)
        self.delivery = Delivery(self.runtime, campaigns=campaigns, templates=Table(env.templates_table), leads=leads,
                                 suppression=suppression, recipients=recipients, queue=self.queue, mailer=self.mailer,
                                 rate=self.rate,
                                 signing_key=lambda: signing_key(env.unsubscribe_signing_key_secret_arn),
                                 unsubscribe_base_url=env.unsubscribe_base_url)

    # tests and the demo drive time and pacing
    @property
    def clock(self) -> Callable[[], float]:
        return self.runtime.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.runtime.clock = clock

    @property
    def rng(self) -> random.Random:
        return self.runtime.rng

    @rng.setter
    def rng(self, rng: random.Random) -> None:
        self.runtime.rng = rng

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.runtime.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], None]) -> None:
        self.runtime.sleep = sleep

    def use_mailer(self, mailer: Mailer) -> None:
        """Send through ``mailer`` (tests point one at a stub endpoint with short timeouts)."""
        self.mailer = self.delivery.mailer = mailer

    def handle(self, records: list[dict[str, Any]], remaining_ms: Callable[[], int]) -> list[str]:
        """The SQS message ids to retry (partial batch response); every other record is done."""
        orders: dict[str, dict[Order, list[str]]] = defaultdict(lambda: defaultdict(list))  # campaign -> order -> ids
        retry: list[str] = []
        for record in records:
            message = read_message(str(record.get("body", "")))
            if isinstance(message, Tick):
                try:
                    self.dispatcher.tick(message, record["messageId"], remaining_ms)
                except Exception:  # an AWS outage, a message not queued: the tick comes back
                    logger.exception("dispatch tick failed; retried", extra={"campaignId": message.campaign_id})
                    retry.append(record["messageId"])
            elif isinstance(message, Order):
                orders[message.campaign_id][message].append(record["messageId"])
            else:
                logger.error("unreadable sending message dropped", extra={"messageId": record.get("messageId")})
        for campaign_id, copies in orders.items():
            try:
                again = set(self.delivery.send(campaign_id, list(copies), remaining_ms))
            except Exception:  # claims not yet used were handed back: retry the campaign's messages
                logger.exception("sending failed; the campaign's messages are retried", extra={"campaignId": campaign_id})
                again = {order.lead_id for order in copies}
            retry += [message_id for order, ids in copies.items() if order.lead_id in again for message_id in ids]
        return retry
