from __future__ import annotations

import importlib
import json

from tests.handlers.events import LambdaContext, http_event


def test_health_answers_ok(function_env) -> None:
    # Given api-metrics configured as the dev plan defines it
    function_env("api-metrics")
    handler = importlib.import_module("handlers.api_metrics").handler
    # When GET /health arrives through the HTTP API
    response = handler(http_event("GET", "/health"), LambdaContext())
    # Then it answers 200 with a JSON status
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


def test_the_plans_handler_path_points_at_real_code(synth) -> None:
    module_name, _, attribute = synth.function("dev", "api-metrics")["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
