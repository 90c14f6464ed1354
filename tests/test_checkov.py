"""checkov over every stack's JSON: nothing failing; skips live in .checkov.yaml with reasons."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.synth import ROOT, Synth, subprocess_env


def checkov_readable(stacks: Path, into: Path) -> Path:
    """The stacks as checkov's Terraform-JSON parser can read them: it takes every attribute of the
    ``terraform`` block for a nested block and stops at the scalar ``required_version`` ("this method
    receives only dicts"), so that one line is left out (rule terraform-version checks it instead)."""
    for stack in stacks.glob("*/cdk.tf.json"):
        plan = json.loads(stack.read_text())
        plan.get("terraform", {}).pop("required_version", None)
        target = into / stack.parent.name / stack.name
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(plan))
    return into


def test_checkov_finds_nothing_failing(synth: Synth, tmp_path: Path) -> None:
    stacks = checkov_readable(synth.outdir / "stacks", tmp_path / "stacks")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "checkov"), "-d", str(stacks),
         "--config-file", str(ROOT / ".checkov.yaml"), "-o", "json"],
        cwd=ROOT, env=subprocess_env({"BC_SKIP_MAPPING": "TRUE"}), capture_output=True, text=True, timeout=600,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(report["summary"]["passed"] for report in reports)
    assert failed == []
    assert passed > 0  # it really scanned something


def test_every_skipped_check_has_a_written_reason() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [index for index, line in enumerate(lines) if re.match(r"^\s+- CKV", line)]
    assert skips
    for index in skips:
        above = index - 1
        while above >= 0 and re.match(r"^\s+- CKV", lines[above]):  # checks may share one reason
            above -= 1
        assert above >= 0 and lines[above].strip().startswith("#"), f"no reason above {lines[index].strip()}"
