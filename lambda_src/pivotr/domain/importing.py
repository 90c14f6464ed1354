"""Lead import: messy CSV or JSON in, validated candidate leads and a row-exact report out. No AWS here."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pivotr import safejson
from pivotr.domain.emails import EmailNotValidError, normalized
from pivotr.domain.leads import NEW, lead_id
from pivotr.errors import TooLarge, invalid

# The synchronous import (POST /leads/import) answers inside the HTTP API's fixed 30 s: 10,000 rows
# took about 3 s of wall time on moto here (README "Imports"); larger files go through POST /imports.
MAX_BYTES = 1024 * 1024  # bytes
MAX_ROWS = 10_000  # data rows
MAX_REPORTED = 100  # invalid rows listed in a response (the count is always complete)
MAX_CELL = 1_000  # characters kept per cell
UPDATABLE = ("firstName", "lastName", "company", "customAttributes", "tags")  # what onDuplicate=update sets: never the status
MAX_COLUMNS = 200  # columns read per row; the rest are ignored (a job keeps its layout in a 400 KB item)
MAX_HEADER = 100  # characters of a header kept in the layout and the report
MAX_REASON = 200  # characters of an invalid row's reason
SAMPLE_ROWS = 50  # rows looked at to find the e-mail column when no header names it
GUESS_SHARE = 0.5  # of a column's non-empty sampled cells that must be addresses for it to be chosen

# Header names people's CRM and spreadsheet exports use, per lead field, in English, German, French,
# Spanish, Portuguese, Italian and Dutch. Compared folded: accents removed, lower-cased, everything but
# letters and digits dropped ("E-Mail-Adresse" -> "emailadresse", "Prénom" -> "prenom").
HEADER_ALIASES = {
    "email": {
        "email", "emailaddress", "mail", "emailid", "mailaddress", "eaddress", "workemail", "primaryemail",
        "businessemail", "personalemail", "contactemail", "emailaddress1", "email1", "emails",  # English, CRMs
        "emailadresse", "mailadresse", "epost", "epostadresse",  # German ("E-Mail-Adresse", "E-Mail")
        "courriel", "adressecourriel", "adresseemail", "adressemail", "adresseelectronique", "mel",  # French
        "correo", "correoelectronico", "direcciondecorreo", "direcciondecorreoelectronico", "emailcorreo",  # Spanish
        "correioeletronico", "enderecodeemail", "enderecodeemail1", "enderecoemail", "enderecoeletronico",  # Portuguese
        "postaelettronica", "indirizzoemail", "indirizzodipostaelettronica", "indirizzomail",  # Italian
        "emailadres", "mailadres", "epostadres",  # Dutch
    },
    "firstName": {
        "firstname", "first", "givenname", "fname", "forename",
        "vorname", "rufname",  # German
        "prenom",  # French
        "nombre", "nombredepila", "primernombre",  # Spanish
        "primeironome", "nome", "nomeproprio",  # Portuguese, Italian ("nome")
        "voornaam", "roepnaam",  # Dutch
    },
    "lastName": {
        "lastname", "last", "surname", "familyname", "lname",
        "nachname", "familienname", "zuname",  # German
        "nom", "nomdefamille",  # French ("Nom" is the family name next to "Prénom")
        "apellido", "apellidos", "primerapellido",  # Spanish
        "sobrenome", "apelido", "ultimonome",  # Portuguese
        "cognome",  # Italian
        "achternaam", "familienaam",  # Dutch
    },
    "company": {
        "company", "companyname", "organization", "organisation", "org", "account", "accountname", "employer",
        "firma", "unternehmen", "firmenname", "arbeitgeber",  # German
        "societe", "entreprise", "nomdelentreprise", "employeur",  # French
        "empresa", "compania", "nombredelaempresa", "organizacion",  # Spanish
        "nomedaempresa", "organizacao",  # Portuguese ("Empresa" above)
        "azienda", "societa", "ditta", "nomeazienda", "organizzazione",  # Italian
        "bedrijf", "bedrijfsnaam", "organisatie", "werkgever",  # Dutch
    },
    "tags": {"tags", "tag", "labels", "label", "schlagworte", "etiquettes", "etiquetas", "etichette", "labelen"},
}
_ALIAS = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_ATTRIBUTE = re.compile(r"[^A-Za-z0-9]+")
_NOT_ALNUM = re.compile(r"[\W_]+")


class LayoutError(ValueError):
    """The file's columns cannot be read as leads (no e-mail column); the message says why."""


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
    layout: Layout | None = None  # CSV only


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


