"""A local SES v2 endpoint for the real botocore client: answers as SES does, and as SES sometimes does.

moto answers every SendEmail at once and never loses an answer; SES can answer past the client's read
timeout, drop the connection after taking the message, answer 5xx, throttle, or refuse. The stub
listens on 127.0.0.1, counts every SendEmail request that reaches it, and answers each according to a
script: ``behaviours`` (a queue, then ``default``) or ``choose(request)``.

Time: answers that are slow on purpose sleep a fraction of a second for real (past the test client's
short read timeout) and move the simulated clock by the time a deployed function would have waited,
so a test of Lambda's remaining time sees the cost a real slow answer has.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Answer(StrEnum):
    OK = "ok"  # 200 with a MessageId: taken
    SLOW = "slow"  # taken, but the answer comes after the client's read timeout
    RESET = "reset"  # taken, then the connection is closed without an answer
    ERROR_5XX = "5xx"  # 500 InternalFailure: SES may or may not have taken it
    THROTTLE = "throttle"  # 429 TooManyRequestsException: not taken
    REJECT = "reject"  # 400 MessageRejected about this message: not taken
    ACCOUNT = "account"  # 400 SendingPausedException, the account's sending is paused: not taken
    SANDBOX = "sandbox"  # 400 MessageRejected "Email address is not verified": not taken
    DAILY = "daily"  # 429 the 24-hour quota is used up: not taken


# Real seconds per second of SES timeouts in tests (read 6 s -> 0.4 s): room enough that an ordinary
# answer on a loaded machine never times out, while a slow one (real_slow) always does.
TEST_SCALE = 1 / 15

# Answers after which SES may have the message (the client cannot know): a second request for the same
# recipient after one of these is a possible duplicate e-mail.
MAYBE_TAKEN = frozenset({Answer.OK, Answer.SLOW, Answer.RESET, Answer.ERROR_5XX})
_ERRORS = {
    Answer.ERROR_5XX: (500, "InternalFailure", "An internal error occurred."),
    Answer.THROTTLE: (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
    Answer.REJECT: (400, "MessageRejected", "Illegal address"),
    Answer.ACCOUNT: (400, "SendingPausedException", "Sending is paused for this account."),
    Answer.SANDBOX: (400, "MessageRejected", "Email address is not verified. The following identities failed the check"),
    Answer.DAILY: (429, "TooManyRequestsException", "Daily message quota exceeded."),
}


@dataclass
class Request:
    """One SendEmail request that reached the stub."""

    at: float  # simulated clock when it arrived
    campaign: str
    lead: str
    to: str
    answer: Answer
    message_id: str
    body: dict[str, Any]


@dataclass
class SesStub:
    clock: Callable[[], float] = time.time
    latency: float = 0.0  # simulated seconds each answer takes (moves the clock)
    slow_wait: float = 0.0  # simulated seconds a slow answer costs the caller (its read timeout)
    real_slow: float = 0.6  # real seconds a slow answer sleeps: more than the test client's read timeout
    default: Answer = Answer.OK
    behaviours: deque[Answer] = field(default_factory=deque)
    choose: Callable[[dict[str, Any]], Answer | None] | None = None  # per request, before the queue
    during: Callable[[Request], None] | None = None  # runs inside the next request (then disarmed)
    requests: list[Request] = field(default_factory=list)
    advance: Callable[[float], None] | None = None  # moves the simulated clock
    limits: Any = None  # simulator.ses.SesLimits: the account's rate and quota, enforced and reported
    account_reads: int = 0  # GetAccount requests that reached the stub

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub._answer(self, body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                stub._account(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.behaviours.clear()
        self.requests.clear()
        self.default, self.choose, self.during, self.latency = Answer.OK, None, None, 0.0

    # -- what reached SES -----------------------------------------------------------------------
    def taken(self) -> list[Request]:
        """Requests SES took for sure."""
        return [r for r in self.requests if r.answer in (Answer.OK, Answer.SLOW, Answer.RESET)]

    def maybe_taken(self, campaign: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.answer in MAYBE_TAKEN and (campaign is None or r.campaign == campaign)]

    def count(self, lead: str) -> int:
        return sum(r.lead == lead for r in self.requests)

    # -- answering ------------------------------------------------------------------------------
    def _next(self, body: dict[str, Any]) -> Answer:
        chosen = self.choose(body) if self.choose else None
        if chosen is not None:
            return chosen
        with self._lock:
            return self.behaviours.popleft() if self.behaviours else self.default

    def _account(self, handler: BaseHTTPRequestHandler) -> None:
        """GetAccount (GET /v2/email/account): the account's sending quota."""
        with self._lock:
            self.account_reads += 1
        if handler.path.split("?")[0] != "/v2/email/account":
            self._send(handler, 404, {"message": "not found"}, {"x-amzn-ErrorType": "NotFoundException"})
            return
        quota = self.limits.account() if self.limits else {
            "SendQuota": {"MaxSendRate": 14.0, "Max24HourSend": -1.0, "SentLast24Hours": 0.0}}
        self._send(handler, 200, quota)

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        answer = self._next(body)
        refusal = self.limits.refusal() if self.limits and answer == Answer.OK else None
        if refusal:
            answer = Answer.DAILY if refusal.startswith("Daily") else Answer.THROTTLE
        tags = {t["Name"]: t["Value"] for t in body.get("EmailTags", [])}
        request = Request(self.clock(), tags.get("campaign", ""), tags.get("lead", ""),
                          body.get("Destination", {}).get("ToAddresses", [""])[0], answer, f"ses-{uuid.uuid4().hex}", body)
        with self._lock:
            self.requests.append(request)
        if self.during is not None:
            hook, self.during = self.during, None
            hook(request)
        if answer == Answer.SLOW:  # the caller waits its read timeout, whatever SES's latency
            if self.advance and self.slow_wait:
                self.advance(self.slow_wait)
            time.sleep(self.real_slow)
        elif self.advance and self.latency:
            self.advance(self.latency)
        if answer == Answer.RESET:
            handler.close_connection = True
            handler.connection.shutdown(2)  # the socket closes with no answer
            return
        if answer in _ERRORS:
            status, code, message = _ERRORS[answer]
            self._send(handler, status, {"message": message}, {"x-amzn-ErrorType": code})
            return
        self._send(handler, 200, {"MessageId": request.message_id})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout): SES still took the message
