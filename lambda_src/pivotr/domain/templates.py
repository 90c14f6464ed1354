"""Templates: merge fields with defaults, checked at save time, rendered safely at send time."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from pivotr.errors import invalid
from pivotr.validation import Field, validate

STANDARD_FIELDS = frozenset({"firstName", "lastName", "company", "email", "unsubscribeUrl"})  # the last: set at send time
CUSTOM_PREFIX = "custom."  # {{custom.plan}} reads customAttributes["plan"]
MAX_BODY = 100_000  # characters per body
_MERGE = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_.]*)\s*(?:\|\s*([^{}|]*?)\s*)?\}\}")
_CUSTOM = re.compile(r"custom\.[A-Za-z][A-Za-z0-9_]{0,63}")
_LINE_BREAK = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class MergeField:
    name: str
    default: str


def merge_fields(text: str) -> list[MergeField]:
    return [MergeField(m.group(1), m.group(2) or "") for m in _MERGE.finditer(text)]


def problems(text: str) -> list[str]:
    """What is wrong with a template text: malformed tags and unknown merge fields."""
    found = []
    leftover = _MERGE.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        found.append("has a malformed merge tag: use {{field}} or {{field | default}}")
    unknown = sorted({f.name for f in merge_fields(text) if f.name not in STANDARD_FIELDS and not _CUSTOM.fullmatch(f.name)})
    if unknown:
        found.append(f"uses unknown merge fields: {', '.join(unknown)}")
    return found


def _text_problem(value: str) -> str | None:
    found = problems(value)
    return "; ".join(found) if found else None


def _subject_problem(value: str) -> str | None:
    if _LINE_BREAK.search(value):
        return "must be one line (no line breaks)"
    return _text_problem(value)


FIELDS = {
    "name": Field(str, required=True, max_length=200),
    "subject": Field(str, required=True, max_length=500, check=_subject_problem,
                     doc={"description": "One line; merge fields {{field}} or {{field | default}}"}),
    "html": Field(str, max_length=MAX_BODY, check=_text_problem, nullable=True, doc={"description": "Merge fields as in the subject"}),
    "text": Field(str, max_length=MAX_BODY, check=_text_problem, nullable=True, doc={"description": "Merge fields as in the subject"}),
}


def validated(body: Any, *, partial: bool = False, current: dict[str, Any] | None = None) -> dict[str, Any]:
    values = validate(body, FIELDS, partial=partial)
    merged = {**(current or {}), **values}
    if not (merged.get("html") or merged.get("text")):
        raise invalid([{"field": "html", "message": "a template needs an html or a text body"}])
    return values


def _value(lead: dict[str, Any], field: MergeField) -> str:
    if field.name.startswith(CUSTOM_PREFIX):
        value = (lead.get("customAttributes") or {}).get(field.name[len(CUSTOM_PREFIX):])
    else:
        value = lead.get(field.name)
    return str(value) if value not in (None, "") else field.default


def render_text(text: str, lead: dict[str, Any], *, escape: bool = False, one_line: bool = False) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = _value(lead, MergeField(match.group(1), match.group(2) or ""))
        if one_line:
            value = _LINE_BREAK.sub(" ", value)
        return html.escape(value) if escape else value

    return _MERGE.sub(substitute, text)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str | None
    text: str | None


def render(template: dict[str, Any], lead: dict[str, Any]) -> Rendered:
    """Lead values are HTML-escaped in the HTML body and line breaks never reach the subject."""
    return Rendered(
        subject=render_text(template["subject"], lead, one_line=True),
        html=render_text(template["html"], lead, escape=True) if template.get("html") else None,
        text=render_text(template["text"], lead) if template.get("text") else None,
    )
