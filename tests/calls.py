"""Every AWS call the suite's code makes, seen through botocore's own events (no private method patched).

``install()`` adds three handlers to ``botocore.handlers.BUILTIN_HANDLERS``, which every botocore
session registers when it is created (moto hooks in the same way), and starts a new boto3 default
session so that none made earlier is missed. Observers are plain objects in ``OBSERVERS``:

- ``rewrite(service, operation, params, context)``: may change the caller's parameters before botocore
  validates them (every call, and also presigned URLs and posts, which are not calls);
- ``before(service, operation, params, context)``: a call about to go to AWS (presigning never gets
  here), with the caller's parameters; an observer may raise, and the call then never reaches AWS;
- ``answer(service, operation, context)``: an answer of its own (a parsed response) instead of AWS's;
- ``after(service, operation, parsed, context)``: the parsed answer, which it may change.

``context`` is botocore's per-call request context, shared by the events of one call.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse

OBSERVERS: list[Any] = []
_PARAMS = "pivotr_params"


def _service(model: Any) -> str:
    return model.service_model.service_name


def _rewrite(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    for observer in list(OBSERVERS):
        if hasattr(observer, "rewrite"):
            observer.rewrite(_service(model), model.name, params, context)
    context[_PARAMS] = dict(params)  # as the caller gave them (botocore serializes them next)


def _before(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    params = context.get(_PARAMS, {})
    for observer in list(OBSERVERS):
        if hasattr(observer, "before"):
            observer.before(_service(model), model.name, params, context)
    for observer in list(OBSERVERS):
        parsed = observer.answer(_service(model), model.name, context) if hasattr(observer, "answer") else None
        if parsed is not None:
            return AWSResponse("https://observer.invalid/", 200, {}, None), parsed
    return None


def _after(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    for observer in list(OBSERVERS):
        if hasattr(observer, "after"):
            observer.after(_service(model), model.name, parsed, context)


HANDLERS = (("before-parameter-build", _rewrite), ("before-call", _before), ("after-call", _after))


def install() -> None:
    """Idempotent. Clients made from sessions created before this see no observer: hence the new default session."""
    if HANDLERS[0] not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.extend(HANDLERS)
        boto3.setup_default_session()

