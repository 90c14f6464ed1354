"""Campaigns and templates: the use cases behind api-campaigns. No HTTP here: what goes wrong is a
domain error (pivotr.errors), which pivotr.http turns into its status."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.queues import NotQueued, Queue
from pivotr.domain import campaigns, templates
from pivotr.domain.campaigns import Action
from pivotr.env import CampaignsEnv
from pivotr.errors import Conflict, conflict, invalid, not_found, unavailable
from pivotr.ids import new_id
from pivotr.services import Body
from pivotr.timestamps import now

if TYPE_CHECKING:
    from pivotr.data.recipients import RecipientStore


class CampaignService:
    def __init__(self, env: CampaignsEnv) -> None:
        self.campaigns, self.templates = Table(env.campaigns_table), Table(env.templates_table)
        self.queue = Queue(env.sending_queue_url)
        self.env = env
        self.identity_domain = env.ses_identity_domain

    # -- campaigns ------------------------------------------------------------------------------
    def campaign(self, id_: str) -> dict[str, Any]:
        return campaigns.public(self._existing(self.campaigns, "campaign", id_))

    def create(self, body: Any) -> dict[str, Any]:
        campaign = campaigns.new_campaign(body, id_=new_id("cp"), now=now(), identity_domain=self.identity_domain)
        self._require_template(campaign["templateId"])
        self.campaigns.put_new(campaign)
        return campaign

    def edit(self, id_: str, body: Body) -> dict[str, Any]:
        self._existing(self.campaigns, "campaign", id_)
        values = campaigns.changes(body(), now=now(), identity_domain=self.identity_domain)
        if "templateId" in values:
            self._require_template(values["templateId"])
        try:
            return campaigns.public(self.campaigns.update({"id": id_}, values, status_in=campaigns.EDITABLE))
        except ConditionFailed:
            raise self._state_conflict(id_, "edit") from None

    def move(self, id_: str, action: Action) -> dict[str, Any]:
        """Start (or resume), pause or abort, as ``campaigns.TRANSITIONS`` allows."""
        campaign = self._existing(self.campaigns, "campaign", id_)
        move = campaigns.transition(action)
        allowed_from = move.allowed_from
        if action == Action.START and self.templates.get({"id": campaign["templateId"]}) is None:
            raise conflict("TEMPLATE_MISSING", f"Template {campaign['templateId']} no longer exists",
                           templateId=campaign["templateId"])
        values = move.values(now())
        if move.target == campaigns.RUNNING and campaign["status"] in allowed_from:
            # A new run (start or resume): it snapshots the audience as it is now. Its first tick is
            # queued before the run is committed, so a crash cannot leave a running campaign without
            # one; if the commit loses, that tick finds another run id and stops.
            values |= campaigns.new_run(campaign, run_id=new_id("run"))
            from pivotr.domain.sending import tick_message  # on the first start only (see recipients below)

            try:
                self.queue.send_all([tick_message(id_, values["runId"], 0)])
            except NotQueued:
                raise unavailable("The sending queue did not take the campaign's first step; nothing changed, try again") from None
            allowed_from = frozenset({campaign["status"]})  # the run's settings were read in it
        try:
            moved = self.campaigns.update({"id": id_}, values, status_in=allowed_from)
        except ConditionFailed:
            raise self._state_conflict(id_, action) from None
        if action == Action.PAUSE:  # claims check the status in their transaction: none is taken after this
            return {**campaigns.public(moved), "inFlight": self.recipients.in_flight(id_)}
        return campaigns.public(moved)

    @cached_property
    def recipients(self) -> RecipientStore:
        """Imported on the first pause, like the dispatcher's tick format on the first start: the sending
        engine's modules are about 14 ms of this function's cold start, and most requests (lists, reads,
        edits, templates) never need them."""
        from pivotr.data.recipients import RecipientStore

        return RecipientStore(self.env.recipients_table, self.env.campaigns_table, "", "")

    # -- templates ------------------------------------------------------------------------------
    def template(self, id_: str) -> dict[str, Any]:
        return self._existing(self.templates, "template", id_)

    def create_template(self, body: Any) -> dict[str, Any]:
        stamp = now()
        template = {**templates.validated(body), "id": new_id("tp"), "createdAt": stamp, "updatedAt": stamp}
        self.templates.put_new(template)
        return template

    def edit_template(self, id_: str, body: Body) -> dict[str, Any]:
        current = self.template(id_)
        values = templates.validated(body(), partial=True, current=current)
        try:
            return self.templates.update({"id": id_}, {**values, "updatedAt": now()})
        except ConditionFailed:
            raise not_found("template", id_) from None

    def delete_template(self, id_: str) -> None:
        self.template(id_)
        try:
            self.templates.delete({"id": id_})
        except ConditionFailed:
            raise not_found("template", id_) from None

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _existing(store: Table, what: str, id_: str) -> dict[str, Any]:
        item = store.get({"id": id_})
        if item is None:
            raise not_found(what, id_)
        return item

    def _require_template(self, template_id: str) -> None:
        if self.templates.get({"id": template_id}) is None:
            raise invalid([{"field": "templateId", "message": f"template {template_id} does not exist"}])

    def _state_conflict(self, id_: str, action: str) -> Conflict:
        current = self._existing(self.campaigns, "campaign", id_)
        return conflict("INVALID_STATE", f"Cannot {action} a campaign that is {current['status']}",
                        currentStatus=current["status"], action=str(action))
