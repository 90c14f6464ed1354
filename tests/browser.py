"""A real headless browser for tests: Debian's chromium, driven through chromedriver's W3C WebDriver
HTTP API with nothing but the standard library (no Selenium Manager or Playwright downloads, which
cannot be reached here). ``make test`` installs chromium and chromium-driver when they are missing.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
IMPLICIT_WAIT_MS = 10_000
NAVIGATION_TIMEOUT = 10.0  # seconds a click that submits a form may take to replace the page


class Browser:
    def __init__(self, endpoint: str, session: str) -> None:
        self.endpoint, self.session = endpoint, session

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.endpoint}/session/{self.session}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())["value"]

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def source(self) -> str:
        return self._call("GET", "/source")

    def _find(self, css: str) -> str:
        return self._call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def text(self, css: str) -> str:
        return self._call("GET", f"/element/{self._find(css)}/text")

    def click(self, css: str, *, navigates: bool = False) -> None:
        """Click; with ``navigates`` (a form's submit button), return only once the page was replaced,
        so that what is read next is the new page, not the old one still showing."""
        page = self._find("html") if navigates else None
        self._call("POST", f"/element/{self._find(css)}/click", {})
        if page is None:
            return
        deadline = time.monotonic() + NAVIGATION_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self._call("GET", f"/element/{page}/name")
            except urllib.error.HTTPError:  # stale element reference: the document was replaced
                return
            time.sleep(0.05)
        raise AssertionError(f"clicking {css} did not load a new page within {NAVIGATION_TIMEOUT} s")

    def style(self, css: str, prop: str) -> str:
        return self._call("GET", f"/element/{self._find(css)}/css/{prop}")

    def console(self) -> list[dict[str, Any]]:
        """The browser's console since the last call (CSP violations are reported there)."""
        return self._call("POST", "/se/log", {"type": "browser"})

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing() -> str:
    """Why no browser can run here ("" when one can)."""
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (make test installs Debian's chromium-driver)"
    if not any(Path(p).exists() for p in CHROMIUM):
        return "chromium is not installed (make test installs Debian's chromium)"
    return ""


@contextmanager
def browser() -> Iterator[Browser]:
    port = _free_port()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{endpoint}/status", timeout=1) as answer:
                    if json.loads(answer.read())["value"]["ready"]:
                        break
            except OSError:
                time.sleep(0.05)
        binary = next(p for p in CHROMIUM if Path(p).exists())
        capabilities = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"implicit": IMPLICIT_WAIT_MS},  # finding an element waits for a page still loading
            "goog:chromeOptions": {"binary": binary, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700",
                "--no-first-run", "--disable-extensions"]}}}}
        request = urllib.request.Request(f"{endpoint}/session", data=json.dumps(capabilities).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            session = json.loads(answer.read())["value"]["sessionId"]
        client = Browser(endpoint, session)
        try:
            yield client
        finally:
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/session/{session}", method="DELETE"), timeout=30)
    finally:
        driver.terminate()
        driver.wait(timeout=10)
