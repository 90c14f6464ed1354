from __future__ import annotations

import pytest

from tests.synth import Synth


@pytest.fixture
def function_env(synth: Synth, monkeypatch: pytest.MonkeyPatch):
    """Apply a function's environment exactly as the dev plan defines it."""

    def apply(short_name: str) -> dict[str, str]:
        env = synth.function_environment("dev", short_name)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in tests
        monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
        return env

    return apply
