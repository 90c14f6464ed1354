"""Run the real entry point in a subprocess and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("dev", "staging", "prod")
BOOTSTRAP = "pivotr-mailer-bootstrap"


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIVOTR_", "CDK_", "AWS_", "TOOLCHAIN"))}
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def run_synth(outdir: Path, *, env: Mapping[str, str] | None = None, ordinary_import: bool = False) -> str:
    """Synthesize every stack into ``outdir``; returns what main.py printed."""
    command = [sys.executable, "main.py"]
    if ordinary_import:  # import the bindings the plain way first; main.py then uses them as they are
        command = [
            sys.executable,
            "-c",
            "import runpy, sys; import cdktf_cdktf_provider_aws; sys.argv = ['main.py']; "
            "runpy.run_path('main.py', run_name='__main__')",
        ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=subprocess_env({**(env or {}), "CDKTF_OUTDIR": str(outdir)}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(f"synth failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def tree_bytes(outdir: Path) -> dict[str, bytes]:
    """Every file under ``outdir`` by relative path."""
    return {
        path.relative_to(outdir).as_posix(): path.read_bytes() for path in sorted(outdir.rglob("*")) if path.is_file()
    }


@dataclass
class Synth:
    outdir: Path
    stdout: str

    def stack(self, name: str) -> dict[str, Any]:
        return json.loads((self.outdir / "stacks" / name / "cdk.tf.json").read_text())

    def stage(self, stage: str) -> dict[str, Any]:
        return self.stack(f"pivotr-mailer-{stage}")

    @cached_property
    def stack_names(self) -> list[str]:
        return sorted(path.parent.name for path in self.outdir.glob("stacks/*/cdk.tf.json"))

    def function(self, stage: str, short_name: str) -> dict[str, Any]:
        """The synthesized ``aws_lambda_function`` named ``pivotr-mailer-{stage}-{short_name}``."""
        wanted = f"pivotr-mailer-{stage}-{short_name}"
        functions = self.stage(stage).get("resource", {}).get("aws_lambda_function", {})
        [body] = [body for body in functions.values() if body["function_name"] == wanted]
        return body

    def function_environment(self, stage: str, short_name: str) -> dict[str, str]:
        return dict(self.function(stage, short_name).get("environment", {}).get("variables", {}))
