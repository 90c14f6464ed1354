"""Load only the submodules of the prebuilt AWS bindings that this program uses.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all
~2,200 resource submodules (hashicorp/terraform-cdk#3753), ~11 s before the first
construct exists. That ``__init__`` defines nothing the submodules need: each
submodule imports only ``cdktf_cdktf_provider_aws._jsii``, which loads the jsii
assembly. So we register the package *without running its ``__init__``* and let
the ordinary import system load ``_jsii`` and the submodules we name.

The Node.js side of jsii has the same problem: the provider's ``lib/index.js``
requires every resource module (~3 s of compiling). ``lazy_exports.js`` is
preloaded into the jsii kernel process and turns those exports into getters.

Safety:
- Only for the exact bindings version whose output the tests compare
  byte-for-byte with the ordinary import (``tests/test_fast_import.py``);
  any other version takes the ordinary import.
- If the package is already imported (by anyone, the ordinary way), it is used
  as it is; if the jsii kernel already runs, its Node.js side stays as it is.
- ``from cdktf_cdktf_provider_aws import x`` still works afterwards: Python
  imports ``x`` as a submodule when the package has no such attribute.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

@dataclass(frozen=True)
class Toolchain:
    """One CDK toolchain: its core package and its prebuilt AWS bindings."""

    name: str
    core: str  # the CDK library's Python package
    package: str  # the bindings' Python package
    distribution: str  # the bindings' distribution (what importlib.metadata knows)
    verified: str  # the bindings version whose fast import is proven identical to the ordinary one


# The owner's CDKTF (default, locked in Pipfile.lock) and its maintained fork CDK Terrain (locked in
# terrain/Pipfile.lock, its own virtualenv): the same API under other package names.
TOOLCHAINS = {
    "cdktf": Toolchain("cdktf", "cdktf", "cdktf_cdktf_provider_aws", "cdktf-cdktf-provider-aws", "21.22.1"),
    "cdktn": Toolchain("cdktn", "cdktn", "cdktn_provider_aws", "cdktn-provider-aws", "25.8.1"),
}
DEFAULT_TOOLCHAIN = "cdktf"

# The selected toolchain's names (tests/test_fast_import.py proves the fast path for VERIFIED_VERSION).
TOOLCHAIN = DEFAULT_TOOLCHAIN
CORE = TOOLCHAINS[TOOLCHAIN].core
PACKAGE = TOOLCHAINS[TOOLCHAIN].package
DISTRIBUTION = TOOLCHAINS[TOOLCHAIN].distribution
VERIFIED_VERSION = TOOLCHAINS[TOOLCHAIN].verified


class ToolchainUnavailable(RuntimeError):
    pass


def select(name: str) -> Toolchain:
    """Use toolchain ``name`` (before ``modules.tf`` is imported); refuses one this interpreter lacks."""
    global TOOLCHAIN, CORE, PACKAGE, DISTRIBUTION, VERIFIED_VERSION
    if name not in TOOLCHAINS:
        raise ToolchainUnavailable(f"TOOLCHAIN={name!r}: expected one of {', '.join(TOOLCHAINS)}")
    chosen = TOOLCHAINS[name]
    if importlib.util.find_spec(chosen.core) is None:
        hint = "make synth TOOLCHAIN=cdktn (installs terrain/.venv)" if name == "cdktn" else "make install"
        raise ToolchainUnavailable(f"TOOLCHAIN={name}: {chosen.core} is not installed in this environment: {hint}")
    if name != TOOLCHAIN and "modules.tf" in sys.modules:
        raise ToolchainUnavailable(f"TOOLCHAIN={name}: modules.tf was already imported with {TOOLCHAIN}")
    TOOLCHAIN, CORE, PACKAGE, DISTRIBUTION, VERIFIED_VERSION = (
        chosen.name, chosen.core, chosen.package, chosen.distribution, chosen.verified)
    return chosen

_PARTIAL_MARKER = "__pivotr_partial_import__"
LAZY_EXPORTS_JS = Path(__file__).with_name("lazy_exports.js")


def is_partial() -> bool:
    """True when the bindings package was registered by :func:`prime` (fast path)."""
    module = sys.modules.get(PACKAGE)
    return bool(module is not None and getattr(module, _PARTIAL_MARKER, False))


def prime() -> str:
    """Make the bindings importable submodule by submodule; returns the path taken.

    ``"fast"``: the package is registered without its ``__init__``;
    ``"ordinary"``: the package was already imported, or its version is not the verified one.
    """
    if PACKAGE in sys.modules:
        return "fast" if is_partial() else "ordinary"
    if importlib.metadata.version(DISTRIBUTION) != VERIFIED_VERSION:
        importlib.import_module(PACKAGE)
        return "ordinary"
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{PACKAGE} is not installed: run `make install`")
    package = types.ModuleType(PACKAGE, "Prebuilt AWS bindings, loaded submodule by submodule.")
    package.__spec__ = spec
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__package__ = PACKAGE
    setattr(package, _PARTIAL_MARKER, True)
    sys.modules[PACKAGE] = package
    try:
        with _lazy_node_exports():
            importlib.import_module(f"{PACKAGE}._jsii")  # starts the kernel if needed; loads the assembly
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    return "fast"


def kernel_started() -> bool:
    """Whether a jsii assembly was loaded, i.e. the Node.js kernel process already runs."""
    return any(name.endswith("._jsii") for name in sys.modules)


class _lazy_node_exports:
    """While the kernel starts, preload ``lazy_exports.js`` into it (through NODE_OPTIONS).

    The variable is restored right after, so nothing else this process starts inherits it.
    """

    def __enter__(self) -> None:
        self.before = os.environ.get("NODE_OPTIONS")
        if kernel_started() or '"' in str(LAZY_EXPORTS_JS):
            return
        option = f'--require "{LAZY_EXPORTS_JS}"'
        os.environ["NODE_OPTIONS"] = f"{self.before} {option}" if self.before else option

    def __exit__(self, *exc: object) -> None:
        if self.before is None:
            os.environ.pop("NODE_OPTIONS", None)
        else:
            os.environ["NODE_OPTIONS"] = self.before
