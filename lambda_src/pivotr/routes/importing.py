"""Routes of lead-import: POST /leads/import (small CSV or JSON, answered at once), and the jobs for
files of any size: POST/GET /imports (an upload to S3, processed by transfer-worker) and POST/GET
/exports (a CSV built by transfer-worker, downloaded from S3)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pivotr.domain import importing, jobs
from pivotr.domain.jobs import JobKind
from pivotr.env import ImportEnv
from pivotr.errors import TooLarge, not_found, unsupported_media_type
from pivotr.http import create_app, json_body, query, raw_body, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import DEFAULT_LIMIT, MAX_LIMIT, now, page_from, tokens
from pivotr.services.importing import ImportService
from pivotr.validation import path_id, query_choice, query_int

if TYPE_CHECKING:
    from pivotr.services.transfers import Transfers

ACCEPTED = ("text/csv", "application/json")


def build(env: ImportEnv) -> APIGatewayHttpResolver:
    app = create_app()
    service = ImportService(env)
    signer = tokens(env.unsubscribe_signing_key_secret_arn)

    @functools.cache
    def jobs_service() -> Transfers:
        """The jobs service, imported on the first /imports or /exports request: a cold start of
        POST /leads/import (the synchronous path) does not pay for it."""
        from pivotr.routes.transfers import transfers

        return transfers(env)

    @app.post("/leads/import")
    def import_leads() -> dict[str, Any]:
        content_type = (app.current_event.headers or {}).get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ACCEPTED:
            raise unsupported_media_type(" or ".join(ACCEPTED))
        q = query(app)
        on_duplicate = query_choice(q, "onDuplicate", frozenset({"skip", "update"})) or "skip"
        verify = query_choice(q, "verify", frozenset({"true", "false"})) == "true"
        try:
            body = raw_body(app, limit=importing.MAX_BYTES)
        except TooLarge:
            raise importing.too_many_rows() from None
        parsed = importing.parse(body, content_type, now())
        return service.run(parsed, on_duplicate=on_duplicate, verify=verify)

    @app.post("/imports")
    def new_import() -> Response:
        has_body = bool(app.current_event.body)
        return respond(201, jobs_service().new_import(jobs.import_options(json_body(app) if has_body else None)))

    @app.post("/exports")
    def new_export() -> Response:
        return respond(202, jobs_service().new_export(jobs.export_request(json_body(app))))

    @app.get("/imports")
    def list_imports() -> dict[str, Any]:
        return recent(JobKind.IMPORT)

    @app.get("/exports")
    def list_exports() -> dict[str, Any]:
        return recent(JobKind.EXPORT)

    @app.get("/imports/<id>")
    def get_import(id: str) -> dict[str, Any]:
        return one(JobKind.IMPORT, id)

    @app.get("/exports/<id>")
    def get_export(id: str) -> dict[str, Any]:
        return one(JobKind.EXPORT, id)

    def recent(kind: JobKind) -> dict[str, Any]:
        q = query(app)
        limit = query_int(q, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        start = signer.decode(q.get("nextToken"), f"{kind}s")
        items, last = page_from(start, lambda: jobs_service().jobs.recent(kind, limit, start))
        return {"items": [jobs.view(job) for job in items], "nextToken": signer.encode(last, f"{kind}s")}

    def one(kind: JobKind, id_: str) -> dict[str, Any]:
        service = jobs_service()
        job = service.jobs.get({"id": path_id(id_)})
        if job is None or job["kind"] != kind:
            raise not_found(f"{kind.capitalize()} job", id_)
        return service.describe(job)

    return app
