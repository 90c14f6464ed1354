"""Routes of api-campaigns: /campaigns (with start, pause, abort) and /templates. HTTP in, HTTP out:
the use cases are pivotr.services.campaigns."""

from __future__ import annotations

from typing import Any

from pivotr.domain import campaigns
from pivotr.domain.campaigns import Action
from pivotr.env import CampaignsEnv
from pivotr.http import create_app, json_body, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import listing, tokens
from pivotr.services.campaigns import CampaignService
from pivotr.validation import path_id


def build(env: CampaignsEnv) -> APIGatewayHttpResolver:
    app = create_app()
    service = CampaignService(env)
    signer = tokens(env.unsubscribe_signing_key_secret_arn)

    @app.post("/campaigns")
    def create() -> Response:
        return respond(201, service.create(json_body(app)))

    @app.get("/campaigns")
    def list_campaigns() -> dict[str, Any]:
        page = listing(service.campaigns, query(app), "campaigns", signer)
        return {**page, "items": [campaigns.public(c) for c in page["items"]]}

    @app.get("/campaigns/<id>")
    def read(id: str) -> dict[str, Any]:
        return service.campaign(path_id(id))

    @app.put("/campaigns/<id>")
    def update(id: str) -> dict[str, Any]:
        return service.edit(path_id(id), lambda: json_body(app))

    @app.post("/campaigns/<id>/start")
    def start(id: str) -> dict[str, Any]:
        return service.move(path_id(id), Action.START)

    @app.post("/campaigns/<id>/pause")
    def pause(id: str) -> dict[str, Any]:
        return service.move(path_id(id), Action.PAUSE)

    @app.post("/campaigns/<id>/abort")
    def abort(id: str) -> dict[str, Any]:
        return service.move(path_id(id), Action.ABORT)

    @app.post("/templates")
    def create_template() -> Response:
        return respond(201, service.create_template(json_body(app)))

    @app.get("/templates")
    def list_templates() -> dict[str, Any]:
        return listing(service.templates, query(app), "templates", signer)

    @app.get("/templates/<id>")
    def read_template(id: str) -> dict[str, Any]:
        return service.template(path_id(id))

    @app.put("/templates/<id>")
    def update_template(id: str) -> dict[str, Any]:
        return service.edit_template(path_id(id), lambda: json_body(app))

    @app.delete("/templates/<id>")
    def delete_template(id: str) -> Response:
        service.delete_template(path_id(id))
        return Response(status_code=204, content_type=None, body=None)

    return app
