"""Declarative validation of JSON bodies and query strings; every bad field is named at once.

The field specs are also the contract's source: ``object_schema`` turns them into the request and
response schemas of docs/openapi.json, so the document and the validator cannot drift. What a spec's
``check`` enforces beyond its structure is stated next to it in ``doc`` (schema keywords such as
``format``, or a ``description``), and ``structure_only`` validates without the checks, which is what
the document promises (tests/test_contract_source.py proves the two agree)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pivotr.errors import Invalid, invalid

MAX_STRING = 1_000  # characters, unless a field says otherwise


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = False
    max_length: int = MAX_STRING  # characters (strings) or items (lists)
    choices: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    item: Field | None = None  # for lists
    check: Callable[[Any], str | None] | None = None  # returns a message when the value is bad
    nullable: bool = False
    properties: Mapping[str, Field] | None = None  # for objects with known keys (unknown keys refused)
    values: Field | None = None  # for objects used as maps: each value (``max_length`` keys at most)
    doc: Mapping[str, Any] | None = None  # schema keywords for what ``check`` enforces, and a description

    def schema(self) -> dict[str, Any]:
        """This field as an OpenAPI 3.0 schema."""
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        schema: dict[str, Any] = {"type": "number" if float in kinds else _TYPES[kinds[0]]}
        if schema["type"] == "string":
            if self.choices is not None:
                schema["enum"] = sorted(self.choices)
            else:
                schema["maxLength"] = self.max_length
            if self.pattern is not None:
                schema["pattern"] = f"^(?:{self.pattern.pattern})$"
        elif schema["type"] in ("integer", "number"):
            schema |= {k: v for k, v in (("minimum", self.minimum), ("maximum", self.maximum)) if v is not None}
        elif schema["type"] == "array":
            schema["maxItems"] = self.max_length
            if self.item is not None:
                schema["items"] = self.item.schema()
        elif self.properties is not None:
            schema = object_schema(self.properties)
        elif self.values is not None:
            schema |= {"additionalProperties": self.values.schema(), "maxProperties": self.max_length}
        if self.nullable:
            schema["nullable"] = True
        return schema | dict(self.doc or {})


_TYPES = {str: "string", int: "integer", bool: "boolean", list: "array", dict: "object"}


def object_schema(fields: Mapping[str, Field], *, partial: bool = False, closed: bool = True) -> dict[str, Any]:
    """The schema of a body ``validate(body, fields, partial=partial)`` reads: its known fields, the
    required ones (none when ``partial``), nothing else when ``closed`` (requests; answers add fields)."""
    required = [] if partial else [name for name, spec in fields.items() if spec.required]
    return schema_object({name: spec.schema() for name, spec in fields.items()}, required, closed=closed)


def schema_object(properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = False) -> dict[str, Any]:
    """An OpenAPI object schema of ``properties`` (name -> schema)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def _problem(spec: Field, value: Any, checks: bool = True) -> str | None:
    if value is None:
        return None if spec.nullable else "must not be null"
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if isinstance(value, bool) and bool not in kinds:
        return f"must be {_kind_name(kinds)}"
    if not isinstance(value, kinds):
        return f"must be {_kind_name(kinds)}"
    if isinstance(value, str):
        if len(value) > spec.max_length:
            return f"must be at most {spec.max_length} characters"
        if spec.choices is not None and value not in spec.choices:
            return f"must be one of {', '.join(sorted(spec.choices))}"
        if spec.pattern is not None and not spec.pattern.fullmatch(value):
            return "has an invalid format"
    if isinstance(value, int) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum}"
    if isinstance(value, list):
        if len(value) > spec.max_length:
            return f"must have at most {spec.max_length} items"
        if spec.item is not None:
            for index, item in enumerate(value):
                problem = _problem(spec.item, item, checks)
                if problem:
                    return f"item {index} {problem}"
    if isinstance(value, dict) and spec.properties is not None:
        try:
            validate(value, spec.properties, checks=checks)
        except Invalid as error:  # one message for the object: its fields' messages
            return "; ".join(f"{d['field']} {d['message']}" for d in error.details) or "is invalid"
    if isinstance(value, dict) and spec.values is not None:
        if len(value) > spec.max_length:
            return f"must have at most {spec.max_length} keys"
        for key, item in value.items():
            problem = _problem(spec.values, item, checks)
            if problem:
                return f"value of {key!r} {problem}"
    if spec.check is not None and checks:
        return spec.check(value)
    return None


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "a boolean", list: "an array", dict: "an object", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def validate(body: Any, fields: Mapping[str, Field], *, partial: bool = False, checks: bool = True) -> dict[str, Any]:
    """The body's known fields, checked; raises Invalid naming every unknown, missing or bad field.
    ``checks=False`` leaves out the fields' ``check`` functions: the structure the document describes."""
    if not isinstance(body, dict):
        raise invalid([{"field": "body", "message": "must be a JSON object"}])
    details = [{"field": name, "message": "is not a known field"} for name in sorted(set(body) - set(fields))]
    for name, spec in fields.items():
        if name not in body:
            if spec.required and not partial:
                details.append({"field": name, "message": "is required"})
            continue
        problem = _problem(spec, body[name], checks)
        if problem:
            details.append({"field": name, "message": problem})
    if details:
        raise invalid(details)
    return {name: body[name] for name in fields if name in body}


def query_int(query: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,6}", raw) or not minimum <= int(raw) <= maximum:
        raise invalid([{"field": name, "message": f"must be a whole number from {minimum} to {maximum}"}])
    return int(raw)


def query_choice(query: Mapping[str, str], name: str, choices: frozenset[str]) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise invalid([{"field": name, "message": f"must be one of {', '.join(sorted(choices))}"}])
    return raw


def path_id(value: str | None) -> str:
    """Ids are what this API issues: 1-64 characters of letters, digits, '-' and '_'."""
    if value is None or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise invalid([{"field": "id", "message": "is not a valid id"}])
    return value
