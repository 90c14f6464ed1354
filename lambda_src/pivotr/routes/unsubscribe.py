"""Routes of api-unsubscribe: the public one-click unsubscribe (RFC 8058) and its confirmation page.

A function of its own, with its own reserved concurrency and route throttling: an unauthenticated
flood of these links cannot take the authenticated API's capacity with it (docs/security.md).
"""

from __future__ import annotations

import time

from pivotr.data.suppression import SuppressionList
from pivotr.data.unsubscribe import UnsubscribeStore, key_ring
from pivotr.domain import unsubscribe
from pivotr.env import UnsubscribeEnv
from pivotr.http import create_app, html_page, query
from pivotr.logs import Logger
from pivotr.resolver import APIGatewayHttpResolver, Response
from pivotr.timestamps import now

logger = Logger()
PAGE = ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<title>Unsubscribe</title><body>{}</body></html>")
PAGE_CONFIRM = PAGE.format("<h1>Unsubscribe?</h1><p>You will get no more e-mails from these campaigns.</p>"
                           "<form method=post><button type=submit name=List-Unsubscribe value=One-Click>Unsubscribe</button></form>")
PAGE_DONE = PAGE.format("<h1>You are unsubscribed</h1><p>You will get no more e-mails from us.</p>")
PAGE_BAD_LINK = PAGE.format("<h1>This link does not work</h1><p>Please use the unsubscribe link from the e-mail as it is.</p>")
PAGE_UNAVAILABLE = PAGE.format("<h1>Please try again in a few minutes</h1><p>We could not check this link just now; "
                               "nothing was changed.</p>")


class Unavailable(Exception):
    """The signing keys cannot be read now (Secrets Manager, or no usable value): nothing can be checked."""


def build(env: UnsubscribeEnv) -> APIGatewayHttpResolver:
    app = create_app()
    unsubscribes = UnsubscribeStore(env.leads_table, env.metrics_table, SuppressionList(env.suppression_table))

    def ring(refresh: bool = False) -> unsubscribe.KeyRing:
        try:
            return key_ring(env.unsubscribe_signing_key_secret_arn, refresh=refresh)
        except Exception as error:  # noqa: BLE001 - whatever it is, the reader gets a page, not a 500
            logger.error("unsubscribe signing keys unreadable", extra={"reason": type(error).__name__})
            raise Unavailable from None

    def subscription() -> unsubscribe.Subscription | None:
        """Checked against every key valid now; a link signed with a key newer than this container's
        cached ring (just after a rotation) gets one fresh read of the ring before it is refused."""
        token = query(app).get("token")
        try:
            try:
                return unsubscribe.verify(token, ring(), time.time())
            except unsubscribe.Forged:
                return unsubscribe.verify(token, ring(refresh=True), time.time())
        except unsubscribe.BadToken:
            return None

    @app.exception_handler(Unavailable)
    def unavailable(_: Unavailable) -> Response:
        return html_page(503, PAGE_UNAVAILABLE, {"Retry-After": "300"})

    @app.get("/unsubscribe")
    def confirm_page() -> Response:
        """A page with one button: GET never unsubscribes (mail scanners follow links)."""
        return html_page(200, PAGE_CONFIRM) if subscription() else html_page(400, PAGE_BAD_LINK)

    @app.post("/unsubscribe")
    def one_click() -> Response:
        """RFC 8058: a POST with ``List-Unsubscribe=One-Click`` (or the page's button) unsubscribes."""
        wanted = subscription()
        if wanted is None:
            return html_page(400, PAGE_BAD_LINK)
        unsubscribes.unsubscribe(wanted.lead_id, wanted.campaign_id, now())  # idempotent
        return html_page(200, PAGE_DONE)

    return app