def cell(value: str) -> str:
    """A cell as stored: what the user gave, trimmed and capped; never prefixed (formula-looking cells are
    neutralized where data leaves as a spreadsheet: domain/exports.py)."""
    return value.strip()[:MAX_CELL]


def fold(header: str) -> str:
    """``"E-Mail-Adresse"`` -> ``"emailadresse"``, ``"Prénom"`` -> ``"prenom"``: accents off, lower case,
    letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", header)
    return _NOT_ALNUM.sub("", "".join(c for c in decomposed if not unicodedata.combining(c))).lower()


def field_for(header: str) -> str:
    return _ALIAS.get(fold(header), "")


def attribute_name(header: str, index: int) -> str:
    words = [w for w in _ATTRIBUTE.split(header.strip()) if w]
    name = (words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words else ""
    return name[:64] if name[:1].isalpha() else f"column{index + 1}"


# -- parsing --------------------------------------------------------------------------------------
def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_rows(text: str, delimiter: str, first_number: int = 1) -> tuple[list[tuple[int, list[str]]], int]:
    """(spreadsheet row number, cells) of every non-blank record of ``text``, which holds whole
    records, and how many records it held (blank ones too: they take a row number)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    records = 0
    try:
        for records, cells in enumerate(reader, start=1):  # noqa: B007 (the count is used after the loop)
            if any(c.strip() for c in cells):
                rows.append((first_number + records - 1, cells))
    except csv.Error as error:
        raise LayoutError(f"is not readable CSV: {error}") from None
    return rows, records


def _is_address(value: str) -> bool:
    value = value.strip()
    if "@" not in value:
        return False
    try:
        normalized(value)
    except EmailNotValidError:
        return False
    return True


def _address_column(rows: list[list[str]]) -> int | None:
    """The column whose sampled non-empty cells are mostly e-mail addresses (the most such cells wins)."""
    width = min(MAX_COLUMNS, max((len(cells) for cells in rows), default=0))
    best, best_count = None, 0
    for column in range(width):
        values = [cells[column] for cells in rows if column < len(cells) and cells[column].strip()]
        count = sum(_is_address(v) for v in values)
        if count > best_count and count >= GUESS_SHARE * len(values):
            best, best_count = column, count
    return best


