"""Issue 15 item 7: the unsubscribe pages in a real headless browser (Debian's chromium over WebDriver).

The API is served on 127.0.0.1 by the simulator's HTTP API (simulator/http_api.serve) over the
in-process handler (HTTP API v2 events), so the browser sees exactly the headers and HTML the function answers, and enforces the
Content-Security-Policy itself. Screenshots land in test-artifacts/unsubscribe/.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from pivotr.domain import unsubscribe
from pivotr.domain.unsubscribe import Subscription

from simulator.http_api import serve
from tests import browser
from tests.synth import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "unsubscribe"


@pytest.fixture
def served(api):
    """The stage's HTTP API on 127.0.0.1, each request through its real handler."""

    server = serve(api.routes, api.invoke)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def link(api, served):
    api.get("/leads")  # the signing key's secret exists once a function has loaded
    value = boto3.client("secretsmanager").get_secret_value(SecretId="pivotr-mailer-dev-unsubscribe-signing-key")["SecretString"]
    key = unsubscribe.KeyRing.parse(value).current
    lead = api.post("/leads", {"email": "browser@example.com"}).body
    return lead["id"], f"{served}/unsubscribe?token={unsubscribe.sign(Subscription(lead['id'], 'cp_1'), key)}"


def test_the_page_renders_its_button_unsubscribes_and_a_tampered_link_shows_the_error(api, link) -> None:
    if browser.missing():
        pytest.fail(browser.missing())
    lead_id, url = link
    with browser.browser() as chrome:
        # Given the link from an e-mail / When it is opened
        chrome.open(url)
        assert chrome.text("h1") == "Unsubscribe?"
        assert chrome.style("body", "font-family") == "sans-serif"  # the page's style applies under the CSP
        chrome.screenshot(ARTIFACTS / "1-confirm.png")
        assert api.get(f"/leads/{lead_id}").body["status"] == "new"  # opening changes nothing
        # When the button is pressed (a form POST, which the CSP's form-action must allow)
        chrome.click("button", navigates=True)
        # Then the confirmation shows and the lead is unsubscribed
        assert chrome.text("h1") == "You are unsubscribed"
        chrome.screenshot(ARTIFACTS / "2-done.png")
        assert api.get(f"/leads/{lead_id}").body["status"] == "unsubscribed"
        # And a tampered link shows the error page
        chrome.open(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
        assert chrome.text("h1") == "This link does not work"
        chrome.screenshot(ARTIFACTS / "3-bad-link.png")
        # And the browser reported no Content-Security-Policy violation on any page
        violations = [entry["message"] for entry in chrome.console() if "Content Security Policy" in entry["message"]]
        assert violations == []
    assert all(Path(ARTIFACTS / name).stat().st_size > 1000 for name in ("1-confirm.png", "2-done.png", "3-bad-link.png"))


def test_the_csp_really_blocks_what_the_page_does_not_declare(api, link, monkeypatch) -> None:
    """The same browser refuses a style the policy does not list (so the test above can fail)."""
    if browser.missing():
        pytest.fail(browser.missing())
    import pivotr.http as http

    monkeypatch.setattr(http, "PAGE_STYLE", "body{font-family:monospace}")  # not the hashed style
    _, url = link
    with browser.browser() as chrome:
        chrome.open(url)
        assert chrome.text("h1") == "Unsubscribe?"
        assert chrome.style("body", "font-family") != "monospace"
        assert any("Content Security Policy" in entry["message"] for entry in chrome.console())
