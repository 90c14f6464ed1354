"""Drive the real handlers the way API Gateway does, routed by the synthesized plan's routes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from modules.rules import referenced, resources
from tests.handlers import contract
from tests.handlers.events import LambdaContext, http_event


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


class Api:
    def __init__(self, plan: dict[str, Any], load: Callable[[str], ModuleType]) -> None:
        self.routes = routes_of(plan)
        self._load = load
        self._handlers: dict[str, Callable] = {}

    def _route(self, method: str, path: str) -> str:
        for key in self.routes:
            route_method, template = key.split(" ", 1)
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            if route_method == method and re.fullmatch(pattern, path):
                return key
        raise AssertionError(f"API Gateway would answer 404 before any function: {method} {path}")

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, raw: str | bytes | None = None) -> Reply:
        route = self._route(method, path)
        function = self.routes[route]
        if function not in self._handlers:
            self._handlers[function] = self._load(function).handler
        event = http_event(method, path, body=raw if raw is not None else body, query=query, headers=headers,
                           route=route.split(" ", 1)[1])
        response = self._handlers[function](event, LambdaContext())
        text = response.get("body")
        content_type = (response.get("headers") or {}).get("Content-Type", "")
        parsed = json.loads(text) if text and "json" in content_type else text
        contract.check(route, response["statusCode"], parsed)  # every response is held to the OpenAPI document
        return Reply(response["statusCode"], response.get("headers") or {}, parsed, route)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)
