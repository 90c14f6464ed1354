#!/usr/bin/env python3
"""Source of docs/openapi.json: `make openapi` writes it; tests check the two are equal.

Written in Python to keep the schemas short; the JSON file is the document clients use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
# The request and response schemas come from the field specs the validator enforces (one source).
from pivotr.domain import campaigns, jobs, leads, metrics, templates  # noqa: E402
from pivotr.domain.rate import WaitReason  # noqa: E402
from pivotr.validation import object_schema, schema_object  # noqa: E402

from modules.routes import PUBLIC_ROUTES  # noqa: E402 (which operations need no JWT: declared once, there)

OUT = Path(__file__).with_name("openapi.json")
STATUSES = list(leads.STATUSES)
CAMPAIGN_STATES = list(campaigns.CampaignStatus)
WAIT_REASONS = list(WaitReason)
JOB_STATES = list(jobs.JobStatus)
COUNTERS = list(metrics.COUNTERS)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def s(type_: str, **kw: Any) -> dict[str, Any]:
    return {"type": type_, **kw}


STRING = s("string")
NULLABLE = {**STRING, "nullable": True}
TIME = s("string", format="date-time")
ID = s("string", pattern="^[A-Za-z0-9_-]{1,64}$")
TAGS = s("array", items=s("string", maxLength=64), maxItems=50)


obj = schema_object


def page_of(item: str) -> dict[str, Any]:
    return obj({"items": s("array", items=ref(item)), "nextToken": NULLABLE}, ["items", "nextToken"])


def request(fields: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """A request body's schema: exactly what ``validate(body, fields, partial=...)`` reads."""
    return object_schema(fields, partial=partial)


LIMITS = frozenset({"pattern", "maxLength", "maxItems", "maxProperties", "minimum", "maximum", "exclusiveMinimum"})


def shape(schema: Any) -> Any:
    """A schema without the requests' limits: answers show what is stored, and imports store what a file
    holds (a tag of any characters, a first name of 200), which the API's own requests would refuse."""
    if isinstance(schema, dict):
        return {k: shape(v) for k, v in schema.items() if k not in LIMITS}
    return schema


