"""Shared fixtures: the whole app is synthesized once per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.synth import ROOT, Synth, run_synth

# Tests import the Lambda code the way the Lambda runtime does: lambda_src/ is the archive root.
sys.path.insert(0, str(ROOT / "lambda_src"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    return Synth(outdir=outdir, stdout=run_synth(outdir))


@pytest.fixture(scope="session")
def stages() -> tuple[str, ...]:
    return ("dev", "staging", "prod")


@pytest.fixture
def root() -> Path:
    return ROOT
