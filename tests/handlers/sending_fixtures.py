"""A whole mailer for sending tests: API, send-email and process-feedback on one clock (fixture in conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from simulator.clock import Clock
from simulator.event_source import LambdaQueue
from simulator.ses import FakeSes, send_event
from simulator.notifications import sns


@dataclass
class Mailer:
    """Handles on everything a sending test touches, all provisioned from the dev plan."""

    api: Any
    send_module: Any
    feedback_module: Any
    clock: Clock
    ses: FakeSes
    queue: LambdaQueue
    tables: dict[str, Any]
    identity_domain: str
    confirmed: int = 0  # accepted messages whose Send event was fed back
    stub: Any = None  # tests/ses_stub.SesStub, with the strict_mailer fixture
    faults: Any = None  # tests/handlers/faults.Faults, likewise

    @property
    def service(self):
        return self.send_module.service

    def add_leads(self, leads: list[dict[str, Any]]) -> None:
        with self.tables["leads"].batch_writer() as batch:
            for lead in leads:
                batch.put_item(Item={"tags": [], "customAttributes": {}, "createdAt": "2026-11-01T00:00:00.000Z",
                                     "updatedAt": "2026-11-01T00:00:00.000Z", **lead})

    def campaign(self, **fields: Any) -> str:
        template = self.api.post("/templates", {
            "name": "Intro", "subject": "Hello {{firstName | there}}",
            "html": "<p>Hi {{firstName | there}}, a note from us.</p>", "text": "Hi {{firstName | there}}"})
        assert template.status == 201, template.body
        body = {"name": "Launch", "templateId": template.body["id"], "fromEmail": f"outreach@{self.identity_domain}",
                "fromName": "Pivotr Team", "audience": {"statuses": ["valid"]},
                "pacing": {"minDelaySeconds": 0, "maxDelaySeconds": 0}, **fields}
        created = self.api.post("/campaigns", body)
        assert created.status == 201, created.body
        return created.body["id"]

    def sent_leads(self) -> list[str]:
        """The lead of every SendEmail request that reached SES (the stub), in order."""
        return [r.lead for r in self.stub.requests]

    def set_lead(self, lead_id: str, **values: Any) -> None:
        names = {f"#k{i}": k for i, k in enumerate(values)}
        self.tables["leads"].update_item(Key={"id": lead_id}, UpdateExpression="SET " + ", ".join(
            f"#k{i} = :v{i}" for i in range(len(values))), ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": v for i, v in enumerate(values.values())})

    def read(self, campaign_id: str) -> dict[str, Any]:
        return self.tables["campaigns"].get_item(Key={"id": campaign_id}, ConsistentRead=True)["Item"]

    def recipients(self, campaign_id: str) -> dict[str, dict[str, Any]]:
        items, args = [], {"KeyConditionExpression": boto3.dynamodb.conditions.Key("campaignId").eq(campaign_id)}
        while True:
            page = self.tables["recipients"].query(**args)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return {i["leadId"]: i for i in items}
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def totals(self, campaign_id: str) -> dict[str, int]:
        rows = self.tables["metrics"].query(
            KeyConditionExpression=boto3.dynamodb.conditions.Key("campaignId").eq(campaign_id))["Items"]
        totals: dict[str, int] = {}
        for row in rows:
            for key, value in row.items():
                if key not in ("campaignId", "date"):
                    totals[key] = totals.get(key, 0) + int(value)
        return totals

    def confirm_sends(self) -> None:
        """Feed SES's Send events for newly accepted messages to process-feedback (SNS-wrapped)."""
        accepted = [{**r.body, "MessageId": r.message_id} for r in self.stub.taken()] if self.stub else self.ses.accepted
        fresh = accepted[self.confirmed:]
        self.confirmed = len(accepted)
        stamp = self.service_time()
        for start in range(0, len(fresh), 10):
            bodies = [sns(send_event(sent, stamp), f"sns-{sent['MessageId']}") for sent in fresh[start:start + 10]]
            assert self.feedback(*bodies) == {"batchItemFailures": []}

    def feedback(self, *bodies: str) -> dict[str, Any]:
        from simulator.lambda_events import LambdaContext
        from simulator.notifications import sqs_event

        return self.feedback_module.handler(sqs_event(*bodies), LambdaContext())

    def service_time(self) -> str:
        from pivotr.domain.sending import iso

        return iso(self.clock())
