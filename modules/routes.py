"""The HTTP API's routes, declared once: which function serves each, and which are public.

``main.py`` adds them to the API, ``modules.rules`` checks the synthesized routes against
``PUBLIC_ROUTES``, ``docs/openapi_source.py`` marks the public operations of the contract from it,
and a handler test checks that each function's resolver serves exactly its routes. No cdktf import
here: the contract's source and the rules read it without loading the bindings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Throttle:
    """Route-level throttling: steady requests per second and burst."""

    rate: int
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < self.rate:
            raise ValueError(f"throttle needs rate > 0 and burst >= rate, got {self.rate}/{self.burst}")


@dataclass(frozen=True)
class Routes:
    """Routes of one function: ``"METHOD /path"`` keys; public ones need no JWT and carry their own,
    lower throttling, so an unauthenticated flood is refused at the API before it reaches a function
    (docs/security.md)."""

    function: str
    keys: tuple[str, ...]
    public: bool = False
    throttle: Throttle | None = None

    def __post_init__(self) -> None:
        if self.public and self.throttle is None:
            raise ValueError(f"{self.function}: a public route needs its own throttle")


ROUTES: tuple[Routes, ...] = (
    Routes("api-metrics", ("GET /health",), public=True, throttle=Throttle(rate=5, burst=10)),
    Routes("api-unsubscribe", ("GET /unsubscribe", "POST /unsubscribe"), public=True, throttle=Throttle(rate=10, burst=20)),
    Routes("api-leads", ("GET /leads", "POST /leads", "GET /leads/{id}", "PUT /leads/{id}", "DELETE /leads/{id}",
                         "GET /leads/{id}/history")),
    Routes("lead-import", ("POST /leads/import", "POST /imports", "GET /imports", "GET /imports/{id}", "POST /exports",
                           "GET /exports", "GET /exports/{id}")),
    Routes("api-campaigns", ("GET /campaigns", "POST /campaigns", "GET /campaigns/{id}", "PUT /campaigns/{id}",
                             "POST /campaigns/{id}/start", "POST /campaigns/{id}/pause", "POST /campaigns/{id}/abort",
                             "GET /templates", "POST /templates", "GET /templates/{id}", "PUT /templates/{id}",
                             "DELETE /templates/{id}")),
    Routes("api-metrics", ("GET /metrics/dashboard", "GET /metrics/campaign/{id}")),
)
PUBLIC_ROUTES = frozenset(key for routes in ROUTES if routes.public for key in routes.keys)
