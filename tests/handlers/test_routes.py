"""modules/routes.py declares which function serves each route; each function's resolver serves exactly those."""

from __future__ import annotations

import re

import pytest

from modules.routes import ROUTES

FUNCTIONS = sorted({routes.function for routes in ROUTES})


def served(app) -> set[str]:
    """The route keys a Powertools resolver dispatches, in API Gateway's spelling ("GET /leads/{id}")."""
    return {f"{route.method} {re.sub(r'<(\w+)>', r'{\1}', route.path)}"
            for route in [*app._static_routes, *app._dynamic_routes]}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_serves_exactly_the_routes_declared_for_it(handler_module, function: str) -> None:
    # Given the routes modules/routes.py gives the function (the API routes them there)
    declared = {key for routes in ROUTES if routes.function == function for key in routes.keys}
    # When its handler is loaded / Then its resolver serves those and no other
    assert served(handler_module(function).app) == declared
