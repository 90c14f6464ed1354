#!/usr/bin/env python3
"""make test-terrain: the same plans from CDKTF (default) and CDK Terrain (``TOOLCHAIN=cdktn``).

Three synths of every stack, each in its own process and environment:
1. CDKTF with the fast bindings import (the repository's .venv, as ``make synth``);
2. CDK Terrain with the fast bindings import (terrain/.venv);
3. CDK Terrain with the ordinary import of its bindings (all ~2,400 submodules).
Then: 3 must equal 2 byte for byte (the fast path is proven for the fork's verified version, as
tests/test_fast_import.py proves it for CDKTF's), and 2 must equal 1 file for file: archives byte
for byte, JSON as values, except the toolchain version label (``//.metadata.version`` of each stack,
``version`` of the manifest). Any other
difference fails, naming the file and the first differing path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = {"cdktf": ROOT / ".venv" / "bin" / "python", "cdktn": ROOT / "terrain" / ".venv" / "bin" / "python"}
# The toolchain's version label, the one value allowed to differ: in each stack and in the manifest.
LABELS = (("//", "metadata", "version"), ("version",))


def synth(toolchain: str, outdir: Path, *, ordinary: bool = False) -> float:
    """Seconds to synthesize every stack with ``toolchain`` into ``outdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIVOTR_", "CDK_", "AWS_", "TOOLCHAIN"))}
    env |= {"TOOLCHAIN": toolchain, "CDKTF_OUTDIR": str(outdir),
            "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"}
    package = {"cdktf": "cdktf_cdktf_provider_aws", "cdktn": "cdktn_provider_aws"}[toolchain]
    command = [str(PYTHONS[toolchain]), "main.py"]
    if ordinary:  # the bindings imported the plain way first; main.py then uses them as they are
        command = [str(PYTHONS[toolchain]), "-c", f"import runpy, sys; import {package}; sys.argv = ['main.py']; "
                   "runpy.run_path('main.py', run_name='__main__')"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"{toolchain} synth failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def files(outdir: Path) -> dict[str, bytes]:
    return {p.relative_to(outdir).as_posix(): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def first_difference(a: Any, b: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return (*path, key)
            found = first_difference(a[key], b[key], (*path, key))
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, (*path, str(i)))
            if found:
                return found
        return None
    return None if a == b else path


def without_label(value: Any) -> Any:
    for label in LABELS:
        node = value
        for key in label[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(label[-1], None)
    return value


def compare(cdktf: dict[str, bytes], cdktn: dict[str, bytes]) -> list[str]:
    """Every difference other than the version label and JSON whitespace."""
    problems = [f"only one toolchain wrote {name}" for name in sorted(set(cdktf) ^ set(cdktn))]
    for name in sorted(set(cdktf) & set(cdktn)):
        if cdktf[name] == cdktn[name]:
            continue
        if not name.endswith(".json"):
            problems.append(f"{name}: bytes differ")
            continue
        a, b = without_label(json.loads(cdktf[name])), without_label(json.loads(cdktn[name]))
        where = first_difference(a, b)
        if where is not None:
            problems.append(f"{name}: differs at {'/'.join(where) or '(top)'}")
    return problems


def main() -> int:
    missing = [name for name, python in PYTHONS.items() if not python.exists()]
    if missing:
        print(f"not installed: {', '.join(missing)} (make install, make terrain-install)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pivotr-terrain-") as tmp:
        out = Path(tmp)
        seconds = {"cdktf": synth("cdktf", out / "cdktf"), "cdktn": synth("cdktn", out / "cdktn")}
        ordinary = synth("cdktn", out / "cdktn-ordinary", ordinary=True)
        fast_files, ordinary_files = files(out / "cdktn"), files(out / "cdktn-ordinary")
        problems = [f"cdktn fast import vs ordinary import: {name} differs" for name in sorted(set(fast_files) | set(ordinary_files))
                    if fast_files.get(name) != ordinary_files.get(name)]
        problems += compare(files(out / "cdktf"), fast_files)
        labels = {name: json.loads((out / name / "stacks" / "pivotr-mailer-dev" / "cdk.tf.json").read_text())["//"]["metadata"]["version"]
                  for name in ("cdktf", "cdktn")}
    print(f"synth of every stack: cdktf {seconds['cdktf']:.1f} s, cdktn {seconds['cdktn']:.1f} s "
          f"(cdktn with the ordinary bindings import: {ordinary:.1f} s)")
    print(f"toolchain version labels: cdktf {labels['cdktf']}, cdktn {labels['cdktn']}")
    if problems:
        print("the toolchains' plans differ beyond the version label:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"identical: {len(fast_files)} files (archives byte for byte, JSON apart from the version label); "
          "the cdktn fast import equals its ordinary import byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
