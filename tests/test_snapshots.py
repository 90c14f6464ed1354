"""A JSON snapshot of every stack. Update deliberately (`pytest --snapshot-update`) and say why in the commit.

The Lambda archive's hash and asset path are masked: they change with every line of lambda_src, and a
snapshot rewritten by every code change stops being read. That the archive itself is reproducible is
proven by ``test_synth.test_two_synths_are_byte_identical_archives_included``; that every function
points at the archive is part of the masked snapshot (the masks keep the archive's construct name).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth import BOOTSTRAP, STAGES, Synth

ARCHIVE_HASH = "<archive sha256>"
_ASSET_DIRECTORY = re.compile(r"^(assets/[^/]+/)[0-9A-F]{32}(/)")


def mask_archive(*, data: Any, path: tuple[tuple[Any, Any], ...]) -> Any:
    """syrupy matcher: the archive's content hash and the hash-named asset directory become fixed text."""
    key = path[-1][0] if path else None
    if key == "source_code_hash" and isinstance(data, str):
        return ARCHIVE_HASH
    if key == "filename" and isinstance(data, str):
        return _ASSET_DIRECTORY.sub(r"\1<content hash>\2", data)
    return data


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)(matcher=mask_archive)


def test_mask_hides_only_the_archive_identity() -> None:
    # Given a function's archive fields and an unrelated string
    # When they pass through the matcher
    # Then the hash and the asset directory are masked, the archive's construct name and others are kept
    assert mask_archive(data="MbIi=", path=(("resource", dict), ("source_code_hash", str))) == ARCHIVE_HASH
    assert mask_archive(data="assets/lambda-code_archive_C5C2A4CC/F36420349EFFB69469D095992F7AFED6/lambda.zip",
                        path=(("filename", str),)) == "assets/lambda-code_archive_C5C2A4CC/<content hash>/lambda.zip"
    assert mask_archive(data="pivotr-mailer-dev-api", path=(("function_name", str),)) == "pivotr-mailer-dev-api"


@pytest.mark.parametrize("stack", [BOOTSTRAP, *(f"pivotr-mailer-{s}" for s in STAGES)])
def test_stack_matches_snapshot(synth: Synth, stack: str, snapshot_json: SnapshotAssertion) -> None:
    assert synth.stack(stack) == snapshot_json
