"""Routes of api-leads: /leads, /leads/{id}, /leads/{id}/history."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.domain import leads
from pivotr.env import LeadsEnv
from pivotr.errors import ApiError, conflict, not_found
from pivotr.http import create_app, json_body, query, respond
from pivotr.routes.common import listing, now
from pivotr.validation import path_id, query_choice

STATUS_INDEX = "status-index"
HISTORY_INDEX = "lead-index"


def build(env: LeadsEnv) -> APIGatewayHttpResolver:
    app = create_app()
    table, logs = Table(env.leads_table), Table(env.logs_table, ("campaignId", "timestamp"))

    def existing(id_: str) -> dict[str, Any]:
        lead = table.get({"id": path_id(id_)})
        if lead is None:
            raise not_found("lead", id_)
        return lead

    @app.post("/leads")
    def create() -> Response:
        lead = leads.new_lead(json_body(app), now())
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
            return listing(table, q, f"leads:{status}:{tag}", index=STATUS_INDEX, key=("status", status),
                           contains=("tags", tag) if tag else None)
        return listing(table, q, f"leads::{tag}", contains=("tags", tag) if tag else None)

    @app.get("/leads/<id>")
    def read(id: str) -> dict[str, Any]:
        return existing(id)

    @app.put("/leads/<id>")
    def update(id: str) -> dict[str, Any]:
        current = existing(id)
        try:
            return table.update({"id": current["id"]}, leads.changes(json_body(app), current, now()))
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
        return listing(logs, query(app), f"history:{lead['id']}", index=HISTORY_INDEX, key=("leadId", lead["id"]))

    @app.get("/unsubscribe")
    @app.post("/unsubscribe")
    def unsubscribe() -> Response:
        raise ApiError(501, "NOT_IMPLEMENTED", "Unsubscribe arrives with the sending pipeline")

    return app
