from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from modules.packaging import FIXED_TIMESTAMP, NotPurePython, build_archive


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "b.py").write_text("B = 2\n")
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "a.cpython-313.pyc").write_bytes(b"\0junk")
    (root / "handler.py").write_text("def handler(e, c):\n    return e\n")


def test_same_sources_give_the_same_bytes_whatever_mtimes_and_modes(tmp_path: Path) -> None:
    # Given the same tree twice, with different mtimes and permissions
    first, second = tmp_path / "one", tmp_path / "two"
    _tree(first)
    _tree(second)
    for path in second.rglob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        path.chmod(0o755)
    # When both are archived
    a = build_archive(first, tmp_path / "a.zip")
    b = build_archive(second, tmp_path / "b.zip")
    # Then the archives and their hashes are identical
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.sha256_base64 == b.sha256_base64


def test_entries_are_sorted_fixed_in_time_and_free_of_caches(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    archive = build_archive(tmp_path / "src", tmp_path / "out.zip")
    with zipfile.ZipFile(archive.path) as zf:
        infos = zf.infolist()
    names = [info.filename for info in infos]
    # the source tree's own caches are left out; the archive's bytecode is compiled for it
    assert names == ["__pycache__/handler.cpython-313.pyc", "handler.py", "pkg/__pycache__/a.cpython-313.pyc",
                     "pkg/__pycache__/b.cpython-313.pyc", "pkg/a.py", "pkg/b.py"]
    assert {info.date_time for info in infos} == {FIXED_TIMESTAMP}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_a_changed_file_changes_the_hash(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    before = build_archive(tmp_path / "src", tmp_path / "1.zip").sha256_base64
    (tmp_path / "src" / "pkg" / "a.py").write_text("A = 3\n")
    assert build_archive(tmp_path / "src", tmp_path / "2.zip").sha256_base64 != before


def test_vendored_packages_go_in_at_the_archive_root(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    archive = build_archive(tmp_path / "src", tmp_path / "out.zip", vendor=("email_validator",))
    with zipfile.ZipFile(archive.path) as zf:
        names = zf.namelist()
    assert "email_validator/__init__.py" in names and names == sorted(names)


def test_a_package_with_compiled_code_is_refused(tmp_path: Path, monkeypatch) -> None:
    # Given an importable package that ships a shared library (built for this machine, not arm64 Lambda)
    package = tmp_path / "site" / "nativepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_speedups.cpython-313-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    _tree(tmp_path / "src")
    with pytest.raises(NotPurePython, match="nativepkg"):
        build_archive(tmp_path / "src", tmp_path / "out.zip", vendor=("nativepkg",))


def test_lambda_loads_the_shipped_bytecode_without_compiling(tmp_path: Path) -> None:
    """/var/task is read-only: without bytecode in the archive every cold start compiles every module."""
    import subprocess
    import sys

    # Given an archive of a module, unpacked as Lambda unpacks it
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "shipped.py").write_text("WHO = 'archive'\n")
    archive = build_archive(tmp_path / "src", tmp_path / "out.zip")
    with zipfile.ZipFile(archive.path) as zf:
        zf.extractall(tmp_path / "task")
    # When the source changes after packaging (only the bytecode could still say 'archive')
    (tmp_path / "task" / "shipped.py").write_text("WHO = 'compiled at start'\n")
    found = subprocess.run([sys.executable, "-B", "-c", "import shipped; print(shipped.WHO, shipped.__file__)"],
                           cwd=tmp_path / "task", capture_output=True, text=True, check=True).stdout
    # Then the module came from the archive's bytecode, and its tracebacks name Lambda's path
    assert found.startswith("archive ")
    import marshal

    data = zipfile.ZipFile(archive.path).read("__pycache__/shipped.cpython-313.pyc")
    assert marshal.loads(data[16:]).co_filename == "/var/task/shipped.py"
