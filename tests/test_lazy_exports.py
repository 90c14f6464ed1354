"""The Node.js half of the fast bindings path: modules/lazy_exports.js and how it is preloaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modules import bindings
from tests.synth import ROOT

NODE = ROOT / "node_modules" / ".bin" / "node"


def _fake_provider(root: Path, scope: str = "@cdktf") -> Path:
    """A package shaped like @cdktf/provider-aws (or CDK Terrain's @cdktn/provider-aws, whose index wraps
    each require in __importStar): an index of eager exports of modules that count loads."""
    lib = root / scope / "provider-aws" / "lib"
    for name in ("sqs-queue", "sns-topic"):
        (lib / name).mkdir(parents=True)
        (lib / name / "index.js").write_text(
            f"globalThis.loaded = (globalThis.loaded || []).concat({json.dumps(name)});\n"
            f"exports.Thing = {json.dumps(name)};\n"
        )
    if scope == "@cdktf":
        eager = 'exports.sqsQueue = require("./sqs-queue");\nexports.snsTopic = require("./sns-topic");\n'
    else:
        eager = ("var __importStar = function (m) { return { __esModule: true, ...m, default: m }; };\n"
                 'exports.sqsQueue = __importStar(require("./sqs-queue/index"));\n'
                 'exports.snsTopic = __importStar(require("./sns-topic/index"));\n')
    (lib / "index.js").write_text(
        '"use strict";\n'
        "exports.snsTopic = exports.sqsQueue = void 0;\n"
        + eager +
        "exports.untouched = 42;\n"
    )
    return lib / "index.js"


def _node(script: str, *, preload: bool) -> dict:
    args = [str(NODE)] + (["--require", str(bindings.LAZY_EXPORTS_JS)] if preload else []) + ["-e", script]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SCRIPT = """
const index = require(%s);
const before = (globalThis.loaded || []).slice();
const keys = Object.keys(index).sort();
const sqs = index.sqsQueue.Thing;
console.log(JSON.stringify({before, keys, sqs, after: globalThis.loaded || [], untouched: index.untouched}));
"""


@pytest.mark.parametrize("scope", ["@cdktf", "@cdktn"])
def test_exports_load_on_first_use_and_keep_their_values(tmp_path: Path, scope: str) -> None:
    # Given a provider-shaped package of either toolchain
    index = _fake_provider(tmp_path, scope)
    script = SCRIPT % json.dumps(str(index))
    # When it is required with and without the preload
    eager, lazy = _node(script, preload=False), _node(script, preload=True)
    # Then without it every module loads at once; with it none until used, then only the one used
    assert eager["before"] == ["sqs-queue", "sns-topic"]
    assert lazy["before"] == []
    assert lazy["after"] == ["sqs-queue"]
    # and the package looks the same from outside: same keys, same values, other lines untouched
    assert lazy["keys"] == eager["keys"] == ["snsTopic", "sqsQueue", "untouched"]
    assert lazy["sqs"] == eager["sqs"] == "sqs-queue"
    assert lazy["untouched"] == eager["untouched"] == 42


def test_other_packages_are_not_rewritten(tmp_path: Path) -> None:
    index = _fake_provider(tmp_path)
    other = tmp_path / "elsewhere"
    (index.parent.parent.parent).rename(other)  # same files, not under @cdktf/provider-aws
    script = SCRIPT % json.dumps(str(other / "provider-aws" / "lib" / "index.js"))
    assert _node(script, preload=True)["before"] == ["sqs-queue", "sns-topic"]


def test_preload_is_set_while_the_kernel_starts_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no kernel yet and an option the user set
    monkeypatch.setattr(bindings, "kernel_started", lambda: False)
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=2048")
    # When the kernel would start / Then our preload is added to theirs, and theirs alone remains after
    with bindings._lazy_node_exports():
        assert os.environ["NODE_OPTIONS"] == f'--max-old-space-size=2048 --require "{bindings.LAZY_EXPORTS_JS}"'
    assert os.environ["NODE_OPTIONS"] == "--max-old-space-size=2048"


def test_a_running_kernel_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bindings, "kernel_started", lambda: True)
    monkeypatch.delenv("NODE_OPTIONS", raising=False)
    with bindings._lazy_node_exports():
        assert "NODE_OPTIONS" not in os.environ
    assert "NODE_OPTIONS" not in os.environ


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the kernel's environment from /proc")
def test_the_entry_point_starts_the_kernel_with_the_preload_and_leaves_no_trace() -> None:
    # Given a fresh process importing the bindings the way main.py does
    code = (
        "import os, json, modules.tf; from jsii._runtime import kernel; "
        "pid = kernel.provider._process._process.pid; "
        "env = dict(v.split('=', 1) for v in open(f'/proc/{pid}/environ').read().split(chr(0)) if '=' in v); "
        "print(json.dumps([env.get('NODE_OPTIONS', ''), os.environ.get('NODE_OPTIONS')]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    env["PATH"] = f"{NODE.parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    kernel_options, own_options = json.loads(result.stdout)
    # Then the Node.js kernel got the preload, and the Python process's environment is as it was
    assert str(bindings.LAZY_EXPORTS_JS) in kernel_options
    assert own_options is None
