"""Deterministic Lambda archives: the same source tree always gives the same bytes.

Entries are sorted, timestamps fixed, permissions normalized and caches left
out, so ``source_code_hash`` (and ``terraform plan``) changes only when code does.
"""

from __future__ import annotations

import base64
import hashlib
import importlib._bootstrap_external
import importlib.util
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # earliest date a zip entry can carry
FILE_MODE = 0o100644  # regular file, rw-r--r--
_EXCLUDED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256_base64: str  # what Terraform's source_code_hash expects


def source_files(source_dir: Path) -> list[Path]:
    """Files that go into the archive, in archive order."""
    files = [
        path
        for path in source_dir.rglob("*")
        if path.is_file()
        and not _EXCLUDED_DIRS.intersection(path.relative_to(source_dir).parts)
        and path.suffix not in _EXCLUDED_SUFFIXES
    ]
    return sorted(files, key=lambda path: path.relative_to(source_dir).as_posix())


NATIVE_SUFFIXES = {".so", ".pyd", ".dylib", ".dll"}


class NotPurePython(ValueError):
    """A vendored package ships compiled code, which would be built for this machine, not arm64 Lambda."""


def vendored_files(packages: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(archive name, file) of each named top-level package, from the environment running the synth.

    That environment is the locked one (Pipfile.lock), so the versions are pinned; only pure-Python
    packages are accepted.
    """
    files: list[tuple[str, Path]] = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"vendored package {package!r} is not installed: run `make install`")
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in source_files(root):
            if path.suffix in NATIVE_SUFFIXES:
                raise NotPurePython(f"{package} ships compiled code ({path.name}); use a layer built for arm64")
            files.append((f"{package}/{path.relative_to(root).as_posix()}", path))
    return files


RUNTIME_PYTHON = (3, 13)  # the functions' runtime (python3.13): the bytecode in the archive is for it
TASK_ROOT = "/var/task"  # where Lambda unpacks the archive: the file names tracebacks show


class WrongPython(RuntimeError):
    """The synth runs on another Python than the functions' runtime, so it cannot compile their bytecode."""


def bytecode(name: str, source: bytes) -> tuple[str, bytes]:
    """The archive entry of ``name``'s compiled module: Lambda unpacks the archive read-only, so without
    it every cold start compiles every module again (about a fifth of the handlers' import time). An
    unchecked hash-based pyc: loaded without comparing timestamps (the archive fixes them all), and
    the same bytes for the same source (its header holds the source's hash, not a time)."""
    if sys.version_info[:2] != RUNTIME_PYTHON:
        raise WrongPython(f"synth with Python {'.'.join(map(str, RUNTIME_PYTHON))} (the functions' runtime), "
                          f"not {sys.version.split()[0]}: `make synth` uses the locked environment")
    code = compile(source, f"{TASK_ROOT}/{name}", "exec", dont_inherit=True)
    data = importlib._bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)  # type: ignore[attr-defined]
    folder, _, module = name.rpartition("/")
    cached = f"__pycache__/{module[:-3]}.{sys.implementation.cache_tag}.pyc"
    return (f"{folder}/{cached}" if folder else cached), bytes(data)


def build_archive(source_dir: Path, destination: Path, vendor: tuple[str, ...] = ()) -> Archive:
    """Zip ``source_dir`` (and the ``vendor`` packages) into ``destination`` reproducibly, each module
    with its bytecode; return the archive's hash."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    files = [(path.relative_to(source_dir).as_posix(), path) for path in source_files(source_dir)] + vendored_files(vendor)
    contents = {name: path.read_bytes() for name, path in files}
    contents |= dict(bytecode(name, data) for name, data in list(contents.items()) if name.endswith(".py"))
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            archive.writestr(info, contents[name], compresslevel=9)
    digest = hashlib.sha256(destination.read_bytes()).digest()
    return Archive(path=destination, sha256_base64=base64.b64encode(digest).decode("ascii"))
