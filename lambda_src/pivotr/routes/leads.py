"""Routes of api-leads: /leads, /leads/{id}, /leads/{id}/history."""

from __future__ import annotations

import time
from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.suppression import REASONS, SuppressionList
from pivotr.data.unsubscribe import UnsubscribeStore, key_ring
from pivotr.domain import leads, unsubscribe
from pivotr.env import LeadsEnv
from pivotr.errors import conflict, invalid, not_found
from pivotr.http import create_app, json_body, query, respond
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.routes.common import listing, now, tokens
from pivotr.validation import path_id, query_choice

PAGE = ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<title>Unsubscribe</title><body style='font-family:sans-serif;max-width:32em;margin:3em auto'>{}</body></html>")
PAGE_CONFIRM = PAGE.format("<h1>Unsubscribe?</h1><p>You will get no more e-mails from these campaigns.</p>"
                           "<form method=post><button type=submit name=List-Unsubscribe value=One-Click>Unsubscribe</button></form>")
PAGE_DONE = PAGE.format("<h1>You are unsubscribed</h1><p>You will get no more e-mails from us.</p>")
PAGE_BAD_LINK = PAGE.format("<h1>This link does not work</h1><p>Please use the unsubscribe link from the e-mail as it is.</p>")


def page(status: int, html: str) -> Response:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html,
                    headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


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
        entry = suppression.get({"id": lead["id"]})
        if entry:  # the address opted out, bounced or complained before: a new record cannot undo that
            lead["status"] = entry["reason"]
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
        if status != current["status"] and current["status"] in REASONS:
            raise conflict("SUPPRESSED", f"The lead is {current['status']}: its address is on the suppression list "
                           "and is never mailed again", field="status", currentStatus=current["status"])
        if status != current["status"] and status in ("bounced", "complained"):
            raise invalid([{"field": "status", "message": "bounced and complained are set by SES feedback only"}])
        if status != current["status"] and status == "unsubscribed":  # an opt-out taken by hand
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

    unsubscribes = UnsubscribeStore(env.leads_table, env.metrics_table, suppression)

    def subscription() -> unsubscribe.Subscription | None:
        """Checked against every key valid now; a link signed with a key newer than this container's
        cached ring (just after a rotation) gets one fresh read of the ring before it is refused."""
        token = query(app).get("token")
        try:
            try:
                return unsubscribe.verify(token, key_ring(env.unsubscribe_signing_key_secret_arn), time.time())
            except unsubscribe.Forged:
                return unsubscribe.verify(token, key_ring(env.unsubscribe_signing_key_secret_arn, refresh=True), time.time())
        except unsubscribe.BadToken:
            return None

    @app.get("/unsubscribe")
    def confirm_page() -> Response:
        """A page with one button: GET never unsubscribes (mail scanners follow links)."""
        return page(200, PAGE_CONFIRM) if subscription() else page(400, PAGE_BAD_LINK)

    @app.post("/unsubscribe")
    def one_click() -> Response:
        """RFC 8058: a POST with ``List-Unsubscribe=One-Click`` (or the page's button) unsubscribes."""
        wanted = subscription()
        if wanted is None:
            return page(400, PAGE_BAD_LINK)
        unsubscribes.unsubscribe(wanted.lead_id, wanted.campaign_id, now())  # idempotent
        return page(200, PAGE_DONE)

    return app
