"""API Gateway's HTTP API in front of the real handlers, routed by the synthesized plan's routes:
in-process (``Api``, for tests and benchmarks) or on a local port (``serve``, for ``make demo``,
``make local`` and a browser). Authorization is not simulated."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from modules.rules import referenced, resources
from simulator.lambda_events import LambdaContext, http_event

# A hook that sees every answer (tests hold it to the OpenAPI document): route key, status, parsed body.
Check = Callable[[str, int, Any], None]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    route: str

    @property
    def error_fields(self) -> set[str]:
        return {d.get("field") for d in self.body["error"]["details"]}


def routes_of(plan: dict[str, Any]) -> dict[str, str]:
    """route key -> function short name, read from the plan's routes and integrations."""
    mapping = {}
    for _, _, route in resources(plan, "aws_apigatewayv2_route"):
        integration = referenced(plan, route["target"].replace("integrations/", ""))
        function = referenced(plan, integration["integration_uri"])
        mapping[route["route_key"]] = function["function_name"].split("-", 3)[-1]
    return mapping


def route_for(routes: dict[str, str], method: str, path: str) -> str | None:
    """The route key API Gateway would match for ``method path`` (None: it answers 404 itself)."""
    for key in routes:
        route_method, template = key.split(" ", 1)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if route_method == method and re.fullmatch(pattern, path):
            return key
    return None


def parsed_body(response: dict[str, Any]) -> Any:
    """A function's answer's body: parsed when it is JSON, else the text."""
    text = response.get("body")
    content_type = (response.get("headers") or {}).get("Content-Type", "")
    return json.loads(text) if text and "json" in content_type else text


class Api:
    """Calls as API Gateway makes them: an HTTP API v2 event to the route's function."""

    def __init__(self, plan: dict[str, Any], load: Callable[[str], ModuleType], check: Check | None = None) -> None:
        self.routes = routes_of(plan)
        self._load, self._check = load, check
        self._handlers: dict[str, Callable] = {}

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, raw: str | bytes | None = None) -> Reply:
        route = route_for(self.routes, method, path)
        if route is None:
            raise AssertionError(f"API Gateway would answer 404 before any function: {method} {path}")
        event = http_event(method, path, body=raw if raw is not None else body, query=query, headers=headers,
                           route=route.split(" ", 1)[1])
        response = self.invoke(route, event)
        return Reply(response["statusCode"], response.get("headers") or {}, parsed_body(response), route)

    def invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        """The route's function's answer to ``event``, as Lambda returns it (seen by the check first)."""
        function = self.routes[route]
        if function not in self._handlers:
            self._handlers[function] = self._load(function).handler
        response = self._handlers[function](event, LambdaContext())
        if self._check:
            self._check(route, response["statusCode"], parsed_body(response))
        return response

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


def serve(routes: dict[str, str], invoke: Callable[[str, dict[str, Any]], dict[str, Any]]) -> ThreadingHTTPServer:
    """The API on 127.0.0.1 (a free port, in a daemon thread): each request becomes the HTTP API v2
    event of its route (query parameters decoded, as API Gateway does), and ``invoke(route key,
    event)`` returns the function's answer (``Api.invoke`` does)."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            url = urlsplit(self.path)
            route = route_for(routes, self.command, url.path)
            if route is None:
                self._reply(404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"}))
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8", "replace")
            query = dict(parse_qsl(url.query))
            event = http_event(self.command, url.path, body=body or None, query=query or None,
                               headers={k.lower(): v for k, v in self.headers.items()}, route=route.split(" ", 1)[1])
            response = invoke(route, event)
            self._reply(response["statusCode"], response.get("headers") or {}, response.get("body") or "")

        do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815 - http.server's names

        def _reply(self, status: int, headers: dict[str, str], body: str) -> None:
            data = body.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