@dataclass(frozen=True)
class Layout:
    """How a CSV file's columns become leads; decided once from its first rows, kept with an import job."""

    delimiter: str
    fields: tuple[str, ...]  # per column: "email", "firstName", "lastName", "company", "tags" or "custom:<name>"
    has_header: bool
    email_column: int  # 0-based
    chosen_by: str  # "header": a header names it; "values": its cells are addresses
    headers: tuple[str, ...] = ()

    def field(self, index: int) -> str:
        return self.fields[index] if index < len(self.fields) else f"custom:column{index + 1}"

    def describe(self) -> dict[str, Any]:
        """The report's ``emailColumn``: which column was read as the e-mail address, and why."""
        header = self.headers[self.email_column].strip() if self.has_header else None
        return {"column": self.email_column + 1, "header": header, "chosenBy": self.chosen_by, "hasHeader": self.has_header}

    def to_json(self) -> dict[str, Any]:
        return {"delimiter": self.delimiter, "fields": list(self.fields), "hasHeader": self.has_header,
                "emailColumn": self.email_column, "chosenBy": self.chosen_by, "headers": list(self.headers)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(data["delimiter"], tuple(data["fields"]), data["hasHeader"], int(data["emailColumn"]),
                   data["chosenBy"], tuple(data["headers"]))


def layout(delimiter: str, first_rows: list[list[str]]) -> Layout:
    """The layout of a file whose first non-blank records are ``first_rows``: the header names the e-mail
    column (in any of the languages above); else, a first row that itself holds an address means there
    is no header; else the column whose values are addresses is the e-mail column."""
    if not first_rows:
        raise LayoutError("the file is empty")
    header = [h.strip()[:MAX_HEADER] for h in first_rows[0][:MAX_COLUMNS]]
    fields = [field_for(h) or f"custom:{attribute_name(h, i)}" for i, h in enumerate(header)]
    for i, name in enumerate(fields):  # the first column of a kind is the field; later ones are kept as custom
        if not name.startswith("custom:") and name in fields[:i]:
            fields[i] = f"custom:{attribute_name(header[i], i)}"
    if "email" in fields:
        return Layout(delimiter, tuple(fields), True, fields.index("email"), "header", tuple(header))
    if any(_is_address(h) for h in header):  # no header: the first row is data
        column = _address_column(first_rows)
        if column is None:
            column = next(i for i, h in enumerate(header) if _is_address(h))
        plain = [f"custom:column{i + 1}" for i in range(max(len(header), column + 1))]
        plain[column] = "email"
        return Layout(delimiter, tuple(plain), False, column, "values")
    column = _address_column(first_rows[1:])
    if column is None:
        raise LayoutError(f"no e-mail column: no header names one and no column holds e-mail addresses; "
                          f"the headers are: {', '.join(header)[:300]}")
    fields += [f"custom:column{i + 1}" for i in range(len(fields), column + 1)]  # a column past the header
    fields[column] = "email"
    return Layout(delimiter, tuple(fields), True, column, "values", tuple(header))


def record(layout_: Layout, cells: list[str]) -> dict[str, str]:
    """One row's cells by lead field (the first non-empty cell of a field wins)."""
    result: dict[str, str] = {}
    for index, value in enumerate(cells[:MAX_COLUMNS]):
        name = layout_.field(index)
        if name not in result or not result[name]:
            result[name] = value
    return result


def records_from_csv(text: str) -> tuple[Layout, list[tuple[int, dict[str, str]]]]:
    try:
        delimiter = sniff_delimiter(text.split("\n", 1)[0])
        rows, _ = read_rows(text, delimiter)
        layout_ = layout(delimiter, [cells for _, cells in rows[:SAMPLE_ROWS + 1]])
    except LayoutError as error:
        raise invalid([{"field": "body", "message": str(error)}]) from None
    data = rows[1:] if layout_.has_header else rows
    if len(data) > MAX_ROWS:
        raise too_many_rows()
    return layout_, [(number, record(layout_, cells)) for number, cells in data]


def too_many_rows() -> TooLarge:
    return TooLarge("TOO_MANY_ROWS", f"The file has more than {MAX_ROWS:,} rows or {MAX_BYTES // 1024:,} KB: "
                    "import it with POST /imports (an upload to S3, any size up to the documented maximum)")


def records_from_json(text: str) -> list[tuple[int, dict[str, str]]]:
    try:
        items = safejson.loads(text, max_bytes=len(text))  # the size was checked before; the depth is not
    except safejson.Unreadable as error:
        raise invalid([{"field": "body", "message": f"is not valid JSON: {error.reason}"}]) from None
    if not isinstance(items, list):
        raise invalid([{"field": "body", "message": "must be a JSON array of objects"}])
    if len(items) > MAX_ROWS:
        raise too_many_rows()
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
def tags(raw: str) -> list[str]:
    return sorted({t.strip()[:64] for t in re.split(r"[;,|]", raw) if t.strip()})[:50]


def to_lead(record_: dict[str, str], now: str) -> dict[str, Any]:
    lead: dict[str, Any] = {"status": NEW, "tags": [], "customAttributes": {}, "createdAt": now, "updatedAt": now}
    for name, value in record_.items():
        if name.startswith("custom:"):
            if value.strip() and len(lead["customAttributes"]) < 50:
                lead["customAttributes"][name[7:]] = cell(value)
        elif name == "tags":
            lead["tags"] = tags(value)
        elif name in ("firstName", "lastName", "company") and value.strip():
            lead[name] = cell(value)[:200]
    return lead


def candidate(number: int, record_: dict[str, str], now: str) -> dict[str, Any] | InvalidRow:
    """A row as a lead (with its id and stored e-mail), or the reason it is invalid."""
    if "__invalid__" in record_:
        return InvalidRow(number, "", record_["__invalid__"])
    raw = (record_.get("email") or "").strip()
    if not raw:
        return InvalidRow(number, "", "no e-mail address")
    try:
        email = normalized(raw)
    except EmailNotValidError as error:
        return InvalidRow(number, raw[:254], str(error)[:MAX_REASON])
    return {**to_lead(record_, now), "id": lead_id(email), "email": email}


def parse(data: bytes, content_type: str, now: str) -> ParsedImport:
    """Every row accounted for: a valid lead, a duplicate inside the file, or an invalid row with its reason."""
    if len(data) > MAX_BYTES:
        raise too_many_rows()
    if not data.strip():
        raise invalid([{"field": "body", "message": "the file is empty"}])
    text = decode(data)
    if content_type == "application/json":
        layout_, records = None, records_from_json(text)
    else:
        layout_, records = records_from_csv(text)
    result = ParsedImport(received=len(records), layout=layout_)
    for number, record_ in records:
        lead = candidate(number, record_, now)
        if isinstance(lead, InvalidRow):
            result.invalid.append(lead)
        elif lead["id"] in result.rows:
            result.duplicates_in_file.append({"row": number, "email": lead["email"], "firstRow": result.rows[lead["id"]]})
        else:
            result.rows[lead["id"]] = number
            result.leads.append(lead)
    return result


# -- files of any size (import jobs): whole records out of byte blocks --------------------------------
UPLOAD_MAX_BYTES = 200 * 1024 * 1024  # bytes: an upload's policy refuses more (about 2,000,000 CRM rows)
MAX_RECORD = 1024 * 1024  # bytes: a longer row (a runaway quoted cell) fails the job with that reason


def whole_records(block: bytes, at_end: bool) -> int:
    """How many leading bytes of ``block`` (which starts at a record boundary) are whole CSV records.

    A record ends at a newline outside quotes; quotes inside a quoted cell are doubled, so a newline
    is outside quotes exactly when the quotes before it are even in number. Works on UTF-8 and
    single-byte encodings alike (0x0A and 0x22 are never part of another character there)."""
    if at_end:
        return len(block)
    end = block.rfind(b"\n")
    while end >= 0 and block.count(b'"', 0, end) % 2:
        end = block.rfind(b"\n", 0, end)
    return end + 1


def decode_block(block: bytes, encoding: str | None) -> tuple[str, str]:
    """The block's text and the file's encoding: UTF-8 unless a block is not, then Windows-1252
    (Excel's "CSV" on Windows) from there on. Raises LayoutError for binary content."""
    if b"\x00" in block:
        raise LayoutError("is not a text file (it contains NUL bytes); upload a CSV file")
    if encoding != "cp1252":
        try:
            return block.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    return block.decode("cp1252", errors="replace"), "cp1252"


def file_start(block: bytes) -> int:
    """Bytes to skip at the start of an uploaded file (a UTF-8 byte order mark); LayoutError for what
    the streaming import cannot read."""
    if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise LayoutError("is UTF-16 text; save it as \"CSV UTF-8\" and upload it again")
    if not block.strip(codecs.BOM_UTF8 + b" \r\n\t"):
        raise LayoutError("the file is empty")
    return len(codecs.BOM_UTF8) if block.startswith(codecs.BOM_UTF8) else 0
