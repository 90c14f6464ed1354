"""A JSON snapshot of every stack. Update deliberately (`pytest --snapshot-update`) and say why in the commit."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth import BOOTSTRAP, STAGES, Synth


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", [BOOTSTRAP, *(f"pivotr-mailer-{s}" for s in STAGES)])
def test_stack_matches_snapshot(synth: Synth, stack: str, snapshot_json: SnapshotAssertion) -> None:
    assert synth.stack(stack) == snapshot_json
