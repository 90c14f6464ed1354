"""Routes of api-leads: /leads, /leads/{id}, /leads/{id}/history (the public /unsubscribe: api-unsubscribe)."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.suppression import SuppressionList
from pivotr.domain import leads
from pivotr.env import LeadsEnv
from pivotr.errors import conflict, invalid, not_found
from pivotr.http import create_app, json_body, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import listing, now, tokens
from pivotr.validation import path_id, query_choice

STATUS_INDEX = "status-index"
HISTORY_INDEX = "lead-index"


def build(env: LeadsEnv) -> APIGatewayHttpResolver:
    app = create_app()
    table, logs = Table(env.leads_table), Table(env.logs_table, ("campaignId", "timestamp"))
    suppression = SuppressionList(env.suppression_table)
    signer = tokens(env.unsubscribe_signing_key_secret_arn)

    def existing(id_: str) -> dict[str, Any]:
        lead = table.get({"id": path_id(id_)})
        if lead is None:
            raise not_found("lead", id_)
        return lead

    @app.post("/leads")
    def create() -> Response:
        lead = leads.new_lead(json_body(app), now())
        reason = suppression.reason_for(lead["id"])
        if reason:  # the address opted out, bounced or complained before: a new record cannot undo that
            lead["status"] = reason
        try:
            table.put_new(lead)
        except ConditionFailed:
            raise conflict("DUPLICATE_EMAIL", f"A lead with e-mail {lead['email']} exists", field="email",
                           existingId=lead["id"]) from None
        return respond(201, lead)

    @app.get("/leads")
    def list_leads() -> dict[str, Any]:
        q = query(app)
        status = query_choice(q, "status", frozenset(leads.STATUSES))
        tag = q.get("tag") or None
        if status:
            return listing(table, q, f"leads:{status}:{tag}", signer, index=STATUS_INDEX, key=("status", status),
                           contains=("tags", tag) if tag else None)
        return listing(table, q, f"leads::{tag}", signer, contains=("tags", tag) if tag else None)

    @app.get("/leads/<id>")
    def read(id: str) -> dict[str, Any]:
        return existing(id)

    @app.put("/leads/<id>")
    def update(id: str) -> dict[str, Any]:
        current = existing(id)
        values = leads.changes(json_body(app), current, now())
        status = values.get("status", current["status"])
        if status != current["status"] and current["status"] in leads.SUPPRESSION_REASONS:
            raise conflict("SUPPRESSED", f"The lead is {current['status']}: its address is on the suppression list "
                           "and is never mailed again", field="status", currentStatus=current["status"])
        if status != current["status"] and status in leads.FEEDBACK_ONLY:
            raise invalid([{"field": "status", "message": "bounced and complained are set by SES feedback only"}])
        if status != current["status"] and status == leads.UNSUBSCRIBED:  # an opt-out taken by hand
            suppression.add(current["id"], status, values["updatedAt"], current["email"])
        try:
            return table.update({"id": current["id"]}, values)
        except ConditionFailed:
            raise not_found("lead", id) from None

    @app.delete("/leads/<id>")
    def delete(id: str) -> Response:
        try:
            table.delete({"id": path_id(id)})
        except ConditionFailed:
            raise not_found("lead", id) from None
        return Response(status_code=204, content_type=None, body=None)

    @app.get("/leads/<id>/history")
    def history(id: str) -> dict[str, Any]:
        lead = existing(id)
        return listing(logs, query(app), f"history:{lead['id']}", signer, index=HISTORY_INDEX, key=("leadId", lead["id"]))

    return app
