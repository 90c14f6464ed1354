"""The fast bindings loader: same JSON as the ordinary import, and actually faster in kind."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from modules import bindings
from tests.synth import ROOT, Synth, run_synth, subprocess_env, tree_bytes


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_fast_path_gives_exactly_the_ordinary_imports_output(synth: Synth, tmp_path: Path) -> None:
    # Given a synth where the bindings were imported the ordinary way (all submodules)
    run_synth(tmp_path / "ordinary", ordinary_import=True)
    ordinary = tree_bytes(tmp_path / "ordinary")
    # Then every file, JSON and archives, equals the fast path's
    fast = tree_bytes(synth.outdir)
    assert sorted(ordinary) == sorted(fast)
    assert [name for name in fast if fast[name] != ordinary[name]] == []


def test_main_takes_the_fast_path_loads_few_submodules_and_plain_imports_still_work() -> None:
    # Given the entry point's import of modules.tf / When a module imports a binding the plain way
    out = _python(
        "import sys, modules.tf as tf; "
        "from cdktf_cdktf_provider_aws import sns_topic; "
        "n = sum(1 for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.')); "
        "print(tf.IMPORT_PATH, n, sns_topic.SnsTopic.__name__)"
    )
    path, loaded, name = out.split()
    # Then the fast path was taken, a few dozen of ~2,200 submodules are loaded, and the import worked
    assert path == "fast"
    assert 1 < int(loaded) < 100
    assert name == "SnsTopic"


def test_an_earlier_ordinary_import_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the package already imported the ordinary way (a stand-in without the partial marker)
    full = types.ModuleType(bindings.PACKAGE)
    monkeypatch.setitem(sys.modules, bindings.PACKAGE, full)
    # When primed / Then it is left as it is
    assert bindings.prime() == "ordinary"
    assert sys.modules[bindings.PACKAGE] is full


def test_an_unverified_bindings_version_takes_the_ordinary_import(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given another bindings version than the one the equivalence test proves
    monkeypatch.delitem(sys.modules, bindings.PACKAGE, raising=False)
    monkeypatch.setattr(bindings.importlib.metadata, "version", lambda name: "99.0.0")
    imported: list[str] = []
    monkeypatch.setattr(bindings.importlib, "import_module", imported.append)
    # When primed / Then the package is imported whole, the ordinary way
    assert bindings.prime() == "ordinary"
    assert imported == [bindings.PACKAGE]


# -- the toolchain switch (CDKTF by default, CDK Terrain with TOOLCHAIN=cdktn; docs/toolchains.md) -------
def test_an_unknown_or_uninstalled_toolchain_is_refused_with_what_to_do() -> None:
    with pytest.raises(bindings.ToolchainUnavailable, match="expected one of cdktf, cdktn"):
        bindings.select("pulumi")
    # the repository's .venv holds CDKTF only: CDK Terrain lives in terrain/.venv
    with pytest.raises(bindings.ToolchainUnavailable, match=r"make synth TOOLCHAIN=cdktn \(installs terrain/.venv\)"):
        bindings.select("cdktn")
    assert bindings.TOOLCHAIN == "cdktf" and bindings.PACKAGE == "cdktf_cdktf_provider_aws"


def test_the_entry_point_reads_the_switch_and_says_when_the_environment_lacks_it(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=subprocess_env({"TOOLCHAIN": "cdktn", "CDKTF_OUTDIR": str(tmp_path / "out")}))
    assert result.returncode == 1 and "configuration error: TOOLCHAIN=cdktn: cdktn is not installed" in result.stderr
    assert not (tmp_path / "out").exists()


def test_only_tf_and_bindings_import_a_toolchain() -> None:
    """The rest of the program takes every CDK name from modules/tf.py, so the switch is one module."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(cdktf|cdktn|cdktf_cdktf_provider_aws|cdktn_provider_aws)\b", re.M)
    sources = [ROOT / "main.py", *(ROOT / "modules").glob("*.py"), *(ROOT / "ops").glob("*.py"), *(ROOT / "lambda_src").rglob("*.py")]
    offenders = [p.relative_to(ROOT).as_posix() for p in sources
                 if p.name not in ("tf.py", "bindings.py") and pattern.search(p.read_text())]
    assert offenders == []
