"""Load only the submodules of the prebuilt AWS bindings that this program uses.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all
~2,200 resource submodules (hashicorp/terraform-cdk#3753), ~11 s before the first
construct exists. That ``__init__`` defines nothing the submodules need: each
submodule imports only ``cdktf_cdktf_provider_aws._jsii``, which loads the jsii
assembly. So we register the package *without running its ``__init__``* and let
the ordinary import system load ``_jsii`` and the submodules we name.

Safety:
- Only for the exact bindings version whose output the tests compare
  byte-for-byte with the ordinary import (``tests/test_fast_import.py``);
  any other version takes the ordinary import.
- If the package is already imported (by anyone, the ordinary way), it is used
  as it is.
- ``from cdktf_cdktf_provider_aws import x`` still works afterwards: Python
  imports ``x`` as a submodule when the package has no such attribute.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"
DISTRIBUTION = "cdktf-cdktf-provider-aws"
VERIFIED_VERSION = "21.22.1"  # the version tests/test_fast_import.py proves identical

_PARTIAL_MARKER = "__pivotr_partial_import__"


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
        importlib.import_module(f"{PACKAGE}._jsii")  # loads the jsii assembly once
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    return "fast"
