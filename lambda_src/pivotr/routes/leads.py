"""Routes of api-leads: /leads, /leads/{id}, /leads/{id}/history (the public /unsubscribe: api-unsubscribe).
HTTP in, HTTP out: the use cases are pivotr.services.leads."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import Table
from pivotr.domain import leads
from pivotr.env import LeadsEnv
from pivotr.http import create_app, json_body, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import listing, tokens
from pivotr.services.leads import LeadService
from pivotr.validation import path_id, query_choice

STATUS_INDEX = "status-index"
HISTORY_INDEX = "lead-index"


def build(env: LeadsEnv) -> APIGatewayHttpResolver:
    app = create_app()
    service = LeadService(env)
    logs = Table(env.logs_table, ("campaignId", "timestamp"))
    signer = tokens(env.unsubscribe_signing_key_secret_arn)

    @app.post("/leads")
    def create() -> Response:
        return respond(201, service.create(json_body(app)))

    @app.get("/leads")
    def list_leads() -> dict[str, Any]:
        q = query(app)
        status = query_choice(q, "status", frozenset(leads.STATUSES))
        tag = q.get("tag") or None
        if status:
            return listing(service.leads, q, f"leads:{status}:{tag}", signer, index=STATUS_INDEX, key=("status", status),
                           contains=("tags", tag) if tag else None)
        return listing(service.leads, q, f"leads::{tag}", signer, contains=("tags", tag) if tag else None)

    @app.get("/leads/<id>")
    def read(id: str) -> dict[str, Any]:
        return service.lead(path_id(id))

    @app.put("/leads/<id>")
    def update(id: str) -> dict[str, Any]:
        return service.edit(path_id(id), lambda: json_body(app))

    @app.delete("/leads/<id>")
    def delete(id: str) -> Response:
        service.delete(path_id(id))
        return Response(status_code=204, content_type=None, body=None)

    @app.get("/leads/<id>/history")
    def history(id: str) -> dict[str, Any]:
        lead = service.lead(path_id(id))
        return listing(logs, query(app), f"history:{lead['id']}", signer, index=HISTORY_INDEX, key=("leadId", lead["id"]))

    return app
