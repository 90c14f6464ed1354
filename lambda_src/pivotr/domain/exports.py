"""Data leaving as a spreadsheet: CSV rows of leads and of a campaign's recipients. No AWS here.

Stored values are what the user gave (domain/importing.py stores cells untouched); here, where a cell
could be opened by Excel, LibreOffice or Google Sheets, one that would run as a formula is neutralized
(OWASP "CSV injection"): a leading ' makes the spreadsheet show it as text. Nothing else changes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets would evaluate

LEAD_COLUMNS = ("email", "firstName", "lastName", "company", "status", "tags", "customAttributes", "createdAt",
                "updatedAt", "id")
# A recipient's outcome (data/recipients.py): its status, why (skipped or failed), when it joined the
# audience and when it was done, SES's message id; the lead's status says a later bounce or complaint.
RECIPIENT_COLUMNS = ("email", "status", "reason", "addedAt", "doneAt", "messageId", "leadStatus", "leadId")


class ExportKind(StrEnum):
    LEADS = "leads"  # leads, optionally by status and tag
    RECIPIENTS = "recipients"  # one campaign's recipients with their outcomes and timestamps


def neutralize(value: str) -> str:
    """``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``; any other cell unchanged."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def rows(records: Iterable[dict[str, Any]], columns: tuple[str, ...], *, header: bool) -> str:
    """CSV text (RFC 4180, CRLF) of ``records`` in ``columns``, every cell neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(columns)
    for item in records:
        writer.writerow([neutralize(_text(item.get(column))) for column in columns])
    return out.getvalue()


def columns_for(kind: ExportKind) -> tuple[str, ...]:
    return LEAD_COLUMNS if kind is ExportKind.LEADS else RECIPIENT_COLUMNS
