"""Routes of api-campaigns: /campaigns (with start, pause, abort) and /templates."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.queues import NotQueued, Queue
from pivotr.data.recipients import RecipientStore
from pivotr.domain import campaigns, templates
from pivotr.domain.sending import tick_message
from pivotr.env import CampaignsEnv
from pivotr.errors import ApiError, conflict, invalid, not_found, unavailable
from pivotr.http import create_app, json_body, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import listing, new_id, now, tokens
from pivotr.validation import path_id

STAMPS = {"start": "startedAt", "pause": "pausedAt", "abort": "abortedAt"}


def build(env: CampaignsEnv) -> APIGatewayHttpResolver:
    app = create_app()
    table, template_table = Table(env.campaigns_table), Table(env.templates_table)
    queue = Queue(env.sending_queue_url)
    recipients = RecipientStore(env.recipients_table, env.campaigns_table, "", "")
    signer = tokens(env.unsubscribe_signing_key_secret_arn)

    def existing(store: Table, what: str, id_: str) -> dict[str, Any]:
        item = store.get({"id": path_id(id_)})
        if item is None:
            raise not_found(what, id_)
        return item

    def require_template(template_id: str) -> None:
        if template_table.get({"id": template_id}) is None:
            raise invalid([{"field": "templateId", "message": f"template {template_id} does not exist"}])

    def state_conflict(id_: str, action: str) -> ApiError:
        current = existing(table, "campaign", id_)
        return conflict("INVALID_STATE", f"Cannot {action} a campaign that is {current['status']}",
                        currentStatus=current["status"], action=action)

    # -- campaigns ------------------------------------------------------------------------------
    @app.post("/campaigns")
    def create() -> Response:
        campaign = campaigns.new_campaign(json_body(app), id_=new_id("cp"), now=now(),
                                          identity_domain=env.ses_identity_domain)
        require_template(campaign["templateId"])
        table.put_new(campaign)
        return respond(201, campaign)

    @app.get("/campaigns")
    def list_campaigns() -> dict[str, Any]:
        page = listing(table, query(app), "campaigns", signer)
        return {**page, "items": [campaigns.public(c) for c in page["items"]]}

    @app.get("/campaigns/<id>")
    def read(id: str) -> dict[str, Any]:
        return campaigns.public(existing(table, "campaign", id))

    @app.put("/campaigns/<id>")
    def update(id: str) -> dict[str, Any]:
        existing(table, "campaign", id)
        values = campaigns.changes(json_body(app), now=now(), identity_domain=env.ses_identity_domain)
        if "templateId" in values:
            require_template(values["templateId"])
        try:
            return campaigns.public(table.update({"id": id}, values, status_in=campaigns.EDITABLE))
        except ConditionFailed:
            raise state_conflict(id, "edit") from None

    def move(id_: str, action: str) -> dict[str, Any]:
        campaign = existing(table, "campaign", id_)
        allowed_from, target = campaigns.transition(action)
        if action == "start" and template_table.get({"id": campaign["templateId"]}) is None:
            raise conflict("TEMPLATE_MISSING", f"Template {campaign['templateId']} no longer exists",
                           templateId=campaign["templateId"])
        stamp = now()
        values = {"status": target, "updatedAt": stamp, STAMPS[action]: stamp}
        if target == campaigns.RUNNING and campaign["status"] in allowed_from:
            # A new run (start or resume): it snapshots the audience as it is now. Its first tick is
            # queued before the run is committed, so a crash cannot leave a running campaign without
            # one; if the commit loses, that tick finds another run id and stops.
            values |= campaigns.new_run(campaign, run_id=new_id("run"))
            try:
                queue.send_all([tick_message(id_, values["runId"], 0)])
            except NotQueued:
                raise unavailable("The sending queue did not take the campaign's first step; nothing changed, try again") from None
            allowed_from = frozenset({campaign["status"]})  # the run's settings were read in it
        try:
            moved = table.update({"id": id_}, values, status_in=allowed_from)
        except ConditionFailed:
            raise state_conflict(id_, action) from None
        if action == "pause":  # claims check the status in their transaction: none is taken after this
            return {**campaigns.public(moved), "inFlight": recipients.in_flight(id_)}
        return campaigns.public(moved)

    @app.post("/campaigns/<id>/start")
    def start(id: str) -> dict[str, Any]:
        return move(id, "start")

    @app.post("/campaigns/<id>/pause")
    def pause(id: str) -> dict[str, Any]:
        return move(id, "pause")

    @app.post("/campaigns/<id>/abort")
    def abort(id: str) -> dict[str, Any]:
        return move(id, "abort")

    # -- templates ------------------------------------------------------------------------------
    @app.post("/templates")
    def create_template() -> Response:
        values = templates.validated(json_body(app))
        stamp = now()
        template = {**values, "id": new_id("tp"), "createdAt": stamp, "updatedAt": stamp}
        template_table.put_new(template)
        return respond(201, template)

    @app.get("/templates")
    def list_templates() -> dict[str, Any]:
        return listing(template_table, query(app), "templates", signer)

    @app.get("/templates/<id>")
    def read_template(id: str) -> dict[str, Any]:
        return existing(template_table, "template", id)

    @app.put("/templates/<id>")
    def update_template(id: str) -> dict[str, Any]:
        current = existing(template_table, "template", id)
        values = templates.validated(json_body(app), partial=True, current=current)
        try:
            return template_table.update({"id": id}, {**values, "updatedAt": now()})
        except ConditionFailed:
            raise not_found("template", id) from None

    @app.delete("/templates/<id>")
    def delete_template(id: str) -> Response:
        existing(template_table, "template", id)
        try:
            template_table.delete({"id": id})
        except ConditionFailed:
            raise not_found("template", id) from None
        return Response(status_code=204, content_type=None, body=None)

    return app
