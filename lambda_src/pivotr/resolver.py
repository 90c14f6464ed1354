"""Powertools' HTTP API resolver, imported without every other resolver.

``aws_lambda_powertools.event_handler``'s ``__init__`` imports all its resolvers (AppSync, Bedrock
agents, VPC Lattice, ...), about 13 ms of each API function's cold start for classes they never use.
Here the package is registered without running its ``__init__``, and only ``api_gateway`` is
imported. The package completes itself (runs its own ``__init__``, once) the first time anything
asks it for a name it does not have yet, so ``from aws_lambda_powertools.event_handler import X``
still works anywhere (tests/test_resolver.py).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

PACKAGE = "aws_lambda_powertools.event_handler"


def _register_without_init(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    package: ModuleType = importlib.util.module_from_spec(spec)
    completed = []

    def complete(attribute: str) -> object:  # PEP 562: asked only for names the module lacks
        if attribute.startswith("__") or importlib.util.find_spec(f"{name}.{attribute}") is not None:
            # a submodule (``from package import submodule`` asks first): the import system loads it
            raise AttributeError(attribute)
        if not completed:
            completed.append(True)
            spec.loader.exec_module(package)  # type: ignore[union-attr]
            if attribute in vars(package):
                return vars(package)[attribute]
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    package.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules[name] = package


_register_without_init(PACKAGE)

from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

__all__ = ["APIGatewayHttpResolver", "Response"]
