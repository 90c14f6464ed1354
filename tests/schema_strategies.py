"""Hypothesis strategies from the OpenAPI 3.0 schemas of docs/openapi.json (the subset it uses: types,
enum, pattern, maxLength, bounds, nullable, arrays, closed and map objects, formats email and
date-time, $ref), and near-misses of them. A small generator of our own: adding a library would mean
re-locking every dependency."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

# Addresses email-validator takes (ASCII, no quoting): what a client sends.
EMAILS = st.builds("{}@{}.{}".format, st.text(string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=20)
                   .filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s),
                   st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=15),
                   st.sampled_from(["com", "de", "io", "example"]))
DATE_TIMES = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)).map(
    lambda at: at.isoformat())
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**7, 10**7) | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=30), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=10)


def checked(spec: Any) -> bool:
    """Whether a rule the document can only describe (a ``pivotr.validation.Field``'s ``check``)
    applies somewhere inside this field spec."""
    inner = [spec.item, spec.values, *(spec.properties or {}).values()]
    return spec.check is not None or any(checked(s) for s in inner if s is not None)


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def valid(schema: dict[str, Any], document: dict[str, Any], text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Values the schema allows. ``text``: free strings (no pattern, enum or format) come from it."""
    schema = resolve(schema, document)
    strategy = _valid(schema, document, text)
    return (st.none() | strategy) if schema.get("nullable") else strategy


def _valid(schema: dict[str, Any], document: dict[str, Any], text: st.SearchStrategy[str] | None) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        longest = schema.get("maxLength", 1_000)
        if "example" in schema and not ({"pattern", "format"} & set(schema)):  # what the document says is typical
            return st.just(schema["example"]) | (st.text() if text is None else text).map(lambda s: s[:longest])
        if schema.get("format") == "email":
            return EMAILS.filter(lambda s: len(s) <= longest)
        if schema.get("format") == "date-time":
            return DATE_TIMES
        if "pattern" in schema:  # written ^(?:...)$ in the document: generate exact matches of the inside
            return st.from_regex(schema["pattern"].removeprefix("^").removesuffix("$"), fullmatch=True).filter(
                lambda s: len(s) <= longest)
        return (st.text() if text is None else text).map(lambda s: s[:longest])
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**9), schema.get("maximum", 10**9))
    if kind == "number":
        low = schema.get("minimum")
        return st.floats(min_value=low, max_value=schema.get("maximum"), exclude_min=bool(schema.get("exclusiveMinimum")) and low is not None,
                         allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(valid(schema.get("items", {}), document, text), max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object":
        if "properties" in schema:
            required = set(schema.get("required", []))
            return st.fixed_dictionaries(
                {k: valid(v, document, text) for k, v in schema["properties"].items() if k in required},
                optional={k: valid(v, document, text) for k, v in schema["properties"].items() if k not in required})
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            return st.dictionaries(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,10}\Z"), valid(values, document, text),
                                   max_size=min(schema.get("maxProperties", 5), 5))
        return st.just({})
    return JSON


def near(schema: dict[str, Any], document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid bodies, and bodies one step off: a field set to any JSON value, a field too long or out of
    range, a required field dropped, an unknown field added."""
    schema = resolve(schema, document)
    properties = schema.get("properties", {})

    @st.composite
    def mutated(draw: st.DrawFn) -> Any:
        body = dict(draw(valid(schema, document)))
        step = draw(st.sampled_from(["any", "long", "drop", "unknown"]))
        names = sorted(properties)
        if step == "unknown" or not names:
            body[draw(st.text(min_size=1, max_size=10))] = draw(JSON)
            return body
        name = draw(st.sampled_from(names))
        if step == "drop":
            body.pop(name, None)
        elif step == "long":
            body[name] = draw(st.one_of(st.text(min_size=60, max_size=1_200), st.integers(-10**7, 10**7),
                                        st.lists(st.text(max_size=3), min_size=9, max_size=60)))
        else:
            body[name] = draw(JSON)
        return body

    return st.one_of(valid(schema, document), mutated())
