"""Lead import: messy CSV or JSON in, validated candidate leads and a row-exact report out. No AWS here."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pivotr.domain.emails import EmailNotValidError, normalized
from pivotr.domain.leads import lead_id
from pivotr.errors import ApiError, invalid

MAX_BYTES = 4 * 1024 * 1024  # bytes: Lambda's 6 MB request limit, with room for base64 encoding
MAX_ROWS = 50_000  # data rows per request; split larger files
MAX_REPORTED = 100  # invalid rows listed in a response (the count is always complete)
MAX_CELL = 1_000  # characters kept per cell
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets would execute (OWASP CSV injection)

# Loose header names -> lead field: lower-cased, everything but letters and digits removed.
HEADER_ALIASES = {
    "email": {"email", "emailaddress", "mail", "emailid", "mailaddress", "eaddress", "workemail", "primaryemail"},
    "firstName": {"firstname", "first", "givenname", "fname", "forename"},
    "lastName": {"lastname", "last", "surname", "familyname", "lname"},
    "company": {"company", "companyname", "organization", "organisation", "org", "account", "accountname", "employer"},
    "tags": {"tags", "tag", "labels", "label"},
}
_ALIAS = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_ATTRIBUTE = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class InvalidRow:
    row: int  # as a spreadsheet counts: the header is row 1 (CSV); the first item is 1 (JSON)
    value: str
    reason: str


@dataclass
class ParsedImport:
    received: int = 0
    leads: list[dict[str, Any]] = field(default_factory=list)  # valid, first occurrence of each e-mail
    rows: dict[str, int] = field(default_factory=dict)  # lead id -> row it came from
    invalid: list[InvalidRow] = field(default_factory=list)
    duplicates_in_file: list[dict[str, Any]] = field(default_factory=list)


# -- decoding -----------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the common legacy single-byte encoding."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    if "\x00" in text:
        raise invalid([{"field": "body", "message": "is not a text file (it contains NUL bytes)"}])
    return text


def neutralize(value: str) -> str:
    """A cell a spreadsheet would run as a formula is stored with a leading apostrophe."""
    value = value.strip()[:MAX_CELL]
    return "'" + value if value.startswith(FORMULA_START) else value


def field_for(header: str) -> str:
    key = _ATTRIBUTE.sub("", header).lower()
    return _ALIAS.get(key, "")


def attribute_name(header: str, index: int) -> str:
    words = [w for w in _ATTRIBUTE.split(header.strip()) if w]
    name = (words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words else ""
    return name[:64] if name[:1].isalpha() else f"column{index + 1}"


# -- parsing --------------------------------------------------------------------------------------
def _sniff_delimiter(text: str) -> str:
    header_line = text.split("\n", 1)[0]
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def parse_csv(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (spreadsheet row number, cells) of every non-blank data row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if header is None:
                if any(c.strip() for c in cells):
                    header = cells
                continue
            if any(c.strip() for c in cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise ApiError(413, "TOO_MANY_ROWS", f"The file has more than {MAX_ROWS} rows; split it into files of at most {MAX_ROWS} rows")
    except csv.Error as error:
        raise invalid([{"field": "body", "message": f"is not readable CSV: {error}"}]) from None
    return header or [], rows


def records_from_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    header, rows = parse_csv(text)
    if not header:
        raise invalid([{"field": "body", "message": "the file is empty"}])
    fields = [field_for(h) or f"custom:{attribute_name(h, i)}" for i, h in enumerate(header)]
    if "email" not in fields:
        raise invalid([{"field": "body", "message": f"no e-mail column; the headers are: {', '.join(h.strip() for h in header)[:300]}"}])
    records = []
    for number, cells in rows:
        record: dict[str, str] = {}
        for index, cell in enumerate(cells):
            name = fields[index] if index < len(fields) else f"custom:column{index + 1}"  # a cell past the header
            if name not in record or not record[name]:  # the first non-empty column of a kind wins
                record[name] = cell
        records.append((number, record))
    return records


def records_from_json(text: str) -> list[tuple[int, dict[str, str]]]:
    try:
        items = json.loads(text)
    except ValueError:
        raise invalid([{"field": "body", "message": "is not valid JSON"}]) from None
    if not isinstance(items, list):
        raise invalid([{"field": "body", "message": "must be a JSON array of objects"}])
    if len(items) > MAX_ROWS:
        raise ApiError(413, "TOO_MANY_ROWS", f"The array has more than {MAX_ROWS} items; split it into arrays of at most {MAX_ROWS}")
    records = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            records.append((number, {"__invalid__": "must be an object"}))
            continue
        record: dict[str, str] = {}
        for i, (key, value) in enumerate(item.items()):
            name = field_for(str(key)) or f"custom:{attribute_name(str(key), i)}"
            if isinstance(value, list) and name == "tags":
                value = ";".join(str(v) for v in value)
            if value is None or isinstance(value, (dict, list)):
                continue
            record.setdefault(name, str(value))
        records.append((number, record))
    return records


# -- validating -----------------------------------------------------------------------------------
def _tags(raw: str) -> list[str]:
    return sorted({neutralize(t)[:64] for t in re.split(r"[;,|]", raw) if t.strip()})[:50]


def to_lead(record: dict[str, str], now: str) -> dict[str, Any]:
    lead: dict[str, Any] = {"status": "new", "tags": [], "customAttributes": {}, "createdAt": now, "updatedAt": now}
    for name, value in record.items():
        if name.startswith("custom:"):
            if value.strip() and len(lead["customAttributes"]) < 50:
                lead["customAttributes"][name[7:]] = neutralize(value)
        elif name == "tags":
            lead["tags"] = _tags(value)
        elif name in ("firstName", "lastName", "company") and value.strip():
            lead[name] = neutralize(value)[:200]
    return lead


def parse(data: bytes, content_type: str, now: str) -> ParsedImport:
    """Every row accounted for: a valid lead, a duplicate inside the file, or an invalid row with its reason."""
    if len(data) > MAX_BYTES:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files")
    if not data.strip():
        raise invalid([{"field": "body", "message": "the file is empty"}])
    text = decode(data)
    records = records_from_json(text) if content_type == "application/json" else records_from_csv(text)
    result = ParsedImport(received=len(records))
    for number, record in records:
        if "__invalid__" in record:
            result.invalid.append(InvalidRow(number, "", record["__invalid__"]))
            continue
        raw = (record.get("email") or "").strip()
        if not raw:
            result.invalid.append(InvalidRow(number, "", "no e-mail address"))
            continue
        try:
            email = normalized(raw)
        except EmailNotValidError as error:
            result.invalid.append(InvalidRow(number, raw[:254], str(error)))
            continue
        id_ = lead_id(email)
        if id_ in result.rows:
            result.duplicates_in_file.append({"row": number, "email": email, "firstRow": result.rows[id_]})
            continue
        result.rows[id_] = number
        result.leads.append({**to_lead(record, now), "id": id_, "email": email})
    return result