def answer(fields: dict[str, Any], extra: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """An answer's schema: the stored fields' types and values as the requests define them, plus what
    the server adds."""
    schema = shape(object_schema(fields, closed=False))
    return obj({**schema["properties"], **extra}, required)


RECIPIENT_COUNTS = {**obj({k: s("integer", minimum=0) for k in ("sent", "skipped", "failed", "unconfirmed")}, closed=True),
                    "description": "Recipients by outcome when the campaign completed; unconfirmed = claimed by a "
                                   "send that crashed before SES confirmed it (never re-sent)"}
STAMPS = {"id": ID, "createdAt": TIME, "updatedAt": TIME}

SCHEMAS = {
    "Error": obj({"error": obj({"code": STRING, "message": STRING, "details": s("array", items=s("object"))},
                              ["code", "message", "details"])}, ["error"]),
    "Health": obj({"status": s("string", enum=["ok"])}, ["status"]),
    "LeadInput": request(leads.FIELDS),
    "LeadUpdate": request(leads.FIELDS, partial=True),
    "Lead": answer(leads.FIELDS, STAMPS, ["id", "email", "status", "tags", "customAttributes", "createdAt", "updatedAt"]),
    "LeadPage": page_of("Lead"),
    "LogEntry": obj({"campaignId": STRING, "timestamp": STRING, "leadId": STRING, "event": STRING}, ["campaignId", "timestamp"]),
    "LogPage": page_of("LogEntry"),
    "TemplateInput": request(templates.FIELDS),
    "TemplateUpdate": request(templates.FIELDS, partial=True),
    "Template": answer(templates.FIELDS, STAMPS, ["id", "name", "subject", "createdAt", "updatedAt"]),
    "TemplatePage": page_of("Template"),
    "CampaignInput": request(campaigns.FIELDS),
    "CampaignUpdate": request(campaigns.FIELDS, partial=True),
    "Campaign": answer(campaigns.FIELDS, {**STAMPS, "status": s("string", enum=CAMPAIGN_STATES),
                     "startedAt": TIME, "pausedAt": TIME, "abortedAt": TIME, "completedAt": TIME,
                     "audienceSize": s("integer", minimum=0, description="Recipients in the snapshot taken at start"),
                     "pauseReason": {**NULLABLE, "description": "Why the campaign paused itself (bounce or complaint "
                                                                "rate, a deleted template, SES refusing the account)"},
                     "waitReason": s("string", enum=WAIT_REASONS, description=(
                         "Only while running: why the campaign is sending nothing right now (its start time, "
                         "window or daily limit; the account's SES rate held by other campaigns; SES's "
                         "24-hour quota used up, until its window rolls)")),
                     "inFlight": s("integer", minimum=0, description="Only in a pause's answer: e-mails claimed "
                                   "before the pause, which may still reach SES; nothing is claimed after it"),
                     "summary": RECIPIENT_COUNTS},
                       ["id", "name", "templateId", "fromEmail", "audience", "status", "pacing", "dailyLimit", "createdAt", "updatedAt"]),
    "CampaignPage": page_of("Campaign"),
    "ImportReport": obj({
        "received": s("integer"), "imported": s("integer"), "updated": s("integer"),
        "duplicates": obj({"inFile": s("integer"), "existing": s("integer")}, ["inFile", "existing"]),
        "invalid": s("integer"),
        "invalidRows": s("array", items=obj({"row": s("integer"), "value": STRING, "reason": STRING}, ["row", "value", "reason"])),
        "invalidRowsTruncated": s("boolean"),
        "duplicateRows": s("array", items=obj({"row": s("integer"), "email": STRING, "firstRow": s("integer")})),
        "verificationQueued": s("integer"),
    }, ["received", "imported", "updated", "duplicates", "invalid", "invalidRows", "invalidRowsTruncated", "verificationQueued"]),
    "EmailColumn": obj({"column": s("integer", minimum=1, description="1-based"), "header": NULLABLE,
                        "chosenBy": s("string", enum=["header", "values"]), "hasHeader": s("boolean")},
                       ["column", "header", "chosenBy", "hasHeader"]),
    "ImportOptions": request(jobs.IMPORT_FIELDS),
    "ImportJob": obj({
        "id": ID, "kind": s("string", enum=["import"]), "status": s("string", enum=JOB_STATES),
        "reason": s("string", description="why it failed"), "createdAt": TIME, "updatedAt": TIME, "finishedAt": TIME,
        "options": ref("ImportOptions"),
        "progress": obj({"rowsDone": s("integer"), "bytesDone": s("integer"), "bytesTotal": s("integer", nullable=True)},
                        ["rowsDone", "bytesDone", "bytesTotal"]),
        "totals": obj({"received": s("integer"), "imported": s("integer"), "updated": s("integer"),
                       "duplicates": obj({"inFile": s("integer"), "existing": s("integer")}, ["inFile", "existing"]),
                       "invalid": s("integer"), "verificationQueued": s("integer")},
                      ["received", "imported", "updated", "duplicates", "invalid", "verificationQueued"]),
        "invalidRows": s("array", items=obj({"row": s("integer"), "value": STRING, "reason": STRING}, ["row", "value", "reason"]),
                         description="the first 100; the whole list is the CSV behind `download`"),
        "duplicateRows": s("array", items=obj({"row": s("integer"), "email": STRING, "firstRow": s("integer")})),
        "emailColumn": ref("EmailColumn"),
        "download": obj({"url": STRING, "rows": s("integer")}, ["url", "rows"]),
        "upload": obj({"url": STRING, "fields": s("object", additionalProperties=STRING), "maxBytes": s("integer")},
                      ["url", "fields", "maxBytes"]),
    }, ["id", "kind", "status", "createdAt", "options", "progress", "totals", "invalidRows", "duplicateRows"]),
    "ExportRequest": request(jobs.EXPORT_FIELDS),
    "ExportJob": obj({
        "id": ID, "kind": s("string", enum=["export"]), "status": s("string", enum=JOB_STATES), "reason": STRING,
        "createdAt": TIME, "updatedAt": TIME, "finishedAt": TIME, "export": ref("ExportRequest"),
        "progress": obj({"rowsDone": s("integer")}, ["rowsDone"]),
        "download": obj({"url": STRING, "rows": s("integer")}, ["url", "rows"]),
    }, ["id", "kind", "status", "createdAt", "export", "progress"]),
    "ImportJobPage": page_of("ImportJob"),
    "ExportJobPage": page_of("ExportJob"),
    "Counters": obj({c: s("integer", minimum=0) for c in COUNTERS}, COUNTERS),
    "Metrics": obj({
        "campaignId": STRING, "days": s("integer"),
        "totals": ref("Counters"),
        "rates": obj({r: s("number", minimum=0) for r in ("bounceRate", "complaintRate", "deliveryRate")},
                     ["bounceRate", "complaintRate", "deliveryRate"]),
        "perDay": s("array", items={"allOf": [ref("Counters"), obj({"date": s("string", format="date")}, ["date"])]}),
    }, ["days", "totals", "rates", "perDay"]),
}

ERRORS = {"400": "invalid input, each bad field named", "404": "no such resource", "409": "state conflict",
          "413": "body too large", "415": "body is not JSON", "503": "A dependency (the sending queue) did not take the request; nothing changed, retry"}
LIST_QUERY = [
    {"name": "limit", "in": "query", "schema": s("integer", minimum=1, maximum=100, default=25)},
    {"name": "nextToken", "in": "query", "schema": STRING, "description": "opaque; from the previous page"},
]
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": ID}]


def op(function: str, summary: str, ok: tuple[str, str | None], errors: str, *, body: str | None = None,
       params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {status: {"description": "OK"} if schema is None else
                                 {"description": "OK", "content": {"application/json": {"schema": ref(schema)}}}}
    for code in errors.split():
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    operation: dict[str, Any] = {"summary": summary, "x-pivotr-function": function, "responses": responses}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    return operation


def unsubscribe_op(summary: str) -> dict[str, Any]:
    html = {"text/html": {"schema": STRING}}
    return {"summary": summary, "x-pivotr-function": "api-unsubscribe",
            "parameters": [{"name": "token", "in": "query", "required": True, "schema": STRING,
                            "description": "HMAC-signed lead and campaign, from the e-mail's link"}],
            "responses": {"200": {"description": "page", "content": html},
                          "400": {"description": "page: the link is not valid", "content": html},
                          "503": {"description": "page: the link cannot be checked now (signing keys unreadable); "
                                                 "nothing changed; Retry-After 300", "content": html}}}


PATHS = {
    "/health": {"get": op("api-metrics", "Health check", ("200", "Health"), "")},
    "/leads": {
        "get": op("api-leads", "List leads, newest first when filtered by status", ("200", "LeadPage"), "400",
                  params=LIST_QUERY + [{"name": "status", "in": "query", "schema": s("string", enum=STATUSES)},
                                       {"name": "tag", "in": "query", "schema": STRING}]),
        "post": op("api-leads", "Create a lead (e-mail unique, case-insensitive)", ("201", "Lead"), "400 409 413 415",
                   body="LeadInput"),
    },
    "/leads/import": {"post": {**op("lead-import", "Import a small file at once: CSV or a JSON array of objects, at most 1 MB "
                                   "and 10,000 rows (413 beyond: use POST /imports)",
                                   ("200", "ImportReport"), "400 413 415",
                                   params=[{"name": "onDuplicate", "in": "query", "schema": s("string", enum=["skip", "update"], default="skip")},
                                           {"name": "verify", "in": "query", "schema": s("string", enum=["true", "false"], default="false")}]),
                               "requestBody": {"required": True, "content": {
                                   "text/csv": {"schema": s("string", description="header row, then one lead per row; comma, semicolon or tab")},
                                   "application/json": {"schema": s("array", items=s("object"))}}}}},
    "/imports": {
        "post": {**op("lead-import", "Start an import of a CSV file of any size (up to `upload.maxBytes`): the answer holds a "
                      "pre-signed S3 POST (`upload.url`, form `fields`, then the file as the form's `file`); the upload starts it",
                      ("201", "ImportJob"), "400 413 415"),
                 "requestBody": {"required": False, "content": {"application/json": {"schema": ref("ImportOptions")}}}},
        "get": op("lead-import", "Recent import jobs, newest first", ("200", "ImportJobPage"), "400", params=LIST_QUERY),
    },
    "/imports/{id}": {"get": op("lead-import", "An import job: status, progress, totals, the first invalid rows and a link to "
                                "all of them as CSV", ("200", "ImportJob"), "400 404", params=ID_PARAM)},
    "/exports": {
        "post": op("lead-import", "Export leads (by status, tag) or one campaign's recipients with their outcomes as CSV; "
                   "formula-looking cells are neutralized", ("202", "ExportJob"), "400 413 415", body="ExportRequest"),
        "get": op("lead-import", "Recent export jobs, newest first", ("200", "ExportJobPage"), "400", params=LIST_QUERY),
    },
    "/exports/{id}": {"get": op("lead-import", "An export job; when completed, `download.url` (valid for an hour, asked again "
                                "on each GET)", ("200", "ExportJob"), "400 404", params=ID_PARAM)},
    "/leads/{id}": {
        "get": op("api-leads", "Read a lead", ("200", "Lead"), "400 404", params=ID_PARAM),
        "put": op("api-leads", "Update the fields sent (the e-mail cannot change; a bounced, complained or "
                  "unsubscribed lead keeps that status: 409)", ("200", "Lead"), "400 404 409 413 415",
                  params=ID_PARAM, body="LeadUpdate"),
        "delete": op("api-leads", "Delete a lead", ("204", None), "400 404", params=ID_PARAM),
    },
    "/leads/{id}/history": {"get": op("api-leads", "A lead's log entries, newest first", ("200", "LogPage"), "400 404",
                                      params=ID_PARAM + LIST_QUERY)},
    "/campaigns": {
        "get": op("api-campaigns", "List campaigns", ("200", "CampaignPage"), "400", params=LIST_QUERY),
        "post": op("api-campaigns", "Create a draft campaign", ("201", "Campaign"), "400 413 415", body="CampaignInput"),
    },
    "/campaigns/{id}": {
        "get": op("api-campaigns", "Read a campaign", ("200", "Campaign"), "400 404", params=ID_PARAM),
        "put": op("api-campaigns", "Update a draft or paused campaign", ("200", "Campaign"), "400 404 409 413 415",
                  params=ID_PARAM, body="CampaignUpdate"),
    },
    **{f"/campaigns/{{id}}/{action}": {"post": op("api-campaigns", summary, ("200", "Campaign"),
                                                  "400 404 409 503" if action == "start" else "400 404 409", params=ID_PARAM)}
       for action, summary in (("start", "Start, or resume a paused campaign (the audience is snapshot again); 503 when the "
                                         "sending queue did not take its first step (nothing changed)"),
                               ("pause", "Pause: nothing is claimed after it; the answer says how many e-mails were in flight"),
                               ("abort", "Abort (final)"))},
    "/templates": {
        "get": op("api-campaigns", "List templates", ("200", "TemplatePage"), "400", params=LIST_QUERY),
        "post": op("api-campaigns", "Create a template", ("201", "Template"), "400 413 415", body="TemplateInput"),
    },
    "/templates/{id}": {
        "get": op("api-campaigns", "Read a template", ("200", "Template"), "400 404", params=ID_PARAM),
        "put": op("api-campaigns", "Update a template", ("200", "Template"), "400 404 413 415", params=ID_PARAM,
                  body="TemplateUpdate"),
        "delete": op("api-campaigns", "Delete a template", ("204", None), "400 404", params=ID_PARAM),
    },
    "/metrics/dashboard": {"get": op("api-metrics", "Totals and rates over the last `days` days (Cache-Control)",
                                     ("200", "Metrics"), "400",
                                     params=[{"name": "days", "in": "query", "schema": s("integer", minimum=1, maximum=366)}])},
    "/metrics/campaign/{id}": {"get": op("api-metrics", "A campaign's metrics per day (Cache-Control)", ("200", "Metrics"),
                                         "400 404", params=ID_PARAM + [{"name": "days", "in": "query",
                                                                        "schema": s("integer", minimum=1, maximum=366)}])},
    "/unsubscribe": {
        "get": unsubscribe_op("A confirmation page with one button (GET never unsubscribes)"),
        "post": unsubscribe_op("RFC 8058 one-click unsubscribe (body `List-Unsubscribe=One-Click`); idempotent"),
    },
}


def secured(paths: dict[str, Any]) -> dict[str, Any]:
    """Each operation with its ``security``: none for the public routes (modules.routes), else the JWT."""
    def with_security(key: str, operation: dict[str, Any]) -> dict[str, Any]:
        head = {k: operation[k] for k in ("summary", "x-pivotr-function")}
        return {**head, "security": [] if key in PUBLIC_ROUTES else [{"cognito": []}], **operation}

    return {path: {method: with_security(f"{method.upper()} {path}", operation) for method, operation in item.items()}
            for path, item in paths.items()}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pivotr Mailer API", "version": "1.0.0",
                 "description": "JSON in and out, camelCase fields. Lists page with `limit` and an opaque `nextToken`. "
                                "Errors: `{\"error\": {\"code\", \"message\", \"details\"}}`; a 400 names each bad field."},
        "servers": [{"url": "https://{apiId}.execute-api.ap-south-1.amazonaws.com", "variables": {"apiId": {"default": "example"}}}],
        "paths": secured(PATHS),
        "components": {
            "securitySchemes": {"cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
            "responses": {f"E{code}": {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
                          for code, text in ERRORS.items()},
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    sys.stdout.write(f"wrote {OUT}\n")
