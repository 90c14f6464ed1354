from __future__ import annotations

import importlib


def test_health_answers_ok(api) -> None:
    reply = api.get("/health")
    assert reply.status == 200 and reply.body == {"status": "ok"}


def test_every_handler_path_in_the_plan_points_at_real_code(function_env, synth) -> None:
    functions = synth.stage("dev")["resource"]["aws_lambda_function"].values()
    assert len(functions) == 7
    for fn in functions:
        function_env(fn["function_name"].split("-", 3)[-1])
        module_name, _, attribute = fn["handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), fn["handler"]
