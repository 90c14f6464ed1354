"""Synthesis: every stack, reproducible to the byte, no secret in the output."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.synth import BOOTSTRAP, STAGES, Synth, run_synth, tree_bytes

# Secret-bearing variables an engineer may well have exported while synthesizing.
SENTINELS = {
    "MYEMAILVERIFIER_API_KEY": "sentinel-verifier-key-7f3a",
    "UNSUBSCRIBE_SIGNING_KEY": "sentinel-signing-key-9b1c",
    "AWS_SES_ACCESS_KEY_ID": "AKIASENTINEL00000000",
    "AWS_SES_SECRET_ACCESS_KEY": "sentinel-ses-secret-2d4e",
    "AWS_ACCESS_KEY_ID": "AKIASENTINEL11111111",
    "AWS_SECRET_ACCESS_KEY": "sentinel-aws-secret-5e6f",
    "AWS_SESSION_TOKEN": "sentinel-session-token-8a9b",
}


@pytest.fixture(scope="module")
def sentinel_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("sentinel") / "elsewhere"
    run_synth(outdir, env=SENTINELS)
    return outdir


def test_every_stage_and_the_bootstrap_are_synthesized(synth: Synth) -> None:
    assert synth.stack_names == sorted([BOOTSTRAP, *(f"pivotr-mailer-{s}" for s in STAGES)])
    # and main.py prints one summary line per stack
    assert sorted(line.split(":")[0] for line in synth.stdout.splitlines()) == synth.stack_names


def test_two_synths_are_byte_identical_archives_included(synth: Synth, sentinel_synth: Path) -> None:
    # Given two synths of the same commit into different directories (one with secrets exported)
    first, second = tree_bytes(synth.outdir), tree_bytes(sentinel_synth)
    # Then the same files exist with the same bytes, Lambda archives among them
    assert sorted(first) == sorted(second)
    assert any(name.endswith(".zip") for name in first)
    changed = [name for name in first if first[name] != second[name]]
    assert changed == []


def test_secret_values_in_the_environment_never_reach_the_output(sentinel_synth: Path) -> None:
    blobs = []
    for name, data in tree_bytes(sentinel_synth).items():
        blobs.append(data)
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                blobs += [archive.read(entry) for entry in archive.namelist()]
    leaked = [var for var, value in SENTINELS.items() if any(value.encode() in blob for blob in blobs)]
    assert leaked == []


def test_the_output_names_no_absolute_path_of_this_machine(synth: Synth, root: Path) -> None:
    for name, data in tree_bytes(synth.outdir).items():
        if name.endswith(".json"):
            assert str(root).encode() not in data, name
            assert str(synth.outdir).encode() not in data, name
